"""The pytest command line and environment of a run."""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path

#: testyard's own mode: xdist's ``load`` with the scheduler of ``pytest_plugin/duration.py``.
DURATION = "duration"
XDIST_MODES = frozenset({"load", "loadscope", "loadfile", "loadgroup", "worksteal", "each"})
#: Below this much recorded test time, starting xdist workers costs more than it saves.
SERIAL_BELOW_S = 2.0
SAFE_PATH = "/usr/local/bin:/usr/bin:/bin"


@dataclass(frozen=True)
class Plan:
    """How pytest is started for one run, resolved from the run's settings."""

    workers: int
    dist: str | None
    retries: int
    test_timeout_s: int


#: Below this share of CPU time in the recorded durations, tests mostly wait (sleep,
#: I/O) and ``workers: auto`` starts more workers than cores.
WAITING_BELOW = 0.5
#: ``workers: auto`` never starts more than this many workers per core.
MAX_PER_CORE = 4


def resolve_workers(
    requested: str,
    *,
    tests: int,
    recorded_s: float | None,
    cpus: int | None = None,
    cpu_share: float | None = None,
) -> int:
    """``auto``: one worker per core, never more than tests, none at all when the
    recorded durations add up to little (one process is then faster).

    ``cpu_share`` is the recorded CPU seconds over the recorded durations of the same
    tests: below `WAITING_BELOW` the tests mostly wait, so each core can keep
    ``1 / cpu_share`` of them busy (at most `MAX_PER_CORE`).
    """
    if requested != "auto":
        return max(0, int(requested))
    if recorded_s is not None and recorded_s < SERIAL_BELOW_S:
        return 0
    if tests <= 1:
        return 0
    cores = cpus or os.cpu_count() or 1
    wanted = cores
    if cpu_share is not None and cpu_share < WAITING_BELOW:
        wanted = min(MAX_PER_CORE * cores, math.ceil(cores / max(cpu_share, 1e-9)))
    return max(1, min(wanted, tests))


def resolve_dist(requested: str, workers: int, *, has_durations: bool = False) -> str | None:
    """The distribution mode, or None when the run is serial.

    ``auto`` is ``duration`` (the longest tests first, see
    ``pytest_plugin/duration.py``) once some of the run's tests have a recorded
    duration, else xdist's ``load``.
    """
    if workers == 0 or requested == "no":
        return None
    if requested in XDIST_MODES or requested == DURATION:
        return requested
    return DURATION if has_durations else "load"


def collection_roots(paths: list[str]) -> list[str]:
    """The distinct top-level entries holding ``paths``, in order of first use: pytest
    is given these, not each file (see ``pytest_plugin/order.py``)."""
    return list(dict.fromkeys(path.split("/", 1)[0] for path in paths))


def pytest_argv(
    python: Path,
    plan: Plan,
    *,
    events_path: str,
    junit_path: Path,
    order_path: Path,
    paths: list[str],
    nodeids_path: Path | None = None,
    allure_dir: Path | None = None,
    durations_path: Path | None = None,
) -> list[str]:
    """The pytest command. pytest collects the roots of ``paths``; with
    ``nodeids_path`` (a file of node ids, one a line, read by pytest as ``@FILE``) it
    runs exactly those node ids instead, however many there are. allure-pytest writes
    its results to ``allure_dir``; without one it is not even loaded. The ``duration``
    mode reads the recorded durations from ``durations_path`` (JSON {node id: s})."""
    argv = [str(python), "-m", "pytest"]
    # The helpers first: the events plugin imports the ``testyard`` package, which must
    # already be registered (and assertion-rewritten) as a plugin by then.
    argv += ["-p", "testyard", "-p", "testyard.pytest_plugin.events"]
    argv += ["-p", "testyard.pytest_plugin.order", f"--testyard-order={order_path}"]
    argv += [f"--testyard-events={events_path}", "-p", "no:cacheprovider"]
    argv += [f"--junitxml={junit_path}", "-o", "junit_family=xunit2"]
    argv += ["-ra", "--color=no", f"--timeout={plan.test_timeout_s}"]
    argv += [f"--alluredir={allure_dir}"] if allure_dir else ["-p", "no:allure_pytest"]
    if plan.workers > 0 and plan.dist == DURATION:
        argv += ["-n", str(plan.workers), "--dist", "load", "-p", "testyard.pytest_plugin.duration"]
        argv += [f"--testyard-durations={durations_path}"] if durations_path else []
    elif plan.workers > 0 and plan.dist is not None:
        argv += ["-n", str(plan.workers), "--dist", plan.dist]
    else:
        argv += ["-p", "no:xdist"]
    if plan.retries:
        argv += ["--reruns", str(plan.retries)]
    targets = [f"@{nodeids_path}"] if nodeids_path else collection_roots(paths)
    return [*argv, "--", *targets]


def forked(argv: list[str], client: Path, *, xdist: bool) -> list[str]:
    """``argv`` (from `pytest_argv`) started through a fork server's ``client`` in
    place of the interpreter, its xdist workers too (``pytest_plugin/forkworkers.py``)."""
    workers = ["-p", "testyard.pytest_plugin.forkworkers"] if xdist else []
    return [str(client), *argv[1:3], *workers, *argv[3:]]


def nodeids_file(nodeids: list[str]) -> str:
    """The ``@FILE`` contents for ``nodeids``: one a line."""
    return "".join(f"{nodeid}\n" for nodeid in nodeids)


def clean_environment(
    *, workspace: Path, runtime: Path, python: Path, secrets: dict[str, str]
) -> dict[str, str]:
    """The whole environment of the test process: nothing of the server's (no database
    URL, no secret key), only what a test needs, and the project's secrets by name."""
    home = workspace / ".home"
    env = {
        "PATH": f"{python.parent}:{SAFE_PATH}",
        "HOME": str(home),
        "TMPDIR": str(workspace / ".tmp"),
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
        "PYTHONPATH": str(runtime),
        "PYTHONUNBUFFERED": "1",
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONIOENCODING": "utf-8",
        "TESTYARD_MASK_NAMES": ",".join(sorted(secrets)),
    }
    env.update(secrets)
    return env
