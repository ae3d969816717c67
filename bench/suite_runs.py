"""What bench_distribution.py and bench_startup.py share: a generated suite of sleeping
tests, timed plain pytest runs, and a client that runs the same suite through a real
``testyard serve`` (started by ``bench_execution.serve``)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx2
from bench_execution import PASSWORD, REQUEST_TIMEOUT_S, RUN_TIMEOUT_S, epoch
from websockets.sync.client import connect

from testyard.execution.pyenvs import ensure_environment
from testyard.execution.runtime import prepare_runtime

#: A test file of the suite: its path and its tests' sleeps, in collection order.
SuiteFile = tuple[str, list[float]]


def file_code(sleeps: list[float]) -> str:
    lines = ["import time", ""]
    for n, seconds in enumerate(sleeps):
        lines += ["", f"def test_{n:02d}():", f"    time.sleep({seconds!r})", ""]
    return "\n".join(lines)


def write_suite(directory: Path, suite: list[SuiteFile]) -> None:
    for path, sleeps in suite:
        target = directory / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(file_code(sleeps), encoding="utf-8")


@dataclass
class Timed:
    """One run of the suite: wall time from the start request to the end, the
    makespan (first test start to last test end) and the session time pytest itself
    printed ("10 passed in 1.23s"), in seconds."""

    wall_s: float
    makespan_s: float
    session_s: float = float("nan")
    #: Start request -> first test starts, and last test ends -> seen finished.
    startup_s: float = float("nan")
    ending_s: float = float("nan")

    @classmethod
    def of(cls, began: float, wall: float, starts: list[float], stops: list[float]) -> Timed:
        """From the epoch second the run was asked for and the tests' start/stop."""
        ending = began + wall - max(stops)
        return cls(wall, makespan(starts, stops), startup_s=min(starts) - began, ending_s=ending)


def session_time(output: str) -> float:
    said = re.search(r" passed in ([\d.]+)s", output)
    return float(said.group(1)) if said else float("nan")


def makespan(starts: list[float], stops: list[float]) -> float:
    return max(stops) - min(starts)


@dataclass
class Interpreter:
    """Where plain pytest runs: the same kind of environment testyard's runs get (pytest,
    xdist and the plugins testyard drives, nothing else), so neither side pays for the
    development virtualenv's extra auto-loaded plugins (hypothesis, schemathesis, ...)."""

    python: Path
    env: dict[str, str]

    @classmethod
    def lean(cls, root: Path) -> Interpreter:
        python = ensure_environment(root / "envs", [], Path(sys.executable))
        runtime = prepare_runtime(root)  # testyard's events plugin, to read the test times
        return cls(python, {**os.environ, "PYTHONPATH": str(runtime)})


def plain_pytest(
    interpreter: Interpreter, directory: Path, *args: str, events: bool = True
) -> Timed:
    """``python -m pytest ARGS`` on the suite; the test times come from the reports'
    own start/stop, written by testyard's (recording-only) events plugin."""
    events_path = directory.parent / "events.jsonl"
    events_path.unlink(missing_ok=True)
    argv = [str(interpreter.python), "-m", "pytest", "-q", "-p", "no:cacheprovider", *args]
    if events:
        argv += ["-p", "testyard.pytest_plugin.events", f"--testyard-events={events_path}"]
    began, start = time.time(), time.perf_counter()
    result = subprocess.run(
        argv, cwd=directory, env=interpreter.env, capture_output=True, text=True
    )
    wall = time.perf_counter() - start
    if result.returncode != 0:
        raise RuntimeError(f"pytest {args} failed:\n{result.stdout[-3000:]}{result.stderr}")
    session = session_time(result.stdout)
    if not events:
        return Timed(wall, float("nan"), session)
    tests = [e for line in events_path.read_text().splitlines() if (e := json.loads(line))]
    tests = [e for e in tests if e["event"] == "test"]
    timed = Timed.of(began, wall, [e["start"] for e in tests], [e["stop"] for e in tests])
    timed.session_s = session
    return timed


class Client:
    """An admin client of a real testyard server, with one project holding the suite."""

    def __init__(self, url: str, project: str, suite: list[SuiteFile]) -> None:
        self.http = httpx2.Client(base_url=f"{url}/api/v1", timeout=REQUEST_TIMEOUT_S)
        body = {"username": "admin", "password": PASSWORD}
        self.token = self.call("POST", "/auth/login", 200, json=body)["token"]
        self.http.headers["Authorization"] = f"Bearer {self.token}"
        self.ws_url = url.replace("http://", "ws://", 1)
        self.pid = self.call("POST", "/projects", 201, json={"name": project})["id"]
        self.case_ids = [self._add_case(path, sleeps) for path, sleeps in suite]
        self.tests = sum(len(sleeps) for _, sleeps in suite)

    def call(self, method: str, path: str, status: int, **kwargs: Any) -> Any:
        response = self.http.request(method, path, **kwargs)
        if response.status_code != status:
            raise RuntimeError(f"{method} {path}: {response.status_code} {response.text}")
        return response.json() if "json" in response.headers.get("content-type", "") else None

    def _add_case(self, path: str, sleeps: list[float]) -> int:
        body = {"name": Path(path).stem, "path": path, "code": file_code(sleeps)}
        return int(self.call("POST", f"/projects/{self.pid}/cases", 201, json=body)["id"])

    def plan(self, **settings: Any) -> int:
        body = {"name": "bench", "case_ids": self.case_ids, **settings}
        return int(self.call("POST", f"/projects/{self.pid}/plans", 201, json=body)["id"])

    def run(self, body: dict[str, Any]) -> tuple[dict[str, Any], Timed]:
        """Start a run and follow it over the run's WebSocket, as the web UI does, to
        its ``done`` message; fails unless every test passed. (Polling the API every
        few ms instead would cost the server CPU the tests compete for.)"""
        began, start = time.time(), time.perf_counter()
        rid = self.call("POST", f"/projects/{self.pid}/runs", 202, json=body)["id"]
        with connect(f"{self.ws_url}/ws/runs/{rid}") as ws:
            ws.send(json.dumps({"token": self.token}))
            while json.loads(ws.recv(timeout=RUN_TIMEOUT_S)).get("event") != "done":
                pass
        wall = time.perf_counter() - start
        run = self.call("GET", f"/runs/{rid}", 200)
        if run["status"] != "passed" or run["counts"].get("passed") != self.tests:
            raise RuntimeError(f"run {rid} did not pass all {self.tests} tests: {run}")
        results = self.results(rid)
        starts = [epoch(r["started_at"]) for r in results]
        stops = [epoch(r["finished_at"]) for r in results]
        log = self.http.get(f"/runs/{rid}/artifacts/log").text
        timed = Timed.of(began, wall, starts, stops)
        timed.session_s = session_time(log)
        return run, timed

    def results(self, rid: int) -> list[dict[str, Any]]:
        page = self.call("GET", f"/runs/{rid}/results", 200, params={"per_page": 1000})
        return list(page["items"])

    def close(self) -> None:
        self.http.close()
