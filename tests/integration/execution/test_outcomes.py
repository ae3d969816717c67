"""Every pytest outcome, stored per node id, with the run's final status."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import text

from tests.factories import (
    make_case,
    make_fixture_module,
    make_project,
    results_of,
    run_code,
    start_run,
    wait_for_run,
)
from tests.support.api import Api
from testyard.db.engine import make_engine

ALL_OUTCOMES = """
import pytest

@pytest.fixture
def broken():
    raise RuntimeError("fixture exploded")

def test_pass():
    print("hello from stdout")

def test_fail():
    assert 1 == 2, "numbers differ"

def test_error(broken):
    pass

def test_skip():
    pytest.skip("not today")

@pytest.mark.xfail(reason="known bug")
def test_xfail():
    assert False

@pytest.mark.xfail(reason="fixed meanwhile")
def test_xpass():
    pass
"""


@pytest.mark.parametrize("db_backend", ["sqlite", "postgresql"], indirect=True)
def test_every_outcome_is_stored_and_the_run_fails(admin: Api) -> None:
    project = make_project(admin)
    run = run_code(admin, project["id"], ALL_OUTCOMES)
    assert run["status"] == "failed"
    results = results_of(admin, run["id"])
    outcomes = {nodeid.split("::")[1]: r["outcome"] for nodeid, r in results.items()}
    assert outcomes == {
        "test_pass": "passed",
        "test_fail": "failed",
        "test_error": "error",
        "test_skip": "skipped",
        "test_xfail": "xfailed",
        "test_xpass": "xpassed",
    }
    by_name = {nodeid.split("::")[1]: r for nodeid, r in results.items()}
    assert "numbers differ" in by_name["test_fail"]["message"]
    assert "fixture exploded" in by_name["test_error"]["longrepr"]
    assert by_name["test_pass"]["stdout"].strip() == "hello from stdout"
    assert run["counts"]["total"] == 6 and run["counts"]["failed"] == 1
    assert run["collected"] == 6
    failed_only = admin.get(f"/runs/{run['id']}/results", params={"outcome": "failed"})
    assert [r["nodeid"].split("::")[1] for r in failed_only["items"]] == ["test_fail"]


def test_a_passing_run_passes_and_keeps_junit_and_log(admin: Api) -> None:
    project = make_project(admin)
    run = run_code(admin, project["id"], "def test_ok():\n    print('visible')\n")
    assert run["status"] == "passed", run
    junit = admin.request("GET", f"/runs/{run['id']}/artifacts/junit.xml")
    assert junit.status_code == 200 and "test_ok" in junit.text
    log = admin.request("GET", f"/runs/{run['id']}/artifacts/log")
    assert "1 passed" in log.text
    missing = admin.request("GET", f"/runs/{run['id']}/artifacts/secrets.txt")
    assert missing.status_code == 404


def test_missing_fixture_is_an_error_result(admin: Api) -> None:
    project = make_project(admin)
    run = run_code(admin, project["id"], "def test_x(no_such_fixture):\n    pass\n")
    result = next(iter(results_of(admin, run["id"]).values()))
    assert result["outcome"] == "error"
    assert "fixture 'no_such_fixture' not found" in result["longrepr"]


def test_a_case_with_a_syntax_error_ends_the_run_in_error(admin: Api, settings: Any) -> None:
    project = make_project(admin)
    case = make_case(admin, project["id"])
    # The API refuses such code; a row can still hold it (written by an older version).
    engine = make_engine(settings.resolved_database_url)
    with engine.begin() as conn:
        conn.execute(
            text("UPDATE cases SET code = 'def test_x(:\n' WHERE id = :id"), {"id": case["id"]}
        )
    engine.dispose()
    run = wait_for_run(admin, start_run(admin, project["id"], case_ids=[case["id"]]))
    assert run["status"] == "error"
    assert "SyntaxError" in run["error"]


def test_a_fixture_module_that_fails_to_import_ends_the_run_with_its_traceback(
    admin: Api,
) -> None:
    project = make_project(admin)
    make_fixture_module(admin, project["id"], code="import no_such_module_anywhere\n")
    run = run_code(admin, project["id"], "def test_x():\n    pass\n")
    assert run["status"] == "error"
    assert "no_such_module_anywhere" in run["error"]
    assert "conftest.py" in run["error"]


def test_nested_conftest_files_apply_by_directory(admin: Api) -> None:
    project = make_project(admin)
    pid = project["id"]
    make_fixture_module(
        admin,
        pid,
        path="conftest.py",
        name="root",
        code="import pytest\n\n@pytest.fixture\ndef where():\n    return 'root'\n",
    )
    make_fixture_module(
        admin,
        pid,
        path="tests/api/conftest.py",
        name="api",
        code="import pytest\n\n@pytest.fixture\ndef where():\n    return 'api'\n",
    )
    make_fixture_module(
        admin,
        pid,
        path="fixtures/shared.py",
        name="plugin",
        code="import pytest\n\n@pytest.fixture\ndef shared():\n    return 42\n",
    )
    inner = make_case(
        admin,
        pid,
        path="tests/api/test_inner.py",
        code="def test_inner(where, shared):\n    assert (where, shared) == ('api', 42)\n",
    )
    outer = make_case(
        admin,
        pid,
        path="tests/test_outer.py",
        code="def test_outer(where, shared):\n    assert (where, shared) == ('root', 42)\n",
    )
    run = wait_for_run(admin, start_run(admin, pid, case_ids=[inner["id"], outer["id"]]))
    assert run["status"] == "passed", results_of(admin, run["id"])
    assert run["counts"]["passed"] == 2


def test_env_vars_with_secrets_masked_and_absent_variables_tolerated(admin: Api) -> None:
    project = make_project(admin)
    pid = project["id"]
    qa = admin.post(f"/projects/{pid}/environments", {"name": "qa"})
    admin.post(
        f"/projects/{pid}/environments/{qa['id']}/variables",
        {"name": "BASE_URL", "value": "https://qa.example"},
    )
    admin.post(
        f"/projects/{pid}/environments/{qa['id']}/variables",
        {"name": "API_KEY", "value": "k3y-very-secret", "secret": True},
    )
    code = (
        "def test_vars(env_vars):\n"
        "    assert env_vars.BASE_URL == 'https://qa.example'\n"
        "    assert env_vars['API_KEY'] == 'k3y-very-secret'\n"
        "    assert 'ONLY_IN_PROD' not in env_vars\n"
        "    print('key', env_vars.API_KEY)\n"
        "    assert False, env_vars.API_KEY\n"
    )
    run = run_code(admin, pid, code, environment="qa")
    result = next(iter(results_of(admin, run["id"]).values()))
    assert result["outcome"] == "failed"
    assert "k3y-very-secret" not in result["longrepr"] + result["stdout"] + result["message"]
    assert "********" in result["stdout"]
    log = admin.request("GET", f"/runs/{run['id']}/artifacts/log").text
    junit = admin.request("GET", f"/runs/{run['id']}/artifacts/junit.xml").text
    assert "k3y-very-secret" not in log and "k3y-very-secret" not in junit
    assert "AssertionError" in log


def test_unknown_environment_is_refused(admin: Api) -> None:
    project = make_project(admin)
    case = make_case(admin, project["id"])
    body = admin.expect(
        422,
        "POST",
        f"/projects/{project['id']}/runs",
        json={"case_ids": [case["id"]], "environment": "nope"},
    )
    assert body["field"] == "environment"
    body = admin.expect(422, "POST", f"/projects/{project['id']}/runs", json={"case_ids": [999]})
    assert body["field"] == "case_ids"


def test_workers_collecting_different_tests_end_the_run_in_error(admin: Api) -> None:
    project = make_project(admin)
    code = (
        "import os, pytest\n\n"
        "@pytest.mark.parametrize('who', [os.environ.get('PYTEST_XDIST_WORKER', 'main')])\n"
        "def test_differs(who):\n"
        "    pass\n"
    )
    run = run_code(admin, project["id"], code, workers=2)
    assert run["status"] == "error"
    assert "Different tests were collected between gw" in run["error"]
