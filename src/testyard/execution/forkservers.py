"""The fork servers of this machine: one per run environment and user, started on the
first run that needs it and kept warm for the next ones.

A fork server (``pytest_plugin/forkserver.py``) has pytest, xdist and the plugins
imported; each pytest process of a run, the controller and every xdist worker, is
forked from it instead of starting an interpreter and importing them again. It runs
with a run's limits, user and clean environment (never the server's), knows nothing
of any project, and leaves by itself when idle or when this process is gone.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import shutil
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from testyard.config import Settings
from testyard.execution import command
from testyard.execution.process import Limits, RunAs, wrap
from testyard.execution.runtime import FORKSERVER
from testyard.pytest_plugin.forkserver import ADDRESS_ENV, PYTHON_ENV

log = logging.getLogger(__name__)

#: How long a run waits for a new fork server to be ready before starting as usual.
READY_TIMEOUT_S = 5.0


@dataclass(frozen=True)
class Launch:
    """How a run starts its pytest through a fork server."""

    client: Path
    socket: Path
    python: Path

    def environment(self) -> dict[str, str]:
        return {ADDRESS_ENV: str(self.socket), PYTHON_ENV: str(self.python)}


class ForkServers:
    """Starts fork servers on demand and stops them all on `close`."""

    def __init__(self, root: Path, limits: Limits, run_as: RunAs | None) -> None:
        # Each process (and app) has its own: servers started by another are not ours
        # to replace, and leave with their process.
        root.mkdir(parents=True, exist_ok=True)
        _remove_orphans(root)
        self.root = Path(tempfile.mkdtemp(prefix=f"{os.getpid()}-", dir=root))
        os.chmod(self.root, 0o711)
        self.limits = limits
        self.run_as = run_as
        self._lock = threading.Lock()
        self._servers: dict[Path, subprocess.Popen[bytes]] = {}
        self._closed = False

    def launch(self, python: Path, runtime: Path) -> Launch | None:
        """The fork server for ``python`` with ``runtime``, started if need be; None
        when it cannot be had (the run then starts its interpreters as usual)."""
        directory = self.root / _key(python, runtime, self.run_as)
        socket_path = directory / "socket"
        with self._lock:
            if self._closed:
                return None
            server = self._servers.get(directory)
            if server is None or server.poll() is not None:
                server = self._start(python, runtime, directory, socket_path)
                if server is None:
                    return None
                self._servers[directory] = server
        if not _wait_ready(server, socket_path):
            log.warning("the fork server in %s did not start; runs start as usual", directory)
            return None
        return Launch(runtime / FORKSERVER, socket_path, python)

    def _start(
        self, python: Path, runtime: Path, directory: Path, socket_path: Path
    ) -> subprocess.Popen[bytes] | None:
        directory.mkdir(parents=True, exist_ok=True)
        os.chmod(directory, 0o700)
        if self.run_as is not None:
            os.chown(directory, self.run_as.uid, self.run_as.gid)
        with contextlib.suppress(FileNotFoundError):
            socket_path.unlink()
        env = command.clean_environment(
            workspace=directory, runtime=runtime, python=python, secrets={}
        )
        argv = [str(python), str(runtime / FORKSERVER), "serve", str(socket_path)]
        # Not tied to the starting thread (a run's, which ends): it watches this process.
        argv = wrap(argv, self.limits, self.run_as, die_with_thread=False)
        try:
            with (directory / "log.txt").open("ab") as log_file:
                return subprocess.Popen(
                    argv,
                    cwd=directory,
                    env=env,
                    stdin=subprocess.DEVNULL,
                    stdout=log_file,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
        except OSError as exc:
            log.warning("cannot start a fork server in %s: %s", directory, exc)
            return None

    def close(self) -> None:
        """Stop every fork server (their children die with them)."""
        with self._lock:
            self._closed = True
            servers, self._servers = list(self._servers.values()), {}
        for server in servers:
            with contextlib.suppress(ProcessLookupError):
                server.kill()
            server.wait()
        shutil.rmtree(self.root, ignore_errors=True)


def fork_servers(settings: Settings) -> ForkServers | None:
    """This process's fork servers, unless ``TESTYARD_FORK_SERVER`` turns them off."""
    if not settings.fork_server:
        return None
    run_as = RunAs.named(settings.run_as_user) if settings.run_as_user else None
    root = settings.resolved_work_dir / "forkservers"
    return ForkServers(root, Limits.of(settings), run_as)


def _remove_orphans(root: Path) -> None:
    """The directories of processes that are gone (killed, so they did not clean up)."""
    for directory in root.iterdir():
        pid = directory.name.split("-", 1)[0]
        if pid.isdigit() and not Path(f"/proc/{pid}").exists():
            shutil.rmtree(directory, ignore_errors=True)


def _key(python: Path, runtime: Path, run_as: RunAs | None) -> str:
    material = f"{python}\n{runtime}\n{run_as.uid if run_as else os.getuid()}"
    return hashlib.sha256(material.encode()).hexdigest()[:16]


def _wait_ready(server: subprocess.Popen[bytes], socket_path: Path) -> bool:
    deadline = time.monotonic() + READY_TIMEOUT_S
    while time.monotonic() < deadline:
        if socket_path.exists():
            return True
        if server.poll() is not None:
            return False
        time.sleep(0.01)
    return False
