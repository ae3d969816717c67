"""The queue dispatcher: hands queued runs, oldest first, to the executor while fewer
than ``TESTYARD_MAX_CONCURRENT_RUNS`` run here. Checks every
``TESTYARD_DISPATCH_INTERVAL_S`` seconds, and at once when woken by a new run."""

from __future__ import annotations

from sqlalchemy.orm import Session, sessionmaker

from testyard.db.engine import transaction
from testyard.events.bus import Message
from testyard.events.publisher import RunEvents
from testyard.events.store import run_message, status_message, store_events
from testyard.execution.protocol import Executor
from testyard.loops import PollingLoop
from testyard.services import runs


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


class Dispatcher(PollingLoop):
    thread_name = "dispatcher"
    failure = "dispatching queued runs failed"

    def __init__(
        self,
        sessions: sessionmaker[Session],
        executor: Executor,
        events: RunEvents,
        *,
        limit: int,
        interval: float,
    ) -> None:
        super().__init__(interval)
        self.sessions = sessions
        self.events = events
        self.executor = executor
        self.limit = limit

    def run_once(self) -> list[int]:
        return dispatch_once(self.sessions, self.executor, self.limit, self.events)
