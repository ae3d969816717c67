"""Fixture plans: how fixtures will be set up and torn down, before running anything."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, Field
from sqlalchemy import select

from testyard.api.deps import ProjectViewer, SessionDep, SettingsDep
from testyard.db.models import Case, FixtureModule, Project
from testyard.execution.fixture_plan import FixturePlanFailed, fixture_plan
from testyard.services import cases as cases_service
from testyard.services import plans as plans_service
from testyard.services.errors import BadRequest

router = APIRouter(prefix="/projects/{pid}", tags=["fixture plans"])


class FixtureStep(BaseModel):
    name: str
    scope: str = Field(description="session, package, module, class or function")
    autouse: bool = False
    requests: list[str] = Field(default_factory=list)


class PlannedTestPublic(BaseModel):
    nodeid: str
    setup: list[FixtureStep] = Field(description="in the order pytest sets them up")
    teardown: list[FixtureStep] = Field(description="in the order pytest tears them down")
    missing: list[str] = Field(description="fixtures the test requests that do not exist")
    available: list[str] = Field(description="the fixtures visible at its path")


def _plan(settings: SettingsDep, session: SessionDep, project: Project,
          cases: list[Case]) -> list[PlannedTestPublic]:  # fmt: skip
    fixtures = session.scalars(
        select(FixtureModule).where(FixtureModule.project_id == project.id)
    ).all()
    try:
        plans = fixture_plan(settings, [(f.path, f.code) for f in fixtures],
                             [(c.path, c.code) for c in cases], project.requirements,
                             project.pytest_options)  # fmt: skip
    except FixturePlanFailed as exc:
        raise BadRequest(f"pytest could not plan these tests:\n{exc}") from exc
    return [PlannedTestPublic.model_validate(p, from_attributes=True) for p in plans]


@router.get("/cases/{cid}/fixture-plan")
def case_fixture_plan(
    cid: int, project: ProjectViewer, session: SessionDep, settings: SettingsDep
) -> list[PlannedTestPublic]:
    """Per test of the case: fixtures set up and torn down, in order, with their scopes
    (pytest's --setup-plan, nothing is run)."""
    return _plan(settings, session, project, [cases_service.get_case(session, project, cid)])


@router.get("/plans/{plid}/fixture-plan")
def plan_fixture_plan(
    plid: int, project: ProjectViewer, session: SessionDep, settings: SettingsDep
) -> list[PlannedTestPublic]:
    """The same for every case of a plan, in the plan's order."""
    plan = plans_service.get_plan(session, project, plid)
    ids = plans_service.case_ids(plan)
    found = {c.id: c for c in session.scalars(select(Case).where(Case.id.in_(ids)))}
    return _plan(settings, session, project, [found[i] for i in ids if i in found])
