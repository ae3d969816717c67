"""Re-runs: the same selection and settings again, or only the tests that failed."""

from __future__ import annotations

from tests.factories import (
    make_case,
    make_environment,
    make_plan,
    make_project,
    results_of,
    start_run,
    wait_for_run,
)
from tests.support.api import Api

MIXED = """
import pytest

@pytest.fixture
def broken():
    raise RuntimeError("fixture exploded")

def test_pass():
    pass

def test_fail():
    assert FIXED

def test_error(broken):
    pass

@pytest.mark.parametrize("word", ["a b", "c"])
def test_param(word):
    assert FIXED or word == "c"

class TestGroup:
    def test_method(self):
        assert FIXED

    def test_fine(self):
        pass
"""
PASSING = "def test_one():\n    pass\n\ndef test_two():\n    pass\n"


def mixed(fixed: bool) -> str:
    return f"FIXED = {fixed}\n{MIXED}"


def rerun(api: Api, run_id: int, *, failed_only: bool) -> dict:  # type: ignore[type-arg]
    answer = api.post(f"/runs/{run_id}/rerun", {"failed_only": failed_only}, status=202)
    assert answer["ws_url"] == f"/ws/runs/{answer['id']}"
    return wait_for_run(api, int(answer["id"]))


def test_rerun_failed_only_runs_exactly_the_failed_node_ids(admin: Api) -> None:
    project = make_project(admin)
    pid = project["id"]
    make_environment(admin, pid, "qa")
    flawed = make_case(admin, pid, code=mixed(False), path="tests/test_flawed.py")
    clean = make_case(admin, pid, code=PASSING, path="tests/test_clean.py")
    settings = {"workers": 2, "dist": "loadfile", "timeout_s": 600, "test_timeout_s": 60}
    original_id = start_run(
        admin, pid, case_ids=[flawed["id"], clean["id"]], environment="qa", **settings
    )
    original = wait_for_run(admin, original_id)
    assert original["status"] == "failed"
    failed = {
        nodeid for nodeid, r in results_of(admin, original_id).items()
        if r["outcome"] in ("failed", "error")
    }  # fmt: skip
    assert failed == {
        "tests/test_flawed.py::test_fail",
        "tests/test_flawed.py::test_error",
        "tests/test_flawed.py::test_param[a b]",
        "tests/test_flawed.py::TestGroup::test_method",
    }

    again = rerun(admin, original_id, failed_only=True)
    assert set(results_of(admin, again["id"])) == failed  # nothing else ran
    assert again["collected"] == len(failed)
    assert again["status"] == "failed"
    assert again["counts"]["failed"] == 3 and again["counts"]["error"] == 1
    assert again["case_ids"] == [flawed["id"]]  # the clean case is not even written
    assert again["rerun_of"] == original_id and again["failed_only"] is True
    assert again["source"] == "manual" and again["triggered_by"]["username"] == "admin"
    assert again["title"] == original["title"] and again["environment"] == "qa"
    for key in ("workers", "dist", "retries", "timeout_s", "test_timeout_s"):
        assert again[key] == original[key], key

    # Fixed and moved since: the re-run takes the case as it is now, at its new path.
    admin.patch(
        f"/projects/{pid}/cases/{flawed['id']}",
        {"code": mixed(True), "path": "tests/api/test_flawed.py"},
    )
    fixed = rerun(admin, original_id, failed_only=True)
    moved = {n.replace("tests/", "tests/api/", 1) for n in failed}
    results = results_of(admin, fixed["id"])
    assert set(results) == moved
    outcomes = {nodeid.split("::", 1)[1]: r["outcome"] for nodeid, r in results.items()}
    assert outcomes == {
        "test_fail": "passed",
        "test_error": "error",  # its fixture is still broken
        "test_param[a b]": "passed",
        "TestGroup::test_method": "passed",
    }


def test_rerun_everything_keeps_the_plan_and_its_settings(admin: Api) -> None:
    pid = make_project(admin)["id"]
    first = make_case(admin, pid, code=PASSING)
    second = make_case(admin, pid, code="def test_three():\n    assert False\n")
    plan = make_plan(admin, pid, case_ids=[first["id"], second["id"]], retries=1, workers=0)
    original_id = start_run(admin, pid, plan_id=plan["id"])
    original = wait_for_run(admin, original_id)

    again = rerun(admin, original_id, failed_only=False)
    assert again["plan_id"] == plan["id"] and again["title"] == plan["name"]
    assert again["rerun_of"] == original_id and again["failed_only"] is False
    assert again["retries"] == 1 and again["workers"] == "0"
    assert set(results_of(admin, again["id"])) == set(results_of(admin, original_id))
    assert again["status"] == original["status"] == "failed"
    assert again["case_ids"] == original["case_ids"]
    listed = admin.get(f"/projects/{pid}/runs", params={"plan_id": plan["id"]})
    assert [r["id"] for r in listed["items"]] == [again["id"], original_id]


def test_rerun_failed_only_of_a_run_without_failures_is_refused(admin: Api) -> None:
    pid = make_project(admin)["id"]
    case = make_case(admin, pid, code=PASSING)
    run = wait_for_run(admin, start_run(admin, pid, case_ids=[case["id"]]))
    assert run["status"] == "passed"
    before = admin.get(f"/projects/{pid}/runs")["total"]
    answer = admin.expect(400, "POST", f"/runs/{run['id']}/rerun", json={"failed_only": True})
    assert answer["error"] == "bad_request" and answer["field"] == "failed_only"
    assert "no failed or errored tests" in answer["message"]
    assert admin.get(f"/projects/{pid}/runs")["total"] == before


def test_a_finished_run_lists_its_artifacts(admin: Api) -> None:
    pid = make_project(admin)["id"]
    case = make_case(admin, pid, code=PASSING)
    run_id = start_run(admin, pid, case_ids=[case["id"]])
    run = wait_for_run(admin, run_id)
    # run (queued, running, collected), two tests, done: a client resumes after these.
    assert run["last_seq"] == 6
    names = {a["name"]: a for a in run["artifacts"]}
    assert set(names) == {"report.html", "junit.xml", "log"}
    assert names["log"]["filename"] == "log.txt" and names["log"]["size_bytes"] > 0
    assert names["report.html"]["generated"] and not names["log"]["generated"]
    for name in names:
        admin.get(f"/runs/{run_id}/artifacts/{name}")
