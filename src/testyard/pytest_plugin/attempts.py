"""One attempt of one test on one worker: its phase reports folded into a `test` event.

pytest reports a test in three phases (setup, call, teardown); testyard stores one
result per (node id, worker, attempt). `Attempt.fields` decides the outcome:

- a failed (or, with pytest-rerunfailures, "rerun") setup or teardown is ``error``, a
  failed call is ``failed``; the first failing phase decides, so a failed call followed
  by a failed teardown stays ``failed`` (both tracebacks are kept in ``longrepr``);
- a skip is ``xfailed`` when pytest marked it ``wasxfail``, ``pending`` when its reason
  starts with `PENDING_PREFIX` (raised by ``testyard_helpers.pending``), else ``skipped``;
- a passed call is ``xpassed`` when marked ``wasxfail`` (a strict xfail that passes
  arrives as failed, and stays failed), else ``passed``.
"""

from __future__ import annotations

import dataclasses
import re
from typing import Any

import pytest

#: Must equal ``helpers.PENDING_PREFIX``; not imported from there, because importing
#: the helpers module here would import it before pytest can mark it for assertion
#: rewriting when it is loaded with ``-p`` (a warning, an error under -W error).
PENDING_PREFIX = "[testyard:pending] "
SKIPPED_PREFIX = "Skipped: "
PHASES = ("setup", "call", "teardown")
FAILING = ("failed", "error")
WORKER_INFO_LINE = re.compile(r"\[[\w-]+\] \S+ -- Python \S+ ")
#: The outcome pytest-rerunfailures gives a failed attempt it will retry.
RERUN: str = "rerun"
CAPTURED = {"stdout": "Captured stdout ", "stderr": "Captured stderr ", "log": "Captured log "}


@dataclasses.dataclass
class Attempt:
    """The reports of one attempt, in arrival order, and where its output starts.

    pytest accumulates captured-output sections on the item across phases and across
    reruns, so each report carries all earlier sections too: `sections_from` is how
    many sections earlier attempts of this (node id, worker) already consumed.
    """

    nodeid: str
    worker: str
    number: int
    sections_from: int = 0
    reports: list[pytest.TestReport] = dataclasses.field(default_factory=list)

    @property
    def is_rerun(self) -> bool:
        return any(reran(report) for report in self.reports)

    @property
    def section_count(self) -> int:
        return max((len(report.sections) for report in self.reports), default=0)

    def outcome(self) -> tuple[str, pytest.TestReport]:
        """The attempt's outcome and the report that decided it."""
        outcome, decider = "passed", self.reports[-1]
        for report in self.reports:
            if report.failed or reran(report):
                if outcome not in FAILING:
                    failing_phase = "error" if report.when in ("setup", "teardown") else "failed"
                    outcome, decider = failing_phase, report
            elif report.skipped:
                if outcome not in FAILING:
                    outcome, decider = _skip_outcome(report), report
            elif report.when == "call" and outcome == "passed":
                outcome, decider = ("xpassed" if hasattr(report, "wasxfail") else "passed"), report
        if outcome == "passed" and not any(r.when == "call" for r in self.reports):
            # Interrupted between phases (or a report went missing): not a pass.
            return "error", decider
        return outcome, decider

    def fields(self) -> dict[str, Any]:
        """The `test` event's fields (without ``event`` and ``ts``)."""
        outcome, decider = self.outcome()
        first = self.reports[0]
        return {
            "nodeid": self.nodeid,
            "outcome": outcome,
            # xdist reports a test that killed its worker with when="???".
            "when": decider.when if decider.when in PHASES else "call",
            "attempt": self.number,
            "rerun": self.is_rerun,
            "worker": self.worker,
            "duration_s": sum(report.duration for report in self.reports),
            "cpu_s": self._cpu_s(),
            "start": min(getattr(r, "start", 0.0) or 0.0 for r in self.reports),
            "stop": max(getattr(r, "stop", 0.0) or 0.0 for r in self.reports),
            "location": list(first.location),
            "message": self._message(outcome, decider),
            "longrepr": self._longrepr(outcome, decider),
            **self._captured(),
        }

    def _cpu_s(self) -> float | None:
        """The latest phase's CPU clock: setup to the end of the attempt."""
        seconds = [getattr(r, "cpu_s", None) for r in self.reports]
        known = [s for s in seconds if isinstance(s, int | float)]
        return max(known) if known else None

    def _message(self, outcome: str, decider: pytest.TestReport) -> str:
        if outcome in ("skipped", "pending"):
            return skip_reason(decider)
        if outcome in ("xfailed", "xpassed"):
            reason = str(getattr(decider, "wasxfail", ""))
            return reason or (failure_line(decider) if outcome == "xfailed" else "")
        if outcome in FAILING:
            return failure_line(decider) or "the test did not finish (no call report)"
        return ""

    def _longrepr(self, outcome: str, decider: pytest.TestReport) -> str:
        if outcome in FAILING:
            failing = [r for r in self.reports if r.failed or reran(r)]
            return "\n\n".join(longrepr_text(r) for r in failing or [decider])
        if outcome == "xfailed" and not isinstance(decider.longrepr, tuple | list):
            return longrepr_text(decider)
        return ""

    def _captured(self) -> dict[str, str]:
        last = max(self.reports, key=lambda report: len(report.sections))
        sections = last.sections[self.sections_from :]
        if len(last.sections) < self.sections_from:
            sections = last.sections
        return {
            key: "".join(content for title, content in sections if title.startswith(prefix))
            for key, prefix in CAPTURED.items()
        }


def reran(report: pytest.TestReport) -> bool:
    return report.outcome == RERUN


def _skip_outcome(report: pytest.TestReport) -> str:
    if hasattr(report, "wasxfail"):
        return "xfailed"
    if skip_message(report).startswith(PENDING_PREFIX):
        return "pending"
    return "skipped"


def skip_message(report: pytest.TestReport) -> str:
    """The text given to ``pytest.skip``, from the report's (path, line, message)."""
    longrepr = report.longrepr
    if isinstance(longrepr, tuple | list) and len(longrepr) == 3:
        message = str(longrepr[2])
        return message.removeprefix(SKIPPED_PREFIX)
    return longrepr_text(report)


def skip_reason(report: pytest.TestReport) -> str:
    return skip_message(report).removeprefix(PENDING_PREFIX)


def failure_line(report: pytest.TestReport | pytest.CollectReport) -> str:
    """A one-line summary of a failure: the exception line, as pytest's short summary."""
    reprcrash = getattr(report.longrepr, "reprcrash", None)
    message = getattr(reprcrash, "message", None)
    if isinstance(message, str) and message.strip():
        return message.strip().splitlines()[0]
    return summary_line(longrepr_text(report))


def longrepr_text(report: pytest.TestReport | pytest.CollectReport) -> str:
    """The report's traceback text, without the "[gw0] linux -- Python ..." line.

    pytest writes that line first for a report that came from an xdist worker; the
    worker is a field of its own.
    """
    text = report.longreprtext
    if getattr(report, "node", None) is not None:
        first, _, rest = text.partition("\n")
        if WORKER_INFO_LINE.match(first):
            return rest
    return text


def summary_line(text: str) -> str:
    """The last ``E`` line of a formatted traceback, else its first non-empty line."""
    lines = [line.rstrip() for line in text.splitlines() if line.strip()]
    errors = [line[1:].strip() for line in lines if line.startswith("E ")]
    if errors:
        return errors[-1]
    return lines[0].strip() if lines else ""
