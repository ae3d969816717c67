"""The pytest command line and environment of a run."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

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


def resolve_workers(
    requested: str, *, tests: int, recorded_s: float | None, cpus: int | None = None
) -> int:
    """``auto``: one worker per core, never more than tests, none at all when the
    recorded durations add up to little (one process is then faster)."""
    if requested != "auto":
        return max(0, int(requested))
    if recorded_s is not None and recorded_s < SERIAL_BELOW_S:
        return 0
    if tests <= 1:
        return 0
    return max(1, min(cpus or os.cpu_count() or 1, tests))


def resolve_dist(requested: str, workers: int) -> str | None:
    """The xdist mode, or None when the run is serial.

    ``auto`` is ``load``; ``duration`` (the duration-balanced scheduler) is not built
    yet and runs as ``worksteal``, the closest xdist mode.
    """
    if workers == 0 or requested == "no":
        return None
    if requested in XDIST_MODES:
        return requested
    return "worksteal" if requested == "duration" else "load"


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
) -> list[str]:
    """The pytest command. pytest collects the roots of ``paths``; with
    ``nodeids_path`` (a file of node ids, one a line, read by pytest as ``@FILE``) it
    runs exactly those node ids instead, however many there are. allure-pytest writes
    its results to ``allure_dir``; without one it is not even loaded."""
    argv = [str(python), "-m", "pytest"]
    # The helpers first: the events plugin imports the ``testyard`` package, which must
    # already be registered (and assertion-rewritten) as a plugin by then.
    argv += ["-p", "testyard", "-p", "testyard.pytest_plugin.events"]
    argv += ["-p", "testyard.pytest_plugin.order", f"--testyard-order={order_path}"]
    argv += [f"--testyard-events={events_path}", "-p", "no:cacheprovider"]
    argv += [f"--junitxml={junit_path}", "-o", "junit_family=xunit2"]
    argv += ["-ra", "--color=no", f"--timeout={plan.test_timeout_s}"]
    argv += [f"--alluredir={allure_dir}"] if allure_dir else ["-p", "no:allure_pytest"]
    if plan.workers > 0 and plan.dist is not None:
        argv += ["-n", str(plan.workers), "--dist", plan.dist]
    else:
        argv += ["-p", "no:xdist"]
    if plan.retries:
        argv += ["--reruns", str(plan.retries)]
    targets = [f"@{nodeids_path}"] if nodeids_path else collection_roots(paths)
    return [*argv, "--", *targets]


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
