"""The celery executor (``TESTYARD_EXECUTOR=celery``): runs are executed by
``testyard worker`` processes, on any machine that reaches the database and Redis.

``submit`` only marks the run as the workers'; `ShardWatch`, a loop in the server,
does the rest: once workers are live it splits the run into one shard per live worker
(balanced by recorded duration) and sends them; it says so in the run's events when
the run waits with no live worker or when a shard's worker stopped answering; and it
ends runs that pass their deadline. The run ends when its last shard does (on the
worker that ran it), so a restart of the server loses nothing.
"""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, sessionmaker

from testyard.config import Settings
from testyard.db.engine import transaction
from testyard.db.models import Run, RunShard
from testyard.events.bus import Message
from testyard.events.publisher import RunEvents
from testyard.events.store import done_message, status_message, store_events
from testyard.execution import shards
from testyard.execution.celery_app import make_celery, send_shard
from testyard.execution.driver import recorded_durations
from testyard.execution.ingest import final_counts
from testyard.loops import PollingLoop
from testyard.services import runs, workers

log = logging.getLogger(__name__)


class CeleryExecutor:
    def __init__(
        self, sessions: sessionmaker[Session], events: RunEvents, settings: Settings
    ) -> None:
        self.sessions = sessions
        self.watch = ShardWatch(sessions, events, settings)

    def submit(self, run_id: int) -> None:
        with transaction(self.sessions) as session:
            runs.get_run(session, run_id).executor = "celery"
        self.watch.wake()

    def cancel(self, run_id: int, reason: str = "cancelled") -> None:
        """Nothing to do here: a shard's worker sees the run's status within a second."""

    def active(self) -> int:
        with transaction(self.sessions) as session:
            return int(
                session.scalar(
                    select(func.count()).where(Run.status == runs.RUNNING, Run.executor == "celery")
                )
                or 0
            )

    def start(self) -> None:
        self.watch.start()

    def shutdown(self) -> None:
        """The runs go on, on the workers."""
        self.watch.stop()


class ShardWatch(PollingLoop):
    thread_name = "shard-watch"
    failure = "tending the workers' runs failed"

    def __init__(
        self, sessions: sessionmaker[Session], events: RunEvents, settings: Settings
    ) -> None:
        super().__init__(min(1.0, settings.worker_heartbeat_s))
        self.sessions = sessions
        self.events = events
        self.settings = settings
        self.app = make_celery(settings)
        #: Notices already given (a run waiting, a shard's worker gone), given once.
        self.noticed: set[tuple[int, str]] = set()
        #: Shards that looked lost, since when (monotonic): see `_lost`.
        self.suspects: dict[tuple[int, int], float] = {}
        self.idle = False
        self.live_names: set[str] = set()

    def run_once(self) -> None:
        with transaction(self.sessions) as session:
            alive = workers.live_workers(session, self.settings.worker_heartbeat_s)
            live, self.idle = len(alive), any(w.run_id is None for w in alive)
            self.live_names = {w.name for w in alive}
            ids = list(
                session.scalars(
                    select(Run.id).where(Run.status == runs.RUNNING, Run.executor == "celery")
                )
            )
        for run_id in ids:
            self._tend(run_id, live)
        # Forget what was said about runs that ended.
        self.noticed = {key for key in self.noticed if key[0] in ids}
        self.suspects = {key: at for key, at in self.suspects.items() if key[0] in ids}

    def _tend(self, run_id: int, live: int) -> None:
        """One pass over one run; events are published once their transaction has
        committed, so what clients see is stored."""
        status: Message | None = None
        to_send: list[int] = []
        lost: list[int] = []
        with transaction(self.sessions) as session:
            run = runs.get_run(session, run_id)
            project_id = run.project_id
            if self._past_deadline(run):
                stored, status = self._time_out(session, run)
            else:
                every = shards.shards_of(session, run_id)
                if not every and live:
                    every = self._split(session, run, live)
                to_send = [s.index for s in every if s.status == shards.PENDING]
                lost = [s.index for s in every if self._lost(s)]
                stored = store_events(session, run_id, self._notices(run, every, live))
        for index in to_send:
            self._send(run_id, index)
        for index in lost:
            log.warning("run %s shard %s: its message seems lost; sent again", run_id, index)
            send_shard(self.app, run_id, index)
        self.events.publish(run_id, stored)
        if status is not None:
            self.events.publish_status(project_id, status)

    def _lost(self, shard: RunShard) -> bool:
        """Whether the broker lost the shard's message (a Redis restarted without
        persistence): a worker stays idle while the shard waits in the queue, or its
        dead worker's message was never handed on. Sent again then; a second copy is
        harmless (the claim lets one delivery run it)."""
        key = (shard.run_id, shard.index)
        stale = shards.shard_stale_after(self.settings.worker_heartbeat_s).total_seconds()
        overdue = self.settings.visibility_timeout_s + self.settings.celery_restore_interval_s
        beat_age = (
            (datetime.now(UTC) - shard.heartbeat_at).total_seconds() if shard.heartbeat_at else 0
        )
        waiting = shard.status == shards.QUEUED or (
            shard.status == shards.RUNNING and beat_age > overdue + stale
        )
        if not (waiting and self.idle):
            self.suspects.pop(key, None)
            return False
        first = self.suspects.setdefault(key, time.monotonic())
        if time.monotonic() - first < stale:
            return False
        del self.suspects[key]
        return True

    def _split(self, session: Session, run: Run, live: int) -> list[RunShard]:
        paths = [case["path"] for case in run.snapshot["cases"]]
        durations = {r.nodeid: r.duration_s for r in recorded_durations(session, run.case_ids)}
        plans = shards.plan_shards(paths, run.snapshot.get("nodeids"), durations, live)
        return shards.create_shards(session, run, plans)

    def _send(self, run_id: int, index: int) -> None:
        """Send, then mark sent: a crash between the two sends it twice, and the second
        delivery finds the shard taken or done."""
        send_shard(self.app, run_id, index)
        with transaction(self.sessions) as session:
            session.execute(
                update(RunShard)
                .where(
                    RunShard.run_id == run_id,
                    RunShard.index == index,
                    RunShard.status == shards.PENDING,
                )
                .values(status=shards.QUEUED)
            )

    def _notices(self, run: Run, every: list[RunShard], live: int) -> list[Message]:
        found: list[tuple[str, str]] = []
        unfinished = [s for s in every if s.status != shards.DONE]
        if not live and (unfinished or not every):
            found.append(("no-worker", shards.NO_WORKER))
        else:
            self.noticed.discard((run.id, "no-worker"))  # say it again if it happens again
        for shard in unfinished:
            # Judged by the worker's own heartbeat (a thread that does nothing else),
            # not the shard's, which a busy machine can delay.
            if shard.status == shards.RUNNING and shard.worker not in self.live_names:
                key = f"gone-{shard.index}-{shard.deliveries}"
                after = timedelta(seconds=self.settings.visibility_timeout_s)
                found.append(
                    (
                        key,
                        f"worker {shard.worker} stopped answering during shard {shard.index}: "
                        f"the shard runs again on another worker within {after}",
                    )
                )
        messages = []
        for key, text in found:
            if (run.id, key) not in self.noticed:
                self.noticed.add((run.id, key))
                messages.append(shards.notice(text, "warning"))
        return messages

    def _past_deadline(self, run: Run) -> bool:
        if run.started_at is None:
            return False
        timeout = run.timeout_s or self.settings.run_timeout_s
        return datetime.now(UTC) > run.started_at + timedelta(seconds=timeout)

    def _time_out(self, session: Session, run: Run) -> tuple[list[Message], Message]:
        """End the run ``timed_out``; answers its stored events and status message."""
        timeout = run.timeout_s or self.settings.run_timeout_s
        events = store_events(session, run.id, [{"event": "timeout", "timeout_s": timeout}])
        ended, changed = runs.finish_run(
            session, run.id, "timed_out", counts=final_counts(session, run.id)
        )
        if changed:
            events += store_events(session, run.id, [done_message(ended)])
        return events, status_message(ended)
