"""``dist: auto`` turns into the duration-balanced scheduler once a plan has history,
``workers: auto`` goes past the cores for tests that mostly wait, and each result
keeps the CPU time of its test: through the API, with real pytest and xdist."""

from __future__ import annotations

import os
from typing import Any

from tests.factories import make_case, make_plan, make_project, results_of, start_run, wait_for_run
from tests.support.api import Api

SHORT = """
import time

import pytest


@pytest.mark.parametrize("n", range(6))
def test_short(n):
    time.sleep(0.05)


def test_busy():
    end = time.process_time() + 0.3
    while time.process_time() < end:
        pass
"""

LONG = """
import time

import pytest


@pytest.mark.parametrize("seconds", [0.6, 0.8, 1.0])
def test_long(seconds):
    time.sleep(seconds)
"""

LONG_IDS = {f"tests/test_long.py::test_long[{s}]" for s in (0.6, 0.8, 1.0)}


def first_per_worker(results: dict[str, dict[str, Any]]) -> set[str]:
    first: dict[str, dict[str, Any]] = {}
    for result in sorted(results.values(), key=lambda r: r["started_at"]):
        first.setdefault(result["worker"], result)
    return {result["nodeid"] for result in first.values()}


def test_second_run_of_a_plan_sends_the_longest_tests_first(admin: Api) -> None:
    pid = make_project(admin)["id"]
    short = make_case(admin, pid, name="short", code=SHORT)
    long = make_case(admin, pid, name="long", code=LONG)  # last in the plan: load starts it last
    plan = make_plan(admin, pid, case_ids=[short["id"], long["id"]], workers=3)
    assert plan["dist"] == "auto"

    first = wait_for_run(admin, start_run(admin, pid, plan_id=plan["id"]))
    assert first["status"] == "passed", first
    assert not first_per_worker(results_of(admin, first["id"])) & LONG_IDS  # xdist's load

    second = wait_for_run(admin, start_run(admin, pid, plan_id=plan["id"]))
    assert second["status"] == "passed", second
    results = results_of(admin, second["id"])
    assert len(results) == 10 and {r["worker"] for r in results.values()} == {"gw0", "gw1", "gw2"}
    assert first_per_worker(results) == LONG_IDS

    busy = results["tests/test_short.py::test_busy"]
    assert busy["cpu_s"] >= 0.3, busy
    assert results["tests/test_long.py::test_long[1.0]"]["cpu_s"] < 0.5


WAITING = """
import time

import pytest


@pytest.mark.parametrize("n", range(6))
def test_wait(n):
    time.sleep(0.5)
"""


def test_auto_workers_go_past_the_cores_once_history_shows_the_tests_wait(admin: Api) -> None:
    pid = make_project(admin)["id"]
    case = make_case(admin, pid, code=WAITING)
    cores = os.cpu_count() or 1

    def workers_of_a_run() -> int:
        run = wait_for_run(admin, start_run(admin, pid, case_ids=[case["id"]]))
        assert run["status"] == "passed", run
        return len({r["worker"] for r in results_of(admin, run["id"]).values()})

    assert workers_of_a_run() == 1  # nothing recorded: one case file counts as one test
    assert workers_of_a_run() == min(4 * cores, 6)  # 6 sleeping tests: past the cores
