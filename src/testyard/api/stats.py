"""Statistics over recent runs: flaky tests, slowest tests, failures grouped by message,
a case's history and a plan's trend. Viewers may read them all."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any, Generic, TypeVar

from fastapi import APIRouter, Query
from pydantic import Field

from testyard.api.deps import ProjectViewer, SessionDep
from testyard.api.schemas import Page, PageNo, PerPage, Public
from testyard.services import pages, stats

router = APIRouter(tags=["stats"])

T = TypeVar("T")

Last = Annotated[
    int,
    Query(
        ge=1,
        le=stats.MAX_LAST,
        description="look at the last N finished runs (passed, failed, error, cancelled, "
        "timed_out, interrupted)",
    ),
]
PlanFilter = Annotated[int | None, Query(description="only the runs of this plan")]
Limit = Annotated[int, Query(ge=1, le=200, description="how many of the slowest")]


class StatsPage(Page[T], Generic[T]):
    """A page of a statistic over a window of runs."""

    last: int = Field(description="N: the window is the last N finished runs")
    runs: int = Field(description="how many finished runs the window holds (at most N)")

    @classmethod
    def over(
        cls, window: stats.Window, found: pages.Page[Any], convert: Callable[[Any], T]
    ) -> StatsPage[T]:
        """A service's page over ``window``, its items converted to their public shape."""
        page = Page[T].of(found, convert)
        return cls(**dict(page), last=window.last, runs=len(window.run_ids))


class FlakyTest(Public):
    nodeid: str
    case_id: int | None
    runs: int = Field(description="how many runs of the window had this node id")
    passed: int = Field(description="final outcomes passed")
    failed: int = Field(description="final outcomes failed or error")
    flaky_retries: int = Field(description="results that passed on a retry after failing")
    flips: int = Field(description="changes between passed and failed, result to result")
    flip_rate: float = Field(description="flips / (passed + failed - 1), 0 to 1")
    fail_rate: float = Field(description="failed / (passed + failed), 0 to 1")
    last_seen_run_id: int


class SlowTest(Public):
    nodeid: str
    case_id: int | None
    count: int = Field(description="timed results (skipped and pending left out)")
    avg_s: float
    max_s: float
    last_s: float = Field(description="the duration in the latest run that had it")
    last_run_id: int


class FailureGroup(Public):
    message: str = Field(description="a representative message, from the latest failures")
    key: str = Field(description="the message without hex literals, digits, extra spaces")
    count: int = Field(description="final failures and errors in the group")
    nodeids: list[str] = Field(description=f"most failing first, at most {stats.GROUP_NODEIDS}")
    nodeid_count: int = Field(description="distinct node ids in the group")
    last_run_id: int


class HistoryItem(Public):
    run_id: int
    created_at: datetime
    status: str = Field(description="the run's status")
    nodeid: str
    outcome: str = Field(description="the final outcome (the worst among --dist each workers)")
    duration_s: float


class TrendPoint(Public):
    run_id: int
    created_at: datetime
    status: str
    counts: dict[str, int]
    pass_rate: float | None = Field(description="passed / (total - skipped); null: none ran")
    wall_s: float | None


@router.get("/projects/{pid}/stats/flaky")
def flaky_tests(
    project: ProjectViewer,
    session: SessionDep,
    last: Last = stats.DEFAULT_LAST,
    plan_id: PlanFilter = None,
    page: PageNo = 1,
    per_page: PerPage = 50,
) -> StatsPage[FlakyTest]:
    """Tests that passed on a retry, or both passed and failed, in the last N finished
    runs (same node id), most flaky first."""
    window = stats.window(session, project.id, last, plan_id=plan_id)
    found = stats.flaky_tests(session, window, page=page, per_page=per_page)
    return StatsPage[FlakyTest].over(window, found, FlakyTest.model_validate)


@router.get("/projects/{pid}/stats/slowest")
def slowest_tests(
    project: ProjectViewer,
    session: SessionDep,
    last: Last = stats.DEFAULT_LAST,
    plan_id: PlanFilter = None,
    limit: Limit = 20,
    page: PageNo = 1,
) -> StatsPage[SlowTest]:
    """The slowest node ids of the last N finished runs, by average duration."""
    window = stats.window(session, project.id, last, plan_id=plan_id)
    found = stats.slowest_tests(session, window, page=page, per_page=limit)
    return StatsPage[SlowTest].over(window, found, SlowTest.model_validate)


@router.get("/projects/{pid}/stats/failures")
def failure_groups(
    project: ProjectViewer,
    session: SessionDep,
    last: Last = stats.DEFAULT_LAST,
    plan_id: PlanFilter = None,
    page: PageNo = 1,
    per_page: PerPage = 50,
) -> StatsPage[FailureGroup]:
    """Failures and errors of the last N finished runs grouped by message, the numbers
    and hex addresses in it ignored; the most frequent first."""
    window = stats.window(session, project.id, last, plan_id=plan_id)
    found = stats.failure_groups(session, window, page=page, per_page=per_page)
    return StatsPage[FailureGroup].over(window, found, FailureGroup.model_validate)


@router.get("/projects/{pid}/cases/{cid}/history")
def case_history(
    cid: int,
    project: ProjectViewer,
    session: SessionDep,
    last: Annotated[
        int, Query(ge=1, le=stats.MAX_LAST, description="how many results, newest first")
    ] = stats.DEFAULT_LAST,
) -> Page[HistoryItem]:
    """The case's last N results in finished runs, newest first: one per node id per run
    (one page: ``total`` is the number of items)."""
    found = stats.case_history(session, project.id, cid, last)
    items = [HistoryItem.model_validate(item) for item in found]
    return Page(items=items, total=len(items), page=1, per_page=last)


@router.get("/projects/{pid}/plans/{plid}/trend")
def plan_trend(
    plid: int, project: ProjectViewer, session: SessionDep, last: Last = stats.DEFAULT_LAST
) -> Page[TrendPoint]:
    """Pass rate, counts and wall time of the plan's last N finished runs, oldest first
    (one page: ``total`` is the number of runs)."""
    found = stats.plan_trend(session, project.id, plid, last)
    items = [TrendPoint.model_validate(item) for item in found]
    return Page(items=items, total=len(items), page=1, per_page=last)
