"""Statistics: flaky and slowest tests, failures grouped by message, a case's history and
a plan's trend, over runs and results seeded straight into the database."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest
from sqlalchemy import event
from starlette.testclient import TestClient

from tests.factories import add_member, make_case, make_plan, make_project, make_user
from tests.support.api import Api
from tests.support.seed import Seeder, result, seed_history
from testyard.config import Settings

A = "tests/test_a.py::"


@pytest.fixture
def seeder(settings: Settings) -> Iterator[Seeder]:
    seeder = Seeder.connect(settings.resolved_database_url)
    try:
        yield seeder
    finally:
        seeder.close()


def project_with_case(api: Api, path: str = "tests/test_a.py") -> tuple[int, int]:
    pid = make_project(api)["id"]
    return pid, make_case(api, pid, path=path)["id"]


def retried(nodeid: str, case_id: int) -> list[dict[str, Any]]:
    """A test that failed, then passed on its second attempt."""
    return [
        result(nodeid, "failed", case_id=case_id, final=False, message="AssertionError: 1"),
        result(nodeid, "passed", case_id=case_id, attempt=2, flaky=True),
    ]


def nodeids(page: dict[str, Any]) -> list[str]:
    return [item["nodeid"] for item in page["items"]]


def test_flaky_tests_passed_on_retry_or_passed_and_failed(admin: Api, seeder: Seeder) -> None:
    pid, cid = project_with_case(admin)
    plid = make_plan(admin, pid, case_ids=[cid])["id"]

    def run(flip: str, *retry: dict[str, Any], stable: str = "passed", **kw: Any) -> int:
        rows = [
            result(A + "test_flip", flip, case_id=cid, message="boom" if flip != "passed" else ""),
            *(retry or [result(A + "test_retry", case_id=cid)]),
            result(A + "test_stable", stable, case_id=cid),
            result(A + "test_skip", "skipped", case_id=cid),
        ]
        return seeder.run(pid, rows, **kw)

    run("passed", stable="failed", status="failed")
    run("passed", *retried(A + "test_retry", cid), plan_id=plid)
    run("failed", status="failed")
    run("failed", stable="failed", status="running")  # not finished: never counted
    run("error", status="cancelled", plan_id=plid)
    r4 = run("passed")

    window = admin.get(f"/projects/{pid}/stats/flaky", params={"last": 4})
    flip = {
        "nodeid": A + "test_flip",
        "case_id": cid,
        "runs": 4,
        "passed": 2,
        "failed": 2,
        "flaky_retries": 0,
        "flips": 2,
        "flip_rate": 2 / 3,
        "fail_rate": 0.5,
        "last_seen_run_id": r4,
    }
    retry = {
        "nodeid": A + "test_retry",
        "case_id": cid,
        "runs": 4,
        "passed": 4,
        "failed": 0,
        "flaky_retries": 1,
        "flips": 0,
        "flip_rate": 0.0,
        "fail_rate": 0.0,
        "last_seen_run_id": r4,
    }
    assert window == {
        "items": [flip, retry],
        "total": 2,
        "page": 1,
        "per_page": 50,
        "last": 4,
        "runs": 4,
    }

    # One run more reaches the failure of test_stable: flaky both ways now.
    wider = admin.get(f"/projects/{pid}/stats/flaky", params={"last": 5})
    assert nodeids(wider) == [A + "test_flip", A + "test_stable", A + "test_retry"]
    stable = wider["items"][1]
    assert (stable["passed"], stable["failed"], stable["flips"]) == (4, 1, 1)
    assert stable["last_seen_run_id"] == r4 and wider["runs"] == 5
    assert admin.get(f"/projects/{pid}/stats/flaky")["total"] == 3  # default: the last 20

    page = admin.get(f"/projects/{pid}/stats/flaky", params={"last": 5, "per_page": 1, "page": 2})
    assert (nodeids(page), page["total"]) == ([A + "test_stable"], 3)

    # The plan's two runs only: test_flip passed then errored, test_retry was retried.
    planned = admin.get(f"/projects/{pid}/stats/flaky", params={"plan_id": plid})
    assert nodeids(planned) == [A + "test_flip", A + "test_retry"]
    assert [(i["runs"], i["passed"], i["failed"]) for i in planned["items"]] == [
        (2, 1, 1),
        (2, 2, 0),
    ]
    assert planned["runs"] == 2


def test_slowest_tests_by_average_of_timed_final_results(admin: Api, seeder: Seeder) -> None:
    pid, cid = project_with_case(admin)
    r1 = seeder.run(
        pid,
        [
            result(A + "test_a", duration_s=1.0, case_id=cid),
            result(A + "test_b", duration_s=2.5, case_id=cid),
            result(A + "test_c", "failed", duration_s=0.25, case_id=cid),
            result(A + "test_d", "skipped", duration_s=9.0, case_id=cid),
            result(A + "test_e", duration_s=0.5, case_id=cid),
        ],
    )
    r2 = seeder.run(
        pid,
        [
            result(A + "test_a", duration_s=3.0, case_id=cid),
            result(A + "test_b", duration_s=0.5, case_id=cid),
            result(A + "test_c", "failed", duration_s=100.0, final=False),  # a retry: ignored
            result(A + "test_c", duration_s=0.25, case_id=cid, attempt=2, flaky=True),
            result(A + "test_d", "skipped", duration_s=9.0, case_id=cid),
            result(A + "test_e", "skipped", duration_s=9.0, case_id=cid),
        ],
    )

    found = admin.get(f"/projects/{pid}/stats/slowest")
    assert nodeids(found) == [A + "test_a", A + "test_b", A + "test_e", A + "test_c"]
    assert found["total"] == 4 and found["per_page"] == 20 and found["runs"] == 2
    by_node = {item["nodeid"]: item for item in found["items"]}
    assert by_node[A + "test_a"] == {
        "nodeid": A + "test_a",
        "case_id": cid,
        "count": 2,
        "avg_s": 2.0,
        "max_s": 3.0,
        "last_s": 3.0,
        "last_run_id": r2,
    }
    b, c, e = by_node[A + "test_b"], by_node[A + "test_c"], by_node[A + "test_e"]
    assert (b["avg_s"], b["max_s"], b["last_s"], b["count"]) == (1.5, 2.5, 0.5, 2)
    assert (c["avg_s"], c["max_s"], c["last_s"], c["count"]) == (0.25, 0.25, 0.25, 2)
    assert (e["avg_s"], e["last_s"], e["count"], e["last_run_id"]) == (0.5, 0.5, 1, r1)

    top = admin.get(f"/projects/{pid}/stats/slowest", params={"limit": 2})
    assert nodeids(top) == [A + "test_a", A + "test_b"]
    assert (top["total"], top["per_page"]) == (4, 2)
    last_run = admin.get(f"/projects/{pid}/stats/slowest", params={"last": 1})
    assert nodeids(last_run) == [A + "test_a", A + "test_b", A + "test_c"]
    assert last_run["items"][1]["avg_s"] == 0.5


def test_failures_grouped_by_message_without_numbers(admin: Api, seeder: Seeder) -> None:
    pid, cid = project_with_case(admin)
    n1, n2, n3, n4, n5 = (f"{A}test_{n}" for n in range(1, 6))
    r1 = seeder.run(
        pid,
        [
            result(n1, "failed", message="AssertionError: assert 200 == 500"),
            result(n2, "failed", message="ValueError: bad <Session object at 0x7f3a2b1c>"),
            result(n3, "error", message="TimeoutError: gave up"),
            *retried(n4, cid),  # its failure was not final: not counted
            result(n5, "passed"),
        ],
        status="failed",
    )
    r2 = seeder.run(
        pid,
        [
            result(n1, "failed", message="AssertionError: assert 404 == 500"),
            result(n2, "failed", message="ValueError: bad <Session object at 0x7f00ff00aa>"),
            result(n5, "failed", message="AssertionError: assert 7 == 500"),
        ],
        status="failed",
    )
    r3 = seeder.run(
        pid, [result(n1, "failed", message="AssertionError:  assert 12  == 500")], status="failed"
    )
    seeder.run(pid, [result(n3, "failed", message="TimeoutError: 1")], status="running")

    found = admin.get(f"/projects/{pid}/stats/failures")
    assert found["items"] == [
        {
            "message": "AssertionError:  assert 12  == 500",
            "key": "AssertionError: assert ==",
            "count": 4,
            "nodeids": [n1, n5],
            "nodeid_count": 2,
            "last_run_id": r3,
        },
        {
            "message": "ValueError: bad <Session object at 0x7f00ff00aa>",
            "key": "ValueError: bad <Session object at >",
            "count": 2,
            "nodeids": [n2],
            "nodeid_count": 1,
            "last_run_id": r2,
        },
        {
            "message": "TimeoutError: gave up",
            "key": "TimeoutError: gave up",
            "count": 1,
            "nodeids": [n3],
            "nodeid_count": 1,
            "last_run_id": r1,
        },
    ]
    assert (found["total"], found["runs"]) == (3, 3)

    second = admin.get(f"/projects/{pid}/stats/failures", params={"per_page": 1, "page": 2})
    assert [g["key"] for g in second["items"]] == ["ValueError: bad <Session object at >"]
    assert second["total"] == 3
    newest = admin.get(f"/projects/{pid}/stats/failures", params={"last": 1})
    assert [(g["count"], g["last_run_id"]) for g in newest["items"]] == [(1, r3)]


def test_failure_groups_list_at_most_20_node_ids(admin: Api, seeder: Seeder) -> None:
    pid = make_project(admin)["id"]
    rows = [result(f"{A}test_{n:02d}", "failed", message=f"E{n}") for n in range(25)]
    rows.append(result(f"{A}test_24", "failed", message="E99", worker="gw1"))
    seeder.run(pid, rows, status="failed")

    (group,) = admin.get(f"/projects/{pid}/stats/failures")["items"]
    assert (group["key"], group["count"], group["nodeid_count"]) == ("E", 26, 25)
    assert group["nodeids"] == [f"{A}test_24"] + [f"{A}test_{n:02d}" for n in range(19)]


def test_case_history_newest_first_one_item_per_node_id_per_run(admin: Api, seeder: Seeder) -> None:
    pid, cid = project_with_case(admin)
    other = make_case(admin, pid, path="tests/test_b.py")["id"]
    t1, t2 = A + "test_1", A + "test_2"
    r1 = seeder.run(
        pid,
        [
            result(t1, duration_s=0.5, case_id=cid),
            result(t2, "failed", duration_s=1.0, case_id=cid),
            result("tests/test_b.py::test_x", case_id=other),
        ],
        status="failed",
    )
    r2 = seeder.run(pid, [result(t1, case_id=cid), result(t2, case_id=cid)])
    seeder.run(pid, [result(t1, "failed", case_id=cid)], status="running")
    r3 = seeder.run(
        pid,
        [  # --dist each: one item per node id, the worst outcome, the longest duration
            result(t1, duration_s=0.25, case_id=cid, worker="gw0"),
            result(t1, "failed", duration_s=0.75, case_id=cid, worker="gw1"),
            result(t2, "failed", duration_s=5.0, case_id=cid, final=False),
            result(t2, "skipped", duration_s=0.0, case_id=cid, attempt=2),
        ],
        status="failed",
    )

    history = admin.get(f"/projects/{pid}/cases/{cid}/history", params={"last": 3})
    items = [
        {**item, "created_at": datetime.fromisoformat(item["created_at"])}
        for item in history["items"]
    ]
    at = seeder.created_at
    assert items == [
        {
            "run_id": r3,
            "created_at": at[r3],
            "status": "failed",
            "nodeid": t1,
            "outcome": "failed",
            "duration_s": 0.75,
        },
        {
            "run_id": r3,
            "created_at": at[r3],
            "status": "failed",
            "nodeid": t2,
            "outcome": "skipped",
            "duration_s": 0.0,
        },
        {
            "run_id": r2,
            "created_at": at[r2],
            "status": "passed",
            "nodeid": t1,
            "outcome": "passed",
            "duration_s": 0.1,
        },
    ]
    everything = admin.get(f"/projects/{pid}/cases/{cid}/history")
    assert [(i["run_id"], i["nodeid"], i["outcome"]) for i in everything["items"]] == [
        (r3, t1, "failed"),
        (r3, t2, "skipped"),
        (r2, t1, "passed"),
        (r2, t2, "passed"),
        (r1, t1, "passed"),
        (r1, t2, "failed"),
    ]
    assert everything["total"] == 6


def test_plan_trend_pass_rate_per_run_oldest_first(admin: Api, seeder: Seeder) -> None:
    pid, cid = project_with_case(admin)
    plid = make_plan(admin, pid, case_ids=[cid])["id"]
    other = make_plan(admin, pid, case_ids=[cid])["id"]

    def run(status: str, counts: dict[str, int], plan: int = plid, wall_s: float = 2.5) -> int:
        return seeder.run(pid, [], status=status, plan_id=plan, counts=counts, wall_s=wall_s)

    run("failed", {"passed": 1, "failed": 1, "total": 2})
    p1 = run("failed", {"passed": 3, "failed": 1, "skipped": 1, "total": 5, "flaky": 0})
    run("passed", {"passed": 9, "total": 9}, plan=other)
    p2 = run("passed", {"skipped": 2, "total": 2})
    run("running", {"passed": 1, "total": 1})
    p3 = run("cancelled", {"passed": 2, "total": 2, "flaky": 1}, wall_s=0.5)

    trend = admin.get(f"/projects/{pid}/plans/{plid}/trend", params={"last": 3})
    points = [{**p, "created_at": datetime.fromisoformat(p["created_at"])} for p in trend["items"]]
    at = seeder.created_at
    assert points == [
        {
            "run_id": p1,
            "created_at": at[p1],
            "status": "failed",
            "counts": {"passed": 3, "failed": 1, "skipped": 1, "total": 5, "flaky": 0},
            "pass_rate": 0.75,
            "wall_s": 2.5,
        },
        {
            "run_id": p2,
            "created_at": at[p2],
            "status": "passed",
            "counts": {"skipped": 2, "total": 2},
            "pass_rate": None,
            "wall_s": 2.5,
        },
        {
            "run_id": p3,
            "created_at": at[p3],
            "status": "cancelled",
            "counts": {"passed": 2, "total": 2, "flaky": 1},
            "pass_rate": 1.0,
            "wall_s": 0.5,
        },
    ]
    everything = admin.get(f"/projects/{pid}/plans/{plid}/trend")
    assert [p["pass_rate"] for p in everything["items"]] == [0.5, 0.75, None, 1.0]
    assert admin.get(f"/projects/{pid}/plans/{other}/trend")["total"] == 1


def test_unknown_case_or_plan_is_404_and_last_outside_1_to_500_is_422(admin: Api) -> None:
    pid, cid = project_with_case(admin)
    plid = make_plan(admin, pid)["id"]
    elsewhere, other_case = project_with_case(admin)
    other_plan = make_plan(admin, elsewhere)["id"]

    for path in (
        f"/projects/{pid}/cases/{other_case}/history",
        f"/projects/{pid}/cases/999999/history",
    ):
        assert admin.expect(404, "GET", path)["error"] == "not_found"
    for path in (
        f"/projects/{pid}/plans/{other_plan}/trend",
        f"/projects/{pid}/plans/999999/trend",
    ):
        assert admin.expect(404, "GET", path)["error"] == "not_found"
    for plan_id in (other_plan, 2**40):
        error = admin.expect(
            404, "GET", f"/projects/{pid}/stats/flaky", params={"plan_id": plan_id}
        )
        assert error["field"] == "plan_id"

    paths = [
        f"/projects/{pid}/stats/flaky",
        f"/projects/{pid}/stats/slowest",
        f"/projects/{pid}/stats/failures",
        f"/projects/{pid}/cases/{cid}/history",
        f"/projects/{pid}/plans/{plid}/trend",
    ]
    for path in paths:
        for last in (0, 501):
            error = admin.expect(422, "GET", path, params={"last": last})
            assert error["field"] == "last"
        empty = admin.get(path, params={"last": 500})
        assert (empty["items"], empty["total"]) == ([], 0)
    assert admin.expect(422, "GET", paths[1], params={"limit": 0})["field"] == "limit"


def test_viewers_read_statistics_and_strangers_do_not_see_them(admin: Api) -> None:
    pid, cid = project_with_case(admin)
    viewer, stranger = make_user(admin), make_user(admin)
    add_member(admin, pid, viewer, "viewer")

    assert viewer.get(f"/projects/{pid}/stats/flaky")["items"] == []
    assert viewer.get(f"/projects/{pid}/cases/{cid}/history")["items"] == []
    stranger.expect(404, "GET", f"/projects/{pid}/stats/failures")
    stranger.expect(404, "GET", f"/projects/{pid}/cases/{cid}/history")


#: Statements one request may run: the token and the project's access, the window, the
#: statistic (and its total).
MAX_STATEMENTS = 8


def test_100000_results_take_a_bounded_number_of_statements(
    admin: Api, client: TestClient, seeder: Seeder
) -> None:
    pid = make_project(admin)["id"]
    case_ids = [make_case(admin, pid)["id"] for _ in range(20)]
    plid = make_plan(admin, pid, case_ids=case_ids)["id"]
    history = seed_history(seeder, pid, case_ids, runs=500, tests_per_case=10, plan_id=plid)
    seeder.analyze()  # as autovacuum would after a bulk load: the planner needs statistics
    assert history.results >= 100_000

    statements: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        # The app's dispatcher and notification service poll on their own threads.
        if threading.current_thread().name not in ("dispatcher", "notifications"):
            statements.append(statement)

    def count(path: str, **params: Any) -> tuple[int, int, Any]:
        statements.clear()
        answer = admin.get(path, params=params)
        selects = sum(1 for s in statements if s.lstrip().upper().startswith("SELECT"))
        return len(statements), selects, answer

    routes = {
        "flaky": f"/projects/{pid}/stats/flaky",
        "slowest": f"/projects/{pid}/stats/slowest",
        "failures": f"/projects/{pid}/stats/failures",
        "history": f"/projects/{pid}/cases/{case_ids[0]}/history",
        "trend": f"/projects/{pid}/plans/{plid}/trend",
    }
    engine = client.app.state.engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        admin.get("/me")  # the token's last use is recorded on the first request
        for name, path in routes.items():
            few, few_selects, _ = count(path, last=1)
            many, many_selects, answer = count(path, last=500)
            assert answer["items"], name
            assert max(few, many) <= MAX_STATEMENTS, (name, statements)
            assert few_selects == many_selects, name
            if name in ("flaky", "slowest", "failures"):
                filtered, filtered_selects, _ = count(path, last=500, plan_id=plid)
                assert filtered <= MAX_STATEMENTS, (name, statements)
                assert filtered_selects == many_selects + 1, name  # the plan is checked
    finally:
        event.remove(engine, "before_cursor_execute", record)

    kinds = list(history.kinds.values())
    whole = {"last": 500}
    assert admin.get(routes["flaky"], params=whole)["total"] == kinds.count("flaky")
    slowest = admin.get(routes["slowest"], params=whole)
    assert (len(slowest["items"]), slowest["total"]) == (20, len(kinds) - kinds.count("skipped"))
    # The 4 messages of the broken and flaky tests, whatever numbers and addresses in them.
    assert admin.get(routes["failures"], params=whole)["total"] == 4
    assert admin.get(routes["history"], params=whole)["total"] == 500
    assert admin.get(routes["trend"], params=whole)["total"] == 250
