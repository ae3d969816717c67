"""Projects and their members' roles."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, status
from pydantic import BaseModel, Field, model_validator

from testyard.api.deps import CurrentUser, ProjectEditor, ProjectOwner, ProjectViewer, SessionDep
from testyard.api.schemas import Order, Page, PageNo, PerPage, Public, UserRef
from testyard.db.models import Project
from testyard.services import pages, projects, users
from testyard.services.access import role_in

router = APIRouter(prefix="/projects", tags=["projects"])

ORDERABLE = {"id", "name", "created_at", "updated_at"}


class ProjectCreate(BaseModel):
    name: str = Field(max_length=100)
    description: str = Field(default="", max_length=10_000)
    requirements: str = Field(default="", max_length=10_000)
    pytest_options: dict[str, str | list[str]] = Field(
        default_factory=dict, description='pytest ini options, e.g. {"xfail_strict": "true"}'
    )
    allure: bool = Field(
        default=False, description="runs also record Allure results, kept as allure.zip"
    )


class ProjectUpdate(BaseModel):
    name: str | None = Field(default=None, max_length=100)
    description: str | None = Field(default=None, max_length=10_000)
    requirements: str | None = Field(default=None, max_length=10_000)
    pytest_options: dict[str, str | list[str]] | None = None
    allure: bool | None = Field(
        default=None, description="runs also record Allure results, kept as allure.zip"
    )


class ProjectPublic(Public):
    id: int
    name: str
    description: str
    requirements: str
    pytest_options: dict[str, str]
    allure: bool = Field(description="runs also record Allure results, kept as allure.zip")
    created_at: datetime
    updated_at: datetime
    role: str | None = Field(default=None, description="your role in the project")


class MemberSet(BaseModel):
    user_id: int | None = None
    username: str | None = Field(default=None, max_length=64)
    role: str = Field(description="owner, editor, runner or viewer")

    @model_validator(mode="after")
    def one_user(self) -> MemberSet:
        if (self.user_id is None) == (self.username is None):
            raise ValueError("give either user_id or username")
        return self


class MemberRole(BaseModel):
    role: str = Field(description="owner, editor, runner or viewer")


class MemberPublic(Public):
    user: UserRef
    role: str


def _public(project: Project, session: SessionDep, user: CurrentUser) -> ProjectPublic:
    role = role_in(session, user, project.id)
    return ProjectPublic.model_validate(project).model_copy(
        update={"role": role.name if role else None}
    )


@router.get("")
def list_projects(
    user: CurrentUser,
    session: SessionDep,
    page: PageNo = 1,
    per_page: PerPage = 50,
    order: Order = None,
) -> Page[ProjectPublic]:
    """The projects you are a member of (every project, for administrators)."""
    query = pages.order_by(projects.visible_projects(user), Project, order, ORDERABLE)
    found = pages.paginate(session, query, page=page, per_page=per_page)
    return Page.of(found, lambda p: _public(p, session, user))


@router.post("", status_code=status.HTTP_201_CREATED)
def create_project(body: ProjectCreate, user: CurrentUser, session: SessionDep) -> ProjectPublic:
    """Create a project; you become its owner."""
    project = projects.create_project(session, user, body.model_dump())
    return _public(project, session, user)


@router.get("/{pid}")
def get_project(project: ProjectViewer, user: CurrentUser, session: SessionDep) -> ProjectPublic:
    """One project."""
    return _public(project, session, user)


@router.patch("/{pid}")
def update_project(
    body: ProjectUpdate, project: ProjectEditor, user: CurrentUser, session: SessionDep
) -> ProjectPublic:
    """Rename a project or change its description, Python requirements, pytest options
    or whether its runs record Allure results."""
    fields = body.model_dump(exclude_unset=True, exclude_none=True)  # null: leave as is
    projects.update_project(session, project, fields)
    return _public(project, session, user)


@router.delete("/{pid}", status_code=status.HTTP_204_NO_CONTENT)
def delete_project(project: ProjectOwner, session: SessionDep) -> None:
    """Delete a project and everything in it."""
    projects.delete_project(session, project)


@router.get("/{pid}/members")
def list_members(project: ProjectViewer, session: SessionDep) -> list[MemberPublic]:
    """Who is in the project, with which role."""
    return [MemberPublic.model_validate(m) for m in projects.list_members(session, project)]


@router.post("/{pid}/members", status_code=status.HTTP_201_CREATED)
def add_member(body: MemberSet, project: ProjectOwner, session: SessionDep) -> MemberPublic:
    """Add a user (by id or username) with a role, or change their role."""
    user = (
        users.get_user(session, body.user_id)
        if body.user_id is not None
        else users.find_user(session, body.username or "")
    )
    return MemberPublic.model_validate(projects.set_member(session, project, user, body.role))


@router.put("/{pid}/members/{user_id}")
def set_member_role(
    user_id: int, body: MemberRole, project: ProjectOwner, session: SessionDep
) -> MemberPublic:
    """Change a member's role."""
    user = users.get_user(session, user_id)
    return MemberPublic.model_validate(projects.set_member(session, project, user, body.role))


@router.delete("/{pid}/members/{user_id}", status_code=status.HTTP_204_NO_CONTENT)
def remove_member(user_id: int, project: ProjectOwner, session: SessionDep) -> None:
    """Take a user out of the project."""
    projects.remove_member(session, project, user_id)
