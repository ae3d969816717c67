"""Environments and their variables; secret values only through ``reveal``."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, status
from pydantic import BaseModel, Field

from testyard.api.deps import ProjectEditor, ProjectViewer, SessionDep
from testyard.api.schemas import Public
from testyard.db.models import Variable
from testyard.services import environments as envs

router = APIRouter(prefix="/projects/{pid}/environments", tags=["environments"])

MASK = "********"


class EnvironmentCreate(BaseModel):
    name: str = Field(max_length=64)
    description: str = Field(default="", max_length=10_000)


class EnvironmentUpdate(BaseModel):
    name: str | None = Field(default=None, max_length=64)
    description: str | None = Field(default=None, max_length=10_000)


class EnvironmentPublic(Public):
    id: int
    name: str
    description: str
    created_at: datetime


class VariableCreate(BaseModel):
    name: str = Field(max_length=128)
    value: str = ""
    secret: bool = False
    description: str = Field(default="", max_length=10_000)


class VariableUpdate(BaseModel):
    name: str | None = Field(default=None, max_length=128)
    value: str | None = Field(default=None, description="omit to keep a secret's value")
    secret: bool | None = None
    description: str | None = Field(default=None, max_length=10_000)


class VariablePublic(BaseModel):
    id: int
    name: str
    value: str | None = Field(description=f"{MASK!r} for a secret (see reveal)")
    secret: bool
    description: str


class VariableRevealed(BaseModel):
    id: int
    name: str
    value: str


def _public(var: Variable) -> VariablePublic:
    return VariablePublic(
        id=var.id,
        name=var.name,
        value=MASK if var.secret else var.value,
        secret=var.secret,
        description=var.description,
    )


@router.get("")
def list_environments(project: ProjectViewer, session: SessionDep) -> list[EnvironmentPublic]:
    """The project's environments."""
    return [EnvironmentPublic.model_validate(e) for e in envs.list_environments(session, project)]


@router.post("", status_code=status.HTTP_201_CREATED)
def create_environment(
    body: EnvironmentCreate, project: ProjectEditor, session: SessionDep
) -> EnvironmentPublic:
    """Add an environment (dev, qa, prod…)."""
    return EnvironmentPublic.model_validate(
        envs.create_environment(session, project, body.model_dump())
    )


@router.get("/{eid}")
def get_environment(eid: int, project: ProjectViewer, session: SessionDep) -> EnvironmentPublic:
    """One environment."""
    return EnvironmentPublic.model_validate(envs.get_environment(session, project, eid))


@router.patch("/{eid}")
def update_environment(
    eid: int, body: EnvironmentUpdate, project: ProjectEditor, session: SessionDep
) -> EnvironmentPublic:
    """Rename an environment or change its description."""
    env = envs.get_environment(session, project, eid)
    return EnvironmentPublic.model_validate(
        envs.update_environment(
            session, env, body.model_dump(exclude_unset=True, exclude_none=True)
        )
    )


@router.delete("/{eid}", status_code=status.HTTP_204_NO_CONTENT)
def delete_environment(eid: int, project: ProjectEditor, session: SessionDep) -> None:
    """Delete an environment and its variables."""
    envs.delete_environment(session, envs.get_environment(session, project, eid))


@router.get("/{eid}/variables")
def list_variables(eid: int, project: ProjectViewer, session: SessionDep) -> list[VariablePublic]:
    """The environment's variables; secret values are masked."""
    env = envs.get_environment(session, project, eid)
    return [_public(v) for v in envs.list_variables(session, env)]


@router.post("/{eid}/variables", status_code=status.HTTP_201_CREATED)
def create_variable(
    eid: int, body: VariableCreate, project: ProjectEditor, session: SessionDep
) -> VariablePublic:
    """Add a variable; its name must be a valid identifier."""
    env = envs.get_environment(session, project, eid)
    return _public(envs.create_variable(session, env, body.model_dump()))


@router.get("/{eid}/variables/{vid}")
def get_variable(eid: int, vid: int, project: ProjectViewer, session: SessionDep) -> VariablePublic:
    """One variable (masked if secret)."""
    env = envs.get_environment(session, project, eid)
    return _public(envs.get_variable(session, env, vid))


@router.patch("/{eid}/variables/{vid}")
def update_variable(
    eid: int, vid: int, body: VariableUpdate, project: ProjectEditor, session: SessionDep
) -> VariablePublic:
    """Change a variable; a secret keeps its value unless a new one is given."""
    env = envs.get_environment(session, project, eid)
    var = envs.get_variable(session, env, vid)
    return _public(
        envs.update_variable(session, var, body.model_dump(exclude_unset=True, exclude_none=True))
    )


@router.delete("/{eid}/variables/{vid}", status_code=status.HTTP_204_NO_CONTENT)
def delete_variable(eid: int, vid: int, project: ProjectEditor, session: SessionDep) -> None:
    """Delete a variable."""
    env = envs.get_environment(session, project, eid)
    envs.delete_variable(session, envs.get_variable(session, env, vid))


@router.post("/{eid}/variables/{vid}/reveal")
def reveal_variable(
    eid: int, vid: int, project: ProjectEditor, session: SessionDep
) -> VariableRevealed:
    """A variable's real value, secret or not; editors only."""
    env = envs.get_environment(session, project, eid)
    var = envs.get_variable(session, env, vid)
    return VariableRevealed(id=var.id, name=var.name, value=var.value)
