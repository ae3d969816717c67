"""The background thread the polling services share (the queue dispatcher, the
notification sender): ``run_once`` every ``interval`` seconds, at once when woken, and
never ended by a failing pass (a database hiccup is retried on the next one)."""

from __future__ import annotations

import logging
import threading
from typing import ClassVar

log = logging.getLogger(__name__)


class PollingLoop:
    """Subclasses name their thread, say what failed, and implement ``run_once``."""

    thread_name: ClassVar[str]
    failure: ClassVar[str]

    def __init__(self, interval: float) -> None:
        self.interval = interval
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def run_once(self) -> object:
        raise NotImplementedError

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name=self.thread_name, daemon=True)
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
                self.run_once()
            except Exception:
                log.exception("%s; retrying", self.failure)
            self._wake.wait(self.interval)
            self._wake.clear()
