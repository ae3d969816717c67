"""Ingestion of the pytest plugin's JSON events: results stored in batches, keyed by
(run, node id, worker, attempt) so a repeated delivery never duplicates a result."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, sessionmaker

from testyard.db.engine import transaction
from testyard.db.models import Run, RunResult
from testyard.events.publisher import RunEvents
from testyard.events.store import run_message, store_events, test_message

log = logging.getLogger(__name__)

BATCH = 200
TEXT_FIELDS = ("message", "longrepr", "stdout", "stderr", "log")


def _when(ts: Any) -> datetime | None:
    return datetime.fromtimestamp(float(ts), UTC) if isinstance(ts, int | float) else None


def _seconds(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) else None


class ResultSink:
    """Receives the events of one run, in order, from the driver's reader thread.

    Handlers are named ``on_<event>``; an unknown event is logged and dropped.
    Attributes read by the driver when the process has ended: ``collected``,
    ``collect_errors``, ``finish`` (the ``session_finish`` event, if one came).
    """

    def __init__(
        self,
        sessions: sessionmaker[Session],
        run_id: int,
        case_paths: dict[str, int],
        events: RunEvents,
    ) -> None:
        self.sessions = sessions
        self.run_id = run_id
        self.case_paths = case_paths
        self.events = events
        #: The seq of the latest stored event this sink wrote (live ``log`` events
        #: carry it).
        self.last_seq = 0
        self.pending: list[dict[str, Any]] = []
        self.reported_at: list[float | None] = []
        self.collected: int | None = None
        self.collect_errors: list[dict[str, Any]] = []
        self.finish: dict[str, Any] | None = None

    def feed_line(self, line: bytes) -> None:
        try:
            event = json.loads(line)
        except ValueError:
            log.warning("run %s: unreadable event line dropped", self.run_id)
            return
        if isinstance(event, dict):
            self.handle(event)

    def handle(self, event: dict[str, Any]) -> None:
        handler = getattr(self, f"on_{event.get('event')}", None)
        if handler is None:
            log.warning("run %s: unknown event %r dropped", self.run_id, event.get("event"))
            return
        handler(event)

    def on_session_start(self, event: dict[str, Any]) -> None:
        pass

    def on_collected(self, event: dict[str, Any]) -> None:
        self.collected = int(event.get("count", 0))
        with transaction(self.sessions) as session:
            run = session.get_one(Run, self.run_id)
            run.collected = self.collected
            stored = store_events(session, self.run_id, [run_message(run)])
        self._published(stored)

    def on_collect_error(self, event: dict[str, Any]) -> None:
        self.collect_errors.append(event)

    def on_test(self, event: dict[str, Any]) -> None:
        self.pending.append(self._row(event))
        self.reported_at.append(event.get("ts"))
        if len(self.pending) >= BATCH:
            self.flush()

    def on_session_finish(self, event: dict[str, Any]) -> None:
        self.finish = event

    def idle(self) -> None:
        """Called when the pipe has nothing more to read right now: store what waits.
        A slow stream is stored result by result (low latency for live views), a fast
        one in batches of what arrived together."""
        if self.pending:
            self.flush()

    def _row(self, event: dict[str, Any]) -> dict[str, Any]:
        nodeid = str(event["nodeid"])
        attempt = int(event.get("attempt", 1))
        outcome = str(event.get("outcome", "error"))
        final = not event.get("rerun", False)
        row: dict[str, Any] = {
            "run_id": self.run_id,
            "case_id": self.case_paths.get(nodeid.split("::", 1)[0]),
            "nodeid": nodeid[:1000],
            "worker": str(event.get("worker", "main"))[:32],
            "attempt": attempt,
            "outcome": outcome,
            "final": final,
            "flaky": final and attempt > 1 and outcome in ("passed", "xfailed"),
            "duration_s": float(event.get("duration_s") or 0.0),
            "cpu_s": _seconds(event.get("cpu_s")),
            "started_at": _when(event.get("start")),
            "finished_at": _when(event.get("stop")),
        }
        for key in TEXT_FIELDS:
            row[key] = str(event.get(key) or "")
        return row

    def flush(self) -> None:
        rows, self.pending = self.pending, []
        reported, self.reported_at = self.reported_at, []
        if not rows:
            return
        with transaction(self.sessions) as session:
            dialect = session.get_bind().dialect.name
            insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
            statement = (
                insert(RunResult)
                .values(rows)
                .on_conflict_do_nothing(index_elements=["run_id", "nodeid", "worker", "attempt"])
            )
            session.execute(statement)
            messages = [test_message(r, ts) for r, ts in zip(rows, reported, strict=True)]
            stored = store_events(session, self.run_id, messages)
        self._published(stored)

    def _published(self, stored: list[dict[str, Any]]) -> None:
        """After the commit: subscribers see only what is durably stored."""
        if stored:
            self.last_seq = stored[-1]["seq"]
        self.events.publish(self.run_id, stored)


def final_counts(session: Session, run_id: int) -> dict[str, int]:
    """Outcomes of the final attempts: each test counted once."""
    rows = session.execute(
        select(RunResult.outcome, func.count())
        .where(RunResult.run_id == run_id, RunResult.final.is_(True))
        .group_by(RunResult.outcome)
    ).all()
    counts = {outcome: int(n) for outcome, n in rows}
    counts["total"] = sum(counts.values())
    flaky = session.scalar(
        select(func.count()).where(RunResult.run_id == run_id, RunResult.flaky.is_(True))
    )
    counts["flaky"] = int(flaky or 0)
    return counts
