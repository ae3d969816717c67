"""Many plans due at the same instant fire together, in one batch, each exactly once."""

from __future__ import annotations

import time
from collections import Counter
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from tests.factories import make_case, make_plan, make_project
from tests.integration.scheduling.conftest import App
from tests.integration.scheduling.test_fires import wait_for
from testyard.db.engine import make_engine
from testyard.db.models import PlanFire, Run, RunEvent

PLANS = 30


def test_plans_due_together_fire_once_each(app: App) -> None:
    api = app.start(executor="none")  # runs stay queued
    pid = make_project(api)["id"]
    case = make_case(api, pid)
    at = datetime.now(UTC) + timedelta(seconds=4)
    trigger = {"kind": "date", "at": at.isoformat()}
    # Both of these plans already have a queued run: one queues another, one skips.
    queueing = make_plan(api, pid, case_ids=[case["id"]], on_overlap="queue")
    skipping = make_plan(api, pid, case_ids=[case["id"]], on_overlap="skip")
    for plan in (queueing, skipping):
        api.post(f"/projects/{pid}/runs", {"plan_id": plan["id"]}, status=202)
        api.patch(f"/projects/{pid}/plans/{plan['id']}", {"enabled": True, "trigger": trigger})
    plain = [
        make_plan(api, pid, case_ids=[case["id"]], enabled=True, trigger=trigger)["id"]
        for _ in range(PLANS - 1)
    ]
    assert datetime.now(UTC) < at, "the plans took too long to create"
    engine = make_engine(app.database_url)
    try:

        def fires() -> list[PlanFire]:
            with engine.connect() as conn:
                return list(conn.execute(select(PlanFire)).all())  # type: ignore[arg-type]

        wait_for(lambda: len(fires()) >= PLANS + 1)
        time.sleep(1.0)  # nothing more comes
        recorded = fires()
        with engine.connect() as conn:
            made = conn.execute(select(Run).where(Run.source == "schedule")).all()
            first_events = conn.execute(
                select(RunEvent.run_id, RunEvent.kind).where(
                    RunEvent.run_id.in_([r.id for r in made]), RunEvent.seq == 1
                )
            ).all()
    finally:
        engine.dispose()
    assert len(recorded) == PLANS + 1
    assert Counter(f.result for f in recorded) == {"run_created": PLANS, "skipped": 1}
    assert len({(f.plan_id, f.scheduled_at) for f in recorded}) == PLANS + 1
    (skipped,) = [f for f in recorded if f.result == "skipped"]
    assert skipped.plan_id == skipping["id"]
    assert "still going" in skipped.message
    created = {f.plan_id: f.run_id for f in recorded if f.result == "run_created"}
    assert set(created) == {*plain, queueing["id"]}
    assert len(made) == PLANS
    assert len({r.dedupe_key for r in made}) == PLANS
    assert {r.id for r in made} == set(created.values())
    for run in made:
        assert run.dedupe_key == f"plan:{run.plan_id}:{at.isoformat()}"
        assert run.status == "queued" and run.last_seq == 1
        assert run.snapshot["cases"][0]["id"] == case["id"]
    assert sorted(first_events) == sorted((r.id, "run") for r in made)
