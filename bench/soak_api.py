"""Many API clients at once for a while: does the server answer every request, with no
server error and no dropped connection?

One real ``testyard serve`` (SQLite, default settings) gets seeded data: 5 projects;
in the main one 20 cases of 5 tests and a plan of them through the API, then 200
finished runs of all 100 tests straight into the database (``tests/support/seed.py``:
~20,000 results, 10% flaky, 5% broken), and one real run of a small case to build the
run environment. Then ``--clients`` asyncio clients (one ``httpx2.AsyncClient`` each,
keep-alive, closed loop, no think time) make weighted random requests for
``--duration`` seconds: list projects, cases (with and without ``with=latest_result``)
and runs, get a case or a run, a run's results, the three statistics, a case's history,
a plan's trend, create a case and delete it again; and, at most once every
``RUN_EVERY_S`` across all clients, start a run of the small case. Started runs are
waited for (then cancelled if still going) after the window and must pass.

Latency is from sending a request to having its whole answer, measured in the same
process as 199 other clients, so it includes waiting for this process's event loop; the
CPU the server and this process used is printed beside it.

Prints a table per request kind (count, statuses, p50/p95/p99), throughput, the count
of 5xx and transport errors, and a verdict; exits 1 on any 5xx, transport error or
error in the server's log. Writes nothing outside its temporary directory.
Run: ``.venv/bin/python bench/soak_api.py [--clients 200] [--duration 60]``
(``--quick``: 20 clients for 10 s).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import random
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx2 as httpx
from soak_support import (  # first: it puts the repository on sys.path for tests.support
    Soak,
    machine,
    percentile,
    postgres_url,
    print_errors,
    server_errors,
    soak_server,
    table,
)
from tests.support.seed import Seeder, seed_history

PROJECTS = 5
CASES = 20
TESTS_PER_CASE = 5
RUNS = 200
RUN_EVERY_S = 3.0
RUNS_SETTLE_S = 120.0
QUANTILES = (0.5, 0.95, 0.99)
FINISHED = frozenset({"passed", "failed", "error", "cancelled", "timed_out", "interrupted"})
COMMAND = ".venv/bin/python bench/soak_api.py"


@dataclass
class Seeded:
    pid: int
    case_ids: list[int]
    plan_id: int
    run_ids: list[int]
    small_case: int


def seed(s: Soak) -> Seeded:
    """Projects, cases and a plan through the API; runs and results in bulk."""
    for n in range(PROJECTS - 1):
        s.project(f"soak-api-{n}")
    pid = s.project("soak-api")
    code = "".join(f"def test_{t}():\n    pass\n\n\n" for t in range(TESTS_PER_CASE))
    case_ids = [s.case(pid, f"case_{c:03d}", code) for c in range(CASES)]
    plan = s.call(
        "POST", f"/projects/{pid}/plans", 201, json={"name": "nightly", "case_ids": case_ids}
    )
    small = s.case(pid, "small", "def test_small():\n    assert True\n")
    seeder = Seeder.connect(s.database_url)
    try:
        history = seed_history(
            seeder, pid, case_ids, runs=RUNS, tests_per_case=TESTS_PER_CASE, plan_id=plan["id"]
        )
        seeder.analyze()
    finally:
        seeder.close()
    warm = s.start_run(pid, [small])  # builds the run environment outside the window
    s.wait_status(warm["id"], set(FINISHED))
    return Seeded(pid, case_ids, plan["id"], history.run_ids, small)


@dataclass
class Recorder:
    """Every answer: latency and status per request kind; transport errors."""

    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    statuses: dict[str, Counter[int]] = field(default_factory=lambda: defaultdict(Counter))
    unexpected: Counter[str] = field(default_factory=Counter)
    transport: Counter[str] = field(default_factory=Counter)
    started_runs: list[int] = field(default_factory=list)
    next_run_at: float = 0.0

    async def request(
        self,
        http: httpx.AsyncClient,
        name: str,
        expected: int,
        method: str,
        path: str,
        **kwargs: Any,
    ) -> httpx.Response | None:
        started = time.perf_counter()
        try:
            response = await http.request(method, path, **kwargs)
        except httpx.HTTPError as exc:
            self.transport[f"{name}: {type(exc).__name__}: {exc}"[:160]] += 1
            return None
        self.latencies[name].append(time.perf_counter() - started)
        self.statuses[name][response.status_code] += 1
        if response.status_code != expected:
            self.unexpected[f"{name}: {response.status_code} {response.text[:120]}"] += 1
        return response


Op = Callable[[httpx.AsyncClient, Seeded, random.Random, Recorder], Awaitable[None]]


def get(name: str, path: Callable[[Seeded, random.Random], str], **params: Any) -> Op:
    async def op(http: httpx.AsyncClient, s: Seeded, rng: random.Random, rec: Recorder) -> None:
        await rec.request(http, name, 200, "GET", path(s, rng), params=params)

    return op


async def create_and_delete_case(
    http: httpx.AsyncClient, s: Seeded, rng: random.Random, rec: Recorder
) -> None:
    name = f"tmp_{rng.getrandbits(48):012x}"
    body = {"name": name, "code": "def test_tmp():\n    pass\n", "tags": ["soak"]}
    made = await rec.request(
        http, "create case", 201, "POST", f"/projects/{s.pid}/cases", json=body
    )
    if made is not None and made.status_code == 201:
        cid = made.json()["id"]
        await rec.request(http, "delete case", 204, "DELETE", f"/projects/{s.pid}/cases/{cid}")


async def start_run(http: httpx.AsyncClient, s: Seeded, rng: random.Random, rec: Recorder) -> None:
    body = {"case_ids": [s.small_case]}
    made = await rec.request(http, "start run", 202, "POST", f"/projects/{s.pid}/runs", json=body)
    if made is not None and made.status_code == 202:
        rec.started_runs.append(made.json()["id"])


def mix() -> list[tuple[Op, int]]:
    """What a busy team's browsers and scripts ask, with weights."""

    def case(s: Seeded, rng: random.Random) -> int:
        return rng.choice(s.case_ids)

    def run(s: Seeded, rng: random.Random) -> int:
        return rng.choice(s.run_ids)

    latest = {"with": "latest_result"}

    def stat(kind: str) -> Op:
        return get(f"stats/{kind}", lambda s, r: f"/projects/{s.pid}/stats/{kind}")

    return [
        (get("list projects", lambda s, r: "/projects"), 10),
        (get("list cases", lambda s, r: f"/projects/{s.pid}/cases"), 10),
        (get("list cases, latest", lambda s, r: f"/projects/{s.pid}/cases", **latest), 4),
        (get("list runs", lambda s, r: f"/projects/{s.pid}/runs"), 12),
        (get("get case", lambda s, r: f"/projects/{s.pid}/cases/{case(s, r)}"), 15),
        (get("get run", lambda s, r: f"/runs/{run(s, r)}"), 8),
        (get("run results", lambda s, r: f"/runs/{run(s, r)}/results"), 6),
        (stat("flaky"), 3),
        (stat("slowest"), 3),
        (stat("failures"), 3),
        (get("case history", lambda s, r: f"/projects/{s.pid}/cases/{case(s, r)}/history"), 3),
        (get("plan trend", lambda s, r: f"/projects/{s.pid}/plans/{s.plan_id}/trend"), 3),
        (create_and_delete_case, 6),
    ]


async def client(
    index: int, base: str, token: str, s: Seeded, deadline: float, rec: Recorder
) -> None:
    rng = random.Random(index)
    ops, weights = zip(*mix(), strict=True)
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=base, headers=headers, timeout=60) as http:
        while time.monotonic() < deadline:
            if time.monotonic() >= rec.next_run_at:
                rec.next_run_at = time.monotonic() + RUN_EVERY_S
                await start_run(http, s, rng, rec)
                continue
            await rng.choices(ops, weights)[0](http, s, rng, rec)


async def load(s: Soak, seeded: Seeded, clients: int, duration: float, rec: Recorder) -> float:
    """All clients for ``duration`` seconds; the wall time until the last one stopped."""
    base = f"{s.server.url}/api/v1"
    started = time.monotonic()
    rec.next_run_at = started
    deadline = started + duration
    await asyncio.gather(*(client(i, base, s.token, seeded, deadline, rec) for i in range(clients)))
    return time.monotonic() - started


def settle_runs(s: Soak, run_ids: list[int]) -> Counter[str]:
    """Wait for the started runs to finish (cancel what is still going); their statuses."""
    statuses: Counter[str] = Counter()
    deadline = time.monotonic() + RUNS_SETTLE_S
    for rid in run_ids:
        try:
            run = s.wait_status(rid, set(FINISHED), max(1.0, deadline - time.monotonic()))
        except RuntimeError:
            run = s.call("POST", f"/runs/{rid}/cancel", 200)
            run["status"] = f"still {s.call('GET', f'/runs/{rid}', 200)['status']} (cancelled)"
        statuses[run["status"]] += 1
    return statuses


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f}"


def row(name: str, latencies: list[float], statuses: Counter[int]) -> list[Any]:
    counts = ", ".join(f"{code}: {n}" for code, n in sorted(statuses.items()))
    return [name, len(latencies), counts, *(ms(percentile(latencies, q)) for q in QUANTILES)]


def report(rec: Recorder, wall: float, cpu: tuple[float, float], runs: Counter[str]) -> str:
    rows = [
        row(name, rec.latencies[name], rec.statuses[name])
        for name in sorted(rec.latencies, key=lambda n: -len(rec.latencies[n]))
    ]
    everything = [v for lat in rec.latencies.values() for v in lat]
    total: Counter[int] = sum(rec.statuses.values(), Counter())
    rows.append(row("**all**", everything, total))
    server_5xx = sum(n for code, n in total.items() if code >= 500)
    run_statuses = ", ".join(f"{k}: {n}" for k, n in runs.items()) or "none"
    summary: list[list[Any]] = [
        ["throughput", f"{len(everything) / wall:.0f} requests/s over {wall:.1f} s"],
        ["5xx answers", server_5xx],
        ["transport errors", sum(rec.transport.values())],
        ["other unexpected statuses", sum(rec.unexpected.values()) - server_5xx],
        ["runs started during the window, final statuses", run_statuses],
        ["CPU during the window: server / this client process", f"{cpu[0]:.1f} / {cpu[1]:.1f} s"],
    ]
    header = ["request", "count", "statuses", "p50 ms", "p95 ms", "p99 ms"]
    return table(header, rows) + "\n\n" + table(["measurement", "value"], summary)


def soak(args: argparse.Namespace) -> int:
    load_start = os.getloadavg()[0]
    rec = Recorder()
    with contextlib.ExitStack() as stack:
        settings: dict[str, str] = {}
        if args.database == "postgres":
            settings["TESTYARD_DATABASE_URL"] = stack.enter_context(postgres_url())
        s = stack.enter_context(soak_server("soak-api-", **settings))
        print("seeding ...", flush=True)
        seeded = seed(s)
        print(f"{args.clients} clients for {args.duration:.0f} s ...", flush=True)
        cpu, server_cpu = time.process_time(), s.cpu_s()
        wall = asyncio.run(load(s, seeded, args.clients, args.duration, rec))
        cpu, server_cpu = time.process_time() - cpu, s.cpu_s() - server_cpu
        runs = settle_runs(s, rec.started_runs)
        errors = server_errors(s.server.log)
    print("\n" + report(rec, wall, (server_cpu, cpu), runs) + "\n")
    flags = " --quick" if args.quick else f" --clients {args.clients} --duration {args.duration:g}"
    flags += " --database postgres" if args.database == "postgres" else ""
    print(f"database: {args.database}")
    print(machine(COMMAND + flags, load_start))
    for what, counter in (("unexpected", rec.unexpected), ("transport", rec.transport)):
        for line, n in counter.most_common(10):
            print(f"{what} x{n}: {line}")
    print_errors(errors)
    server_5xx = sum(n for c in rec.statuses.values() for code, n in c.items() if code >= 500)
    failed_runs = sum(n for status, n in runs.items() if status != "passed")
    if server_5xx or rec.transport or errors or failed_runs:
        transport = sum(rec.transport.values())
        print(
            f"FAIL: {server_5xx} 5xx, {transport} transport errors, "
            f"{len(errors)} server log errors, {failed_runs} started runs not passed"
        )
        return 1
    answered = sum(len(v) for v in rec.latencies.values())
    print(f"PASS: {answered} requests from {args.clients} clients, no 5xx, no transport error")
    return 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="20 clients for 10 s")
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--duration", type=float, default=60.0, help="seconds")
    parser.add_argument(
        "--database",
        choices=("sqlite", "postgres"),
        default="sqlite",
        help="postgres: a throwaway cluster (needs PostgreSQL's server binaries)",
    )
    args = parser.parse_args()
    if args.quick:
        args.clients, args.duration = 20, 10.0
    sys.exit(soak(args))


if __name__ == "__main__":
    main()
