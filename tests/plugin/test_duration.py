"""The duration scheduler under real ``pytest -n 3`` subprocesses: the longest recorded
tests start first, every test runs exactly once, a crashed worker loses nothing; and
each test's CPU time reaches its event."""

from __future__ import annotations

import ast
import json
import sys
from pathlib import Path

from tests.plugin.conftest import PLUGINS, Event, EventRun, Sandbox
from testyard.pytest_plugin import duration

SCHEDULER = ("-p", "testyard.pytest_plugin.duration")

SHORT = """
import time

import pytest


@pytest.mark.parametrize("n", range(9))
def test_short(n):
    time.sleep(0.05)
"""

# Collected last: xdist's "load" would start them last.
LONG = """
import time

import pytest


@pytest.mark.parametrize("seconds", [0.6, 0.8, 1.0])
def test_long(seconds):
    time.sleep(seconds)
"""


def recorded(sandbox: Sandbox, durations: dict[str, float]) -> str:
    path = sandbox.path.parent / "durations.json"
    path.write_text(json.dumps(durations), "utf-8")
    return f"--testyard-durations={path}"


def first_per_worker(run: EventRun) -> dict[str, str]:
    first: dict[str, Event] = {}
    for event in sorted(run.named("test"), key=lambda e: e["start"]):
        first.setdefault(event["worker"], event)
    return {worker: event["nodeid"] for worker, event in first.items()}


def test_the_longest_recorded_tests_start_first_and_each_runs_once(sandbox: Sandbox) -> None:
    sandbox.write("test_a_short.py", SHORT)
    sandbox.write("test_z_long.py", LONG)
    durations = {f"test_a_short.py::test_short[{n}]": 0.05 for n in range(9)}
    durations |= {f"test_z_long.py::test_long[{s}]": s for s in (0.6, 0.8, 1.0)}
    run = sandbox.run(
        "-v", "-n", "3", "--dist", "load", recorded(sandbox, durations), plugins=PLUGINS + SCHEDULER
    )

    assert run.returncode == 0, run.output
    assert "scheduling tests via DurationScheduling" in run.output
    nodeids = [event["nodeid"] for event in run.named("test")]
    assert sorted(nodeids) == sorted(durations)  # each exactly once
    assert sorted(first_per_worker(run).values()) == sorted(
        f"test_z_long.py::test_long[{s}]" for s in (0.6, 0.8, 1.0)
    )


def test_without_the_option_xdist_keeps_its_own_scheduler(sandbox: Sandbox) -> None:
    sandbox.write("test_a_short.py", SHORT)
    sandbox.write("test_z_long.py", LONG)
    run = sandbox.run("-v", "-n", "3", "--dist", "load", plugins=PLUGINS + SCHEDULER)

    assert run.returncode == 0, run.output
    assert "scheduling tests via LoadScheduling" in run.output
    assert not any("long" in nodeid for nodeid in first_per_worker(run).values())


def test_unknown_tests_count_as_the_median_and_a_crashed_worker_loses_nothing(
    sandbox: Sandbox,
) -> None:
    sandbox.write("test_a_short.py", SHORT)
    sandbox.write(
        "test_crash.py",
        """
        import os

        def test_crash():
            os._exit(3)
        """,
    )
    sandbox.write("test_z_long.py", LONG)
    durations = {f"test_z_long.py::test_long[{s}]": s for s in (0.6, 0.8, 1.0)}
    durations["test_a_short.py::test_short[0]"] = 0.05
    durations["test_crash.py::test_crash"] = 2.0  # the longest: it goes first, and dies
    run = sandbox.run(
        "-n", "3", "--dist", "load", recorded(sandbox, durations), plugins=PLUGINS + SCHEDULER
    )

    by_nodeid: dict[str, list[Event]] = {}
    for event in run.named("test"):
        by_nodeid.setdefault(event["nodeid"], []).append(event)
    assert len(by_nodeid) == 13 and all(len(e) == 1 for e in by_nodeid.values()), by_nodeid
    crash = by_nodeid.pop("test_crash.py::test_crash")[0]
    assert crash["outcome"] == "failed" and "crashed" in crash["message"]
    assert {e[0]["outcome"] for e in by_nodeid.values()} == {"passed"}, run.output
    # The median of the recorded 2.0, 1.0, 0.8, 0.6, 0.05 is 0.8: the unknown short
    # tests tie with test_long[0.8] and come before it, in collection order.
    first = {"test_crash.py::test_crash", "test_z_long.py::test_long[1.0]"}
    first.add("test_a_short.py::test_short[1]")
    assert set(first_per_worker(run).values()) | {crash["nodeid"]} >= first


def test_cpu_time_is_measured_where_the_test_runs(sandbox: Sandbox) -> None:
    sandbox.write(
        "test_cpu.py",
        """
        import time

        def test_busy():
            end = time.process_time() + 0.3
            while time.process_time() < end:
                pass

        def test_sleepy():
            time.sleep(0.3)
        """,
    )
    for args in ((), ("-n", "2")):
        run = sandbox.run(*args)
        busy, sleepy = run.test("test_busy"), run.test("test_sleepy")
        assert busy["cpu_s"] >= 0.3 and busy["cpu_s"] <= busy["duration_s"] + 0.05, busy
        assert sleepy["cpu_s"] < 0.1 < sleepy["duration_s"], sleepy


def test_the_scheduler_imports_only_pytest_xdist_and_the_standard_library() -> None:
    allowed = set(sys.stdlib_module_names) | {"pytest", "_pytest", "__future__", "xdist"}
    tree = ast.parse(Path(duration.__file__).read_text("utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            roots = {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            roots = {(node.module or "").split(".")[0]}
        else:
            continue
        assert roots <= allowed, roots
