"""Statistics over recent runs: flaky tests, slowest tests, failures grouped by message,
a case's history and a plan's trend.

Most statistics look at a *window*: the project's (or one plan's) last N finished runs
(finished: passed, failed, error, cancelled, timed_out, interrupted), newest by creation.
Only final attempts count (the last try of a test); one marked ``flaky`` passed after
failing attempts.

Every function runs a fixed number of queries whatever the number of results: the
aggregation is SQL ``GROUP BY`` (plus the ``LAG`` window function for flips), written
with SQLAlchemy so that it runs alike on SQLite and PostgreSQL, without JSON operators.
Functions take the session and never commit.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Row,
    Select,
    and_,
    bindparam,
    case,
    distinct,
    func,
    select,
)
from sqlalchemy.orm import InstrumentedAttribute, Session
from sqlalchemy.sql.elements import BindParameter

from testyard.db.models import Case, Plan, Run, RunResult
from testyard.services.errors import Invalid, NotFound, possible_id
from testyard.services.pages import Page
from testyard.services.results import SEVERITY

FINISHED = ("passed", "failed", "error", "cancelled", "timed_out", "interrupted")
PASSING = ("passed",)
FAILING = ("failed", "error")
#: Outcomes whose duration says nothing about the test's speed.
UNTIMED = ("skipped", "pending")
DEFAULT_LAST = 20
MAX_LAST = 500
#: How many node ids a failure group lists (``nodeid_count`` says how many there are).
GROUP_NODEIDS = 20


@dataclass
class Window:
    """The runs a statistic looks at: ``run_ids`` are the last ``last`` finished runs."""

    last: int
    run_ids: list[int]


def window(session: Session, project_id: int, last: int, *, plan_id: int | None = None) -> Window:
    """The project's (or, with ``plan_id``, the plan's) last ``last`` finished runs."""
    _check_last(last)
    query = select(Run.id).where(Run.project_id == project_id, Run.status.in_(FINISHED))
    if plan_id is not None:
        _require(session, Plan, plan_id, project_id, field="plan_id")
        query = query.where(Run.plan_id == plan_id)
    ids = session.scalars(query.order_by(Run.created_at.desc(), Run.id.desc()).limit(last))
    return Window(last=last, run_ids=list(ids))


def _final_in(win: Window) -> ColumnElement[bool]:
    """Final attempts in the window's runs. The ids are written into the SQL as
    literals (they are integers): a statement may name the window twice, and older
    SQLite allows only 999 bound parameters."""
    run_ids: BindParameter[list[int]] = bindparam(
        "run_ids", win.run_ids, expanding=True, literal_execute=True, unique=True
    )
    return and_(RunResult.run_id.in_(run_ids), RunResult.final.is_(True))


def _count_if(condition: ColumnElement[bool]) -> ColumnElement[Any]:
    return func.sum(case((condition, 1), else_=0))


@dataclass
class FlakyTest:
    nodeid: str
    case_id: int | None
    runs: int
    passed: int
    failed: int
    flaky_retries: int
    flips: int
    flip_rate: float
    fail_rate: float
    last_seen_run_id: int


def flaky_tests(session: Session, win: Window, *, page: int, per_page: int) -> Page[FlakyTest]:
    """Tests that were flaky in the window, most flaky first.

    Flaky: a final attempt passed after a failed one (``flaky_retries`` > 0), or the
    same node id both passed and failed (or errored) as its final outcome in the window.
    The rule compares node ids, not code: a test fixed in between counts as flaky until
    its failures leave the window. ``flips`` counts the changes between pass and fail
    from one result to the next (in run order, skipped results left out); the order is
    ``flaky_retries + flips``, then failures, then the latest seen.

    A grouped pass finds the flaky node ids; only their results go through the ``LAG``
    window that counts flips (sorting every result of the window costs more).
    """
    if not win.run_ids:
        return Page(items=[], total=0, page=page, per_page=per_page)
    final = _final_in(win)
    passing, failing = RunResult.outcome.in_(PASSING), RunResult.outcome.in_(FAILING)
    flaky_nodeids = (
        select(RunResult.nodeid)
        .where(final)
        .group_by(RunResult.nodeid)
        .having(
            (_count_if(RunResult.flaky.is_(True)) > 0)
            | ((_count_if(passing) > 0) & (_count_if(failing) > 0))
        )
        .subquery()
    )
    ok = case((passing, 1), (failing, 0))
    previous = func.lag(ok).over(
        partition_by=(RunResult.nodeid, ok.is_(None)),
        order_by=(RunResult.run_id, RunResult.worker),
    )
    rows = (
        select(
            RunResult.nodeid,
            RunResult.case_id,
            RunResult.run_id,
            RunResult.flaky,
            ok.label("ok"),
            previous.label("previous"),
        )
        .join(flaky_nodeids, flaky_nodeids.c.nodeid == RunResult.nodeid)
        .where(final)
        .subquery()
    )
    per_node = (
        select(
            rows.c.nodeid,
            func.max(rows.c.case_id).label("case_id"),
            func.count(distinct(rows.c.run_id)).label("runs"),
            _count_if(rows.c.ok == 1).label("passed"),
            _count_if(rows.c.ok == 0).label("failed"),
            _count_if(rows.c.flaky.is_(True)).label("flaky_retries"),
            _count_if(rows.c.previous != rows.c.ok).label("flips"),
            func.max(rows.c.run_id).label("last_seen_run_id"),
        )
        .group_by(rows.c.nodeid)
        .subquery()
    )
    found = session.execute(
        select(per_node, func.count().over().label("total"))
        .order_by(
            (per_node.c.flaky_retries + per_node.c.flips).desc(),
            per_node.c.failed.desc(),
            per_node.c.last_seen_run_id.desc(),
            per_node.c.nodeid,
        )
        .limit(per_page)
        .offset((page - 1) * per_page)
    ).all()
    items = [
        FlakyTest(
            nodeid=row.nodeid,
            case_id=row.case_id,
            runs=int(row.runs),
            passed=int(row.passed),
            failed=int(row.failed),
            flaky_retries=int(row.flaky_retries),
            flips=int(row.flips),
            flip_rate=_ratio(int(row.flips), int(row.passed) + int(row.failed) - 1),
            fail_rate=_ratio(int(row.failed), int(row.passed) + int(row.failed)),
            last_seen_run_id=row.last_seen_run_id,
        )
        for row in found
    ]
    total = _total(session, found, select(func.count()).select_from(flaky_nodeids), page)
    return Page(items=items, total=total, page=page, per_page=per_page)


def _total(session: Session, found: Sequence[Row[Any]], count: Select[Any], page: int) -> int:
    """The total from the page's ``count(*) OVER ()`` column; past the last page, where
    no row carries it, from ``count``."""
    if found:
        return int(found[0].total)
    return int(session.scalar(count) or 0) if page > 1 else 0


@dataclass
class SlowTest:
    nodeid: str
    case_id: int | None
    count: int
    avg_s: float
    max_s: float
    last_s: float
    last_run_id: int


def slowest_tests(session: Session, win: Window, *, page: int, per_page: int) -> Page[SlowTest]:
    """Node ids by average duration over the window, slowest first: the average, the
    maximum, how many timed results, and the duration in the latest run that had it.
    Skipped and pending results are left out (they did not run)."""
    if not win.run_ids:
        return Page(items=[], total=0, page=page, per_page=per_page)
    timed = and_(_final_in(win), RunResult.outcome.not_in(UNTIMED))
    top = (
        select(
            RunResult.nodeid,
            func.max(RunResult.case_id).label("case_id"),
            func.count().label("results"),
            func.avg(RunResult.duration_s).label("avg_s"),
            func.max(RunResult.duration_s).label("max_s"),
            func.max(RunResult.run_id).label("last_run_id"),
            func.count().over().label("total"),
        )
        .where(timed)
        .group_by(RunResult.nodeid)
        .order_by(func.avg(RunResult.duration_s).desc(), RunResult.nodeid)
        .limit(per_page)
        .offset((page - 1) * per_page)
        .subquery()
    )
    latest = (
        (RunResult.run_id == top.c.last_run_id)
        & (RunResult.nodeid == top.c.nodeid)
        & RunResult.final.is_(True)
        & RunResult.outcome.not_in(UNTIMED)
    )
    found = session.execute(
        select(top, func.max(RunResult.duration_s).label("last_s"))
        .join(RunResult, latest)
        .group_by(*top.c)
        .order_by(top.c.avg_s.desc(), top.c.nodeid)
    ).all()
    items = [
        SlowTest(
            nodeid=row.nodeid,
            case_id=row.case_id,
            count=int(row.results),
            avg_s=float(row.avg_s),
            max_s=float(row.max_s),
            last_s=float(row.last_s),
            last_run_id=row.last_run_id,
        )
        for row in found
    ]
    count = select(func.count(distinct(RunResult.nodeid))).where(timed)
    return Page(
        items=items, total=_total(session, found, count, page), page=page, per_page=per_page
    )


HEX_LITERAL = re.compile(r"0[xX][0-9a-fA-F]+")
DIGITS = re.compile(r"[0-9]+")
SPACES = re.compile(r"\s+")


def normalise_message(message: str) -> str:
    """The key failures are grouped by: hex literals (``0x7f3a…``) removed, then every
    digit removed, then runs of white space made one space and the ends trimmed. So
    ``assert 200 == 500`` and ``assert 404 == 500`` (both ``assert ==``), or two
    ``<object at 0x…>`` reprs, fall in one group."""
    without_numbers = DIGITS.sub("", HEX_LITERAL.sub("", message))
    return SPACES.sub(" ", without_numbers).strip()


def _without_digits(column: InstrumentedAttribute[str]) -> ColumnElement[str]:
    expression: ColumnElement[str] = column.expression
    for digit in "0123456789":
        expression = func.replace(expression, digit, "")
    return expression


@dataclass
class FailureGroup:
    message: str
    key: str
    count: int
    nodeids: list[str]
    nodeid_count: int
    last_run_id: int


@dataclass
class _Failures:
    """A group being gathered: its failures per node id, and as its message the one
    of the SQL row that failed last (the smallest, on a tie)."""

    message: str
    last_run_id: int
    per_nodeid: Counter[str] = field(default_factory=Counter)

    def add(self, nodeid: str, count: int, last_run_id: int, message: str) -> None:
        self.per_nodeid[nodeid] += count
        newer = last_run_id > self.last_run_id
        if newer or (last_run_id == self.last_run_id and message < self.message):
            self.last_run_id, self.message = last_run_id, message

    def group(self, key: str) -> FailureGroup:
        by_failures = sorted(self.per_nodeid.items(), key=lambda item: (-item[1], item[0]))
        return FailureGroup(
            message=self.message,
            key=key,
            count=sum(self.per_nodeid.values()),
            nodeids=[nodeid for nodeid, _ in by_failures[:GROUP_NODEIDS]],
            nodeid_count=len(by_failures),
            last_run_id=self.last_run_id,
        )


def failure_groups(
    session: Session, win: Window, *, page: int, per_page: int
) -> Page[FailureGroup]:
    """Final failures and errors in the window grouped by ``normalise_message``, the
    most frequent first. Each group shows a representative message (one of the latest
    failure's), the number of failures, its node ids (most failing first, at most
    ``GROUP_NODEIDS``) and the latest run it failed in.

    SQL groups by (message without digits, node id), which is at least as fine as the
    full rule; the rows that differ only in a hex address or white space are merged
    here, so the rows read are the distinct failures per node id, not every result.
    """
    if not win.run_ids:
        return Page(items=[], total=0, page=page, per_page=per_page)
    failures = (
        select(
            _without_digits(RunResult.message).label("digitless"),
            RunResult.nodeid,
            RunResult.run_id,
            RunResult.message,
        )
        .where(_final_in(win), RunResult.outcome.in_(FAILING))
        .subquery()
    )
    rows = session.execute(
        select(
            failures.c.nodeid,
            func.count().label("failures"),
            func.max(failures.c.run_id).label("last_run_id"),
            func.min(failures.c.message).label("message"),
        ).group_by(failures.c.digitless, failures.c.nodeid)
    ).all()
    gathered: dict[str, _Failures] = {}
    for row in rows:
        key = normalise_message(row.message)
        found = gathered.setdefault(key, _Failures(row.message, row.last_run_id))
        found.add(row.nodeid, int(row.failures), row.last_run_id, row.message)
    groups = [found.group(key) for key, found in gathered.items()]
    groups.sort(key=lambda g: (-g.count, -g.last_run_id, g.key))
    chosen = groups[(page - 1) * per_page : page * per_page]
    return Page(items=chosen, total=len(groups), page=page, per_page=per_page)


@dataclass
class HistoryItem:
    run_id: int
    created_at: datetime
    status: str
    nodeid: str
    outcome: str
    duration_s: float


def case_history(session: Session, project_id: int, case_id: int, last: int) -> list[HistoryItem]:
    """The case's last ``last`` results in finished runs, newest run first: one item per
    node id per run (with ``--dist each``, the worst outcome among the workers and the
    longest duration)."""
    _check_last(last)
    _require(session, Case, case_id, project_id)
    severity = case(
        {outcome: rank for rank, outcome in enumerate(SEVERITY)}, value=RunResult.outcome, else_=0
    )
    rows = session.execute(
        select(
            RunResult.run_id,
            Run.created_at,
            Run.status,
            RunResult.nodeid,
            func.min(severity).label("severity"),
            func.max(RunResult.duration_s).label("duration_s"),
        )
        .join(Run, Run.id == RunResult.run_id)
        .where(
            RunResult.case_id == case_id,
            RunResult.final.is_(True),
            Run.project_id == project_id,
            Run.status.in_(FINISHED),
        )
        .group_by(RunResult.run_id, Run.created_at, Run.status, RunResult.nodeid)
        .order_by(Run.created_at.desc(), RunResult.run_id.desc(), RunResult.nodeid)
        .limit(last)
    ).all()
    return [
        HistoryItem(
            run_id=row.run_id,
            created_at=row.created_at,
            status=row.status,
            nodeid=row.nodeid,
            outcome=SEVERITY[row.severity],
            duration_s=float(row.duration_s),
        )
        for row in rows
    ]


@dataclass
class TrendPoint:
    run_id: int
    created_at: datetime
    status: str
    counts: dict[str, int]
    pass_rate: float | None
    wall_s: float | None


def plan_trend(session: Session, project_id: int, plan_id: int, last: int) -> list[TrendPoint]:
    """The plan's last ``last`` finished runs, oldest first, with their pass rates."""
    _check_last(last)
    _require(session, Plan, plan_id, project_id)
    rows = session.execute(
        select(Run.id, Run.created_at, Run.status, Run.counts, Run.wall_s)
        .where(Run.project_id == project_id, Run.plan_id == plan_id, Run.status.in_(FINISHED))
        .order_by(Run.created_at.desc(), Run.id.desc())
        .limit(last)
    ).all()
    return [
        TrendPoint(
            run_id=row.id,
            created_at=row.created_at,
            status=row.status,
            counts={name: int(n) for name, n in (row.counts or {}).items()},
            pass_rate=pass_rate(row.counts or {}),
            wall_s=row.wall_s,
        )
        for row in reversed(rows)
    ]


def pass_rate(counts: dict[str, Any]) -> float | None:
    """``passed / (total - skipped)``, from 0 to 1; None when no test ran."""
    ran = int(counts.get("total", 0)) - int(counts.get("skipped", 0))
    return int(counts.get("passed", 0)) / ran if ran > 0 else None


def _ratio(part: int, whole: int) -> float:
    return part / whole if whole > 0 else 0.0


def _check_last(last: int) -> None:
    if not 1 <= last <= MAX_LAST:
        raise Invalid(f"last must be between 1 and {MAX_LAST}", field="last")


def _require(
    session: Session,
    model: type[Case] | type[Plan],
    ident: int,
    project_id: int,
    *,
    field: str | None = None,
) -> None:
    kind = model.__tablename__.removesuffix("s")
    found = possible_id(ident) and session.scalar(
        select(model.id).where(model.id == ident, model.project_id == project_id)
    )
    if not found:
        raise NotFound(f"{kind} {ident} not found", field=field)
