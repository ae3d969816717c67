"""Fixture modules, answered with the fixtures each one defines."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime

from fastapi import APIRouter, status
from pydantic import BaseModel, Field

from testyard.api.deps import CurrentUser, ProjectEditor, ProjectViewer, SessionDep
from testyard.api.schemas import UserRef
from testyard.db.models import FixtureModule
from testyard.services import fixtures

router = APIRouter(prefix="/projects/{pid}/fixtures", tags=["fixtures"])


class FixtureModuleCreate(BaseModel):
    name: str = Field(max_length=100)
    path: str | None = Field(
        default=None,
        max_length=255,
        description="conftest.py (default) at any depth, or a plugin module such as fixtures/db.py",
    )
    description: str = Field(default="", max_length=10_000)
    code: str = ""


class FixtureModuleUpdate(BaseModel):
    name: str | None = Field(default=None, max_length=100)
    path: str | None = Field(default=None, max_length=255)
    description: str | None = Field(default=None, max_length=10_000)
    code: str | None = None


class FixtureInfoPublic(BaseModel):
    name: str
    scope: str = Field(description="session, package, module, class, function or dynamic")
    scope_callable: str | None
    autouse: bool
    params: list[str] | None
    requests: list[str]
    line: int


class FixtureModulePublic(BaseModel):
    id: int
    name: str
    path: str
    description: str
    code: str
    author: UserRef | None
    created_at: datetime
    updated_at: datetime
    fixtures: list[FixtureInfoPublic]


def _public(module: FixtureModule) -> FixtureModulePublic:
    return FixtureModulePublic(
        id=module.id,
        name=module.name,
        path=module.path,
        description=module.description,
        code=module.code,
        author=UserRef.model_validate(module.author) if module.author else None,
        created_at=module.created_at,
        updated_at=module.updated_at,
        fixtures=[FixtureInfoPublic(**asdict(f)) for f in fixtures.fixtures_of(module)],
    )


@router.get("")
def list_fixture_modules(project: ProjectViewer, session: SessionDep) -> list[FixtureModulePublic]:
    """The project's fixture modules, ordered by path."""
    return [_public(m) for m in fixtures.list_fixture_modules(session, project)]


@router.post("", status_code=status.HTTP_201_CREATED)
def create_fixture_module(
    body: FixtureModuleCreate, project: ProjectEditor, user: CurrentUser, session: SessionDep
) -> FixtureModulePublic:
    """Add a fixture module; its code must compile."""
    fields = body.model_dump(exclude_none=True)
    return _public(fixtures.create_fixture_module(session, project, user, fields))


@router.get("/{fid}")
def get_fixture_module(
    fid: int, project: ProjectViewer, session: SessionDep
) -> FixtureModulePublic:
    """One fixture module with the fixtures it defines."""
    return _public(fixtures.get_fixture_module(session, project, fid))


@router.patch("/{fid}")
def update_fixture_module(
    fid: int, body: FixtureModuleUpdate, project: ProjectEditor, session: SessionDep
) -> FixtureModulePublic:
    """Change a fixture module; its code must still compile."""
    module = fixtures.get_fixture_module(session, project, fid)
    fields = body.model_dump(exclude_unset=True, exclude_none=True)
    return _public(fixtures.update_fixture_module(session, module, fields))


@router.delete("/{fid}", status_code=status.HTTP_204_NO_CONTENT)
def delete_fixture_module(fid: int, project: ProjectEditor, session: SessionDep) -> None:
    """Delete a fixture module."""
    fixtures.delete_fixture_module(session, fixtures.get_fixture_module(session, project, fid))
