"""Projects and their members."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import Select, exists, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from testyard.db.models import Project, ProjectMember, User
from testyard.execution.pyenvs import parse_requirements
from testyard.services import names
from testyard.services.access import Role
from testyard.services.errors import Conflict, Invalid, not_found

EDITABLE = {"name", "description", "requirements", "pytest_options", "allure"}


def visible_projects(user: User) -> Select[Project]:
    query = select(Project)
    if not user.is_admin:
        query = query.where(
            exists().where(ProjectMember.project_id == Project.id, ProjectMember.user_id == user.id)
        )
    return query


def create_project(session: Session, owner: User, fields: dict[str, Any]) -> Project:
    _check(fields)
    _unique_name(session, fields["name"], None)
    project = Project(**fields)
    session.add(project)
    session.flush()
    session.add(ProjectMember(project_id=project.id, user_id=owner.id, role=Role.owner.name))
    session.flush()
    return project


def update_project(session: Session, project: Project, fields: dict[str, Any]) -> Project:
    _check(fields)
    if "name" in fields:
        _unique_name(session, fields["name"], project.id)
    for key, value in fields.items():
        setattr(project, key, value)
    session.flush()
    return project


def delete_project(session: Session, project: Project) -> None:
    session.delete(project)
    session.flush()


def _check(fields: dict[str, Any]) -> None:
    unknown = set(fields) - EDITABLE
    if unknown:
        raise Invalid(f"unknown fields {sorted(unknown)}")
    if "name" in fields:
        fields["name"] = names.display_name(fields["name"], field="name")
    if "pytest_options" in fields:
        fields["pytest_options"] = check_pytest_options(fields["pytest_options"])
    if fields.get("requirements"):
        try:
            parse_requirements(fields["requirements"])
        except ValueError as exc:
            raise Invalid(str(exc), field="requirements") from exc


OPTION_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,63}$")


def check_pytest_options(options: dict[str, Any]) -> dict[str, str]:
    """pytest ini options: names as pytest spells them, text values (lists as lines)."""
    clean = {}
    for name, value in options.items():
        if not OPTION_NAME.match(name):
            raise Invalid(f"{name[:60]!r} is not a pytest ini option name", field="pytest_options")
        text = "\n".join(map(str, value)) if isinstance(value, list) else str(value)
        if "\x00" in text or len(text) > 10_000:
            raise Invalid(f"the value of {name} is not usable", field="pytest_options")
        clean[name] = text
    return clean


def _unique_name(session: Session, name: str, own_id: int | None) -> None:
    other = session.scalar(select(Project.id).where(Project.name == name))
    if other is not None and other != own_id:
        raise Conflict(f"a project named {name!r} already exists", field="name")


def list_members(session: Session, project: Project) -> list[ProjectMember]:
    return list(
        session.scalars(
            select(ProjectMember)
            .where(ProjectMember.project_id == project.id)
            .order_by(ProjectMember.user_id)
        )
    )


def set_member(session: Session, project: Project, user: User, role: str) -> ProjectMember:
    """Add ``user`` to the project or change their role."""
    parsed = Role.parse(role)
    member = session.get(ProjectMember, (project.id, user.id))
    if member is None:
        member = ProjectMember(project_id=project.id, user_id=user.id, role=parsed.name)
        session.add(member)
    else:
        _keep_an_owner(session, project, member, parsed)
        member.role = parsed.name
    try:
        session.flush()
    except IntegrityError as exc:
        raise Conflict("membership changed concurrently; try again") from exc
    return member


def remove_member(session: Session, project: Project, user_id: int) -> None:
    member = session.get(ProjectMember, (project.id, user_id))
    if member is None:
        raise not_found("member", user_id)
    _keep_an_owner(session, project, member, None)
    session.delete(member)
    session.flush()


def _keep_an_owner(
    session: Session, project: Project, member: ProjectMember, new_role: Role | None
) -> None:
    if member.role != Role.owner.name or new_role == Role.owner:
        return
    owners = session.scalars(
        select(ProjectMember.user_id).where(
            ProjectMember.project_id == project.id, ProjectMember.role == Role.owner.name
        )
    ).all()
    if len(owners) <= 1:
        raise Conflict("a project keeps at least one owner", field="role")


def get_project(session: Session, project_id: int) -> Project:
    project = session.get(Project, project_id)
    if project is None:
        raise not_found("project", project_id)
    return project
