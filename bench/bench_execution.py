"""Execution overhead: 200 one-test cases run through testyard, against plain pytest.

The same 200 test modules (``def test_n(): assert n == n``) run three ways, in one
invocation, on this machine:

(a) testyard: ``testyard serve`` started for real on a free port, the cases created and
    run through the HTTP API with default settings (``workers: auto``). A first run
    records the durations; each measured run after it is timed from the POST to the
    final status seen by a client polling ``GET /runs/{rid}`` every 10 ms, and, as the
    server saw it, from ``created_at`` to ``finished_at``.
(b) plain pytest: the same files in one ``python -m pytest`` session (same interpreter).
(c) one pytest process per case in a default ``ThreadPoolExecutor``: what a platform
    that starts a process per case does.

(a) and (b) alternate, ``REPEATS`` times each (machine load then weighs on both alike),
and their medians are reported; (c) runs once. Prints the figures, the ratios a/b
(target <= 2.0) and c/a (target >= 15) and where (a)'s time goes, and writes the same
to ``bench/RESULTS.md`` between ``<!-- bench_execution -->`` markers, keeping the
file's other sections. Run: ``.venv/bin/python bench/bench_execution.py``.
"""

from __future__ import annotations

import contextlib
import math
import os
import platform
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx2
from results_md import write_section

CASES = 200
REPEATS = 3
POLL_S = 0.01
REQUEST_TIMEOUT_S = 120.0
RUN_TIMEOUT_S = 600.0
SERVER_START_S = 60.0
FINAL = {"passed", "failed", "error", "cancelled", "timed_out", "interrupted"}
PASSWORD = "bench-admin-password-1"
TARGET_A_OVER_B = 2.0
TARGET_C_OVER_A = 15.0

BENCH_DIR = Path(__file__).resolve().parent
RESULTS = BENCH_DIR / "RESULTS.md"
COMMAND = ".venv/bin/python bench/bench_execution.py"


def case_path(n: int) -> str:
    return f"tests/test_case_{n:03d}.py"


def case_code(n: int) -> str:
    return f"def test_{n}():\n    assert {n} == {n}\n"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def epoch(value: str) -> float:
    """A server timestamp (UTC, with or without an offset) in seconds since the epoch."""
    moment = datetime.fromisoformat(value)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


# --- (a) testyard, over HTTP ---------------------------------------------------------


@contextlib.contextmanager
def serve(root: Path, **settings: str) -> Iterator[str]:
    """A real ``testyard serve`` on a free port, its state under ``root``: its URL.
    ``settings`` add ``TESTYARD_*`` variables (``fork_server="false"``)."""
    root.mkdir(parents=True)
    port = free_port()
    env = {
        **os.environ,
        "TESTYARD_DATA_DIR": str(root / "data"),
        "TESTYARD_WORK_DIR": str(root / "work"),
        "TESTYARD_ADMIN_PASSWORD": PASSWORD,
        **{f"TESTYARD_{name.upper()}": value for name, value in settings.items()},
    }
    log_path = root / "server.log"
    argv = [sys.executable, "-m", "testyard.cli", "serve", "--port", str(port)]
    with log_path.open("wb") as log_file:
        server = subprocess.Popen(argv, env=env, stdout=log_file, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(url, server)
        yield url
    except BaseException:
        tail = log_path.read_text(errors="replace").splitlines()[-40:]
        print("server log (end):", *tail, sep="\n", file=sys.stderr)
        raise
    finally:
        stop_server(server)


def wait_healthy(url: str, server: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + SERVER_START_S
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"testyard serve exited with {server.returncode}")
        with contextlib.suppress(httpx2.HTTPError):
            if httpx2.get(f"{url}/healthz", timeout=1.0).status_code == 200:
                return
        time.sleep(0.1)
    raise RuntimeError(f"testyard serve did not answer within {SERVER_START_S} s")


def stop_server(server: subprocess.Popen[bytes]) -> None:
    if server.poll() is None:
        server.send_signal(signal.SIGINT)  # uvicorn's graceful shutdown
        try:
            server.wait(15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


@dataclass
class RunTiming:
    """One run through testyard, in seconds."""

    client_s: float  # POST sent -> final status seen by polling
    server_s: float  # created_at -> finished_at
    queued_s: float  # created_at -> started_at
    to_first_test_s: float  # started_at -> first test started (env, workspace, collection)
    tests_s: float  # first test started -> last test finished
    to_finished_s: float  # last test finished -> finished_at (exit, ingestion, status)
    seen_after_s: float  # finished_at -> final status seen by the client
    pytest_s: float | None  # the session time pytest itself reports in the run's log


class Testyard:
    """The benchmark's admin client: one project holding the cases."""

    def __init__(self, url: str) -> None:
        self.http = httpx2.Client(base_url=f"{url}/api/v1", timeout=REQUEST_TIMEOUT_S)
        body = {"username": "admin", "password": PASSWORD}
        token = self.call("POST", "/auth/login", 200, json=body)["token"]
        self.http.headers["Authorization"] = f"Bearer {token}"
        self.pid = self.call("POST", "/projects", 201, json={"name": "bench-execution"})["id"]
        self.case_ids = [self._add_case(n) for n in range(CASES)]

    def call(self, method: str, path: str, status: int, **kwargs: Any) -> Any:
        response = self.http.request(method, path, **kwargs)
        if response.status_code != status:
            raise RuntimeError(f"{method} {path}: {response.status_code} {response.text}")
        return response.json() if "json" in response.headers.get("content-type", "") else None

    def _add_case(self, n: int) -> int:
        body = {"name": f"case {n}", "path": case_path(n), "code": case_code(n)}
        return int(self.call("POST", f"/projects/{self.pid}/cases", 201, json=body)["id"])

    def timed_run(self) -> RunTiming:
        """Run every case (default settings) and time it; fails unless all passed."""
        wall_start = time.time()
        start = time.perf_counter()
        body = {"case_ids": self.case_ids}
        rid = self.call("POST", f"/projects/{self.pid}/runs", 202, json=body)["id"]
        run = self.call("GET", f"/runs/{rid}", 200)
        while run["status"] not in FINAL:
            if time.perf_counter() - start > RUN_TIMEOUT_S:
                raise RuntimeError(f"run {rid} not finished after {RUN_TIMEOUT_S} s")
            time.sleep(POLL_S)
            run = self.call("GET", f"/runs/{rid}", 200)
        client_s = time.perf_counter() - start
        if run["status"] != "passed" or run["counts"].get("passed") != CASES:
            raise RuntimeError(f"run {rid} did not pass all {CASES} tests: {run}")
        return self._timing(run, client_s, wall_start + client_s)

    def _timing(self, run: dict[str, Any], client_s: float, seen_at: float) -> RunTiming:
        created, started, finished = (
            epoch(run[k]) for k in ("created_at", "started_at", "finished_at")
        )
        params = {"per_page": 1000}
        results = self.call("GET", f"/runs/{run['id']}/results", 200, params=params)["items"]
        first_test = min(epoch(r["started_at"]) for r in results)
        last_test = max(epoch(r["finished_at"]) for r in results)
        log = self.http.get(f"/runs/{run['id']}/artifacts/log").text
        said = re.search(r" passed in ([\d.]+)s", log)
        return RunTiming(
            client_s=client_s,
            server_s=finished - created,
            queued_s=started - created,
            to_first_test_s=first_test - started,
            tests_s=last_test - first_test,
            to_finished_s=finished - last_test,
            seen_after_s=seen_at - finished,
            pytest_s=float(said.group(1)) if said else None,
        )

    def close(self) -> None:
        self.http.close()


# --- (b) and (c): plain pytest ---------------------------------------------------------


def write_cases(directory: Path) -> list[Path]:
    paths = []
    for n in range(CASES):
        path = directory / case_path(n)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(case_code(n), encoding="utf-8")
        paths.append(path)
    return paths


def pytest_once(cwd: Path, target: Path) -> None:
    argv = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(target)]
    result = subprocess.run(argv, cwd=cwd, capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"pytest {target} failed:\n{result.stdout[-3000:]}{result.stderr}")


def timed_session(directory: Path) -> float:
    start = time.perf_counter()
    pytest_once(directory, directory)
    return time.perf_counter() - start


def timed_process_per_case(directory: Path, paths: list[Path]) -> tuple[float, int]:
    """Wall time of one pytest per case in a default thread pool, and its size."""
    with ThreadPoolExecutor() as pool:
        start = time.perf_counter()
        list(pool.map(lambda path: pytest_once(directory, path), paths))
        elapsed = time.perf_counter() - start
        return elapsed, pool._max_workers  # the default size, to report


# --- the report --------------------------------------------------------------------------


@dataclass
class Figures:
    first: RunTiming
    runs: list[RunTiming]
    sessions: list[float]
    per_case_s: float
    per_case_workers: int

    def median(self, attribute: str) -> float:
        values = [float(v) for r in self.runs if (v := getattr(r, attribute)) is not None]
        return statistics.median(values) if values else math.nan

    def each(self, attribute: str) -> str:
        values = [getattr(r, attribute) for r in self.runs]
        return ", ".join("?" if v is None else f"{v:.2f}" for v in values)


def report(fig: Figures, when: str) -> str:
    a, b, c = fig.median("client_s"), statistics.median(fig.sessions), fig.per_case_s
    phases = [
        ("(a) testyard, client: POST -> final status seen", "client_s"),
        ("(a) testyard, server: created_at -> finished_at", "server_s"),
        ("- queued: created_at -> started_at", "queued_s"),
        ("- started_at -> first test (env, workspace, start-up, collection)", "to_first_test_s"),
        ("- first test starts -> last test ends", "tests_s"),
        ("- last test ends -> finished_at (exit, ingestion)", "to_finished_s"),
        ("- finished_at -> final status seen by the client", "seen_after_s"),
        ("- pytest's own session time, from the run's log", "pytest_s"),
    ]
    first = fig.first.client_s
    rows = [(name, fig.median(attr), fig.each(attr)) for name, attr in phases]
    rows += [
        ("(a0) first run: builds the env, not counted", first, f"{first:.2f}"),
        ("(b) one plain pytest session", b, ", ".join(f"{s:.2f}" for s in fig.sessions)),
        (f"(c) one pytest per case, {fig.per_case_workers} threads", c, f"{c:.2f}"),
    ]
    lines = [
        f"{CASES} one-test cases; (a) and (b) alternate, median of {REPEATS} each; (c) once.",
        "",
        "| measurement | median s | each s |",
        "| --- | ---: | --- |",
        *(f"| {name} | {value:.2f} | {each} |" for name, value, each in rows),
        "",
        "| ratio | value | target | |",
        "| --- | ---: | --- | --- |",
        f"| a/b | {a / b:.2f} | <= {TARGET_A_OVER_B} | {_verdict(a / b <= TARGET_A_OVER_B)} |",
        f"| c/a | {c / a:.1f} | >= {TARGET_C_OVER_A} | {_verdict(c / a >= TARGET_C_OVER_A)} |",
        "",
        f"`{COMMAND}` on {when}: {os.cpu_count()} CPUs, load average "
        f"{os.getloadavg()[0]:.1f} at the end, Python {platform.python_version()}, "
        f"{platform.platform()}.",
    ]
    return "\n".join(lines) + "\n"


def _verdict(met: bool) -> str:
    return "met" if met else "MISSED"


def write_results(body: str) -> None:
    write_section("bench_execution", "Execution overhead (bench_execution.py)", body)


def measure(root: Path) -> Figures:
    directory = root / "plain"
    paths = write_cases(directory)
    with serve(root / "testyard") as url:
        testyard = Testyard(url)
        try:
            print(f"(a0) first run of {CASES} cases ...", flush=True)
            first = testyard.timed_run()
            runs, sessions = [], []
            for i in range(1, REPEATS + 1):
                runs.append(testyard.timed_run())
                sessions.append(timed_session(directory))
                print(f"({i}/{REPEATS}) a {runs[-1].client_s:.2f} s, b {sessions[-1]:.2f} s")
        finally:
            testyard.close()
    print("(c) one pytest per case ...", flush=True)
    per_case_s, workers = timed_process_per_case(directory, paths)
    return Figures(first, runs, sessions, per_case_s, workers)


def main() -> None:
    root = Path(tempfile.mkdtemp(prefix="bench-execution-"))
    try:
        figures = measure(root)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    body = report(figures, datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"))
    print(f"\n{body}")
    write_results(body)
    print(f"written to {RESULTS}")


if __name__ == "__main__":
    main()
