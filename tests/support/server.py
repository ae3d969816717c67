"""A real ``testyard serve`` process on a free port, for tests of the whole program."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx2 as httpx

from tests.support.postgres import free_port

TESTYARD = [sys.executable, "-m", "testyard.cli"]


def cli_env(data_dir: Path, **extra: str) -> dict[str, str]:
    """The environment of a testyard command: this one without TESTYARD_* settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TESTYARD_")}
    return {**env, "TESTYARD_DATA_DIR": str(data_dir), **extra}


def terminate(process: subprocess.Popen[bytes] | None, wait_s: float = 20) -> None:
    """SIGTERM (a clean stop), SIGKILL if it takes longer than ``wait_s``."""
    if process is not None and process.poll() is None:
        process.terminate()
        try:
            process.wait(wait_s)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)


class ServerProcess:
    def __init__(self, data_dir: Path, log: Path, **settings: str) -> None:
        self.data_dir = data_dir
        self.log = log
        self.settings = settings
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 60) -> ServerProcess:
        with self.log.open("a") as out:
            self.process = subprocess.Popen(
                [*TESTYARD, "serve", "--port", str(self.port)],
                env=cli_env(self.data_dir, **self.settings),
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"server exited:\n{self.log.read_text()}")
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return self
            except httpx.TransportError:
                time.sleep(0.1)
        raise AssertionError(f"server did not start:\n{self.log.read_text()}")

    def kill(self) -> None:
        """SIGKILL: the server gets no chance to clean up, as in a crash."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)

    def stop(self) -> None:
        terminate(self.process)

    def client(self, token: str | None = None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.Client(base_url=f"{self.url}/api/v1", headers=headers, timeout=30)
