"""Watches: staged polling of a staged plan's steps."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, BackgroundTasks, Request, status
from pydantic import BaseModel, Field
from sqlalchemy import select

from testyard.api.deps import CurrentUser, ProjectRunner, ProjectViewer, SessionDep, wake_scheduler
from testyard.api.schemas import Public
from testyard.db.models import PlanWatch
from testyard.services import plans, watches

router = APIRouter(prefix="/projects/{pid}", tags=["watches"])


class WatchCreate(BaseModel):
    environment: str | None = Field(default=None, description="defaults to the plan's")


class WatchPublic(Public):
    id: int
    plan_id: int
    status: str = Field(description="watching, passed, failed, timed_out or cancelled")
    environment: str | None
    interval_s: int
    steps: list[dict[str, Any]] = Field(
        description="per step: case_id, name, state (waiting, running, pending, passed, "
        "failed), attempts, run_id, started_at, finished_at"
    )
    message: str
    created_at: datetime
    deadline_at: datetime
    finished_at: datetime | None


@router.post("/plans/{plid}/watches", status_code=status.HTTP_202_ACCEPTED)
def start_watch(
    plid: int,
    project: ProjectRunner,
    user: CurrentUser,
    session: SessionDep,
    request: Request,
    background: BackgroundTasks,
    body: WatchCreate | None = None,
) -> WatchPublic:
    """Start polling a staged plan's steps; answers at once."""
    plan = plans.get_plan(session, project, plid)
    environment = body.environment if body else None
    watch = watches.start_watch(session, project, plan, user, environment)
    background.add_task(wake_scheduler, request)
    return WatchPublic.model_validate(watch)


@router.get("/plans/{plid}/watches")
def list_watches(plid: int, project: ProjectViewer, session: SessionDep) -> list[WatchPublic]:
    """The plan's watches, newest first."""
    plan = plans.get_plan(session, project, plid)
    rows = session.scalars(
        select(PlanWatch).where(PlanWatch.plan_id == plan.id).order_by(PlanWatch.id.desc())
    )
    return [WatchPublic.model_validate(w) for w in rows]


@router.get("/watches/{wid}")
def get_watch(wid: int, project: ProjectViewer, session: SessionDep) -> WatchPublic:
    """A watch: each step's state, attempts and times."""
    return WatchPublic.model_validate(watches.get_watch(session, project, wid))


@router.post("/watches/{wid}/cancel")
def cancel_watch(
    wid: int, project: ProjectRunner, session: SessionDep, request: Request,
    background: BackgroundTasks,
) -> WatchPublic:  # fmt: skip
    """Stop a watch (a run it started goes on; cancel it separately)."""
    watch = watches.cancel_watch(session, watches.get_watch(session, project, wid))
    background.add_task(wake_scheduler, request)
    return WatchPublic.model_validate(watch)
