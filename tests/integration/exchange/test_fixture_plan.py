"""Fixture plans checked against orders written by hand."""

from __future__ import annotations

from typing import Any

from tests.factories import make_case, make_plan, make_project, start_run, wait_for_run
from tests.support.api import Api

CONFTEST = """import pytest


@pytest.fixture(scope="session")
def s_fix():
    yield


@pytest.fixture(scope="package")
def p_fix():
    yield


@pytest.fixture(scope="module")
def m_fix():
    yield


@pytest.fixture(scope="class")
def c_fix():
    yield


@pytest.fixture
def f_fix():
    yield


@pytest.fixture
def chain_c():
    yield


@pytest.fixture
def chain_b(chain_c):
    yield


@pytest.fixture
def chain_a(chain_b):
    yield


@pytest.fixture(autouse=True)
def always():
    yield
"""

CASE = """class TestScopes:
    def test_reverse(self, f_fix, c_fix, m_fix, p_fix, s_fix):
        pass


def test_chain(chain_a):
    pass


def test_missing(not_there):
    pass
"""


def steps(plan: dict[str, Any], kind: str) -> list[tuple[str, str]]:
    return [(step["name"], step["scope"]) for step in plan[kind]]


def test_fixture_plan_orders_scopes_chains_and_autouse(admin: Api) -> None:
    project = make_project(admin)
    pid = project["id"]
    admin.post(
        f"/projects/{pid}/fixtures", {"name": "all", "path": "conftest.py", "code": CONFTEST}
    )
    case = make_case(admin, pid, path="tests/test_plan.py", code=CASE)
    plans = {
        p["nodeid"].split("::")[-1]: p
        for p in admin.get(f"/projects/{pid}/cases/{case['id']}/fixture-plan")
    }

    # Requested in reverse order, set up from the widest scope down; autouse first
    # among the function-scoped ones.
    assert steps(plans["test_reverse"], "setup") == [
        ("s_fix", "session"),
        ("p_fix", "package"),
        ("m_fix", "module"),
        ("c_fix", "class"),
        ("always", "function"),
        ("f_fix", "function"),
    ]
    assert steps(plans["test_reverse"], "teardown") == [
        ("f_fix", "function"),
        ("always", "function"),
        ("c_fix", "class"),
    ]
    assert [s["autouse"] for s in plans["test_reverse"]["setup"]] == [
        False,
        False,
        False,
        False,
        True,
        False,
    ]

    # A chain is set up from its end and torn down from its start.
    assert steps(plans["test_chain"], "setup") == [
        ("always", "function"),
        ("chain_c", "function"),
        ("chain_b", "function"),
        ("chain_a", "function"),
    ]
    assert [s["requests"] for s in plans["test_chain"]["setup"]] == [
        [],
        [],
        ["chain_c"],
        ["chain_b"],
    ]
    assert steps(plans["test_chain"], "teardown")[:3] == [
        ("chain_a", "function"),
        ("chain_b", "function"),
        ("chain_c", "function"),
    ]

    missing = plans["test_missing"]
    assert missing["missing"] == ["not_there"]
    assert {"s_fix", "chain_a", "tmp_path", "env_vars"} <= set(missing["available"])


def test_a_plans_fixture_plan_follows_the_plans_order(admin: Api) -> None:
    project = make_project(admin)
    pid = project["id"]
    first = make_case(admin, pid, path="tests/test_zz.py", code="def test_z():\n    pass\n")
    second = make_case(admin, pid, path="tests/test_aa.py", code="def test_a():\n    pass\n")
    plan = make_plan(admin, pid, case_ids=[first["id"], second["id"]])
    nodeids = [p["nodeid"] for p in admin.get(f"/projects/{pid}/plans/{plan['id']}/fixture-plan")]
    assert nodeids == ["tests/test_zz.py::test_z", "tests/test_aa.py::test_a"]


def test_saving_a_case_answers_the_fixtures_it_requests_that_do_not_exist(admin: Api) -> None:
    project = make_project(admin)
    pid = project["id"]
    admin.post(
        f"/projects/{pid}/fixtures", {"name": "all", "path": "conftest.py", "code": CONFTEST}
    )
    admin.post(
        f"/projects/{pid}/fixtures",
        {
            "name": "deep",
            "path": "tests/deep/conftest.py",
            "code": "import pytest\n\n@pytest.fixture\ndef deep_only():\n    return 1\n",
        },
    )
    code = (
        "def test_fine(s_fix, tmp_path, env_vars):\n    pass\n\n"
        "def test_typo(s_fxi, deep_only):\n    pass\n"
    )
    saved = admin.post(
        f"/projects/{pid}/cases", {"name": "draft", "path": "tests/test_d.py", "code": code}
    )
    problems = {(p["test"], p["fixture"]) for p in saved["problems"]}
    # deep_only lives in tests/deep/: not visible from tests/test_d.py.
    assert problems == {("test_typo", "s_fxi"), ("test_typo", "deep_only")}
    available = saved["problems"][0]["available"]
    assert {"s_fix", "tmp_path", "env_vars", "monkeypatch"} <= set(available)
    assert "deep_only" not in available
    # The draft was saved all the same, and running it says the same thing.
    run = wait_for_run(admin, start_run(admin, pid, case_ids=[saved["id"]]))
    typo = admin.get(f"/runs/{run['id']}/results", params={"outcome": "error"})["items"]
    assert [r["nodeid"] for r in typo] == ["tests/test_d.py::test_typo"]
    assert "fixture 's_fxi' not found" in typo[0]["longrepr"]
    fixed = admin.patch(
        f"/projects/{pid}/cases/{saved['id']}", {"code": "def test_typo(s_fix):\n    pass\n"}
    )
    assert fixed["problems"] == []
