"""Live events: how long a test result takes from pytest to a WebSocket client.

For each test of a run, the delay is ``time.time()`` when the client receives the
``test`` message minus its ``reported_at`` (the plugin's event timestamp, taken inside
pytest when the test's report is complete). Measured in one invocation, on this machine:

(1) the in-process bus: one ``testyard serve``;
(2) the Redis bus: a real ``redis-server`` and two ``testyard serve`` on one SQLite data
    directory, one with default settings that runs the tests and one with
    ``TESTYARD_EXECUTOR=none`` that serves the API and the socket (the client uses it).

Two suites, each one case of ``TESTS`` tests run with ``workers: 0``: ``trickle`` (each
test sleeps ``SLEEP_S``, so results come one by one, like a real suite) and ``burst``
(instant tests: results come all at once). The socket is opened right after the run is
created, before it starts, so every message is a live one.

Baselines, in the same invocation and with the same pacing (``TESTS`` messages,
``SLEEP_S`` apart or back to back), stamped with ``time.time()`` by the sender:

- in-process: a thread hands each message to an asyncio loop
  (``call_soon_threadsafe`` into an ``asyncio.Queue``, as ``MemoryBus`` does) that
  sends it over a plain ``websockets`` server to the same client as above;
- Redis: a plain ``redis-py`` publisher process to a plain ``redis-py`` subscriber.

Each bus x suite runs ``REPEATS`` times, alternating, and the delays are pooled. Where
the time goes is read back from the database: each stored ``test`` event's
``created_at`` is set while its batch is being written, just before the commit, which
splits the delay into "reported -> stored" (pipe, batching, the insert) and "stored ->
received" (commit, publish, bus, socket).

Prints the figures, the testyard/baseline ratios and the targets (p95 <= 50 ms
in-process, <= 100 ms over Redis), and writes them to ``bench/RESULTS.md`` between
``<!-- bench_live -->`` markers, keeping the file's other sections.
Run: ``.venv/bin/python bench/bench_live.py`` (about 2 minutes on 2 cores;
``BENCH_LIVE_REPEATS=1`` for a quick look).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import math
import os
import platform
import shutil
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx2
import redis
from results_md import write_section
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

TESTS = 200
SLEEP_S = 0.02
REPEATS = int(os.environ.get("BENCH_LIVE_REPEATS", "3"))
SUITES = ("trickle", "burst")
BUSES = ("in-process", "redis")
TARGET_P95_S = {"in-process": 0.050, "redis": 0.100}
#: Consecutive stored events further apart than this were written by different flushes.
FLUSH_GAP_S = 0.001

PASSWORD = "bench-admin-password-1"
REQUEST_TIMEOUT_S = 60.0
SERVER_START_S = 60.0
STREAM_TIMEOUT_S = 300.0
BASELINE_TIMEOUT_S = 60.0

BENCH_DIR = Path(__file__).resolve().parent
RESULTS = BENCH_DIR / "RESULTS.md"
COMMAND = ".venv/bin/python bench/bench_live.py"


def suite_code(suite: str) -> str:
    body = f"    time.sleep({SLEEP_S})\n" if suite == "trickle" else "    assert n == n\n"
    return (
        "import time\n\nimport pytest\n\n\n"
        f"@pytest.mark.parametrize('n', range({TESTS}))\n"
        f"def test_{suite}(n):\n{body}"
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (``q`` in 0..1); NaN for no values."""
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


def stop_process(process: subprocess.Popen[bytes], sig: int = signal.SIGINT) -> None:
    if process.poll() is None:
        process.send_signal(sig)
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)


# --- testyard servers --------------------------------------------------------------------


def server_env(data_dir: Path, work_dir: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TESTYARD_")}
    return {
        **env,
        "TESTYARD_DATA_DIR": str(data_dir),
        "TESTYARD_WORK_DIR": str(work_dir),
        "TESTYARD_ADMIN_PASSWORD": PASSWORD,
        **extra,
    }


@contextlib.contextmanager
def serve(log_path: Path, env: dict[str, str]) -> Iterator[int]:
    """A real ``testyard serve`` on a free port: its port."""
    port = free_port()
    argv = [sys.executable, "-m", "testyard.cli", "serve", "--port", str(port)]
    with log_path.open("ab") as log_file:
        server = subprocess.Popen(argv, env=env, stdout=log_file, stderr=subprocess.STDOUT)
    try:
        wait_healthy(port, server)
        yield port
    except BaseException:
        tail = log_path.read_text(errors="replace").splitlines()[-40:]
        print(f"server log {log_path.name} (end):", *tail, sep="\n", file=sys.stderr)
        raise
    finally:
        stop_process(server)  # SIGINT: uvicorn's graceful shutdown


def wait_healthy(port: int, server: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + SERVER_START_S
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"testyard serve exited with {server.returncode}")
        with contextlib.suppress(httpx2.HTTPError):
            if httpx2.get(f"http://127.0.0.1:{port}/healthz", timeout=1.0).status_code == 200:
                return
        time.sleep(0.1)
    raise RuntimeError(f"testyard serve did not answer within {SERVER_START_S} s")


@contextlib.contextmanager
def redis_server() -> Iterator[str]:
    """A throwaway ``redis-server`` on a free port: its URL."""
    binary = shutil.which("redis-server")
    if binary is None:
        raise RuntimeError("redis-server not found (apt-get install redis-server)")
    port = free_port()
    argv = [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", ""]
    argv += ["--appendonly", "no", "--protected-mode", "no"]
    process = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"redis://127.0.0.1:{port}/0"
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                redis.Redis.from_url(url).ping()
                break
            except redis.ConnectionError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise RuntimeError("redis-server did not start") from None
                time.sleep(0.05)
        yield url
    finally:
        stop_process(process, signal.SIGTERM)


# --- a client of testyard ---------------------------------------------------------------


@dataclass
class Trace:
    """One run as a WebSocket client saw it."""

    run_id: int
    received: list[tuple[float, dict[str, Any]]]  # (time.time() at receipt, test message)
    status: str
    delays: list[float] = field(default_factory=list)
    to_stored: list[float] = field(default_factory=list)  # reported -> stored
    after_stored: list[float] = field(default_factory=list)  # stored -> received
    flushes: list[int] = field(default_factory=list)  # test events per flush


class Deployment:
    """One testyard setup: where the API and the socket are, and its database file."""

    def __init__(self, bus: str, api_port: int, db_path: Path) -> None:
        self.bus = bus
        self.port = api_port
        self.db_path = db_path
        self.http = httpx2.Client(
            base_url=f"http://127.0.0.1:{api_port}/api/v1", timeout=REQUEST_TIMEOUT_S
        )
        body = {"username": "admin", "password": PASSWORD}
        self.token = self.call("POST", "/auth/login", 200, json=body)["token"]
        self.http.headers["Authorization"] = f"Bearer {self.token}"
        self.pid = self.call("POST", "/projects", 201, json={"name": f"bench-live-{bus}"})["id"]
        self.cases = {suite: self._add_case(suite) for suite in SUITES}

    def call(self, method: str, path: str, status: int, **kwargs: Any) -> Any:
        response = self.http.request(method, path, **kwargs)
        if response.status_code != status:
            raise RuntimeError(f"{method} {path}: {response.status_code} {response.text}")
        return response.json()

    def _add_case(self, suite: str) -> int:
        body = {"name": suite, "path": f"tests/test_{suite}.py", "code": suite_code(suite)}
        return int(self.call("POST", f"/projects/{self.pid}/cases", 201, json=body)["id"])

    def run(self, suite: str) -> Trace:
        """Create a run of the suite, follow it over the socket to ``done``."""
        body = {"case_ids": [self.cases[suite]], "workers": 0}
        created = self.call("POST", f"/projects/{self.pid}/runs", 202, json=body)
        url = f"ws://127.0.0.1:{self.port}{created['ws_url']}?token={self.token}"
        with connect(url, open_timeout=10, max_size=None) as ws:
            received, status = follow(ws)
        trace = Trace(created["id"], received, status)
        tests = [m for _, m in received]
        if status != "passed" or len({m["nodeid"] for m in tests}) != TESTS:
            raise RuntimeError(f"run {trace.run_id}: {status}, {len(tests)} test messages")
        trace.delays = [at - m["reported_at"] for at, m in received]
        self._split(trace)
        return trace

    def _split(self, trace: Trace) -> None:
        """Read back when each test event was stored (``run_events.created_at``)."""
        uri = f"file:{self.db_path}?mode=ro"
        with contextlib.closing(sqlite3.connect(uri, uri=True, timeout=30)) as db:
            rows = db.execute(
                "SELECT seq, created_at FROM run_events WHERE run_id = ? AND kind = 'test'",
                (trace.run_id,),
            ).fetchall()
        stored_at = {int(seq): epoch(created) for seq, created in rows}
        for at, message in trace.received:
            stored = stored_at[message["seq"]]
            trace.to_stored.append(stored - message["reported_at"])
            trace.after_stored.append(at - stored)
        times = sorted(stored_at.values())
        size = 1
        for before, after in itertools.pairwise(times):
            if after - before > FLUSH_GAP_S:
                trace.flushes.append(size)
                size = 0
            size += 1
        trace.flushes.append(size)

    def close(self) -> None:
        self.http.close()


def follow(ws: ClientConnection) -> tuple[list[tuple[float, dict[str, Any]]], str]:
    """Every ``test`` message with its time of receipt, and the final status."""
    received: list[tuple[float, dict[str, Any]]] = []
    status = "no done message"
    deadline = time.monotonic() + STREAM_TIMEOUT_S
    with contextlib.suppress(ConnectionClosed):
        while time.monotonic() < deadline:
            raw = ws.recv(timeout=deadline - time.monotonic())
            at = time.time()
            message = json.loads(raw)
            if message.get("event") == "test":
                received.append((at, message))
            elif message.get("event") == "done":
                status = message["status"]
    return received, status


def epoch(value: str) -> float:
    """A stored datetime (SQLite keeps UTC, naive) in seconds since the epoch."""
    moment = datetime.fromisoformat(value)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


# --- baselines ----------------------------------------------------------------------------


def pace(suite: str) -> float:
    return SLEEP_S if suite == "trickle" else 0.0


def baseline_memory(suite: str) -> list[float]:
    """Thread -> asyncio queue -> plain websockets server -> the same client."""
    child = subprocess.Popen(
        [sys.executable, __file__, "--child", "ws-push", str(pace(suite))],
        stdout=subprocess.PIPE,
    )
    try:
        assert child.stdout is not None
        port = int(child.stdout.readline())
        with connect(f"ws://127.0.0.1:{port}/", open_timeout=10, max_size=None) as ws:
            received = []
            deadline = time.monotonic() + BASELINE_TIMEOUT_S
            with contextlib.suppress(ConnectionClosed):
                while time.monotonic() < deadline:
                    raw = ws.recv(timeout=deadline - time.monotonic())
                    received.append((time.time(), json.loads(raw)))
        child.wait(10)
    finally:
        stop_process(child, signal.SIGKILL)
    delays = [at - m["reported_at"] for at, m in received]
    if len(delays) != TESTS:
        raise RuntimeError(f"websocket baseline: {len(delays)} of {TESTS} messages")
    return delays


def baseline_redis(url: str, suite: str) -> list[float]:
    """A plain redis-py publisher process -> Redis -> a plain redis-py subscriber."""
    channel = f"bench:{time.monotonic_ns()}"
    client = redis.Redis.from_url(url)
    pubsub = client.pubsub(ignore_subscribe_messages=True)
    pubsub.subscribe(channel)
    argv = [sys.executable, __file__, "--child", "redis-publish", str(pace(suite)), url, channel]
    child = subprocess.Popen(argv)
    delays: list[float] = []
    try:
        deadline = time.monotonic() + BASELINE_TIMEOUT_S
        while time.monotonic() < deadline:
            raw = pubsub.get_message(timeout=max(0.0, deadline - time.monotonic()))
            at = time.time()
            if raw is None or raw["type"] != "message":
                continue
            message = json.loads(raw["data"])
            if message["event"] == "done":
                break
            delays.append(at - message["reported_at"])
        child.wait(10)
    finally:
        stop_process(child, signal.SIGKILL)
        pubsub.close()
        client.close()
    if len(delays) != TESTS:
        raise RuntimeError(f"redis baseline: {len(delays)} of {TESTS} messages")
    return delays


def child_ws_push(interval: float) -> None:
    """Serve one websocket client: TESTS stamped messages from a producer thread."""
    from websockets.asyncio.server import ServerConnection, serve

    async def main() -> None:
        loop = asyncio.get_running_loop()
        finished = asyncio.Event()

        async def handler(ws: ServerConnection) -> None:
            queue: asyncio.Queue[str | None] = asyncio.Queue()

            def produce() -> None:
                for n in range(TESTS):
                    if interval and n:
                        time.sleep(interval)
                    message = json.dumps({"event": "test", "n": n, "reported_at": time.time()})
                    loop.call_soon_threadsafe(queue.put_nowait, message)
                loop.call_soon_threadsafe(queue.put_nowait, None)

            threading.Thread(target=produce, daemon=True).start()
            while (message := await queue.get()) is not None:
                await ws.send(message)
            finished.set()

        async with serve(handler, "127.0.0.1", 0) as server:
            port = next(iter(server.sockets)).getsockname()[1]
            print(port, flush=True)
            await asyncio.wait_for(finished.wait(), BASELINE_TIMEOUT_S)

    asyncio.run(main())


def child_redis_publish(interval: float, url: str, channel: str) -> None:
    """Publish TESTS stamped messages once the subscriber is there, then ``done``."""
    client = redis.Redis.from_url(url)
    deadline = time.monotonic() + 10
    while client.pubsub_numsub(channel)[0][1] < 1:
        if time.monotonic() > deadline:
            raise SystemExit("no subscriber")
        time.sleep(0.01)
    for n in range(TESTS):
        if interval and n:
            time.sleep(interval)
        client.publish(channel, json.dumps({"event": "test", "n": n, "reported_at": time.time()}))
    client.publish(channel, json.dumps({"event": "done"}))
    client.close()


# --- the measurement -----------------------------------------------------------------------


@dataclass
class Cell:
    """One bus x suite: every repetition's traces and baseline delays."""

    traces: list[Trace] = field(default_factory=list)
    baseline: list[list[float]] = field(default_factory=list)

    def pooled(self, attribute: str) -> list[float]:
        return [v for t in self.traces for v in getattr(t, attribute)]

    @property
    def base(self) -> list[float]:
        return [v for run in self.baseline for v in run]


@dataclass
class Figures:
    cells: dict[tuple[str, str], Cell]
    load_start: float


def measure(root: Path) -> Figures:
    work = root / "work"
    load_start = os.getloadavg()[0]
    cells = {(bus, suite): Cell() for bus in BUSES for suite in SUITES}
    with contextlib.ExitStack() as stack:
        memory_dir = root / "memory"
        memory_port = stack.enter_context(serve(root / "memory.log", server_env(memory_dir, work)))
        url = stack.enter_context(redis_server())
        shared_dir = root / "shared"
        runner_env = server_env(shared_dir, work, TESTYARD_REDIS_URL=url)
        stack.enter_context(serve(root / "redis-runner.log", runner_env))
        front_env = {**runner_env, "TESTYARD_EXECUTOR": "none"}
        front_port = stack.enter_context(serve(root / "redis-front.log", front_env))
        deployments = {
            "in-process": Deployment("in-process", memory_port, memory_dir / "testyard.db"),
            "redis": Deployment("redis", front_port, shared_dir / "testyard.db"),
        }
        for deployment in deployments.values():
            stack.callback(deployment.close)
        for bus, deployment in deployments.items():
            print(f"warm-up run ({bus}: builds the run environment, not counted) ...", flush=True)
            deployment.run("burst")
        for rep in range(1, REPEATS + 1):
            for bus, deployment in deployments.items():
                for suite in SUITES:
                    cell = cells[(bus, suite)]
                    cell.traces.append(deployment.run(suite))
                    if bus == "in-process":
                        cell.baseline.append(baseline_memory(suite))
                    else:
                        cell.baseline.append(baseline_redis(url, suite))
                    t, b = cell.traces[-1].delays, cell.baseline[-1]
                    print(
                        f"({rep}/{REPEATS}) {bus:10} {suite:7} testyard p50 "
                        f"{ms(percentile(t, 0.5))} p95 {ms(percentile(t, 0.95))} ms; "
                        f"baseline p95 {ms(percentile(b, 0.95), 2)} ms",
                        flush=True,
                    )
    return Figures(cells, load_start)


# --- the report --------------------------------------------------------------------------


def ms(seconds: float, digits: int = 1) -> str:
    return "?" if math.isnan(seconds) else f"{seconds * 1000:.{digits}f}"


def ratio(a: float, b: float) -> str:
    return "?" if not b or math.isnan(a) or math.isnan(b) else f"{a / b:.0f}x"


def report(fig: Figures, when: str) -> str:
    runs = len(next(iter(fig.cells.values())).traces)
    lines = [
        f"Delay from a test's report inside pytest (`reported_at`) to its `test` message at a "
        f"WebSocket client, in ms. Each suite is one case of {TESTS} tests run with "
        f"`workers: 0`: *trickle* sleeps {SLEEP_S * 1000:.0f} ms per test, *burst* has "
        f"instant tests. {runs} runs of each, alternating, delays pooled "
        f"({runs * TESTS} per row). Baselines (same pacing, same count): in-process, a "
        "thread -> `asyncio.Queue` -> plain `websockets` server -> the same client; "
        "Redis, a plain `redis-py` publisher process -> a plain `redis-py` subscriber.",
        "",
        "| bus | suite | testyard p50 / p95 / max | p95 of each run | baseline p50 / p95 / max "
        "| ratio p50 | ratio p95 | target p95 | |",
        "| --- | --- | --- | --- | --- | ---: | ---: | --- | --- |",
    ]
    for (bus, suite), cell in fig.cells.items():
        t, b = cell.pooled("delays"), cell.base
        p95 = percentile(t, 0.95)
        each = ", ".join(ms(percentile(tr.delays, 0.95), 0) for tr in cell.traces)
        target = TARGET_P95_S[bus]
        ratios = (
            f"{ratio(percentile(t, 0.5), percentile(b, 0.5))} | {ratio(p95, percentile(b, 0.95))}"
        )
        lines.append(
            f"| {bus} | {suite} | {triple(t)} | {each} | {triple(b, 2)} | {ratios} "
            f"| <= {target * 1000:.0f} | {'met' if p95 <= target else 'MISSED'} |"
        )
    lines += [
        "",
        "Where the time goes: *reported -> stored* is from the report to the moment the "
        "event's row is written (`run_events.created_at`, set in the batch's transaction "
        "just before its commit): pipe, driver, waiting for the batch, the insert. "
        "*stored -> received* is the commit, the publish, the bus and the socket. A flush is "
        "one transaction: events stored less than 1 ms apart count as one.",
        "",
        "| bus | suite | reported -> stored p50 / p95 | stored -> received p50 / p95 "
        "| flushes per run | tests per flush, mean / max |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for (bus, suite), cell in fig.cells.items():
        to_stored, after = cell.pooled("to_stored"), cell.pooled("after_stored")
        flushes = cell.pooled("flushes")
        per_run = ", ".join(str(len(tr.flushes)) for tr in cell.traces)
        mean = statistics.mean(flushes) if flushes else math.nan
        lines.append(
            f"| {bus} | {suite} | {ms(percentile(to_stored, 0.5))} / "
            f"{ms(percentile(to_stored, 0.95))} | {ms(percentile(after, 0.5))} / "
            f"{ms(percentile(after, 0.95))} | {per_run} | {mean:.1f} / {max(flushes, default=0)} |"
        )
    lines += [
        "",
        f"`{COMMAND}` on {when}: {os.cpu_count()} CPUs, load average {fig.load_start:.1f} at "
        f"the start and {os.getloadavg()[0]:.1f} at the end, Python "
        f"{platform.python_version()}, {platform.platform()}.",
    ]
    return "\n".join(lines) + "\n"


def triple(values: list[float], digits: int = 1) -> str:
    return " / ".join(ms(percentile(values, q), digits) for q in (0.5, 0.95, 1.0))


def write_results(body: str) -> None:
    write_section("bench_live", "Live event delay (bench_live.py)", body)


def main() -> None:
    if sys.argv[1:2] == ["--child"]:
        role, interval, *rest = sys.argv[2:]
        if role == "ws-push":
            child_ws_push(float(interval))
        else:
            child_redis_publish(float(interval), *rest)
        return
    root = Path(tempfile.mkdtemp(prefix="bench-live-"))
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
