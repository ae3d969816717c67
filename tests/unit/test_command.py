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
    ("requested", "workers", "expected"),
    [
        ("auto", 2, "load"),
        ("each", 2, "each"),
        ("duration", 2, "worksteal"),
        ("load", 0, None),
        ("no", 4, None),
    ],
)
def test_resolve_dist(requested: str, workers: int, expected: str | None) -> None:
    assert resolve_dist(requested, workers) == expected


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
