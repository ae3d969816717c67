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
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)

    def client(self, token: str | None = None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.Client(base_url=f"{self.url}/api/v1", headers=headers, timeout=30)
