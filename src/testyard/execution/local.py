"""The embedded executor: each run in a thread of this process, driving its own
pytest subprocess."""

from __future__ import annotations

import threading
from collections.abc import Callable

from testyard.execution.context import ExecutionContext, StopSignal
from testyard.execution.driver import RunDriver

SHUTDOWN_WAIT_S = 20.0


class LocalExecutor:
    def __init__(self, ctx: ExecutionContext) -> None:
        self.ctx = ctx
        self._lock = threading.Lock()
        self._runs: dict[int, tuple[threading.Thread, StopSignal]] = {}
        #: Called when a run ends, so the dispatcher can fill the freed slot at once.
        self.on_done: Callable[[], None] | None = None

    def submit(self, run_id: int) -> None:
        stop = StopSignal()
        thread = threading.Thread(
            target=self._drive, args=(run_id, stop), name=f"run-{run_id}", daemon=True
        )
        with self._lock:
            self._runs[run_id] = (thread, stop)
        thread.start()

    def _drive(self, run_id: int, stop: StopSignal) -> None:
        try:
            RunDriver(self.ctx, run_id, stop).execute()
        finally:
            with self._lock:
                self._runs.pop(run_id, None)
            if self.on_done is not None:
                self.on_done()

    def cancel(self, run_id: int, reason: str = "cancelled") -> None:
        with self._lock:
            entry = self._runs.get(run_id)
        if entry is not None:
            entry[1].set(reason)

    def active(self) -> int:
        with self._lock:
            return len(self._runs)

    def shutdown(self) -> None:
        with self._lock:
            entries = list(self._runs.values())
        for _thread, stop in entries:
            stop.set("interrupted")
        for thread, _stop in entries:
            thread.join(SHUTDOWN_WAIT_S)
        if self.ctx.forkservers is not None:
            self.ctx.forkservers.close()
