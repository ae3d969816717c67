"""What happens when a plan's trigger fires: exactly one run per scheduled time.

APScheduler calls ``fire_plan`` (by its dotted name, which its job store keeps) with
every due fire time. Times past the grace period are recorded ``missed``; of the rest,
all but the latest are recorded as coalesced into it, and the latest creates a run
(or is ``skipped`` while the plan's previous run is still going, unless the plan says
``on_overlap: queue``). A fire record is unique per (plan, scheduled time) and a run's
``dedupe_key`` names its fire, so two schedulers racing on one fire act once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from testyard.config import Settings
from testyard.db.engine import transaction
from testyard.db.models import Plan, PlanFire, Project, Run
from testyard.services import runs
from testyard.services.errors import ServiceError

log = logging.getLogger(__name__)


@dataclass
class FireContext:
    """Set by the running scheduler: job functions are referenced by name, so they
    find the database and the hooks here."""

    sessions: sessionmaker[Session]
    grace: timedelta
    on_run_created: Callable[[int], None]
    settings: Settings | None = None
    remove_job: Callable[[str], None] | None = None


_context: FireContext | None = None


def install(context: FireContext | None) -> None:
    global _context
    _context = context


def current() -> FireContext | None:
    return _context


def fire_plan(plan_id: int, run_times: list[datetime] | None = None) -> None:
    """The job of every scheduled plan (``run_times`` come from FireTimesExecutor)."""
    if _context is None:
        log.warning("plan %s fired with no scheduler context; ignored", plan_id)
        return
    fire(_context, plan_id, sorted(run_times or []), datetime.now(UTC))


def fire(context: FireContext, plan_id: int, due: list[datetime], now: datetime) -> None:
    late = [t for t in due if now - t > context.grace]
    fresh = [t for t in due if now - t <= context.grace]
    for scheduled in late:
        _record(
            context,
            plan_id,
            scheduled,
            now,
            "missed",
            f"the scheduler was not running within {context.grace} of this time",
        )
    for scheduled in fresh[:-1]:
        _record(
            context,
            plan_id,
            scheduled,
            now,
            "skipped",
            f"coalesced into the fire at {fresh[-1].isoformat()}",
        )
    if fresh:
        _run(context, plan_id, fresh[-1], now)


def _record(
    context: FireContext,
    plan_id: int,
    scheduled: datetime,
    now: datetime,
    result: str,
    message: str = "",
    run_id: int | None = None,
) -> bool:
    """Store a fire record alone; False when this fire was already recorded."""
    try:
        with transaction(context.sessions) as session:
            if session.get(Plan, plan_id) is None:
                return False
            session.add(_fire_row(plan_id, scheduled, now, result, message, run_id))
        return True
    except IntegrityError:
        return False


def _fire_row(plan_id: int, scheduled: datetime, now: datetime, result: str, message: str,
              run_id: int | None) -> PlanFire:  # fmt: skip
    return PlanFire(
        plan_id=plan_id, scheduled_at=scheduled, fired_at=now,
        lag_s=(now - scheduled).total_seconds(), result=result, message=message, run_id=run_id,
    )  # fmt: skip


def _run(context: FireContext, plan_id: int, scheduled: datetime, now: datetime) -> None:
    """Record the fire and create its run in one transaction; a second scheduler's
    attempt at the same fire fails on the unique keys and does nothing."""
    try:
        with transaction(context.sessions) as session:
            plan = session.get(Plan, plan_id)
            if plan is None or not plan.enabled:
                return
            fire_row = _fire_row(plan_id, scheduled, now, "run_created", "", None)
            session.add(fire_row)
            session.flush()  # claims the fire: a racing scheduler fails here
            if plan.on_overlap == "skip" and _still_going(session, plan_id):
                fire_row.result = "skipped"
                fire_row.message = "the previous run of this plan is still going"
                return
            try:
                with session.begin_nested():
                    run = runs.create_run(
                        session, session.get_one(Project, plan.project_id), None,
                        plan_id=plan_id, source="schedule",
                        dedupe_key=f"plan:{plan_id}:{scheduled.isoformat()}",
                    )  # fmt: skip
            except ServiceError as exc:
                fire_row.result, fire_row.message = "error", exc.message
                return
            fire_row.run_id = run.id
            run_id = run.id
    except IntegrityError:
        return
    context.on_run_created(run_id)


def _still_going(session: Session, plan_id: int) -> bool:
    return session.scalar(
        select(Run.id).where(Run.plan_id == plan_id, Run.status.in_(("queued", "running")))
        .limit(1)
    ) is not None  # fmt: skip
