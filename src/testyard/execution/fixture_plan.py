"""Fixture insight without running tests: pytest's own ``--setup-plan`` in a throw-away
workspace, recorded by testyard's fixtureplan plugin, for the order in which fixtures
will be set up and torn down around each test, and what a test requests that is not
there."""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from testyard.config import Settings
from testyard.execution.command import clean_environment
from testyard.execution.process import Limits, wrap
from testyard.execution.pyenvs import ensure_environment, parse_requirements
from testyard.execution.runtime import prepare_runtime
from testyard.services.code_analysis import find_fixtures
from testyard.workspace import layout

TIMEOUT_S = 60


class FixturePlanFailed(RuntimeError):
    pass


@dataclass
class PlannedTest:
    nodeid: str
    setup: list[dict[str, Any]] = field(default_factory=list)
    teardown: list[dict[str, Any]] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    available: list[str] = field(default_factory=list)


def fixture_plan(
    settings: Settings, fixtures: list[tuple[str, str]], cases: list[tuple[str, str]],
    requirements: str = "",
    ini_options: dict[str, str] | None = None,
) -> list[PlannedTest]:  # fmt: skip
    """The plan of every test of ``cases`` (path, code) with the project's fixture
    modules (path, code), in pytest's order."""
    work = settings.resolved_work_dir
    python = ensure_environment(work / "envs", parse_requirements(requirements),
                                settings.run_python)  # fmt: skip
    runtime = prepare_runtime(work)
    (work / "workspaces").mkdir(parents=True, exist_ok=True)
    workspace = Path(tempfile.mkdtemp(prefix="plan-", dir=work / "workspaces"))
    try:
        sources = [layout.SourceFile(p, c, "fixture") for p, c in fixtures]
        sources += [layout.SourceFile(p, c, "case") for p, c in cases]
        files = layout.ProjectFiles(sources=sources, ini_options=dict(ini_options or {}))
        layout.write(workspace, layout.render(files))
        for extra in (".home", ".tmp"):
            (workspace / extra).mkdir()
        records = _run(settings, python, runtime, workspace, [p for p, _ in cases])
    finally:
        shutil.rmtree(workspace, ignore_errors=True)
    autouse = {f.name: f.autouse for _p, code in [*fixtures, *cases] for f in _safe(code)}
    return _plans(records, autouse)


def _run(settings: Settings, python: Path, runtime: Path, workspace: Path, paths: list[str]
         ) -> list[dict[str, Any]]:  # fmt: skip
    out = workspace / ".plan.jsonl"
    argv = [str(python), "-m", "pytest", "-p", "testyard", "-p", "no:cacheprovider",
            "-p", "no:xdist", "-p", "no:allure_pytest", "-p", "testyard.pytest_plugin.fixtureplan",
            f"--testyard-fixture-plan={out}", "--setup-plan", "-q", "--", *paths]  # fmt: skip
    limits = Limits(settings.run_memory_mb, settings.run_cpu_s, settings.run_open_files)
    env = clean_environment(workspace=workspace, runtime=runtime, python=python, secrets={})
    try:
        done = subprocess.run(wrap(argv, limits, None), cwd=workspace, env=env,
                              capture_output=True, text=True, timeout=TIMEOUT_S)  # fmt: skip
    except subprocess.TimeoutExpired:
        raise FixturePlanFailed(f"pytest --setup-plan took longer than {TIMEOUT_S} s") from None
    if not out.exists() or done.returncode not in (0, 1):
        raise FixturePlanFailed((done.stdout + done.stderr)[-4000:])
    return [json.loads(line) for line in out.read_text().splitlines() if line.strip()]


def _plans(records: list[dict[str, Any]], autouse: dict[str, bool]) -> list[PlannedTest]:
    plans: dict[str, PlannedTest] = {}
    for record in records:
        plan = plans.setdefault(record["test"], PlannedTest(record["test"]))
        if record["event"] == "setup":
            plan.setup.append({"name": record["name"], "scope": record["scope"],
                               "autouse": autouse.get(record["name"], False),
                               "requests": record["requests"]})  # fmt: skip
        elif record["event"] == "teardown":
            plan.teardown.append({"name": record["name"], "scope": record["scope"]})
        elif record["event"] == "error" and record.get("missing"):
            plan.missing.append(record["missing"])
            plan.available = record["available"]
    return [p for test, p in plans.items() if test]


def _safe(code: str) -> list[Any]:
    try:
        return find_fixtures(code)
    except Exception:  # a draft that does not parse has no fixtures to show
        return []


_provided: dict[str, frozenset[str]] = {}


def provided_fixtures(settings: Settings) -> frozenset[str]:
    """The fixtures pytest and the run environment's plugins provide (tmp_path,
    monkeypatch, env_vars…), asked of pytest once per process and interpreter."""
    key = str(settings.run_python)
    if key not in _provided:
        probe = [("tests/test_probe.py", "def test_probe(testyard_probe_missing):\n    pass\n")]
        plans = fixture_plan(settings, [], probe)
        _provided[key] = frozenset(plans[0].available) if plans else frozenset()
    return _provided[key]
