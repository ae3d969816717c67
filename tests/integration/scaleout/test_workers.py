"""Runs split across real Celery workers: balanced shards, one result per test even when
a worker's machine is lost mid-shard, a run that says it waits when no worker lives."""

from __future__ import annotations

import io
import zipfile
from collections import Counter
from collections.abc import Callable
from typing import Any

from tests.factories import make_case, make_project, start_run, wait_for_run
from tests.support.api import Api
from tests.support.redis import RedisServer
from tests.support.workers import WorkerProcess, wait_until
from testyard.config import Settings
from testyard.db.engine import make_engine, make_session_factory, transaction
from testyard.events.store import events_after

FILES = 4
TESTS_PER_FILE = 3


def sleepy_module(seconds: float) -> str:
    tests = "".join(
        f"\n\ndef test_{n}():\n    time.sleep({seconds})\n    assert {n} == {n}\n"
        for n in range(TESTS_PER_FILE)
    )
    return f"import time{tests}"


def sleepy_project(api: Api, seconds: float) -> tuple[int, list[int]]:
    project = make_project(api)
    cases = [
        make_case(api, project["id"], name=f"sleepy {n}", code=sleepy_module(seconds))
        for n in range(FILES)
    ]
    return project["id"], [case["id"] for case in cases]


def final_results(api: Api, run_id: int) -> list[dict[str, Any]]:
    page = api.get(f"/runs/{run_id}/results", params={"per_page": 1000})
    return list(page["items"])


def events_of(settings: Settings, run_id: int, kind: str) -> list[dict[str, Any]]:
    """The run's stored events of one kind (what a client following the run receives)."""
    engine = make_engine(str(settings.database_url))
    try:
        with transaction(make_session_factory(engine)) as session:
            return [e for e in events_after(session, run_id, 0) if e["event"] == kind]
    finally:
        engine.dispose()


def assert_one_final_result_per_test(api: Api, run_id: int) -> None:
    """For an ended run (while it runs, its count and its items may be read apart)."""
    page = api.get(f"/runs/{run_id}/results", params={"per_page": 1000})
    assert page["total"] == len(page["items"])
    nodeids = Counter(r["nodeid"] for r in page["items"])
    assert len(nodeids) == FILES * TESTS_PER_FILE
    assert set(nodeids.values()) == {1}, f"tests with several final results: {nodeids}"


def test_a_run_is_split_across_two_workers(
    api: Api, start_worker: Callable[..., WorkerProcess]
) -> None:
    start_worker("alpha")
    start_worker("beta")
    pid, case_ids = sleepy_project(api, 0.2)
    api.patch(f"/projects/{pid}", {"allure": True})
    run_id = start_run(api, pid, case_ids=case_ids)
    run = wait_for_run(api, run_id)
    assert run["status"] == "passed", (run["error"], run["shards"])
    assert run["executor"] == "celery"
    assert run["counts"]["passed"] == run["collected"] == FILES * TESTS_PER_FILE
    shards = run["shards"]
    assert len(shards) == 2
    assert {s["worker"] for s in shards} == {"alpha", "beta"}
    assert sorted(p for s in shards for p in s["paths"]) == sorted(
        c["path"] for c in api.get(f"/projects/{pid}/cases", params={"per_page": 100})["items"]
    )
    assert [len(s["paths"]) for s in shards] == [2, 2]  # equal files, equal halves
    assert_one_final_result_per_test(api, run_id)

    names = {a["name"] for a in run["artifacts"]}
    assert {"log", "junit.xml", "allure.zip"} <= names
    junit = api.request("GET", f"/runs/{run_id}/artifacts/junit.xml").text
    assert junit.count("<testcase ") == FILES * TESTS_PER_FILE
    log = api.request("GET", f"/runs/{run_id}/artifacts/log").text
    assert "===== shard 1 =====" in log and "===== shard 2 =====" in log
    allure = api.request("GET", f"/runs/{run_id}/artifacts/allure.zip").content
    with zipfile.ZipFile(io.BytesIO(allure)) as archive:
        results = [n for n in archive.namelist() if n.endswith("-result.json")]
    assert len(results) == FILES * TESTS_PER_FILE  # both shards' Allure results

    listed = api.get("/workers")
    assert listed["executor"] == "celery" and listed["live"] == 2
    assert api.as_user(None).request("GET", "/workers").status_code == 401
    assert all(w["slots"] == 2 and w["run_id"] is None for w in listed["workers"])


def test_a_lost_worker_s_shard_runs_again_without_duplicate_results(
    api: Api, settings: Settings, start_worker: Callable[..., WorkerProcess]
) -> None:
    doomed = start_worker("doomed", slots=2)
    # Other slots, so its xdist processes get the tests in another pattern: the same
    # test then comes back under another worker id, which the result key alone would
    # not catch.
    start_worker("survivor", slots=3)
    pid, case_ids = sleepy_project(api, 0.8)
    run_id = start_run(api, pid, case_ids=case_ids)

    def doomed_has_a_result() -> bool:
        run = api.get(f"/runs/{run_id}")
        mine = [s["index"] for s in run["shards"] if s["worker"] == "doomed"]
        prefixes = tuple(f"s{index}:" for index in mine)
        return bool(mine) and any(
            r["worker"].startswith(prefixes) for r in final_results(api, run_id)
        )

    wait_until(doomed_has_a_result, timeout=60, what="a result from the doomed worker")
    doomed.lose_machine()

    run = wait_for_run(api, run_id, timeout=120)
    assert run["status"] == "passed", (run["error"], run["shards"])
    assert_one_final_result_per_test(api, run_id)
    again = [s for s in run["shards"] if s["deliveries"] == 2]
    assert len(again) == 1 and again[0]["worker"] == "survivor"
    notices = [e["message"] for e in events_of(settings, run_id, "notice")]
    assert any("doomed stopped answering" in m for m in notices), notices
    assert any("runs again on survivor" in m for m in notices), notices
    assert not api.get(f"/runs/{run_id}")["waiting"]


def test_a_run_without_a_live_worker_says_so_then_runs_when_one_comes(
    api: Api, settings: Settings, start_worker: Callable[..., WorkerProcess]
) -> None:
    pid, case_ids = sleepy_project(api, 0.0)
    run_id = start_run(api, pid, case_ids=case_ids)
    wait_until(lambda: api.get(f"/runs/{run_id}")["waiting"], what="the run to say it waits")
    assert "no live testyard worker" in api.get(f"/runs/{run_id}")["waiting"]
    wait_until(lambda: events_of(settings, run_id, "notice"), what="a notice event")

    start_worker("late")
    run = wait_for_run(api, run_id, timeout=60)
    assert run["status"] == "passed" and run["waiting"] is None
    assert [s["worker"] for s in run["shards"]] == ["late"]
    assert_one_final_result_per_test(api, run_id)


def test_cancelling_a_run_stops_its_shards(
    api: Api, start_worker: Callable[..., WorkerProcess]
) -> None:
    start_worker("solo")
    pid, case_ids = sleepy_project(api, 5.0)
    run_id = start_run(api, pid, case_ids=case_ids)
    wait_until(
        lambda: any(s["status"] == "running" for s in api.get(f"/runs/{run_id}")["shards"]),
        what="the shard to start",
    )
    api.post(f"/runs/{run_id}/cancel", status=200)
    wait_until(
        lambda: all(s["status"] == "done" for s in api.get(f"/runs/{run_id}")["shards"]),
        timeout=20,
        what="the shard to stop",
    )
    assert api.get(f"/runs/{run_id}")["status"] == "cancelled"
    wait_until(
        lambda: all(w["run_id"] is None for w in api.get("/workers")["workers"]),
        what="the worker to be free again",
    )


def test_runs_go_on_when_redis_restarts_and_loses_its_queue(
    api: Api, redis_server: RedisServer, start_worker: Callable[..., WorkerProcess]
) -> None:
    """Redis restarted without persistence: the running shard ends (its results go to
    the database), the waiting shard's lost message is sent again, and the worker and
    the server reconnect for the next run."""
    start_worker("steady")
    pid, case_ids = sleepy_project(api, 0.5)
    first = start_run(api, pid, case_ids=case_ids)
    wait_until(
        lambda: any(s["status"] == "running" for s in api.get(f"/runs/{first}")["shards"]),
        what="the first run's shard to start",
    )
    second = start_run(api, pid, case_ids=case_ids)
    wait_until(
        lambda: [s["status"] for s in api.get(f"/runs/{second}")["shards"]] == ["queued"],
        what="the second run's shard to wait in the queue",
    )
    redis_server.restart()
    for run_id in (first, second):
        assert wait_for_run(api, run_id, timeout=90)["status"] == "passed"
        assert_one_final_result_per_test(api, run_id)
    third = start_run(api, pid, case_ids=case_ids)
    assert wait_for_run(api, third, timeout=60)["status"] == "passed"


def test_a_run_past_its_timeout_ends_timed_out_and_its_shard_stops(
    api: Api, settings: Settings, start_worker: Callable[..., WorkerProcess]
) -> None:
    start_worker("slow")
    pid, case_ids = sleepy_project(api, 5.0)
    run_id = start_run(api, pid, case_ids=case_ids, timeout_s=3)
    run = wait_for_run(api, run_id, timeout=30)
    assert run["status"] == "timed_out", run["error"]
    assert events_of(settings, run_id, "timeout")[0]["timeout_s"] == 3
    wait_until(
        lambda: all(s["status"] == "done" for s in api.get(f"/runs/{run_id}")["shards"]),
        timeout=20,
        what="the shard to stop",
    )
    assert api.get(f"/runs/{run_id}")["status"] == "timed_out"  # the shard's end keeps it
