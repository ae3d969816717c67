"""Staged polling: a watch runs a staged plan's cases as ordered steps.

Every polling period (the plan's interval trigger) the watch looks at its current
step: a run of it still going is waited for; a finished run that passed moves the
watch to the next step (or ends it ``passed`` after the last); one whose test called
``testyard.pending(...)`` leaves the step ``pending`` and it is tried again; a failure
or error ends the watch ``failed``; the plan's ``deadline_s`` ends it ``timed_out``.
Each try is a run with source ``watch``.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from testyard.db.models import Case, Plan, PlanWatch, Project, Run, User
from testyard.services import plans as plans_service
from testyard.services import runs
from testyard.services.errors import Invalid, not_found

DEFAULT_DEADLINE_S = 3600
ACTIVE = "watching"
ENDED = frozenset({"passed", "failed", "timed_out", "cancelled"})


def start_watch(
    session: Session, project: Project, plan: Plan, user: User | None,
    environment: str | None = None,
) -> PlanWatch:  # fmt: skip
    if plan.mode != "staged":
        raise Invalid(f"plan {plan.name!r} is not a staged plan", field="mode")
    if plan.trigger_kind != "interval" or not plan.trigger_seconds:
        raise Invalid("a staged plan polls on an interval trigger: set trigger.seconds",
                      field="trigger.seconds")  # fmt: skip
    case_ids = plans_service.case_ids(plan)
    if not case_ids:
        raise Invalid(f"plan {plan.name!r} has no steps", field="case_ids")
    names = dict(session.execute(select(Case.id, Case.name).where(Case.id.in_(case_ids))).all())
    now = datetime.now(UTC)
    watch = PlanWatch(
        plan_id=plan.id, project_id=project.id, status=ACTIVE,
        environment=environment or (plan.environment.name if plan.environment else None),
        interval_s=plan.trigger_seconds,
        steps=[{"case_id": cid, "name": names.get(cid, str(cid)), "state": "waiting",
                "attempts": 0, "run_id": None, "started_at": None, "finished_at": None}
               for cid in case_ids],
        started_by_id=user.id if user else None, created_at=now,
        deadline_at=now + timedelta(seconds=plan.deadline_s or DEFAULT_DEADLINE_S),
    )  # fmt: skip
    session.add(watch)
    session.flush()
    return watch


def get_watch(session: Session, project: Project, watch_id: int) -> PlanWatch:
    watch = session.get(PlanWatch, watch_id)
    if watch is None or watch.project_id != project.id:
        raise not_found("watch", watch_id)
    return watch


def cancel_watch(session: Session, watch: PlanWatch) -> PlanWatch:
    if watch.status in ENDED:
        raise runs.InvalidTransition(f"watch {watch.id} already ended {watch.status}")
    _end(watch, "cancelled", "cancelled by a user")
    return watch


def tick(session: Session, watch_id: int, now: datetime) -> int | None:
    """One polling period of a watch; answers the run it started, if any."""
    watch = session.get(PlanWatch, watch_id, with_for_update=True)
    if watch is None or watch.status != ACTIVE:
        return None
    steps = [dict(step) for step in watch.steps]
    run_id = _advance(session, watch, steps, now)
    # Assigned after every change: an in-place edit of the JSON value is not seen.
    watch.steps = [dict(step) for step in steps]
    session.flush()
    return run_id


def _advance(
    session: Session, watch: PlanWatch, steps: list[dict[str, Any]], now: datetime
) -> int | None:
    current = next((s for s in steps if s["state"] != "passed"), None)
    if current is not None and current["run_id"] is not None:
        run = session.get(Run, current["run_id"])
        if run is not None and run.status in ("queued", "running"):
            if now >= watch.deadline_at:
                _end(watch, "timed_out", f"step {current['name']!r} still running at the deadline")
            return None
        current["state"], current["finished_at"] = _verdict(run), now.isoformat()
        if current["state"] == "failed":
            _end(watch, "failed", f"step {current['name']!r} failed (run {current['run_id']})")
            return None
        current = next((s for s in steps if s["state"] != "passed"), None)
    if current is None:
        _end(watch, "passed", "every step passed")
        return None
    if now >= watch.deadline_at:
        _end(watch, "timed_out", f"step {current['name']!r} was not done by the deadline")
        return None
    return _try_step(session, watch, current, now)


def _verdict(run: Run | None) -> str:
    if run is None:
        return "failed"
    if run.status == "passed":
        return "pending" if run.counts.get("pending") else "passed"
    return "failed"


def _try_step(session: Session, watch: PlanWatch, step: dict[str, Any], now: datetime) -> int:
    project = session.get_one(Project, watch.project_id)
    run = runs.create_run(
        session, project, None, case_ids=[step["case_id"]], environment=watch.environment,
        source="watch", dedupe_key=f"watch:{watch.id}:{now.isoformat()}",
    )  # fmt: skip
    step["run_id"], step["attempts"] = run.id, step["attempts"] + 1
    step["state"] = "running"
    step["started_at"] = step["started_at"] or now.isoformat()
    return run.id


def _end(watch: PlanWatch, status: str, message: str) -> None:
    watch.status, watch.message = status, message
    watch.finished_at = datetime.now(UTC)


def active_watches(session: Session) -> list[tuple[int, int]]:
    """(watch id, polling period) of every active watch, for the scheduler."""
    return [(w.id, w.interval_s) for w in session.scalars(
        select(PlanWatch).where(PlanWatch.status == ACTIVE))]  # fmt: skip
