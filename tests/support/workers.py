"""Real ``testyard worker`` processes (Celery workers) for the tests, each with its own
work directory so a test can "lose the machine": the worker and every process it ran."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from pathlib import Path

from tests.support.server import TESTYARD, cli_env, terminate

#: Short enough for tests: a dead worker's shard is handed on within seconds.
FAST = {
    "TESTYARD_WORKER_HEARTBEAT_S": "0.5",
    "TESTYARD_CELERY_VISIBILITY_TIMEOUT_S": "6",
    "TESTYARD_CELERY_RESTORE_INTERVAL_S": "1",
}


class WorkerProcess:
    def __init__(self, name: str, root: Path, slots: int = 2, **settings: str) -> None:
        self.name = name
        self.root = root / name
        self.work_dir = self.root / "work"
        self.log = self.root / "worker.log"
        self.slots = slots
        self.settings = settings
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> WorkerProcess:
        self.work_dir.mkdir(parents=True, exist_ok=True)
        settings = {"TESTYARD_WORK_DIR": str(self.work_dir), **FAST, **self.settings}
        env = cli_env(self.root / "data", **settings)
        with self.log.open("a") as out:
            self.process = subprocess.Popen(
                [*TESTYARD, "worker", "--name", self.name, "--slots", str(self.slots)],
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        return self

    def lose_machine(self) -> None:
        """SIGKILL the worker and everything running in its work directory, as when the
        machine it runs on dies."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)
        for pid in _pids_working_in(self.work_dir):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)

    def stop(self) -> None:
        terminate(self.process)

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""


def _pids_working_in(folder: Path) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            if Path(os.readlink(entry / "cwd")).is_relative_to(folder):
                found.append(int(entry.name))
    return found


def wait_until(condition, timeout: float = 60.0, what: str = "condition") -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)
