"""Start-up cost of a parallel run: 10 one-second tests in 4 files, 10 workers.

Measured in one invocation on this machine: plain ``pytest`` serially and with
``-n 10`` (in an environment like the one testyard's runs get: pytest, xdist and
testyard's plugins), and testyard with ``workers: 10`` through a real
``testyard serve`` and its HTTP API, from the POST to the final status seen by polling
(after a first run that builds the run environment, not counted), with its fork server
(the default) and with ``TESTYARD_FORK_SERVER=false`` (a second server). testyard's
time is split into its phases from the run's and the results' timestamps. The plain
and testyard runs alternate ``REPEATS`` times; medians are reported. Target: testyard
within 0.5 s of plain ``pytest -n 10``; stretch: faster than it. Writes ``bench/RESULTS.md`` between
``<!-- bench_startup -->`` markers. Run: ``.venv/bin/python bench/bench_startup.py``.
"""

from __future__ import annotations

import os
import platform
import shutil
import statistics
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench_execution import epoch, serve
from results_md import write_section
from suite_runs import Client, Interpreter, SuiteFile, Timed, plain_pytest, write_suite

SUITE: list[SuiteFile] = [
    ("tests/test_one.py", [1.0, 1.0, 1.0]),
    ("tests/test_two.py", [1.0, 1.0, 1.0]),
    ("tests/test_three.py", [1.0, 1.0]),
    ("tests/test_four.py", [1.0, 1.0]),
]
WORKERS = 10
REPEATS = 5
TARGET_WITHIN_S = 0.5
COMMAND = ".venv/bin/python bench/bench_startup.py"


@dataclass
class Phases:
    """One testyard run, in seconds."""

    client_s: float  # POST -> final status seen
    queued_s: float  # created_at -> started_at
    to_first_test_s: float  # started_at -> first test starts (env, workspace, start-up)
    tests_s: float  # first test starts -> last test ends
    to_finished_s: float  # last test ends -> finished_at
    seen_after_s: float  # the rest: finished_at -> seen, and POST -> created_at
    session_s: float  # pytest's own session time, from the run's log


def phases(client: Client, run: dict[str, Any], timed: Timed) -> Phases:
    results = client.results(run["id"])
    created, started, finished = (
        epoch(run[k]) for k in ("created_at", "started_at", "finished_at")
    )
    first = min(epoch(r["started_at"]) for r in results)
    last = max(epoch(r["finished_at"]) for r in results)
    return Phases(
        client_s=timed.wall_s,
        queued_s=started - created,
        to_first_test_s=first - started,
        tests_s=last - first,
        to_finished_s=finished - last,
        seen_after_s=timed.wall_s - (finished - created),
        session_s=timed.session_s,
    )


@dataclass
class Measured:
    serial: list[float]
    parallel: list[Timed]
    runs: list[Phases]  # with the fork server
    unforked: list[Phases]  # TESTYARD_FORK_SERVER=false


def measure(root: Path) -> Measured:
    directory = root / "plain"
    write_suite(directory, SUITE)
    interpreter = Interpreter.lean(root / "plain-env")
    got = Measured([], [], [], [])
    with (
        serve(root / "testyard") as url,
        serve(root / "testyard-unforked", fork_server="false") as unforked_url,
    ):
        client = Client(url, "bench-startup", SUITE)
        unforked = Client(unforked_url, "bench-startup", SUITE)
        try:
            body = {"case_ids": client.case_ids, "workers": WORKERS}
            unforked_body = {"case_ids": unforked.case_ids, "workers": WORKERS}
            print("testyard first runs (build the environment) ...", flush=True)
            client.run(body)
            unforked.run(unforked_body)
            for i in range(1, REPEATS + 1):
                got.serial.append(plain_pytest(interpreter, directory, events=False).wall_s)
                n = ("-n", str(WORKERS))
                got.parallel.append(plain_pytest(interpreter, directory, *n, events=False))
                run, timed = client.run(body)
                got.runs.append(phases(client, run, timed))
                run, plain_timed = unforked.run(unforked_body)
                got.unforked.append(phases(unforked, run, plain_timed))
                print(
                    f"({i}/{REPEATS}) serial {got.serial[-1]:.2f} s, -n {WORKERS} "
                    f"{got.parallel[-1].wall_s:.2f} s, testyard {timed.wall_s:.2f} s, "
                    f"without fork server {plain_timed.wall_s:.2f} s",
                    flush=True,
                )
        finally:
            client.close()
            unforked.close()
    return got


def report(got: Measured, when: str) -> str:
    serial, parallel, runs = got.serial, got.parallel, got.runs

    def row(name: str, values: list[float]) -> str:
        each = ", ".join(f"{v:.2f}" for v in values)
        return f"| {name} | {statistics.median(values):.2f} | {min(values):.2f} | {each} |"

    def phase(name: str, attribute: str, of: list[Phases] = runs) -> str:
        return row(name, [getattr(r, attribute) for r in of])

    plain = statistics.median(t.wall_s for t in parallel)
    ours = statistics.median(r.client_s for r in runs)
    unforked = statistics.median(r.client_s for r in got.unforked)
    best = min(r.client_s for r in runs) - min(t.wall_s for t in parallel)
    lines = [
        f"10 one-second tests in 4 files; median of {REPEATS} alternating repetitions.",
        "",
        "| run | median s | best s | each s |",
        "| --- | ---: | ---: | --- |",
        row("plain `pytest`, serial", serial),
        row(f"plain `pytest -n {WORKERS}`", [t.wall_s for t in parallel]),
        row("- pytest's own session time", [t.session_s for t in parallel]),
        phase(
            f"testyard `TESTYARD_FORK_SERVER=false`, `workers: {WORKERS}`: POST -> final status",
            "client_s",
            got.unforked,
        ),
        phase("- started_at -> first test starts", "to_first_test_s", got.unforked),
        phase(f"testyard, `workers: {WORKERS}`: POST -> final status seen", "client_s"),
        phase("- queued: created_at -> started_at", "queued_s"),
        phase(
            "- started_at -> first test starts (workspace, pytest + workers start)",
            "to_first_test_s",
        ),
        phase("- first test starts -> last test ends", "tests_s"),
        phase("- last test ends -> finished_at (exit, ingestion, status)", "to_finished_s"),
        phase("- POST -> created_at, finished_at -> seen by the client", "seen_after_s"),
        phase("- pytest's own session time, from the run's log", "session_s"),
        "",
        "| target | value | |",
        "| --- | ---: | --- |",
        f"| testyard - plain `pytest -n {WORKERS}` <= {TARGET_WITHIN_S} s | "
        f"{ours - plain:+.2f} s | {'met' if ours - plain <= TARGET_WITHIN_S else 'MISSED'} |",
        f"| the same, best against best | {best:+.2f} s | "
        f"{'met' if best <= TARGET_WITHIN_S else 'MISSED'} |",
        f"| stretch: testyard faster than plain `pytest -n {WORKERS}` | "
        f"{ours / plain:.2f} x ({ours:.2f} s / {plain:.2f} s) | "
        f"{'met' if ours < plain else 'MISSED'} |",
        f"| the fork server's gain: testyard without it / with it | "
        f"{unforked / ours:.2f} x ({unforked:.2f} s / {ours:.2f} s) | |",
        "",
        f"`{COMMAND}` on {when}: {os.cpu_count()} CPUs, load average "
        f"{os.getloadavg()[0]:.1f} at the end, Python {platform.python_version()}.",
    ]
    return "\n".join(lines) + "\n"


def main() -> None:
    root = Path(tempfile.mkdtemp(prefix="bench-startup-"))
    try:
        got = measure(root)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    body = report(got, datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"))
    print(f"\n{body}")
    write_section("bench_startup", "Start-up of a parallel run", body)


if __name__ == "__main__":
    main()
