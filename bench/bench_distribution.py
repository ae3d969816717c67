"""Duration-balanced distribution: a long-tailed suite on 4 workers, against xdist.

A generated suite (fixed seed): ``SHORT`` tests sleeping 0.05-0.5 s in five files, then
``LONG`` tests sleeping 2-4 s in a last file, collected last. Measured, in one
invocation on this machine, with 4 workers each:

- plain ``pytest -n 4 --dist load`` and ``--dist worksteal``, in an environment like
  the one testyard's runs get (pytest, xdist and testyard's plugins; not the
  development virtualenv, whose auto-loaded extra plugins cost seconds per process);
- testyard with a ``dist: load`` plan (the same scheduler as plain ``load``);
- testyard's ``duration`` mode: a plan with ``dist: auto``, ``workers: 4`` run through a
  real ``testyard serve`` and its HTTP API; the first run records the durations (and
  runs as ``load``), the second is the one measured.

For each: the makespan, first test start to last test end (plain pytest: the reports'
own start/stop; testyard: the stored results' started_at/finished_at), as a ratio to
the lower bound max(total / workers, longest test), and the wall time from the start
request to the end (plain pytest: the process; testyard: POST to the final status seen
by polling). The plain runs and testyard's alternate ``REPEATS`` times; medians are
reported. Targets: duration makespan <= 1.15 x bound, and duration end to end >= 25 %
faster than ``load``. Writes ``bench/RESULTS.md`` between ``<!-- bench_distribution -->``
markers. Run: ``.venv/bin/python bench/bench_distribution.py``.
"""

from __future__ import annotations

import os
import platform
import random
import shutil
import statistics
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from bench_execution import serve
from results_md import write_section
from suite_runs import Client, Interpreter, SuiteFile, Timed, plain_pytest, write_suite

SEED = 8
SHORT, SHORT_FILES, LONG = 55, 5, 5
WORKERS = 4
REPEATS = 3
TARGET_BOUND = 1.15
TARGET_FASTER = 0.25
COMMAND = ".venv/bin/python bench/bench_distribution.py"


def long_tailed_suite() -> list[SuiteFile]:
    rng = random.Random(SEED)
    shorts = [round(rng.uniform(0.05, 0.5), 2) for _ in range(SHORT)]
    per_file = SHORT // SHORT_FILES
    suite = [
        (f"tests/test_part_{i}.py", shorts[i * per_file : (i + 1) * per_file])
        for i in range(SHORT_FILES)
    ]
    longs = [round(rng.uniform(2.0, 4.0), 2) for _ in range(LONG)]
    return [*suite, ("tests/test_tail.py", longs)]


def bound(suite: list[SuiteFile]) -> float:
    sleeps = [s for _, file_sleeps in suite for s in file_sleeps]
    return max(sum(sleeps) / WORKERS, max(sleeps))


def measure(root: Path, suite: list[SuiteFile]) -> dict[str, list[Timed]]:
    directory = root / "plain"
    write_suite(directory, suite)
    interpreter = Interpreter.lean(root / "plain-env")
    figures: dict[str, list[Timed]] = {
        "load": [],
        "worksteal": [],
        "testyard-load": [],
        "duration": [],
    }
    with serve(root / "testyard") as url:
        client = Client(url, "bench-distribution", suite)
        try:
            plan = client.plan(workers=WORKERS, dist="auto")
            load_plan = client.plan(name="bench-load", workers=WORKERS, dist="load")
            print("testyard first run (records the durations) ...", flush=True)
            client.run({"plan_id": plan})
            for i in range(1, REPEATS + 1):
                for mode in ("load", "worksteal"):
                    args = ("-n", str(WORKERS), "--dist", mode)
                    figures[mode].append(plain_pytest(interpreter, directory, *args))
                figures["testyard-load"].append(client.run({"plan_id": load_plan})[1])
                figures["duration"].append(client.run({"plan_id": plan})[1])
                print(
                    f"({i}/{REPEATS})",
                    *(
                        f"{m} {t[-1].wall_s:.2f}/{t[-1].makespan_s:.2f} s"
                        for m, t in figures.items()
                    ),
                )
        finally:
            client.close()
    return figures


def median(timings: list[Timed], attribute: str) -> float:
    return statistics.median(getattr(t, attribute) for t in timings)


def report(suite: list[SuiteFile], figures: dict[str, list[Timed]], when: str) -> str:
    low = bound(suite)
    sleeps = [s for _, file_sleeps in suite for s in file_sleeps]
    rows = []
    for mode, name in (
        ("load", "plain `pytest -n 4 --dist load`"),
        ("worksteal", "plain `pytest -n 4 --dist worksteal`"),
        ("testyard-load", "testyard, a plan with `dist: load`"),
        ("duration", "testyard `duration` (2nd+ run of a `dist: auto` plan)"),
    ):
        span, wall = median(figures[mode], "makespan_s"), median(figures[mode], "wall_s")
        each = ", ".join(f"{t.makespan_s:.2f}" for t in figures[mode])
        edges = (
            f"{median(figures[mode], 'startup_s'):.2f} | {median(figures[mode], 'ending_s'):.2f}"
        )
        rows.append(f"| {name} | {span:.2f} | {span / low:.2f} | {each} | {wall:.2f} | {edges} |")
    duration_span = median(figures["duration"], "makespan_s")
    duration_wall = median(figures["duration"], "wall_s")
    load_wall = median(figures["load"], "wall_s")
    faster = 1 - duration_wall / load_wall
    load_span = median(figures["load"], "makespan_s")
    at_best = (load_span - duration_span) / load_wall
    lines = [
        f"{len(sleeps)} sleeping tests ({SHORT} of 0.05-0.5 s, then {LONG} of 2-4 s collected "
        f"last; seed {SEED}), {WORKERS} workers: total {sum(sleeps):.2f} s, longest "
        f"{max(sleeps):.2f} s, lower bound max(total/{WORKERS}, longest) = {low:.2f} s. "
        f"Median of {REPEATS} alternating repetitions.",
        "",
        "| run | makespan s | / bound | each makespan s | request to end s | request to "
        "first test s | last test to end s |",
        "| --- | ---: | ---: | --- | ---: | ---: | ---: |",
        *rows,
        "",
        "| target | value | | |",
        "| --- | ---: | --- | --- |",
        f"| duration makespan / bound <= {TARGET_BOUND} | {duration_span / low:.2f} | "
        f"{_verdict(duration_span / low <= TARGET_BOUND)} | |",
        f"| duration end to end faster than load >= {TARGET_FASTER:.0%} | {faster:.0%} | "
        f"{_verdict(faster >= TARGET_FASTER)} | testyard {duration_wall:.2f} s (POST to "
        f"done) vs `pytest --dist load` {load_wall:.2f} s (process) |",
        "",
        f"Balancing alone can gain at most `load`'s makespan excess: `load` is "
        f"{load_span / low:.2f} x the bound on this suite, so with the same start-up and "
        f"shut-down as plain pytest `duration` would be {at_best:.0%} faster end to end. "
        f"The rest is start-up, request to first test: testyard "
        f"{median(figures['duration'], 'startup_s'):.2f} s (its pytest and workers forked "
        f"from the fork server), plain pytest {median(figures['load'], 'startup_s'):.2f} s.",
        "",
        f"`{COMMAND}` on {when}: {os.cpu_count()} CPUs, load average "
        f"{os.getloadavg()[0]:.1f} at the end, Python {platform.python_version()}.",
    ]
    return "\n".join(lines) + "\n"


def _verdict(met: bool) -> str:
    return "met" if met else "MISSED"


def main() -> None:
    suite = long_tailed_suite()
    root = Path(tempfile.mkdtemp(prefix="bench-distribution-"))
    try:
        figures = measure(root, suite)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    body = report(suite, figures, datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"))
    print(f"\n{body}")
    write_section("bench_distribution", "Duration-balanced distribution", body)


if __name__ == "__main__":
    main()
