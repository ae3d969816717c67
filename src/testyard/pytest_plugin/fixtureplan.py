"""Record the fixture plan of a ``--setup-plan`` session as JSON lines.

Loaded with ``-p testyard.pytest_plugin.fixtureplan --testyard-fixture-plan=PATH``
together with ``--setup-plan``. One line as each test starts (``{"event": "test",
"test"}``), one per fixture set up or torn down, in pytest's order (``{"event":
"setup"|"teardown", "test", "name", "scope", "requests"}``), and one per test that
cannot be set up (``{"event": "error", "test", "missing", "available", "message"}``).
Imports only pytest and the standard library.
"""

from __future__ import annotations

import json
import re
from collections.abc import Generator
from typing import IO, Any

import pytest

AVAILABLE = re.compile(r"available fixtures: (.*)")
NOT_FOUND = re.compile(r"fixture '([^']+)' not found")


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.getgroup("testyard").addoption(
        "--testyard-fixture-plan", dest="testyard_fixture_plan", default=None, metavar="PATH",
        help="write the setup plan of every test as JSON lines to PATH",
    )  # fmt: skip


def pytest_configure(config: pytest.Config) -> None:
    path = config.getoption("testyard_fixture_plan")
    if path:
        config.pluginmanager.register(Recorder(open(path, "w", encoding="utf-8")), "testyard-plan")  # noqa: SIM115


class Recorder:
    """Writes the plan as it happens; ``test`` is the test being set up."""

    def __init__(self, out: IO[str]) -> None:
        self.out = out
        self.test = ""

    def emit(self, **record: Any) -> None:
        self.out.write(json.dumps(record) + "\n")

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_setup(self, item: pytest.Item) -> Generator[None, None, None]:
        self.test = item.nodeid
        self.emit(event="test", test=item.nodeid)
        yield

    @pytest.hookimpl(hookwrapper=True)
    def pytest_fixture_setup(self, fixturedef: Any, request: Any) -> Generator[None, None, None]:
        self.emit(event="setup", test=self.test, name=fixturedef.argname, scope=fixturedef.scope,
                  requests=[a for a in fixturedef.argnames if a != "request"])  # fmt: skip
        yield

    def pytest_fixture_post_finalizer(self, fixturedef: Any, request: Any) -> None:
        if fixturedef.cached_result is not None:  # pytest also finalizes unused ones
            self.emit(event="teardown", test=self.test, name=fixturedef.argname,
                      scope=fixturedef.scope)  # fmt: skip

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if report.when == "setup" and report.failed:
            text = report.longreprtext
            available, missing = AVAILABLE.search(text), NOT_FOUND.search(text)
            self.emit(event="error", test=report.nodeid,
                      missing=missing.group(1) if missing else None,
                      available=available.group(1).split(", ") if available else [],
                      message=text[-2000:])  # fmt: skip

    def pytest_unconfigure(self, config: pytest.Config) -> None:
        self.out.close()
