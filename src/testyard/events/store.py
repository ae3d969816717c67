"""The stored events of a run: ``run``, ``test``, ``done``, ``timeout`` and ``notice``
(the run waits for a worker, a shard runs again), numbered by
``seq`` per run. ``tick`` and ``log`` are live only and carry the seq of the latest
stored event before them, so ``after=SEQ`` means "the stored events after SEQ"."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from testyard.db.models import Run, RunEvent
from testyard.events.bus import Message

STORED = frozenset({"run", "test", "done", "timeout", "notice"})


def store_events(session: Session, run_id: int, events: list[Message]) -> list[Message]:
    """Number and store ``events`` in the caller's transaction; returns them with
    ``seq``. The UPDATE both allocates the numbers and locks the run row, so writers in
    several processes never hand out the same seq."""
    if not events:
        return []
    last = session.execute(
        update(Run)
        .where(Run.id == run_id)
        .values(last_seq=Run.last_seq + len(events))
        .returning(Run.last_seq)
    ).scalar_one()
    first = last - len(events) + 1
    numbered = [{**event, "seq": first + i} for i, event in enumerate(events)]
    session.add_all(
        RunEvent(run_id=run_id, seq=m["seq"], kind=m["event"], payload=m) for m in numbered
    )
    session.flush()
    return numbered


def events_after(session: Session, run_id: int, after: int) -> list[Message]:
    rows = session.scalars(
        select(RunEvent.payload)
        .where(RunEvent.run_id == run_id, RunEvent.seq > after)
        .order_by(RunEvent.seq)
    )
    return [dict(row) for row in rows]


def run_message(run: Run) -> Message:
    """The ``run`` event: what runs, who started it, where, and how many tests."""
    return {
        "event": "run",
        "run": {
            "id": run.id,
            "project_id": run.project_id,
            "plan_id": run.plan_id,
            "title": run.title,
            "description": _description(run),
            "source": run.source,
            "triggered_by": run.triggered_by.username if run.triggered_by else None,
            "environment": run.environment,
            "status": run.status,
            "collected": run.collected,
            "created_at": run.created_at.isoformat(),
            "started_at": run.started_at.isoformat() if run.started_at else None,
        },
    }


def _description(run: Run) -> str:
    cases = run.snapshot.get("cases", [])
    return ", ".join(c["name"] for c in cases[:5]) + (" …" if len(cases) > 5 else "")


def done_message(run: Run) -> Message:
    return {
        "event": "done",
        "status": run.status,
        "counts": run.counts,
        "wall_s": run.wall_s,
        "error": run.error,
    }


def status_message(run: Run) -> Message:
    """For project channels: one run's status changed."""
    return {
        "event": "status",
        "run_id": run.id,
        "status": run.status,
        "title": run.title,
        "counts": run.counts,
        "finished_at": run.finished_at.isoformat() if run.finished_at else None,
    }


def test_message(row: dict[str, Any], reported_at: float | None = None) -> Message:
    """One result; ``reported_at`` is when pytest reported it (epoch seconds)."""
    keys = ("nodeid", "case_id", "outcome", "duration_s", "attempt", "worker", "final",
            "flaky", "message")  # fmt: skip
    return {"event": "test", **{k: row[k] for k in keys}, "reported_at": reported_at}
