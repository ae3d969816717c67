"""What the execution side needs from the server, passed down explicitly."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from sqlalchemy.orm import Session, sessionmaker

from testyard.config import Settings
from testyard.events.memory import MemoryBus
from testyard.events.publisher import RunEvents
from testyard.execution.forkservers import ForkServers


@dataclass
class ExecutionContext:
    settings: Settings
    sessions: sessionmaker[Session]
    events: RunEvents = field(default_factory=lambda: RunEvents(MemoryBus()))
    #: Where runs fork their pytest processes from; None: each starts an interpreter.
    forkservers: ForkServers | None = None


class StopSignal:
    """Asks a running run to stop: ``cancelled`` by a user, ``interrupted`` when the
    server shuts down."""

    def __init__(self) -> None:
        self._event = threading.Event()
        self.reason = "cancelled"

    def set(self, reason: str = "cancelled") -> None:
        self.reason = reason
        self._event.set()

    def is_set(self) -> bool:
        return self._event.is_set()

    @property
    def event(self) -> threading.Event:
        return self._event
