"""Plans fire on their triggers: runs are created once per fire, every fire recorded."""

from __future__ import annotations

import pickle
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import text

from tests.factories import make_case, make_plan, make_project
from tests.integration.scheduling.conftest import App
from tests.support.api import Api
from testyard.db.engine import make_engine


def wait_for(check: Any, timeout: float = 30.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError("condition not met in time")


def fires_of(api: Api, pid: int, plid: int) -> list[dict[str, Any]]:
    return list(api.get(f"/projects/{pid}/plans/{plid}/fires")["items"])


def scheduled_plan(api: Api, **trigger: Any) -> tuple[int, int]:
    project = make_project(api)
    case = make_case(api, project["id"])
    plan = make_plan(api, project["id"], case_ids=[case["id"]], enabled=True, trigger=trigger)
    return project["id"], plan["id"]


def test_interval_fires_create_runs_with_source_schedule(app: App) -> None:
    api = app.start()
    pid, plid = scheduled_plan(api, kind="interval", seconds=1)
    fires = wait_for(lambda: len(fires_of(api, pid, plid)) >= 3 and fires_of(api, pid, plid))
    assert {f["result"] for f in fires} <= {"run_created", "skipped"}
    created = [f for f in fires if f["result"] == "run_created"]
    assert created and all(f["lag_s"] < 1.0 for f in created)
    runs = api.get(f"/projects/{pid}/runs", params={"plan_id": plid})["items"]
    assert {r["source"] for r in runs} == {"schedule"}
    assert sorted(r["id"] for r in runs) == sorted(f["run_id"] for f in created)
    scheduled_times = [f["scheduled_at"] for f in fires]
    assert len(scheduled_times) == len(set(scheduled_times)), "a fire time acted on twice"


def test_a_one_off_date_fires_once(app: App) -> None:
    api = app.start()
    at = (datetime.now(UTC) + timedelta(seconds=2)).isoformat()
    pid, plid = scheduled_plan(api, kind="date", at=at)
    fires = wait_for(lambda: fires_of(api, pid, plid))
    time.sleep(1.5)
    assert [f["result"] for f in fires_of(api, pid, plid)] == ["run_created"]
    assert fires[0]["scheduled_at"].startswith(at[:19])


def test_switching_off_stops_the_fires(app: App) -> None:
    api = app.start()
    pid, plid = scheduled_plan(api, kind="interval", seconds=1)
    wait_for(lambda: fires_of(api, pid, plid))
    api.patch(f"/projects/{pid}/plans/{plid}", {"enabled": False})
    time.sleep(0.5)
    count = len(fires_of(api, pid, plid))
    time.sleep(2.5)
    assert len(fires_of(api, pid, plid)) == count
    assert api.get(f"/projects/{pid}/plans/{plid}/schedule")["next"] == []


def test_an_overlapping_fire_is_skipped_and_recorded(app: App) -> None:
    api = app.start()
    project = make_project(api)
    slow = make_case(
        api, project["id"], code="import time\n\ndef test_slow():\n    time.sleep(4)\n"
    )
    plan = make_plan(
        api,
        project["id"],
        case_ids=[slow["id"]],
        enabled=True,
        trigger={"kind": "interval", "seconds": 1},
    )
    fires = wait_for(
        lambda: (
            len(fires_of(api, project["id"], plan["id"])) >= 3
            and fires_of(api, project["id"], plan["id"])
        )
    )
    skipped = [f for f in fires if f["result"] == "skipped"]
    assert skipped and "still going" in skipped[0]["message"]


def move_next_fire(settings_url: str, plid: int, to: datetime) -> None:
    """What a server that was down meanwhile sees: a job due in the past."""
    job = {"id": f"plan-{plid}"}
    engine = make_engine(settings_url)
    with engine.begin() as conn:
        stored = conn.execute(text("SELECT job_state FROM apscheduler_jobs WHERE id = :id"), job)
        state = pickle.loads(stored.scalar_one())
        state["next_run_time"] = to
        conn.execute(
            text("UPDATE apscheduler_jobs SET next_run_time = :t, job_state = :s WHERE id = :id"),
            {**job, "t": to.timestamp(), "s": pickle.dumps(state)},
        )
    engine.dispose()


def test_a_restart_within_the_grace_time_runs_a_missed_fire_once(app: App) -> None:
    api = app.start()
    pid, plid = scheduled_plan(api, kind="cron", expression="0 3 * * *")
    wait_for(lambda: api.get(f"/projects/{pid}/plans/{plid}/schedule")["next"])
    time.sleep(0.5)  # the job is in the job store
    app.stop()
    move_next_fire(app.database_url, plid, datetime.now(UTC) - timedelta(seconds=30))
    api = app.start()
    fires = wait_for(lambda: fires_of(api, pid, plid))
    time.sleep(1)
    fires = fires_of(api, pid, plid)
    assert [f["result"] for f in fires] == ["run_created"]
    assert 25 < fires[0]["lag_s"] < 60


def test_several_missed_fires_coalesce_into_one_run(app: App) -> None:
    api = app.start()
    pid, plid = scheduled_plan(api, kind="interval", seconds=3600)
    time.sleep(0.8)
    app.stop()
    move_next_fire(app.database_url, plid, datetime.now(UTC) - timedelta(hours=3, minutes=-1))
    api = app.start(misfire_grace_s=4 * 3600)
    wait_for(lambda: len(fires_of(api, pid, plid)) >= 3)  # due 2:59, 1:59 and 0:59 ago
    time.sleep(0.5)
    fires = fires_of(api, pid, plid)
    assert sorted(f["result"] for f in fires) == ["run_created", "skipped", "skipped"]
    assert all("coalesced" in f["message"] for f in fires if f["result"] == "skipped")
    assert len(api.get(f"/projects/{pid}/runs", params={"plan_id": plid})["items"]) == 1


def test_a_longer_outage_records_the_fire_as_missed(app: App) -> None:
    api = app.start()
    pid, plid = scheduled_plan(api, kind="cron", expression="0 3 * * *")
    time.sleep(0.8)
    app.stop()
    move_next_fire(app.database_url, plid, datetime.now(UTC) - timedelta(minutes=10))
    api = app.start(misfire_grace_s=300)
    fires = wait_for(lambda: fires_of(api, pid, plid))
    assert [f["result"] for f in fires] == ["missed"]
    assert api.get(f"/projects/{pid}/runs", params={"plan_id": plid})["total"] == 0
