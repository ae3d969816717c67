"""How a run's settings become pytest's command line."""

from __future__ import annotations

from pathlib import Path

import pytest

from testyard.execution.command import (
    Plan,
    collection_roots,
    pytest_argv,
    resolve_dist,
    resolve_workers,
)


@pytest.mark.parametrize(
    ("requested", "tests", "recorded", "cpus", "expected"),
    [
        ("auto", 200, 60.0, 2, 2),  # busy or unmeasured tests: one worker per core
        ("auto", 200, 0.5, 2, 0),  # little recorded time: one process is faster
        ("auto", 200, None, 2, 2),  # unknown durations: one per core
        ("auto", 1, None, 8, 0),  # one test never gets xdist
        ("auto", 3, 60.0, 8, 3),  # never more workers than tests
        ("4", 1, 0.1, 2, 4),  # an explicit count is obeyed
        ("0", 50, None, 2, 0),
    ],
)
def test_resolve_workers(
    requested: str, tests: int, recorded: float | None, cpus: int, expected: int
) -> None:
    assert resolve_workers(requested, tests=tests, recorded_s=recorded, cpus=cpus) == expected


@pytest.mark.parametrize(
    ("share", "tests", "cpus", "expected"),
    [
        (0.9, 200, 2, 2),  # CPU-bound: one per core
        (0.5, 200, 2, 2),  # half waiting is not "mostly"
        (0.4, 200, 2, 5),  # cores / share, rounded up
        (0.25, 200, 2, 8),
        (0.01, 200, 2, 8),  # mostly sleeping: capped at 4 per core
        (0.0, 200, 2, 8),  # no CPU at all measured
        (0.01, 6, 2, 6),  # never more workers than tests
    ],
)
def test_auto_workers_exceed_the_cores_when_the_tests_mostly_wait(
    share: float, tests: int, cpus: int, expected: int
) -> None:
    got = resolve_workers("auto", tests=tests, recorded_s=60.0, cpus=cpus, cpu_share=share)
    assert got == expected


def test_auto_workers_stay_serial_for_little_recorded_time_however_much_they_wait() -> None:
    assert resolve_workers("auto", tests=200, recorded_s=1.0, cpus=2, cpu_share=0.01) == 0
    assert resolve_workers("3", tests=200, recorded_s=60.0, cpus=2, cpu_share=0.01) == 3


@pytest.mark.parametrize(
    ("requested", "workers", "has_durations", "expected"),
    [
        ("auto", 2, False, "load"),  # no history yet
        ("auto", 2, True, "duration"),  # history: the longest tests first
        ("auto", 0, True, None),
        ("each", 2, True, "each"),  # an explicit xdist mode is obeyed
        ("duration", 2, False, "duration"),
        ("load", 0, False, None),
        ("no", 4, True, None),
    ],
)
def test_resolve_dist(
    requested: str, workers: int, has_durations: bool, expected: str | None
) -> None:
    assert resolve_dist(requested, workers, has_durations=has_durations) == expected


def test_argv_duration_is_load_with_testyards_scheduler_and_the_durations_file() -> None:
    argv = pytest_argv(
        Path("/env/bin/python"),
        Plan(workers=4, dist="duration", retries=0, test_timeout_s=30),
        events_path="/dev/fd/9",
        junit_path=Path("/w/j.xml"),
        order_path=Path("/w/o.json"),
        paths=["tests/test_a.py"],
        durations_path=Path("/w/.testyard/durations.json"),
    )
    n = argv.index("-n")
    assert argv[n : n + 4] == ["-n", "4", "--dist", "load"]
    plugin = argv.index("testyard.pytest_plugin.duration")
    assert argv[plugin - 1] == "-p"
    assert "--testyard-durations=/w/.testyard/durations.json" in argv
    assert argv.index("--") > plugin


def test_argv_other_modes_do_not_load_the_duration_scheduler() -> None:
    argv = pytest_argv(
        Path("/env/bin/python"),
        Plan(workers=4, dist="worksteal", retries=0, test_timeout_s=30),
        events_path="/dev/fd/9",
        junit_path=Path("/w/j.xml"),
        order_path=Path("/w/o.json"),
        paths=["tests/test_a.py"],
    )
    assert argv[argv.index("--dist") + 1] == "worksteal"
    assert "testyard.pytest_plugin.duration" not in argv


def test_collection_roots_are_distinct_top_level_entries_in_first_use_order() -> None:
    paths = ["tests/b/test_x.py", "checks/test_y.py", "tests/a/test_z.py", "test_root.py"]
    assert collection_roots(paths) == ["tests", "checks", "test_root.py"]


def test_argv_serial_has_no_xdist_and_ends_with_the_roots() -> None:
    argv = pytest_argv(
        Path("/env/bin/python"),
        Plan(workers=0, dist=None, retries=2, test_timeout_s=30),
        events_path="/dev/fd/9",
        junit_path=Path("/w/j.xml"),
        order_path=Path("/w/o.json"),
        paths=["tests/test_a.py", "tests/test_b.py"],
    )
    assert argv[:3] == ["/env/bin/python", "-m", "pytest"]
    assert argv[argv.index("no:xdist") - 1 : argv.index("no:xdist") + 1] == ["-p", "no:xdist"]
    assert "--reruns" in argv and argv[argv.index("--reruns") + 1] == "2"
    assert "--timeout=30" in argv and "--testyard-events=/dev/fd/9" in argv
    assert argv[-2:] == ["--", "tests"]


def test_argv_records_allure_results_only_when_given_a_folder() -> None:
    def argv(allure_dir: Path | None) -> list[str]:
        plan = Plan(workers=0, dist=None, retries=0, test_timeout_s=30)
        return pytest_argv(
            Path("/env/bin/python"),
            plan,
            events_path="/dev/fd/9",
            junit_path=Path("/w/j.xml"),
            order_path=Path("/w/o.json"),
            paths=["tests/test_a.py"],
            allure_dir=allure_dir,
        )

    without = argv(None)
    assert without[without.index("no:allure_pytest") - 1] == "-p"
    assert not any(arg.startswith("--alluredir") for arg in without)
    with_allure = argv(Path("/w/.testyard/allure"))
    assert "--alluredir=/w/.testyard/allure" in with_allure
    assert "no:allure_pytest" not in with_allure
