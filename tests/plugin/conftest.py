"""Run real pytest subprocesses with testyard's plugin and read back their events.

This is what ``pytester.runpytest_subprocess`` does, without the pytester plugin:
``pytest_plugins = ["pytester"]`` is refused in a conftest below the rootdir (pytest
fails the whole collection of ``pytest tests``), and the root conftest is not ours.
"""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

PLUGINS = ("-p", "testyard.pytest_plugin.events", "-p", "testyard.pytest_plugin.helpers")

Event = dict[str, Any]


@dataclasses.dataclass
class EventRun:
    """One pytest subprocess: exit code, output, and the events it wrote, in order."""

    returncode: int
    output: str
    events: list[Event]

    def named(self, name: str) -> list[Event]:
        return [event for event in self.events if event["event"] == name]

    def one(self, name: str) -> Event:
        events = self.named(name)
        assert len(events) == 1, (name, events, self.output)
        return events[0]

    def tests(self, function: str) -> list[Event]:
        """The `test` events of one test function (all params, workers, attempts)."""
        return [
            event
            for event in self.named("test")
            if event["nodeid"].split("::")[-1].split("[")[0] == function
        ]

    def test(self, function: str) -> Event:
        events = self.tests(function)
        assert len(events) == 1, (function, events, self.output)
        return events[0]


@dataclasses.dataclass
class Sandbox:
    """A throw-away pytest project (its own rootdir) to run with the plugins."""

    path: Path
    basetemp: Path

    def write(self, name: str, source: str) -> Path:
        target = self.path / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(textwrap.dedent(source).lstrip(), "utf-8")
        return target

    def run(
        self, *args: str, plugins: tuple[str, ...] = PLUGINS, env: dict[str, str] | None = None
    ) -> EventRun:
        """Run pytest with the events written to a file."""
        events_path = self.path.parent / "events.jsonl"
        events_path.unlink(missing_ok=True)
        completed = subprocess.run(
            self._command(plugins, str(events_path), args),
            cwd=self.path,
            env={**_clean_environ(), **(env or {})},
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        lines = events_path.read_text("utf-8").splitlines() if events_path.exists() else []
        output = completed.stdout + completed.stderr
        return EventRun(completed.returncode, output, [json.loads(line) for line in lines])

    def run_piped(self, *args: str) -> EventRun:
        """Run pytest with the events written to an inherited pipe, read as they come."""
        read_end, write_end = os.pipe()
        with subprocess.Popen(
            self._command(PLUGINS, f"/dev/fd/{write_end}", args),
            cwd=self.path,
            env=_clean_environ(),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            pass_fds=(write_end,),
        ) as process:
            os.close(write_end)
            with os.fdopen(read_end, encoding="utf-8") as pipe:
                lines = pipe.read().splitlines()
            assert process.stdout is not None
            output = process.stdout.read()
            returncode = process.wait(timeout=60)
        return EventRun(returncode, output, [json.loads(line) for line in lines])

    def _command(self, plugins: tuple[str, ...], events: str, args: tuple[str, ...]) -> list[str]:
        return [
            sys.executable,
            "-m",
            "pytest",
            *plugins,
            f"--testyard-events={events}",
            f"--basetemp={self.basetemp}",
            "-p",
            "no:cacheprovider",
            *args,
        ]


def _clean_environ() -> dict[str, str]:
    """The environment minus what would leak this (maybe xdist) session into the child."""
    leaks = ("PYTEST_XDIST_", "PYTEST_ADDOPTS", "PYTEST_PLUGINS", "TESTYARD_")
    environ = {name: value for name, value in os.environ.items() if not name.startswith(leaks)}
    return {**environ, "PY_COLORS": "0"}


def make_sandbox(directory: Path) -> Sandbox:
    project = directory / "project"
    project.mkdir()
    (project / "pytest.ini").write_text("[pytest]\n", "utf-8")  # pins the rootdir here
    return Sandbox(project, directory / "basetemp")


@pytest.fixture
def sandbox(tmp_path: Path) -> Sandbox:
    return make_sandbox(tmp_path)
