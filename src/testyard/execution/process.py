"""Starting the test process with limits, reading its output, stopping it.

The process runs under ``setpriv`` and ``prlimit`` (util-linux) rather than a Python
``preexec_fn``, which is unsafe in a threaded server: it gets its own session and
process group, dies with its parent thread, optionally drops to the run-as user,
and has caps on memory, CPU time and open files.
"""

from __future__ import annotations

import contextlib
import logging
import os
import pwd
import signal
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING

if TYPE_CHECKING:
    from testyard.config import Settings

logger = logging.getLogger(__name__)

TRUNCATED = "\n[testyard: output past {cap} bytes was cut here; the run went on]\n"
MASK = "********"


@dataclass(frozen=True)
class Limits:
    memory_mb: int
    cpu_s: int
    open_files: int

    @classmethod
    def of(cls, settings: Settings) -> Limits:
        return cls(settings.run_memory_mb, settings.run_cpu_s, settings.run_open_files)


@dataclass(frozen=True)
class RunAs:
    uid: int
    gid: int

    @classmethod
    def named(cls, name: str) -> RunAs:
        entry = pwd.getpwnam(name)
        return cls(entry.pw_uid, entry.pw_gid)


def wrap(
    argv: list[str], limits: Limits, run_as: RunAs | None, *, die_with_thread: bool = True
) -> list[str]:
    prefix = ["setpriv"]
    if run_as is not None:
        prefix += ["--reuid", str(run_as.uid), "--regid", str(run_as.gid), "--clear-groups"]
    if die_with_thread:  # killed when the thread that started it ends
        prefix += ["--pdeathsig", "KILL"]
    memory = limits.memory_mb * 1024 * 1024
    prefix += [
        "prlimit",
        f"--as={memory}",
        f"--cpu={limits.cpu_s}",
        f"--nofile={limits.open_files}",
        "--",
    ]
    return prefix + argv


def spawn(
    argv: list[str], *, cwd: Path, env: dict[str, str], pass_fds: tuple[int, ...]
) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        argv,
        cwd=cwd,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        pass_fds=pass_fds,
        start_new_session=True,
    )


def kill_group(process: subprocess.Popen[bytes]) -> None:
    """Kill the whole process group: pytest, its xdist workers, anything they started."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)


class Masker:
    """Replaces secret values in text (longest first, so overlapping values mask whole)."""

    def __init__(self, secrets: list[str]) -> None:
        self.secrets = sorted({s for s in secrets if len(s) >= 3}, key=len, reverse=True)

    def __call__(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, MASK)
        return text

    def with_forms(self, *encodings: Callable[[str], str]) -> Masker:
        """A masker that also finds the secrets as a file format writes them: a
        secret holding ``&`` or ``"`` appears escaped in XML or JSON, where the plain
        value would never match."""
        forms = [encode(secret) for secret in self.secrets for encode in encodings]
        return Masker([*self.secrets, *forms])


def copy_output(
    stream: IO[bytes],
    log: IO[str],
    *,
    cap: int,
    mask: Masker,
    on_line: Callable[[str], None] | None = None,
) -> int:
    """Copy the process output into ``log`` (masked, cut at ``cap`` bytes), draining it
    to the end so the process never blocks on a full pipe. Returns bytes seen.

    A log that cannot be written (its disk full) stops the copying, not the draining:
    the tests run on instead of hanging on a full pipe, and the run ends ``error`` when
    the log is closed or the artifacts saved on the same full disk."""
    written = seen = 0
    cut = False
    failed: OSError | None = None
    for raw in iter(lambda: stream.readline(64 * 1024), b""):
        seen += len(raw)
        if cut:
            continue
        line = mask(raw.decode("utf-8", errors="replace"))
        try:
            cut = _write_capped(log, line, len(raw), written, cap)
        except OSError as exc:
            failed, cut = exc, True
        if not cut:
            written += len(raw)
            if on_line is not None:
                on_line(line)
    if failed is None:
        try:
            log.flush()
        except OSError as exc:
            failed = exc
    if failed is not None:
        # Closing the log or saving the artifacts fails the same way and ends the run.
        logger.error("the run's output could not be written (%s); it was drained", failed)
    return seen


def _write_capped(log: IO[str], line: str, size: int, written: int, cap: int) -> bool:
    """Write ``line`` unless it would pass ``cap``; True once the log is cut."""
    if written + size > cap:
        log.write(TRUNCATED.format(cap=cap))
        return True
    log.write(line)
    return False
