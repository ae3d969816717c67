"""Many WebSocket clients on one big run: does every client get every stored event,
exactly once and in order?

One real ``testyard serve`` (in-process bus, ``TESTYARD_MAX_CONCURRENT_RUNS=1``) runs
one case of ``--tests`` instant parametrized tests (``workers: 0``). So that the
clients are all subscribed before the run starts, a *hold* run (one test that waits
for a file in the temporary directory) occupies the only slot while the big run is
queued; the ``--clients`` minus ``--late`` early clients open ``/ws/runs/{id}``, send
the token as their first message and receive the queued run's ``run`` event; then the
hold is released. The ``--late`` clients join mid-run, spread over the run (when the
first client has seen 1/(late+1), 2/(late+1), … of the tests), with ``?after=0``.

Each client keeps every stored kind it receives (``run``, ``test``, ``done``,
``timeout``; ``tick`` and ``log`` are live only) until the server closes the socket.
At the end the run's stored events are read from the database (``run_events``) and
each client's sequence must equal them: the same seqs in the same increasing order,
none missing, none twice, the same payloads. The delay of a client behind the first
is, per event, its receipt time minus the earliest receipt of that event by any
client, counted over the events that were live while it was connected.

Prints one row per client, a summary and a verdict; exits 1 on any loss, duplicate,
disorder or payload difference, on a run that did not pass with every test, or on an
error in the server's log. Writes nothing outside its temporary directory.
Run: ``.venv/bin/python bench/soak_websockets.py`` (``--quick``: 200 tests, 10 clients).
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import math
import os
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from soak_support import Soak, machine, percentile, print_errors, server_errors, soak_server, table
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosedError

STORED = frozenset({"run", "test", "done", "timeout"})
FINISHED = frozenset({"passed", "failed", "error", "cancelled", "timed_out", "interrupted"})
SUBSCRIBE_TIMEOUT_S = 60.0
STREAM_TIMEOUT_S = 900.0
COMMAND = ".venv/bin/python bench/soak_websockets.py"


def suite_code(tests: int) -> str:
    return (
        "import pytest\n\n\n"
        f"@pytest.mark.parametrize('n', range({tests}))\n"
        "def test_soak(n):\n    assert n == n\n"
    )


def hold_code(release: Path) -> str:
    """One test that waits until ``release`` exists (the soak starts the big run then)."""
    return (
        "import pathlib\nimport time\n\n\n"
        "def test_hold():\n"
        f"    release = pathlib.Path({str(release)!r})\n"
        "    deadline = time.monotonic() + 240\n"
        "    while not release.exists() and time.monotonic() < deadline:\n"
        "        time.sleep(0.02)\n"
        "    assert release.exists()\n"
    )


@dataclass
class Client:
    """One WebSocket client: what it received, when, and how its stream ended."""

    index: int
    joined: str
    received: list[tuple[float, dict[str, Any]]] = field(default_factory=list)
    connected_at: float = float("nan")
    tests: int = 0
    error: str = ""
    subscribed: asyncio.Event = field(default_factory=asyncio.Event)
    _waiters: list[tuple[int, asyncio.Event]] = field(default_factory=list)

    def take(self, at: float, message: dict[str, Any]) -> None:
        self.received.append((at, message))
        self.subscribed.set()
        if message["event"] == "test":
            self.tests += 1
        for threshold, event in self._waiters:
            if self.tests >= threshold or message["event"] == "done":
                event.set()

    async def reached(self, tests: int) -> None:
        """Wait until this client has seen ``tests`` test events (or the end)."""
        event = asyncio.Event()
        done = any(m["event"] == "done" for _, m in self.received)
        if self.tests >= tests or done or self.error:
            return
        self._waiters.append((tests, event))
        await event.wait()


async def follow(url: str, token: str, client: Client) -> None:
    """Subscribe (the token as first message) and keep the stored kinds until the
    server closes the socket after ``done``."""
    try:
        async with connect(url, open_timeout=30, max_size=None) as ws:
            await ws.send(json.dumps({"token": token}))
            client.connected_at = time.time()
            async with asyncio.timeout(STREAM_TIMEOUT_S):
                async for raw in ws:
                    at = time.time()
                    message = json.loads(raw)
                    if message.get("event") in STORED:
                        client.take(at, message)
    except (ConnectionClosedError, OSError, TimeoutError) as exc:
        client.error = f"{type(exc).__name__}: {exc}"
    finally:
        client.subscribed.set()
        for _, event in client._waiters:
            event.set()


async def watch(soak: Soak, rid: int, args: argparse.Namespace, release: Path) -> list[Client]:
    """Early clients subscribe, the hold is released, late ones join mid-run."""
    url = f"{soak.ws_base}/ws/runs/{rid}"
    early = [Client(i, "before start") for i in range(args.clients - args.late)]
    tasks = [asyncio.create_task(follow(url, soak.token, c)) for c in early]
    subscribed = asyncio.gather(*(c.subscribed.wait() for c in early))
    await asyncio.wait_for(subscribed, SUBSCRIBE_TIMEOUT_S)
    release.touch()  # the hold run ends; the big run starts
    late: list[Client] = []
    for j in range(1, args.late + 1):
        await early[0].reached(args.tests * j // (args.late + 1))
        client = Client(len(early) + j - 1, f"mid-run, client 0 at test {early[0].tests}")
        late.append(client)
        tasks.append(asyncio.create_task(follow(f"{url}?after=0", soak.token, client)))
    await asyncio.gather(*tasks)
    return early + late


@dataclass
class Check:
    """One client's stream against the stored events."""

    client: Client
    kinds: Counter[str]
    missing: int
    duplicates: int
    disorder: int
    extra: int
    differ: int
    done_lag_ms: float
    live_lags_ms: list[float]

    @property
    def ok(self) -> bool:
        bad = self.missing + self.duplicates + self.disorder + self.extra + self.differ
        return bad == 0 and not self.client.error


def check(client: Client, stored: list[dict[str, Any]], first_seen: dict[int, float]) -> Check:
    seqs = [m["seq"] for _, m in client.received]
    by_seq = {m["seq"]: m for m in stored}
    lags = {
        m["seq"]: (at - first_seen[m["seq"]]) * 1000
        for at, m in client.received
        if first_seen.get(m["seq"], 0) >= client.connected_at
    }
    done_seq = next((m["seq"] for m in stored if m["event"] == "done"), None)
    return Check(
        client=client,
        kinds=Counter(m["event"] for _, m in client.received),
        missing=len(set(by_seq) - set(seqs)),
        duplicates=len(seqs) - len(set(seqs)),
        disorder=sum(1 for a, b in itertools.pairwise(seqs) if b <= a),
        extra=len(set(seqs) - set(by_seq)),
        differ=sum(1 for _, m in client.received if m["seq"] in by_seq and m != by_seq[m["seq"]]),
        done_lag_ms=lags.get(done_seq, float("nan")) if done_seq is not None else float("nan"),
        live_lags_ms=list(lags.values()),
    )


@dataclass
class Figures:
    """What one soak measured besides the clients' streams."""

    run: dict[str, Any]
    stored: list[tuple[float, dict[str, Any]]]  # (stored at, event)
    wall_s: float  # from the first client's connect to the last socket's close
    server_cpu_s: float
    client_cpu_s: float

    @property
    def events(self) -> list[dict[str, Any]]:
        return [m for _, m in self.stored]


def report(checks: list[Check], fig: Figures) -> str:
    rows = [
        [
            c.client.index,
            c.client.joined,
            c.kinds["run"],
            c.kinds["test"],
            c.kinds["done"],
            c.missing,
            c.duplicates,
            c.disorder,
            c.differ,
            "stored before joining" if math.isnan(c.done_lag_ms) else f"{c.done_lag_ms:.0f}",
            f"{max(c.live_lags_ms, default=0):.0f}",
            "ok" if c.ok else f"FAIL {c.client.error}".strip(),
        ]
        for c in checks
    ]
    header = ["client", "joined", "run", "test", "done", "missing", "twice", "disorder"]
    header += ["payload differs", "done lag ms", "max lag ms", ""]
    kinds = Counter(m["event"] for m in fig.events)
    run = fig.run
    done_at = next((at for at, m in fig.stored if m["event"] == "done"), float("nan"))
    done_rx = sorted(at for c in checks for at, m in c.client.received if m["event"] == "done")
    done_ms = " / ".join(f"{(at - done_at) * 1000:.0f}" for at in (done_rx[0], done_rx[-1]))
    slowest = max(checks, key=lambda c: -1 if math.isnan(c.done_lag_ms) else c.done_lag_ms)
    pooled = [lag for c in checks for lag in c.live_lags_ms]
    spread = " / ".join(f"{percentile(pooled, q):.0f}" for q in (0.5, 0.95, 1.0))
    wall = run["wall_s"] or 0
    cpu = f"{fig.server_cpu_s:.1f} / {fig.client_cpu_s:.1f} / {fig.wall_s:.1f} s"
    summary = [
        ["run", f"{run['status']}, {run['counts'].get('total')} tests, {wall:.2f} s wall"],
        ["stored events", ", ".join(f"{k} {n}" for k, n in sorted(kinds.items()))],
        ["clients with every stored event once, in order", f"{sum(c.ok for c in checks)}"],
        [
            "slowest client's delay behind the first at `done`",
            f"{slowest.done_lag_ms:.0f} ms (client {slowest.client.index})",
        ],
        ["delay behind the first, live events of all clients, p50 / p95 / max", f"{spread} ms"],
        ["`done` stored -> received, first / last client", f"{done_ms} ms"],
        ["CPU while the clients watched: server / this client process / wall", cpu],
    ]
    return table(header, rows) + "\n\n" + table(["measurement", "value"], summary)


def soak(args: argparse.Namespace) -> int:
    load = os.getloadavg()[0]
    with soak_server("soak-ws-", TESTYARD_MAX_CONCURRENT_RUNS="1") as s:
        pid = s.project("soak-websockets")
        release = s.root / "release"
        hold = s.start_run(pid, [s.case(pid, "hold", hold_code(release))], workers=0)
        suite = s.case(pid, "soak", suite_code(args.tests))
        print("hold run: building the run environment ...", flush=True)
        s.wait_status(hold["id"], {"running"})
        created = s.start_run(pid, [suite], workers=0)
        print(f"run {created['id']} ({args.tests} tests) queued; {args.clients} clients ...")
        cpu, server_cpu, wall = time.process_time(), s.cpu_s(), time.monotonic()
        clients = asyncio.run(watch(s, created["id"], args, release))
        cpu, server_cpu = time.process_time() - cpu, s.cpu_s() - server_cpu
        wall = time.monotonic() - wall
        run = s.wait_status(created["id"], set(FINISHED))
        fig = Figures(run, s.stored_events(created["id"]), wall, server_cpu, cpu)
        errors = server_errors(s.server.log)
    first_seen: dict[int, float] = {}
    for client in clients:
        for at, message in client.received:
            first_seen[message["seq"]] = min(at, first_seen.get(message["seq"], at))
    checks = [check(c, fig.events, first_seen) for c in clients]
    stored = fig.events
    print("\n" + report(checks, fig) + "\n")
    print(machine(COMMAND + (" --quick" if args.quick else ""), load))
    failures = [c.client.index for c in checks if not c.ok]
    complete = run["status"] == "passed" and run["counts"].get("total") == args.tests
    print_errors(errors)
    if failures or not complete or errors:
        print(
            f"FAIL: clients with losses/disorder {failures}; run complete: {complete}; "
            f"server log errors: {len(errors)}"
        )
        return 1
    print(f"PASS: {len(clients)} clients each got all {len(stored)} stored events once, in order")
    return 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="200 tests, 10 clients (2 late)")
    parser.add_argument("--tests", type=int, default=2000)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--late", type=int, default=10, help="clients that join mid-run")
    args = parser.parse_args()
    if args.quick:
        args.tests, args.clients, args.late = 200, 10, 2
    if not 0 <= args.late < args.clients:
        parser.error("--late must be at least 0 and fewer than --clients")
    sys.exit(soak(args))


if __name__ == "__main__":
    main()
