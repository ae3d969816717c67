"""The queue dispatcher: hands queued runs, oldest first, to the executor while fewer
than ``TESTYARD_MAX_CONCURRENT_RUNS`` run here. Checks every
``TESTYARD_DISPATCH_INTERVAL_S`` seconds, and at once when woken by a new run."""

from __future__ import annotations

import logging
import threading

from sqlalchemy.orm import Session, sessionmaker

from testyard.db.engine import transaction
from testyard.events.bus import Message
from testyard.events.publisher import RunEvents
from testyard.events.store import run_message, status_message, store_events
from testyard.execution.protocol import Executor
from testyard.services import runs

log = logging.getLogger(__name__)


def dispatch_once(
    sessions: sessionmaker[Session], executor: Executor, limit: int, events: RunEvents
) -> list[int]:
    """Claim up to the free slots' worth of queued runs and start them."""
    free = limit - executor.active()
    if free <= 0:
        return []
    claimed: list[tuple[int, int, list[Message], Message]] = []
    with transaction(sessions) as session:
        for run_id in runs.queued_run_ids(session, free):
            try:
                run = runs.set_run_status(session, run_id, runs.RUNNING)
            except runs.InvalidTransition:
                continue  # cancelled, or claimed by another process, meanwhile
            stored = store_events(session, run_id, [run_message(run)])
            claimed.append((run_id, run.project_id, stored, status_message(run)))
    for run_id, project_id, stored, status in claimed:
        events.publish(run_id, stored)
        events.publish_status(project_id, status)
        executor.submit(run_id)
    return [run_id for run_id, *_ in claimed]


class Dispatcher:
    def __init__(
        self,
        sessions: sessionmaker[Session],
        executor: Executor,
        events: RunEvents,
        *,
        limit: int,
        interval: float,
    ) -> None:
        self.sessions = sessions
        self.events = events
        self.executor = executor
        self.limit = limit
        self.interval = interval
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="dispatcher", daemon=True)
        self._thread.start()

    def wake(self) -> None:
        self._wake.set()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(10)

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                dispatch_once(self.sessions, self.executor, self.limit, self.events)
            except Exception:  # a database hiccup must not end the dispatcher
                log.exception("dispatching queued runs failed; retrying")
            self._wake.wait(self.interval)
            self._wake.clear()
