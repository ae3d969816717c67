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
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from testyard.config import Settings
from testyard.db.engine import transaction
from testyard.db.models import Case, Plan, PlanFire, Project, Run, RunEvent
from testyard.events.store import run_message
from testyard.services import plans as plans_service
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
    """The job of every scheduled plan (``run_times`` come from the executor;
    ``service.BatchingExecutor`` calls ``fire_batch`` instead)."""
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


STILL_GOING = "the previous run of this plan is still going"
CLAIM_CHUNK = 200  # fire rows per INSERT (SQLite's bound-parameter limit)


def fire_batch(
    context: FireContext, items: list[tuple[int, list[datetime]]], now: datetime
) -> None:
    """``fire`` for many plans at once (a burst of due jobs), with the same rules, in
    one transaction and a fixed number of queries for the plans, the still-going
    check and the claim of the fire records. If that transaction fails unexpectedly,
    each plan is fired on its own with ``fire``."""
    due: dict[int, set[datetime]] = {}
    for plan_id, times in items:
        due.setdefault(plan_id, set()).update(times)
    try:
        created = _fire_batch(context, {p: sorted(t) for p, t in due.items()}, now)
    except Exception:
        log.exception("firing %d plans at once failed; firing them one by one", len(due))
        for plan_id, pending in due.items():
            try:
                fire(context, plan_id, sorted(pending), now)
            except Exception:
                log.exception("plan %s: fire failed", plan_id)
        return
    for run_id in created:
        context.on_run_created(run_id)


def _fire_batch(context: FireContext, due: dict[int, list[datetime]], now: datetime) -> list[int]:
    """Answers the ids of the runs created (committed when it returns)."""
    with transaction(context.sessions) as session:
        ids = sorted(due)
        plans = {p.id: p for p in session.scalars(select(Plan).where(Plan.id.in_(ids)))}
        going = set(session.scalars(
            select(Run.plan_id).where(Run.plan_id.in_(ids), Run.status.in_(("queued", "running")))
            .distinct()
        ))  # fmt: skip
        projects = {
            p.id: p
            for p in session.scalars(
                select(Project).where(Project.id.in_({p.project_id for p in plans.values()}))
            )
        }
        case_cache: dict[tuple[int, tuple[int, ...]], list[Case]] = {}
        snapshots: dict[tuple[int, tuple[int, ...], str | None], dict[str, Any]] = {}
        rows: list[dict[str, Any]] = []
        pending: dict[int, Run] = {}  # plan id -> its run, if its fire is claimed
        for plan_id in ids:
            plan = plans.get(plan_id)
            if plan is None:
                continue
            late = [t for t in due[plan_id] if now - t > context.grace]
            fresh = [t for t in due[plan_id] if now - t <= context.grace]
            rows += [_fire_values(plan_id, t, now, "missed",
                                  f"the scheduler was not running within {context.grace} "
                                  "of this time") for t in late]  # fmt: skip
            rows += [_fire_values(plan_id, t, now, "skipped",
                                  f"coalesced into the fire at {fresh[-1].isoformat()}")
                     for t in fresh[:-1]]  # fmt: skip
            if not fresh or not plan.enabled:
                continue
            scheduled = fresh[-1]
            if plan.on_overlap == "skip" and plan_id in going:
                rows.append(_fire_values(plan_id, scheduled, now, "skipped", STILL_GOING))
                continue
            project = projects[plan.project_id]
            try:
                run = _new_run(session, project, plan, scheduled, case_cache, snapshots)
            except ServiceError as exc:
                rows.append(_fire_values(plan_id, scheduled, now, "error", exc.message))
                continue
            rows.append(_fire_values(plan_id, scheduled, now, "run_created", ""))
            pending[plan_id] = run
        claimed = _claim(session, rows)
        runs_by_fire = {
            fire_id: pending[plan_id]
            for fire_id, plan_id, result in claimed
            if result == "run_created"
        }
        if not runs_by_fire:
            return []
        session.add_all(runs_by_fire.values())
        session.flush()
        # What store_events would store for each new run (its seq 1, last_seq set at
        # insert), without one UPDATE per run.
        session.add_all(
            RunEvent(run_id=run.id, seq=1, kind="run", payload={**run_message(run), "seq": 1})
            for run in runs_by_fire.values()
        )
        session.flush()
        session.execute(
            update(PlanFire), [{"id": f, "run_id": r.id} for f, r in runs_by_fire.items()]
        )
        return [run.id for run in runs_by_fire.values()]


def _fire_values(
    plan_id: int, scheduled: datetime, now: datetime, result: str, message: str
) -> dict[str, Any]:
    return {
        "plan_id": plan_id, "scheduled_at": scheduled, "fired_at": now,
        "lag_s": (now - scheduled).total_seconds(), "result": result, "message": message,
        "run_id": None,
    }  # fmt: skip


def _claim(session: Session, rows: list[dict[str, Any]]) -> list[tuple[int, int, str]]:
    """Insert the fire records not already there: (id, plan id, result) of those this
    transaction claimed. A record a racing scheduler holds is left to it."""
    bind = session.get_bind()
    insert = postgresql.insert if bind.dialect.name == "postgresql" else sqlite.insert
    claimed: list[tuple[int, int, str]] = []
    for start in range(0, len(rows), CLAIM_CHUNK):
        statement = (
            insert(PlanFire)
            .values(rows[start : start + CLAIM_CHUNK])
            .on_conflict_do_nothing(index_elements=["plan_id", "scheduled_at"])
            .returning(PlanFire.id, PlanFire.plan_id, PlanFire.result)
        )
        claimed += [(r.id, r.plan_id, r.result) for r in session.execute(statement)]
    return claimed


def _new_run(
    session: Session,
    project: Project,
    plan: Plan,
    scheduled: datetime,
    case_cache: dict[tuple[int, tuple[int, ...]], list[Case]],
    snapshots: dict[tuple[int, tuple[int, ...], str | None], dict[str, Any]],
) -> Run:
    """The run ``runs.create_run`` would make of this fire, not yet added; cases and
    snapshot are looked up once per (project, cases, environment) in the batch."""
    case_key = (project.id, tuple(plans_service.case_ids(plan)))
    cases = case_cache.get(case_key)
    if cases is None:
        cases = case_cache[case_key] = runs._select_cases(session, project, plan, None, None)
    env_name = plan.environment.name if plan.environment else None
    snap_key = (*case_key, env_name)
    if snap_key not in snapshots:
        snapshots[snap_key] = runs.snapshot(session, project, cases, env_name)
    return Run(
        project_id=project.id,
        plan_id=plan.id,
        title=plan.name,
        source="schedule",
        triggered_by_id=None,
        environment=env_name,
        status=runs.QUEUED,
        case_ids=[c.id for c in cases],
        snapshot=snapshots[snap_key],
        dedupe_key=f"plan:{plan.id}:{scheduled.isoformat()}",
        last_seq=1,  # its ``run`` event, stored with it
        **runs._run_settings(plan, {}),
    )
