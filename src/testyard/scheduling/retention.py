"""Retention: deletes fire records older than ``TESTYARD_RETENTION_FIRES_DAYS`` and runs
(results, events, artifacts) older than ``TESTYARD_RETENTION_RUNS_DAYS``, but never a
plan's last ``TESTYARD_RETENTION_KEEP_RUNS`` runs, so trends and recorded durations
survive. Runs every ``TESTYARD_RETENTION_CRON`` (Monday 00:00) as one job instance;
``testyard purge --older-than 30d`` runs it by hand."""

from __future__ import annotations

import logging
import shutil
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session, sessionmaker

from testyard.config import Settings
from testyard.db.engine import transaction
from testyard.db.models import PlanFire, Run
from testyard.scheduling import fires

log = logging.getLogger(__name__)

FINISHED = ("passed", "failed", "error", "cancelled", "timed_out", "interrupted")


@dataclass
class Purged:
    fires: int
    runs: int


def purge(
    session: Session,
    *,
    runs_before: datetime,
    fires_before: datetime,
    keep_per_plan: int,
    artifacts_dir: Path,
) -> Purged:
    """Delete what is old, in the caller's transaction (artifacts go after the rows)."""
    old_fires = delete(PlanFire).where(PlanFire.fired_at < fires_before)
    fired = session.execute(old_fires).rowcount  # type: ignore[attr-defined]
    ranked = (
        select(
            Run.id,
            func.row_number().over(partition_by=Run.plan_id, order_by=Run.id.desc()).label("n"),
        )
        .where(Run.plan_id.is_not(None))
        .subquery()
    )
    kept = select(ranked.c.id).where(ranked.c.n <= keep_per_plan)
    old = list(session.scalars(
        select(Run.id).where(Run.created_at < runs_before, Run.status.in_(FINISHED),
                             Run.id.not_in(kept))
    ))  # fmt: skip
    for chunk in range(0, len(old), 500):
        ids = old[chunk : chunk + 500]
        session.execute(delete(Run).where(Run.id.in_(ids)))  # results and events cascade
    session.flush()
    for run_id in old:
        shutil.rmtree(artifacts_dir / str(run_id), ignore_errors=True)
    return Purged(fires=int(fired or 0), runs=len(old))


def run_retention(sessions: sessionmaker[Session], settings: Settings,
                  runs_older_than: timedelta | None = None) -> Purged:  # fmt: skip
    now = datetime.now(UTC)
    with transaction(sessions) as session:
        purged = purge(
            session,
            runs_before=now - (runs_older_than or timedelta(days=settings.retention_runs_days)),
            fires_before=now - timedelta(days=settings.retention_fires_days),
            keep_per_plan=settings.retention_keep_runs,
            artifacts_dir=settings.artifacts_dir,
        )
    log.info("retention deleted %s runs and %s fire records", purged.runs, purged.fires)
    return purged


def retention_job(run_times: list[datetime] | None = None) -> None:
    """The weekly job (scheduled by the leader)."""
    context = fires.current()
    if context is not None and context.settings is not None:
        run_retention(context.sessions, context.settings)
