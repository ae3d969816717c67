"""Many runs one after another: does the server's memory stay flat?

One real ``testyard serve`` (SQLite, default settings) runs a small case (10
parametrized instant tests) ``--warmup`` times, then ``--runs`` times more, one run
after the other, as a user would: start the run, follow it over ``/ws/runs/{id}`` to
``done``, read its results and download its HTML report. After each run the server
process's resident memory is read (``VmRSS`` in ``/proc/<pid>/status``; the pytest
processes of the runs are its children and not counted).

Prints the first, last, min and max sample, the averages of the first and last
``--window`` samples and the drift between them, and a verdict; exits 1 if the last
window's average exceeds the first's by more than ``LIMIT_PCT`` %, if a run did not
pass, or on an error in the server's log. Writes nothing outside its temporary directory.
Run: ``.venv/bin/python bench/soak_memory.py`` (``--quick``: 3 + 20 runs, window 5).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from contextlib import suppress

from soak_support import Soak, machine, print_errors, server_errors, soak_server, table
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

LIMIT_PCT = 10.0
TESTS = 10
STREAM_TIMEOUT_S = 300.0
COMMAND = ".venv/bin/python bench/soak_memory.py"
CODE = (
    "import pytest\n\n\n"
    f"@pytest.mark.parametrize('n', range({TESTS}))\n"
    "def test_small(n):\n    assert n == n\n"
)


def one_run(s: Soak, pid: int, case: int) -> str:
    """Start a run, follow it to ``done`` over the socket, read what a user reads;
    the final status."""
    created = s.start_run(pid, [case])
    url = f"{s.ws_base}{created['ws_url']}"
    status = "no done message"
    with connect(url, open_timeout=30, max_size=None) as ws, suppress(ConnectionClosed):
        ws.send(json.dumps({"token": s.token}))
        deadline = time.monotonic() + STREAM_TIMEOUT_S
        while time.monotonic() < deadline:
            message = json.loads(ws.recv(timeout=deadline - time.monotonic()))
            if message.get("event") == "done":
                status = message["status"]
                break
    rid = created["id"]
    results = s.call("GET", f"/runs/{rid}/results", 200)
    if results["total"] != TESTS:
        status += f" ({results['total']} results)"
    response = s.http.get(f"/runs/{rid}/artifacts/report.html")
    if response.status_code != 200:
        status += f" (report: {response.status_code})"
    return str(status)


def mib(kib: float) -> str:
    return f"{kib / 1024:.1f}"


def report(samples: list[int], window: int, warmup_kib: int) -> tuple[str, float]:
    """The table, and the drift of the last window's average over the first's, in %."""
    first, last = statistics.mean(samples[:window]), statistics.mean(samples[-window:])
    drift = (last - first) / first * 100
    low, high = min(samples), max(samples)
    rows = [
        ["after the warm-up runs", mib(warmup_kib)],
        ["first sample (run 1)", mib(samples[0])],
        [f"last sample (run {len(samples)})", mib(samples[-1])],
        [f"min (run {samples.index(low) + 1})", mib(low)],
        [f"max (run {samples.index(high) + 1})", mib(high)],
        [f"average of the first {window}", mib(first)],
        [f"average of the last {window}", mib(last)],
        ["drift, last sample vs first", f"{(samples[-1] - samples[0]) / samples[0] * 100:+.1f}%"],
        [f"drift, last {window} vs first {window} (limit +{LIMIT_PCT:.0f}%)", f"{drift:+.1f}%"],
    ]
    step = max(1, len(samples) // 10)
    series = ", ".join(f"{i + 1}: {mib(samples[i])}" for i in range(0, len(samples), step))
    text = table(["server VmRSS", "MiB"], rows) + f"\n\nMiB after run {series}."
    return text, drift


def soak(args: argparse.Namespace) -> int:
    load = os.getloadavg()[0]
    statuses: list[str] = []
    samples: list[int] = []
    with soak_server("soak-memory-") as s:
        pid = s.project("soak-memory")
        case = s.case(pid, "small", CODE)
        for _ in range(args.warmup):
            statuses.append(one_run(s, pid, case))
        warmup_kib = s.rss_kb()
        print(f"{args.warmup} warm-up runs; server VmRSS {mib(warmup_kib)} MiB", flush=True)
        for n in range(1, args.runs + 1):
            statuses.append(one_run(s, pid, case))
            samples.append(s.rss_kb())
            if n % 10 == 0:
                print(f"  run {n}/{args.runs}: {mib(samples[-1])} MiB", flush=True)
        errors = server_errors(s.server.log)
    text, drift = report(samples, args.window, warmup_kib)
    print("\n" + text + "\n")
    flags = " --quick" if args.quick else ""
    print(machine(COMMAND + flags, load))
    bad_runs = [st for st in statuses if st != "passed"]
    print_errors(errors)
    if drift > LIMIT_PCT or bad_runs or errors:
        print(
            f"FAIL: drift {drift:+.1f}% (limit +{LIMIT_PCT:.0f}%), runs not passed: "
            f"{bad_runs[:5]}, server log errors: {len(errors)}"
        )
        return 1
    print(
        f"PASS: {args.runs} runs, resident memory drift {drift:+.1f}% "
        f"(last {args.window} vs first {args.window}, limit +{LIMIT_PCT:.0f}%)"
    )
    return 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="3 warm-up + 20 runs, window 5")
    parser.add_argument("--warmup", type=int, default=10)
    parser.add_argument("--runs", type=int, default=100)
    parser.add_argument("--window", type=int, default=10, help="samples averaged at each end")
    args = parser.parse_args()
    if args.quick:
        args.warmup, args.runs, args.window = 3, 20, 5
    if not 1 <= args.window <= args.runs // 2:
        parser.error("--window must be between 1 and half of --runs")
    sys.exit(soak(args))


if __name__ == "__main__":
    main()
