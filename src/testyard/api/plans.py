"""Plans: ordered cases, how to run them, and their trigger."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, BackgroundTasks, Query, Request, status
from pydantic import BaseModel, Field
from sqlalchemy import select

from testyard.api.deps import ProjectEditor, ProjectViewer, SessionDep, wake_scheduler
from testyard.api.schemas import Order, Page, PageNo, PerPage, Public
from testyard.db.models import Plan, PlanFire
from testyard.scheduling.preview import describe, next_fire_times
from testyard.scheduling.service import plan_spec
from testyard.scheduling.triggers import TriggerError, TriggerSpec, build_trigger, zone
from testyard.services import pages, plans
from testyard.services.errors import Invalid

router = APIRouter(prefix="/projects/{pid}/plans", tags=["plans"])

Workers = Literal["auto"] | Annotated[int, Field(ge=0, le=256, strict=True)]  # no true/false
Dist = Literal[
    "auto", "load", "loadscope", "loadfile", "loadgroup", "worksteal", "each", "duration", "no"
]


class Trigger(BaseModel):
    kind: Literal["none", "cron", "interval", "date"] = "none"
    expression: str | None = Field(default=None, max_length=200, description="crontab, 5 fields")
    seconds: int | None = Field(default=None, description="interval period")
    at: datetime | None = Field(default=None, description="one-off fire time")
    timezone: str | None = Field(
        default=None, max_length=64, description="IANA name; the server's zone by default"
    )


class Notify(BaseModel):
    when: Literal["always", "failure", "success", "change"] = "failure"
    channel_ids: list[int] = Field(default_factory=list)


class PlanFields(BaseModel):
    description: str | None = Field(default=None, max_length=10_000)
    case_ids: list[int] | None = Field(default=None, max_length=10_000)
    environment: str | None = Field(default=None, description="environment name")
    workers: Workers | None = None
    dist: Dist | None = None
    retries: int | None = Field(default=None, ge=0, le=10)
    timeout_s: int | None = Field(default=None, ge=1, le=7 * 24 * 3600)
    mode: Literal["normal", "staged"] | None = None
    deadline_s: int | None = Field(default=None, ge=1, le=7 * 24 * 3600)
    on_overlap: Literal["skip", "queue"] | None = None
    trigger: Trigger | None = None
    enabled: bool | None = None
    notify: Notify | None = None


class PlanCreate(PlanFields):
    name: str = Field(max_length=100)


class PlanUpdate(PlanFields):
    name: str | None = Field(default=None, max_length=100)


class CasesAdd(BaseModel):
    case_ids: list[int] = Field(min_length=1, max_length=10_000)
    position: int | None = Field(default=None, ge=0, description="where to insert; end if omitted")


class CasesOrder(BaseModel):
    case_ids: list[int] = Field(max_length=10_000)


class PlanPublic(BaseModel):
    id: int
    name: str
    description: str
    case_ids: list[int]
    environment: str | None
    workers: Workers
    dist: str
    retries: int
    timeout_s: int | None
    mode: str
    deadline_s: int | None
    on_overlap: str
    trigger: Trigger
    enabled: bool
    notify: Notify
    created_at: datetime
    updated_at: datetime


def _public(plan: Plan) -> PlanPublic:
    return PlanPublic(
        id=plan.id,
        name=plan.name,
        description=plan.description,
        case_ids=plans.case_ids(plan),
        environment=plan.environment.name if plan.environment else None,
        workers=int(plan.workers) if plan.workers.isdigit() else "auto",
        dist=plan.dist,
        retries=plan.retries,
        timeout_s=plan.timeout_s,
        mode=plan.mode,
        deadline_s=plan.deadline_s,
        on_overlap=plan.on_overlap,
        trigger=Trigger(
            kind=plan.trigger_kind,
            expression=plan.trigger_expression,
            seconds=plan.trigger_seconds,
            at=plan.trigger_at,
            timezone=plan.trigger_timezone,
        ),
        enabled=plan.enabled,
        notify=Notify(**plan.notify) if plan.notify else Notify(),
        created_at=plan.created_at,
        updated_at=plan.updated_at,
    )


def _fields(body: PlanFields) -> dict[str, Any]:
    fields = body.model_dump(exclude_unset=True)
    for key in (
        "name",
        "description",
        "workers",
        "dist",
        "retries",
        "mode",
        "on_overlap",
        "enabled",
    ):
        if key in fields and fields[key] is None:
            del fields[key]  # null means "leave as is" for fields that cannot be empty
    if "workers" in fields:
        fields["workers"] = str(fields["workers"])
    return fields


class SchedulePublic(BaseModel):
    enabled: bool
    trigger: Trigger
    description: str = Field(description="the trigger in words")
    timezone: str
    next: list[datetime] = Field(description="the next fire times (none when switched off)")


class SchedulePreview(BaseModel):
    description: str = Field(description="the trigger in words")
    timezone: str
    next: list[datetime] = Field(description="the next 5 fire times")


Locale = Annotated[
    Literal["en", "zh"] | None,
    Query(description="the language of a crontab in words (24-hour clock when given)"),
]


class FirePublic(Public):
    id: int
    scheduled_at: datetime
    fired_at: datetime
    lag_s: float
    result: str = Field(description="run_created, skipped, missed or error")
    run_id: int | None
    message: str


@router.get("")
def list_plans(
    project: ProjectViewer,
    session: SessionDep,
    name: Annotated[str | None, Query(max_length=100, description="substring of the name")] = None,
    page: PageNo = 1,
    per_page: PerPage = 50,
    order: Order = None,
) -> Page[PlanPublic]:
    """The project's plans."""
    found = plans.list_plans(session, project, name=name, page=page, per_page=per_page, order=order)
    return Page.of(found, _public)


@router.post("", status_code=status.HTTP_201_CREATED)
def create_plan(
    body: PlanCreate,
    project: ProjectEditor,
    session: SessionDep,
    request: Request,
    background: BackgroundTasks,
) -> PlanPublic:
    """Create a plan; its trigger is validated before anything is saved."""
    background.add_task(wake_scheduler, request)
    return _public(plans.create_plan(session, project, _fields(body)))


@router.post("/schedule-preview")
def preview_schedule(body: Trigger, project: ProjectViewer, locale: Locale = None
                     ) -> SchedulePreview:  # fmt: skip
    """What a trigger not saved yet would do: its next 5 fire times and its words, for help
    while it is typed. An invalid trigger is a 422 naming its field, as a save would be."""
    spec = TriggerSpec(**body.model_dump())
    try:
        build_trigger(spec)
    except TriggerError as exc:
        raise Invalid(str(exc), field=exc.field) from exc
    return SchedulePreview(
        description=describe(spec, locale),
        timezone=str(zone(spec.timezone)),
        next=next_fire_times(spec),
    )


@router.get("/{plid}")
def get_plan(plid: int, project: ProjectViewer, session: SessionDep) -> PlanPublic:
    """One plan."""
    return _public(plans.get_plan(session, project, plid))


@router.patch("/{plid}")
def update_plan(
    plid: int,
    body: PlanUpdate,
    project: ProjectEditor,
    session: SessionDep,
    request: Request,
    background: BackgroundTasks,
) -> PlanPublic:
    """Change a plan (its trigger, its switch…); ``case_ids`` replaces its cases."""
    background.add_task(wake_scheduler, request)
    plan = plans.get_plan(session, project, plid)
    return _public(plans.update_plan(session, plan, _fields(body)))


@router.delete("/{plid}", status_code=status.HTTP_204_NO_CONTENT)
def delete_plan(
    plid: int,
    project: ProjectEditor,
    session: SessionDep,
    request: Request,
    background: BackgroundTasks,
) -> None:
    """Delete a plan and its schedule (its past runs stay in the history)."""
    background.add_task(wake_scheduler, request)
    plans.delete_plan(session, plans.get_plan(session, project, plid))


@router.post("/{plid}/cases")
def add_plan_cases(
    plid: int, body: CasesAdd, project: ProjectEditor, session: SessionDep
) -> PlanPublic:
    """Add cases to a plan, at the end or at ``position``."""
    plan = plans.get_plan(session, project, plid)
    return _public(plans.add_cases(session, plan, body.case_ids, body.position))


@router.put("/{plid}/cases")
def reorder_plan_cases(
    plid: int, body: CasesOrder, project: ProjectEditor, session: SessionDep
) -> PlanPublic:
    """Reorder a plan's cases: the body lists exactly its cases, in the new order."""
    plan = plans.get_plan(session, project, plid)
    return _public(plans.reorder_cases(session, plan, body.case_ids))


@router.delete("/{plid}/cases/{cid}")
def remove_plan_case(
    plid: int, cid: int, project: ProjectEditor, session: SessionDep
) -> PlanPublic:
    """Take a case out of a plan (the case itself stays)."""
    plan = plans.get_plan(session, project, plid)
    return _public(plans.remove_case(session, plan, cid))


@router.get("/{plid}/schedule")
def get_schedule(
    plid: int, project: ProjectViewer, session: SessionDep, locale: Locale = None
) -> SchedulePublic:
    """The next 5 fire times and the trigger in words (for help beside the input)."""
    plan = plans.get_plan(session, project, plid)
    spec = plan_spec(plan)
    upcoming = next_fire_times(spec) if plan.enabled else []
    return SchedulePublic(
        enabled=plan.enabled,
        trigger=_public(plan).trigger,
        description=describe(spec, locale),
        timezone=str(zone(spec.timezone)),
        next=upcoming,
    )


@router.get("/{plid}/fires")
def list_fires(
    plid: int,
    project: ProjectViewer,
    session: SessionDep,
    page: PageNo = 1,
    per_page: PerPage = 50,
) -> Page[FirePublic]:
    """Every fire of the plan, newest first: when, how late, and what came of it."""
    plan = plans.get_plan(session, project, plid)
    query = select(PlanFire).where(PlanFire.plan_id == plan.id).order_by(PlanFire.id.desc())
    return Page.of(pages.paginate(session, query, page=page, per_page=per_page),
                   FirePublic.model_validate)  # fmt: skip
