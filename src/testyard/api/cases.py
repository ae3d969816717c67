"""Cases: pytest test modules."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Query, status
from pydantic import BaseModel, Field
from sqlalchemy import select

from testyard.api.deps import CurrentUser, ProjectEditor, ProjectViewer, SessionDep, SettingsDep
from testyard.api.schemas import Order, Page, PageNo, PerPage, Public, UserRef
from testyard.db.models import Case, FixtureModule
from testyard.execution.fixture_plan import provided_fixtures
from testyard.services import cases, results
from testyard.services.fixture_check import missing_fixtures

router = APIRouter(prefix="/projects/{pid}/cases", tags=["cases"])


class CaseCreate(BaseModel):
    name: str = Field(max_length=200)
    path: str | None = Field(
        default=None, max_length=255, description="defaults to tests/test_<name>.py"
    )
    description: str = Field(default="", max_length=10_000)
    code: str = ""
    tags: list[str] = Field(default_factory=list, max_length=20)


class CaseUpdate(BaseModel):
    name: str | None = Field(default=None, max_length=200)
    path: str | None = Field(default=None, max_length=255)
    description: str | None = Field(default=None, max_length=10_000)
    code: str | None = None
    tags: list[str] | None = Field(default=None, max_length=20)
    version: int | None = Field(
        default=None, description="the version you edited: a stale one is a 409"
    )


class CaseCopy(BaseModel):
    name: str | None = Field(default=None, max_length=200)
    path: str | None = Field(default=None, max_length=255)


class LatestResult(BaseModel):
    run_id: int
    outcome: str = Field(description="the worst outcome among the case's tests")
    duration_s: float
    finished_at: datetime | None


class CasePublic(Public):
    id: int
    name: str
    path: str
    description: str
    code: str
    tags: list[str]
    version: int
    author: UserRef | None
    created_at: datetime
    updated_at: datetime
    latest_result: LatestResult | None = Field(
        default=None, description="with=latest_result: your latest run of this case"
    )


class ProblemPublic(BaseModel):
    test: str
    fixture: str
    message: str
    available: list[str] = Field(description="the fixtures visible at the case's path")


class CaseSaved(CasePublic):
    problems: list[ProblemPublic] = Field(
        default_factory=list,
        description="fixtures the case requests that do not exist (it is saved anyway)",
    )


def _saved(case: Case, session: SessionDep, settings: SettingsDep) -> CaseSaved:
    modules = session.execute(
        select(FixtureModule.path, FixtureModule.code).where(
            FixtureModule.project_id == case.project_id
        )
    ).all()
    found = missing_fixtures(case.path, case.code, [(p, c) for p, c in modules],
                             set(provided_fixtures(settings)))  # fmt: skip
    saved = CaseSaved.model_validate(case)
    saved.problems = [ProblemPublic(**vars(problem)) for problem in found]
    return saved


@router.get("")
def list_cases(
    project: ProjectViewer,
    user: CurrentUser,
    session: SessionDep,
    q: Annotated[str | None, Query(max_length=200, description="in name or description")] = None,
    tag: Annotated[str | None, Query(max_length=50)] = None,
    code: Annotated[str | None, Query(max_length=200, description="in the code, any case")] = None,
    search: Annotated[
        str | None,
        Query(max_length=200, description="in the name, description, code or a tag, any case"),
    ] = None,
    page: PageNo = 1,
    per_page: PerPage = 50,
    order: Order = None,
    with_: Annotated[
        Literal["latest_result"] | None,
        Query(alias="with", description="latest_result: add your latest result of each case"),
    ] = None,
) -> Page[CasePublic]:
    """The project's cases, filtered and paginated."""
    found = cases.list_cases(
        session,
        project,
        q=q,
        tag=tag,
        code=code,
        search=search,
        page=page,
        per_page=per_page,
        order=order,
    )
    items = [CasePublic.model_validate(c) for c in found.items]
    if with_ == "latest_result":
        latest = results.latest_results(session, user, [c.id for c in items])
        for item in items:
            found_result = latest.get(item.id)
            if found_result is not None:
                item.latest_result = LatestResult(**vars(found_result))
    return Page(items=items, total=found.total, page=found.page, per_page=found.per_page)


@router.post("", status_code=status.HTTP_201_CREATED)
def create_case(
    body: CaseCreate,
    project: ProjectEditor,
    user: CurrentUser,
    session: SessionDep,
    settings: SettingsDep,
) -> CaseSaved:
    """Add a case; its code must compile and its path be free. The answer lists the
    fixtures it requests that do not exist (a draft is saved all the same)."""
    fields = body.model_dump(exclude_none=True)
    return _saved(cases.create_case(session, project, user, fields), session, settings)


@router.get("/{cid}")
def get_case(cid: int, project: ProjectViewer, session: SessionDep) -> CasePublic:
    """One case."""
    return CasePublic.model_validate(cases.get_case(session, project, cid))


@router.patch("/{cid}")
def update_case(
    cid: int, body: CaseUpdate, project: ProjectEditor, session: SessionDep,
    settings: SettingsDep,
) -> CaseSaved:  # fmt: skip
    """Change a case; send the ``version`` you edited to detect concurrent saves. The
    answer lists the fixtures it requests that do not exist."""
    case = cases.get_case(session, project, cid)
    fields = body.model_dump(exclude_unset=True, exclude_none=True)
    return _saved(cases.update_case(session, case, fields), session, settings)


@router.post("/{cid}/copy", status_code=status.HTTP_201_CREATED)
def copy_case(
    cid: int,
    project: ProjectEditor,
    user: CurrentUser,
    session: SessionDep,
    body: CaseCopy | None = None,
) -> CasePublic:
    """Copy a case under a new name and a free path."""
    case = cases.get_case(session, project, cid)
    fields = body.model_dump(exclude_none=True) if body else {}
    return CasePublic.model_validate(cases.copy_case(session, case, user, fields))


@router.delete("/{cid}", status_code=status.HTTP_204_NO_CONTENT)
def delete_case(cid: int, project: ProjectEditor, session: SessionDep) -> None:
    """Delete a case; it leaves every plan it was in."""
    cases.delete_case(session, cases.get_case(session, project, cid))
