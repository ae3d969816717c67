"""Environments of a project and their variables (secret ones are never shown)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from testyard.db.models import Environment, Project, Variable
from testyard.services import names
from testyard.services.errors import Conflict, Invalid, not_found

MAX_VALUE = 64 * 1024


def list_environments(session: Session, project: Project) -> list[Environment]:
    return list(
        session.scalars(
            select(Environment).where(Environment.project_id == project.id).order_by(Environment.id)
        )
    )


def get_environment(session: Session, project: Project, env_id: int) -> Environment:
    env = session.get(Environment, env_id)
    if env is None or env.project_id != project.id:
        raise not_found("environment", env_id)
    return env


def find_environment(session: Session, project: Project, name: str) -> Environment:
    env = session.scalar(
        select(Environment).where(Environment.project_id == project.id, Environment.name == name)
    )
    if env is None:
        raise Invalid(f"project has no environment named {name!r}", field="environment")
    return env


def create_environment(session: Session, project: Project, fields: dict[str, Any]) -> Environment:
    name = names.environment_name(fields["name"])
    _unique(session, project, name, None)
    env = Environment(project_id=project.id, name=name, description=fields.get("description", ""))
    session.add(env)
    session.flush()
    return env


def update_environment(session: Session, env: Environment, fields: dict[str, Any]) -> Environment:
    if "name" in fields:
        name = names.environment_name(fields["name"])
        _unique(session, session.get_one(Project, env.project_id), name, env.id)
        env.name = name
    if "description" in fields:
        env.description = fields["description"]
    session.flush()
    return env


def delete_environment(session: Session, env: Environment) -> None:
    session.delete(env)
    session.flush()


def _unique(session: Session, project: Project, name: str, own_id: int | None) -> None:
    other = session.scalar(
        select(Environment.id).where(Environment.project_id == project.id, Environment.name == name)
    )
    if other is not None and other != own_id:
        raise Conflict(f"an environment named {name!r} already exists", field="name")


def list_variables(session: Session, env: Environment) -> list[Variable]:
    return list(
        session.scalars(
            select(Variable).where(Variable.environment_id == env.id).order_by(Variable.name)
        )
    )


def get_variable(session: Session, env: Environment, var_id: int) -> Variable:
    var = session.get(Variable, var_id)
    if var is None or var.environment_id != env.id:
        raise not_found("variable", var_id)
    return var


def create_variable(session: Session, env: Environment, fields: dict[str, Any]) -> Variable:
    name = names.variable_name(fields["name"])
    _unique_variable(session, env, name, None)
    value = _value(fields.get("value", ""))
    var = Variable(
        environment_id=env.id,
        name=name,
        value=value,
        secret=bool(fields.get("secret", False)),
        description=fields.get("description", ""),
    )
    session.add(var)
    session.flush()
    return var


def update_variable(session: Session, var: Variable, fields: dict[str, Any]) -> Variable:
    if "name" in fields:
        name = names.variable_name(fields["name"])
        _unique_variable(session, session.get_one(Environment, var.environment_id), name, var.id)
        var.name = name
    if fields.get("value") is not None:
        var.value = _value(fields["value"])
    for key in ("secret", "description"):
        if key in fields and fields[key] is not None:
            setattr(var, key, fields[key])
    session.flush()
    return var


def delete_variable(session: Session, var: Variable) -> None:
    session.delete(var)
    session.flush()


def _value(value: str) -> str:
    if len(value) > MAX_VALUE:
        raise Invalid(f"value must be at most {MAX_VALUE} characters", field="value")
    if "\x00" in value:
        raise Invalid("value must not contain NUL characters", field="value")
    return value


def _unique_variable(session: Session, env: Environment, name: str, own_id: int | None) -> None:
    other = session.scalar(
        select(Variable.id).where(Variable.environment_id == env.id, Variable.name == name)
    )
    if other is not None and other != own_id:
        raise Conflict(f"variable {name!r} already exists in {env.name!r}", field="name")
