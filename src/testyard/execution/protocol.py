"""The interface every executor offers the queue dispatcher."""

from __future__ import annotations

from typing import Protocol


class Executor(Protocol):
    def submit(self, run_id: int) -> None:
        """Start a run the dispatcher has claimed (it is ``running``)."""

    def cancel(self, run_id: int, reason: str = "cancelled") -> None:
        """Stop a run this executor is running, if it is."""

    def active(self) -> int:
        """How many runs this executor is running now."""

    def shutdown(self) -> None:
        """Stop every run (they end ``interrupted``) and wait for them."""
