"""Parallel runs, retries, distribution modes, the once-per-run helper, snapshots."""

from __future__ import annotations

import threading

from tests.factories import (
    add_member,
    make_case,
    make_plan,
    make_project,
    make_user,
    results_of,
    run_code,
    start_run,
    wait_for_run,
)
from tests.support.api import Api

FLAKY = """
from pathlib import Path

COUNTER = Path(__file__).parent / ".attempts"

def test_flaky():
    n = int(COUNTER.read_text()) if COUNTER.exists() else 0
    COUNTER.write_text(str(n + 1))
    assert n >= 2, f"attempt {n + 1} fails"

def test_steady():
    pass
"""


def test_retries_store_every_attempt_and_mark_the_test_flaky(admin: Api) -> None:
    project = make_project(admin)
    run = run_code(admin, project["id"], FLAKY, retries=3, workers=0)
    assert run["status"] == "passed", run
    final = {k.split("::")[1]: v for k, v in results_of(admin, run["id"]).items()}
    assert final["test_flaky"]["attempt"] == 3 and final["test_flaky"]["flaky"] is True
    assert final["test_steady"]["flaky"] is False
    every = admin.get(f"/runs/{run['id']}/results", params={"attempts": "all"})["items"]
    flaky = [(r["attempt"], r["outcome"], r["final"]) for r in every if "flaky" in r["nodeid"]]
    assert sorted(flaky) == [(1, "failed", False), (2, "failed", False), (3, "passed", True)]
    assert run["counts"]["total"] == 2 and run["counts"]["flaky"] == 1


def test_dist_each_keeps_one_result_per_worker(admin: Api) -> None:
    project = make_project(admin)
    run = run_code(
        admin, project["id"], "def test_everywhere():\n    pass\n", workers=2, dist="each"
    )
    assert run["status"] == "passed"
    rows = admin.get(f"/runs/{run['id']}/results")["items"]
    assert sorted(r["worker"] for r in rows) == ["gw0", "gw1"]


ONCE = """
import os
from pathlib import Path

import pytest
import testyard

LOG = Path(os.environ["HOME"]).parent / ".once.log"


@testyard.once_per_run
def login_token():
    with LOG.open("a") as log:
        log.write("setup\\n")
    yield {"token": "t-123"}
    with LOG.open("a") as log:
        log.write("teardown\\n")


@pytest.mark.parametrize("n", range(8))
def test_uses_token(login_token, n):
    assert login_token == {"token": "t-123"}
    with LOG.open("a") as log:
        log.write("test\\n")
"""


def test_once_per_run_sets_up_and_tears_down_once_under_four_workers(admin: Api) -> None:
    project = make_project(admin)
    pid = project["id"]
    # The controller prints the log once every worker has finished (teardown included).
    admin.post(
        f"/projects/{pid}/fixtures",
        {
            "name": "report",
            "path": "conftest.py",
            "code": "import os\nfrom pathlib import Path\n\n"
            "def pytest_unconfigure(config):\n"
            "    if not hasattr(config, 'workerinput'):\n"
            "        log = Path(os.environ['HOME']).parent / '.once.log'\n"
            "        print('ONCE-LOG', ' '.join(log.read_text().split()))\n",
        },
    )
    run = run_code(admin, pid, ONCE, workers=4)
    assert run["status"] == "passed", run
    log = admin.request("GET", f"/runs/{run['id']}/artifacts/log").text
    words = next(ln for ln in log.splitlines() if ln.startswith("ONCE-LOG")).split()[1:]
    assert words.count("setup") == 1 and words.count("teardown") == 1, words
    assert words[0] == "setup" and words[-1] == "teardown", words
    assert words.count("test") == 8


def test_two_users_running_the_same_case_at_once_never_mix(admin: Api) -> None:
    project = make_project(admin)
    pid = project["id"]
    alice, bob = make_user(admin), make_user(admin)
    add_member(admin, pid, alice, "runner")
    add_member(admin, pid, bob, "runner")
    code = (
        "import os, time\nfrom pathlib import Path\n\n"
        "def test_workspace_is_mine():\n"
        "    mine = Path('marker')\n"
        "    assert not mine.exists(), 'another run wrote into this workspace'\n"
        "    mine.write_text(str(os.getpid()))\n"
        "    time.sleep(0.5)\n"
        "    assert mine.read_text() == str(os.getpid())\n"
    )
    case = make_case(admin, pid, code=code)
    ids: dict[str, int] = {}

    def trigger(name: str, api: Api) -> None:
        ids[name] = start_run(api, pid, case_ids=[case["id"]], workers=0)

    threads = [
        threading.Thread(target=trigger, args=(n, a)) for n, a in (("alice", alice), ("bob", bob))
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    runs = {name: wait_for_run(admin, run_id) for name, run_id in ids.items()}
    assert {r["status"] for r in runs.values()} == {"passed"}
    assert runs["alice"]["triggered_by"]["id"] == alice.get("/me")["id"]
    assert runs["bob"]["triggered_by"]["id"] == bob.get("/me")["id"]
    for run in runs.values():
        assert len(results_of(admin, run["id"])) == 1


def test_a_run_freezes_its_snapshot(admin: Api) -> None:
    project = make_project(admin)
    pid = project["id"]
    case = make_case(admin, pid, code="import time\n\ndef test_x():\n    time.sleep(1)\n")
    run_id = start_run(admin, pid, case_ids=[case["id"]])
    admin.patch(
        f"/projects/{pid}/cases/{case['id']}", {"code": "def test_x():\n    assert False\n"}
    )
    run = wait_for_run(admin, run_id)
    assert run["status"] == "passed"
    snapshot = admin.get(f"/runs/{run_id}/snapshot")
    assert [f["code"] for f in snapshot["files"] if f["kind"] == "case"] == [
        "import time\n\ndef test_x():\n    time.sleep(1)\n"
    ]


def test_plan_runs_its_cases_in_order_and_cases_show_latest_result(admin: Api) -> None:
    project = make_project(admin)
    pid = project["id"]
    first = make_case(admin, pid, name="first", code="def test_a():\n    pass\n")
    second = make_case(admin, pid, name="second", code="def test_b():\n    assert 0\n")
    plan = make_plan(admin, pid, case_ids=[second["id"], first["id"]], workers=0)
    run = wait_for_run(admin, start_run(admin, pid, plan_id=plan["id"]))
    assert run["status"] == "failed" and run["plan_id"] == plan["id"]
    assert run["title"] == plan["name"]
    order = [r["nodeid"] for r in admin.get(f"/runs/{run['id']}/results")["items"]]
    assert order == ["tests/test_second.py::test_b", "tests/test_first.py::test_a"]
    cases = admin.get(f"/projects/{pid}/cases", params={"with": "latest_result"})["items"]
    latest = {c["name"]: c["latest_result"]["outcome"] for c in cases}
    assert latest == {"first": "passed", "second": "failed"}
    history = admin.get(f"/projects/{pid}/runs", params={"plan_id": plan["id"]})
    assert [r["id"] for r in history["items"]] == [run["id"]]


def test_run_by_tags(admin: Api) -> None:
    project = make_project(admin)
    pid = project["id"]
    make_case(admin, pid, tags=["smoke"])
    make_case(admin, pid, tags=["slow"])
    run = wait_for_run(admin, start_run(admin, pid, tags=["smoke"]))
    assert run["status"] == "passed" and len(run["case_ids"]) == 1
