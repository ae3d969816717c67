"""What the soak checks share: a real ``testyard serve`` in a temporary directory (the
tests' ``ServerProcess``), an admin client of its API, its stored events, percentiles
and the printed table.

Everything a check writes (the database, workspaces, run environments, the server's
log) lives under one ``tempfile.mkdtemp`` directory, removed at the end; the server's
log tail is printed when something fails.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import platform
import shutil
import sqlite3
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx2 as httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # the real-server helper lives with the tests

from tests.support.server import ServerProcess  # noqa: E402

PASSWORD = "soak-admin-password-1"
REQUEST_TIMEOUT_S = 60.0


class Soak:
    """One real server and an admin's client of its API (``/api/v1``)."""

    def __init__(self, server: ServerProcess, root: Path) -> None:
        self.server = server
        self.root = root
        self.http = httpx.Client(base_url=f"{server.url}/api/v1", timeout=REQUEST_TIMEOUT_S)
        body = {"username": "admin", "password": PASSWORD}
        self.token: str = self.call("POST", "/auth/login", 200, json=body)["token"]
        self.http.headers["Authorization"] = f"Bearer {self.token}"

    @property
    def pid(self) -> int:
        """The server's process id."""
        assert self.server.process is not None
        return self.server.process.pid

    @property
    def db_path(self) -> Path:
        """The SQLite database (the default when no database URL is set)."""
        return self.server.data_dir / "testyard.db"

    @property
    def database_url(self) -> str:
        return self.server.settings.get("TESTYARD_DATABASE_URL") or f"sqlite:///{self.db_path}"

    @property
    def ws_base(self) -> str:
        return f"ws://127.0.0.1:{self.server.port}"

    def call(self, method: str, path: str, status: int, **kwargs: Any) -> Any:
        response = self.http.request(method, path, **kwargs)
        if response.status_code != status:
            raise RuntimeError(f"{method} {path}: {response.status_code} {response.text}")
        return response.json() if response.content else None

    def project(self, name: str) -> int:
        return int(self.call("POST", "/projects", 201, json={"name": name})["id"])

    def case(self, pid: int, name: str, code: str) -> int:
        body = {"name": name, "path": f"tests/test_{name}.py", "code": code}
        return int(self.call("POST", f"/projects/{pid}/cases", 201, json=body)["id"])

    def start_run(self, pid: int, case_ids: list[int], **overrides: Any) -> dict[str, Any]:
        """Queue a run: its ``{id, status, ws_url}``."""
        body = {"case_ids": case_ids, **overrides}
        created: dict[str, Any] = self.call("POST", f"/projects/{pid}/runs", 202, json=body)
        return created

    def wait_status(self, rid: int, statuses: set[str], timeout: float = 300) -> dict[str, Any]:
        """Poll the run until its status is one of ``statuses``."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            run: dict[str, Any] = self.call("GET", f"/runs/{rid}", 200)
            if run["status"] in statuses:
                return run
            time.sleep(0.05)
        raise RuntimeError(f"run {rid} not {sorted(statuses)} within {timeout} s")

    def stored_events(self, rid: int) -> list[tuple[float, dict[str, Any]]]:
        """The run's stored events (``run_events``) by seq, read from the database, each
        with the time it was written (``created_at``, seconds since the epoch)."""
        uri = f"file:{self.db_path}?mode=ro"
        with contextlib.closing(sqlite3.connect(uri, uri=True, timeout=30)) as db:
            rows = db.execute(
                "SELECT created_at, payload FROM run_events WHERE run_id = ? ORDER BY seq",
                (rid,),
            ).fetchall()
        return [(epoch(created), json.loads(payload)) for created, payload in rows]

    def rss_kb(self) -> int:
        """The server's resident memory now (``VmRSS``), in KiB."""
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        raise RuntimeError("no VmRSS in /proc/PID/status")

    def cpu_s(self) -> float:
        """CPU time the server process has used so far (user + system, all threads)."""
        fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def close(self) -> None:
        self.http.close()


@contextlib.contextmanager
def postgres_url() -> Iterator[str]:
    """A throwaway PostgreSQL cluster (the tests' ``PostgresServer``, in its own
    temporary directory): the URL of a fresh database in it."""
    from tests.support.postgres import PostgresServer

    cluster = PostgresServer().start()
    try:
        yield cluster.create_database("soak")
    finally:
        cluster.cleanup()


@contextlib.contextmanager
def soak_server(prefix: str, **settings: str) -> Iterator[Soak]:
    """A fresh ``testyard serve`` with its data, work directory and log in a new
    temporary directory (``settings``: more ``TESTYARD_*`` variables); removed after."""
    root = Path(tempfile.mkdtemp(prefix=prefix))
    server = ServerProcess(
        root / "data",
        root / "server.log",
        TESTYARD_WORK_DIR=str(root / "work"),
        TESTYARD_ADMIN_PASSWORD=PASSWORD,
        **settings,
    )
    soak: Soak | None = None
    try:
        server.start()
        soak = Soak(server, root)
        yield soak
    except BaseException:
        print_log_tail(server.log)
        raise
    finally:
        if soak is not None:
            soak.close()
        server.stop()
        shutil.rmtree(root, ignore_errors=True)


def print_log_tail(log: Path, lines: int = 40) -> None:
    if log.exists():
        tail = log.read_text(errors="replace").splitlines()[-lines:]
        print(f"server log (last {lines} lines):", *tail, sep="\n", file=sys.stderr)


def server_errors(log: Path) -> list[str]:
    """What went wrong in the server, from its log: each ERROR line, and each
    traceback's exception line (an unexpected failure shows there even when the client
    got an answer)."""
    if not log.exists():
        return []
    found: list[str] = []
    in_traceback = False
    for line in log.read_text(errors="replace").splitlines():
        if line.startswith("Traceback"):
            in_traceback = True
        elif in_traceback and line and not line[0].isspace():
            if not line.startswith(("The above exception", "During handling")):
                found.append(line[:200])
                in_traceback = False
        elif " ERROR " in line:
            found.append(line[:200])
    return found


def print_errors(errors: list[str], limit: int = 10) -> None:
    """The server's errors, the most frequent first."""
    if errors:
        print(f"server log errors ({len(errors)}):")
        for line, n in Counter(errors).most_common(limit):
            print(f"  x{n}: {line}")


def epoch(value: str) -> float:
    """A stored datetime (SQLite keeps UTC, naive) in seconds since the epoch."""
    moment = datetime.fromisoformat(value)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (``q`` in 0..1); NaN for no values."""
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


def table(header: list[str], rows: list[list[Any]]) -> str:
    """A Markdown table (numbers right-aligned), as printed and as pasted into
    RESULTS.md."""
    cells = [[str(c) for c in row] for row in rows]
    numeric = [all(_is_number(row[i]) for row in cells) for i in range(len(header))]
    lines = [
        "| " + " | ".join(header) + " |",
        "| " + " | ".join("---:" if n else "---" for n in numeric) + " |",
    ]
    lines += ["| " + " | ".join(row) + " |" for row in cells]
    return "\n".join(lines)


def _is_number(text: str) -> bool:
    try:
        float(text.replace(",", "").rstrip("%"))
    except ValueError:
        return False
    return True


def machine(command: str, load_start: float) -> str:
    """The line that says what produced the figures, where and under what load."""
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    return (
        f"`{command}` on {when}: {os.cpu_count()} CPUs, load average {load_start:.1f} at the "
        f"start and {os.getloadavg()[0]:.1f} at the end, Python {platform.python_version()}."
    )
