"""Stream a pytest run as JSON-line events for testyard's executor.

Loaded with ``-p testyard.pytest_plugin.events --testyard-events=PATH``; without the
option it does nothing. PATH is a file to append to, or ``/dev/fd/N`` for a pipe
inherited from the parent. Every event is one JSON object on one line with ``event``
(its name) and ``ts`` (``time.time()``):

``session_start``  ``pid``, ``workers`` (xdist workers, 0 without xdist)
``collected``      ``count``, ``nodeids`` (once; under xdist from the first worker)
``collect_error``  ``nodeid``, ``longrepr``, ``message`` (a module or conftest that
                   failed to import, with its traceback)
``test``           one per (node id, worker, attempt): ``nodeid``, ``outcome`` (passed,
                   failed, error, skipped, xfailed, xpassed, pending), ``when``,
                   ``attempt`` (1-based), ``rerun`` (true for an attempt that
                   pytest-rerunfailures retried), ``worker`` ("gw0", or "main"),
                   ``duration_s``, ``cpu_s`` (CPU seconds of the process that ran it,
                   setup to teardown), ``start``, ``stop``, ``location`` [file, line, domain],
                   ``message``, ``longrepr``, ``stdout``, ``stderr``, ``log``
``session_finish`` ``exitstatus``, ``counts`` {outcome: n} of final attempts,
                   ``reruns``, ``collect_errors``

Like pytest's junitxml, the reporter is an object in ``config.stash``, registered only
on the controller: under xdist the controller re-fires ``pytest_runtest_logreport`` for
every report a worker sends, so workers stay silent.
"""

from __future__ import annotations

import os
import time
import traceback
from collections import Counter
from collections.abc import Generator, Sequence
from pathlib import Path
from typing import Any

import pytest
from _pytest.config import ConftestImportFailure

from testyard.pytest_plugin.attempts import Attempt, failure_line, longrepr_text
from testyard.pytest_plugin.stream import EventStream, open_stream

OPTION = "--testyard-events"
#: Set by a reporting controller for its xdist workers, which are its child processes
#: and must not write to PATH (``/dev/fd/N`` means another file in a worker).
CONTROLLER_PID_ENV = "TESTYARD_EVENTS_CONTROLLER_PID"
reporter_key = pytest.StashKey["EventsReporter"]()
cpu_start_key = pytest.StashKey[float]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("testyard")
    group.addoption(
        OPTION,
        dest="testyard_events",
        metavar="PATH",
        default=None,
        help="append one JSON event per line to PATH (a file, or /dev/fd/N)",
    )


@pytest.hookimpl(wrapper=True)
def pytest_load_initial_conftests(early_config: pytest.Config) -> Generator[None, None, None]:
    """Report a conftest that fails to import before the session exists.

    Conftests next to the given paths load while pytest configures itself; a failure
    there ends pytest with a usage error before any session hook, so it is reported
    here as a `collect_error` with the traceback.
    """
    try:
        return (yield)
    except ConftestImportFailure as failure:
        path = early_config.known_args_namespace.testyard_events
        if path and not _is_xdist_worker():  # the controller reports it, once
            _report_conftest_failure(path, early_config.rootpath, failure)
        raise


def _is_xdist_worker() -> bool:
    """A worker of this run: xdist sets ``PYTEST_XDIST_WORKER`` before it configures,
    in an environment inherited from the controller, which set its pid there."""
    return "PYTEST_XDIST_WORKER" in os.environ and CONTROLLER_PID_ENV in os.environ


def _report_conftest_failure(path: str, rootpath: Path, failure: ConftestImportFailure) -> None:
    try:
        stream = open_stream(path)
    except OSError:
        return
    try:
        nodeid = Path(failure.path).relative_to(rootpath).as_posix()
    except ValueError:
        nodeid = str(failure.path)
    header = f"ImportError while loading conftest '{failure.path}'.\n"
    stream.emit(
        "collect_error",
        nodeid=nodeid,
        longrepr=header + user_traceback(failure.cause),
        message=traceback.format_exception_only(failure.cause)[-1].strip(),
    )
    stream.close()


def user_traceback(exc: BaseException) -> str:
    """`exc`'s traceback without the frames of pytest, pluggy and importlib."""
    formatted = traceback.TracebackException.from_exception(exc)
    frames = [frame for frame in formatted.stack if not _is_machinery(frame.filename)]
    formatted.stack = traceback.StackSummary.from_list(frames)
    return "".join(formatted.format())


def _is_machinery(filename: str) -> bool:
    parts = Path(filename).parts
    return filename.startswith("<frozen") or any(
        name in parts for name in ("_pytest", "pluggy", "importlib")
    )


def pytest_configure(config: pytest.Config) -> None:
    path = config.option.testyard_events
    if path and not hasattr(config, "workerinput"):
        try:
            stream = open_stream(path)
        except OSError as exc:
            raise pytest.UsageError(f"{OPTION}: cannot open {path}: {exc}") from exc
        reporter = EventsReporter(stream, worker_count(config))
        config.stash[reporter_key] = reporter
        os.environ[CONTROLLER_PID_ENV] = str(os.getpid())
        config.pluginmanager.register(reporter, "testyard-events-reporter")


def pytest_unconfigure(config: pytest.Config) -> None:
    reporter = config.stash.get(reporter_key, None)
    if reporter is not None:
        del config.stash[reporter_key]
        config.pluginmanager.unregister(reporter)
        reporter.stream.close()
        os.environ.pop(CONTROLLER_PID_ENV, None)


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> Generator[None, None, None]:
    """Start the test's CPU clock, in the process that runs it (an xdist worker, or
    the only one): each attempt starts with its setup."""
    if item.config.option.testyard_events:
        item.stash[cpu_start_key] = time.process_time()
    return (yield)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Each phase's report carries the CPU seconds used since setup began (``cpu_s``):
    plain attributes of a report cross from xdist workers to the controller."""
    report = yield
    start = item.stash.get(cpu_start_key, None)
    if start is not None:
        report.cpu_s = time.process_time() - start  # type: ignore[attr-defined]
    return report


def worker_count(config: pytest.Config) -> int:
    """How many xdist workers this run starts (0 without xdist)."""
    if getattr(config.option, "dist", "no") == "no":
        return 0
    total = 0
    for spec in getattr(config.option, "tx", None) or []:
        count, star, _ = str(spec).partition("*")
        total += int(count) if star and count.isdigit() else 1
    return total


def worker_of(report: pytest.TestReport) -> str:
    """The xdist worker that produced `report` ("gw0"), or "main" without xdist."""
    worker_id = getattr(report, "worker_id", None)  # set by xdist's worker side
    if isinstance(worker_id, str):
        return worker_id
    gateway_id = getattr(getattr(getattr(report, "node", None), "gateway", None), "id", None)
    return gateway_id if isinstance(gateway_id, str) else "main"


class EventsReporter:
    """Turns the controller's report hooks into events.

    Attributes:
        stream: where events go.
        open: the attempt in progress per (node id, worker), emitted when its teardown
            report arrives (or, failing that, when the next attempt starts or the
            session ends).
        attempts: attempts emitted so far per (node id, worker); numbers attempts when
            the reports carry no ``rerun`` count from pytest-rerunfailures.
        sections_seen: captured-output sections already used per (node id, worker).
    """

    def __init__(self, stream: EventStream, workers: int) -> None:
        self.stream = stream
        self.workers = workers
        self.open: dict[tuple[str, str], Attempt] = {}
        self.attempts: Counter[tuple[str, str]] = Counter()
        self.sections_seen: dict[tuple[str, str], int] = {}
        self.counts: Counter[str] = Counter()
        self.reruns = 0
        self.collect_errors: set[str] = set()
        self.collected = False

    def pytest_sessionstart(self) -> None:
        self.stream.emit("session_start", pid=os.getpid(), workers=self.workers)

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        self._collected([item.nodeid for item in session.items])

    @pytest.hookimpl(optionalhook=True)
    def pytest_xdist_node_collection_finished(self, node: Any, ids: Sequence[str]) -> None:
        self._collected(list(ids))

    def _collected(self, nodeids: list[str]) -> None:
        if not self.collected:
            self.collected = True
            self.stream.emit("collected", count=len(nodeids), nodeids=nodeids)

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        # Every xdist worker collects, and fails, on its own: one event per node id.
        if report.failed and report.nodeid not in self.collect_errors:
            self.collect_errors.add(report.nodeid)
            self.stream.emit(
                "collect_error",
                nodeid=report.nodeid,
                longrepr=longrepr_text(report),
                message=failure_line(report),
            )

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        key = (report.nodeid, worker_of(report))
        if report.when == "setup" and key in self.open:
            self._emit(key)  # the previous attempt never sent its teardown
        if key not in self.open:
            self.open[key] = self._start_attempt(key, report)
        self.open[key].reports.append(report)
        if report.when not in ("setup", "call"):  # teardown, or xdist's crash report
            self._emit(key)

    def _start_attempt(self, key: tuple[str, str], report: pytest.TestReport) -> Attempt:
        reruns = getattr(report, "rerun", None)  # earlier attempts, from rerunfailures
        number = reruns + 1 if isinstance(reruns, int) else self.attempts[key] + 1
        return Attempt(*key, number=number, sections_from=self.sections_seen.get(key, 0))

    def _emit(self, key: tuple[str, str]) -> None:
        attempt = self.open.pop(key)
        self.attempts[key] += 1
        self.sections_seen[key] = max(attempt.section_count, attempt.sections_from)
        fields = attempt.fields()
        if fields["rerun"]:
            self.reruns += 1
        else:
            self.counts[fields["outcome"]] += 1
        self.stream.emit("test", **fields)

    @pytest.hookimpl(wrapper=True)
    def pytest_sessionfinish(self, session: pytest.Session) -> Generator[None, None, None]:
        try:
            return (yield)
        finally:
            # After every other implementation: rerunfailures' --fail-on-flaky, for
            # one, changes the exit status in its own pytest_sessionfinish.
            for key in list(self.open):
                self._emit(key)
            self.stream.emit(
                "session_finish",
                exitstatus=int(session.exitstatus),
                counts=dict(self.counts),
                reruns=self.reruns,
                collect_errors=len(self.collect_errors),
            )
