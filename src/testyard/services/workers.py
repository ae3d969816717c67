"""The ``testyard worker`` processes, as their heartbeats describe them: each writes
its row every ``TESTYARD_WORKER_HEARTBEAT_S`` seconds; three missed heartbeats and it
counts as gone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from testyard.db.models import Worker

MISSED_HEARTBEATS = 3
#: Rows of workers gone this long are dropped from the list.
FORGET_AFTER = timedelta(days=1)


def stale_after(heartbeat_s: float) -> timedelta:
    return timedelta(seconds=heartbeat_s * MISSED_HEARTBEATS)


def is_live(worker: Worker, heartbeat_s: float, now: datetime | None = None) -> bool:
    now = now or datetime.now(UTC)
    return not worker.stopped and now - worker.heartbeat_at < stale_after(heartbeat_s)


def beat(
    session: Session,
    name: str,
    *,
    host: str,
    pid: int,
    slots: int,
    version: str,
    current: tuple[int, int] | None,
    stopped: bool = False,
) -> None:
    """Insert or refresh this worker's row."""
    worker = session.get(Worker, name)
    if worker is None:
        worker = Worker(name=name, host=host, pid=pid, slots=slots, version=version)
        session.add(worker)
    worker.heartbeat_at = datetime.now(UTC)
    worker.host, worker.pid, worker.slots, worker.version = host, pid, slots, version
    worker.run_id, worker.shard_index = current if current else (None, None)
    worker.stopped = stopped
    session.flush()


def list_workers(session: Session) -> list[Worker]:
    """Every worker seen within a day, the newest heartbeat first."""
    cutoff = datetime.now(UTC) - FORGET_AFTER
    session.execute(delete(Worker).where(Worker.heartbeat_at < cutoff))
    return list(session.scalars(select(Worker).order_by(Worker.heartbeat_at.desc(), Worker.name)))


def live_workers(session: Session, heartbeat_s: float) -> list[Worker]:
    since = datetime.now(UTC) - stale_after(heartbeat_s)
    return list(
        session.scalars(
            select(Worker)
            .where(Worker.heartbeat_at >= since, Worker.stopped.is_(False))
            .order_by(Worker.name)
        )
    )
