"""Reading results: a run's results, and the latest result of each case."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, delete, select
from sqlalchemy.orm import Session

from testyard.db.models import CaseLatest, Run, RunResult, User
from testyard.services.pages import Page, paginate

#: Worst first: the outcome that sums up several tests of one case.
SEVERITY = ["error", "failed", "xpassed", "pending", "passed", "xfailed", "skipped"]
MAX_RESULTS_PER_PAGE = 1000


def query_results(
    run_id: int, *, outcome: str | None = None, all_attempts: bool = False
) -> Select[RunResult]:
    query = select(RunResult).where(RunResult.run_id == run_id)
    if not all_attempts:
        query = query.where(RunResult.final.is_(True))
    if outcome:
        query = query.where(RunResult.outcome == outcome)
    return query.order_by(RunResult.id)


def list_results(
    session: Session,
    run_id: int,
    *,
    outcome: str | None = None,
    all_attempts: bool = False,
    page: int = 1,
    per_page: int = 200,
) -> Page[RunResult]:
    query = query_results(run_id, outcome=outcome, all_attempts=all_attempts)
    return paginate(session, query, page=page, per_page=per_page, max_per_page=MAX_RESULTS_PER_PAGE)


@dataclass
class LatestResult:
    run_id: int
    outcome: str
    duration_s: float
    finished_at: datetime | None


def latest_results(session: Session, user: User, case_ids: list[int]) -> dict[int, LatestResult]:
    """For each case, the result of the latest run of it that ``user`` started (kept in
    ``case_latest`` when runs end): one indexed query for any page."""
    if not case_ids:
        return {}
    rows = session.scalars(
        select(CaseLatest).where(CaseLatest.user_id == user.id, CaseLatest.case_id.in_(case_ids))
    )
    return {
        row.case_id: LatestResult(row.run_id, row.outcome, row.duration_s, row.finished_at)
        for row in rows
    }


def record_latest(session: Session, run_id: int) -> None:
    """Make ``run_id`` the starter's latest result of each case it ran: the worst
    outcome of the case's tests and their total duration."""
    run = session.get(Run, run_id)
    if run is None or run.triggered_by_id is None:
        return
    rows = session.execute(
        select(RunResult.case_id, RunResult.outcome, RunResult.duration_s,
               RunResult.finished_at)
        .where(RunResult.run_id == run_id, RunResult.final.is_(True),
               RunResult.case_id.is_not(None))
    ).all()  # fmt: skip
    found: dict[int, LatestResult] = {}
    for case_id, outcome, duration, finished in rows:
        assert case_id is not None  # filtered in the query
        entry = found.setdefault(case_id, LatestResult(run_id, outcome, 0.0, finished))
        entry.duration_s += duration
        if _rank(outcome) < _rank(entry.outcome):
            entry.outcome = outcome
        if finished and (entry.finished_at is None or finished > entry.finished_at):
            entry.finished_at = finished
    if not found:
        return
    session.execute(delete(CaseLatest).where(
        CaseLatest.user_id == run.triggered_by_id, CaseLatest.case_id.in_(found)
    ))  # fmt: skip
    session.add_all(
        CaseLatest(user_id=run.triggered_by_id, case_id=case_id, run_id=run_id,
                   outcome=entry.outcome, duration_s=entry.duration_s,
                   finished_at=entry.finished_at)
        for case_id, entry in found.items()
    )  # fmt: skip
    session.flush()


def _rank(outcome: str) -> int:
    return SEVERITY.index(outcome) if outcome in SEVERITY else 0


def run_filters(project_id: int, filters: dict[str, Any]) -> Select[Run]:
    """Run history of a project, newest first, filtered by plan, case, status, source,
    user and date range."""
    query = select(Run).where(Run.project_id == project_id)
    if filters.get("plan_id") is not None:
        query = query.where(Run.plan_id == filters["plan_id"])
    if filters.get("case_id") is not None:
        # The runs that produced a result for the case (a queued run has none yet).
        ran_case = select(RunResult.run_id).where(RunResult.case_id == filters["case_id"])
        query = query.where(Run.id.in_(ran_case))
    for key, column in (("status", Run.status), ("source", Run.source)):
        if filters.get(key):
            query = query.where(column == filters[key])
    if filters.get("user_id") is not None:
        query = query.where(Run.triggered_by_id == filters["user_id"])
    if filters.get("since") is not None:
        query = query.where(Run.created_at >= filters["since"])
    if filters.get("until") is not None:
        query = query.where(Run.created_at < filters["until"])
    return query.order_by(Run.id.desc())
