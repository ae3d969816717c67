"""What the execution side needs from the server, passed down explicitly."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from testyard.config import Settings

#: Publishes one event of a run (issue-free default: nowhere).
Publish = Callable[[int, dict[str, Any]], None]


def _nowhere(_run_id: int, _event: dict[str, Any]) -> None:
    return None


@dataclass
class ExecutionContext:
    settings: Settings
    sessions: sessionmaker[Session]
    publish: Publish = field(default=_nowhere)


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
