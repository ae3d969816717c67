"""The Celery workers (``testyard worker``) this server's runs go to."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter
from pydantic import BaseModel, Field

from testyard.api.deps import CurrentUser, SessionDep, SettingsDep
from testyard.api.schemas import Public
from testyard.services import workers

router = APIRouter(tags=["workers"])


class WorkerPublic(Public):
    name: str
    host: str
    pid: int
    slots: int = Field(description="pytest-xdist processes it runs a shard with")
    version: str
    started_at: datetime
    heartbeat_at: datetime
    live: bool = Field(
        default=False, description="heartbeat within three intervals, and not stopped"
    )
    run_id: int | None = Field(description="the run of the shard it runs now")
    shard_index: int | None


class WorkerList(BaseModel):
    executor: str = Field(description="local: runs execute in the server; celery: on workers")
    live: int
    workers: list[WorkerPublic]


@router.get("/workers")
def list_workers(_user: CurrentUser, session: SessionDep, settings: SettingsDep) -> WorkerList:
    """Each worker seen in the last day: host, slots, current shard, last heartbeat."""
    rows = [
        WorkerPublic.model_validate(w).model_copy(
            update={"live": workers.is_live(w, settings.worker_heartbeat_s)}
        )
        for w in workers.list_workers(session)
    ]
    return WorkerList(executor=settings.executor, live=sum(w.live for w in rows), workers=rows)
