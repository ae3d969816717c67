"""Project roles and the checks every route makes on the server.

Roles are ordered: a viewer reads, a runner also runs, an editor also edits, an owner
also manages members and deletes the project. Admins may do everything everywhere.
"""

from __future__ import annotations

from enum import IntEnum

from sqlalchemy import select
from sqlalchemy.orm import Session

from testyard.db.models import Project, ProjectMember, User
from testyard.services.errors import Forbidden, Invalid, not_found, possible_id


class Role(IntEnum):
    viewer = 1
    runner = 2
    editor = 3
    owner = 4

    @classmethod
    def parse(cls, name: str) -> Role:
        try:
            return cls[name]
        except KeyError:
            raise Invalid(
                f"unknown role {name!r}; one of {', '.join(r.name for r in cls)}", field="role"
            ) from None


def role_in(session: Session, user: User, project_id: int) -> Role | None:
    """The user's role in the project (admins count as owners), or None."""
    if user.is_admin:
        return Role.owner
    role = session.scalar(
        select(ProjectMember.role).where(
            ProjectMember.project_id == project_id, ProjectMember.user_id == user.id
        )
    )
    return Role[role] if role else None


def require(session: Session, user: User, project_id: int, needed: Role) -> Project:
    """Return the project if ``user`` holds at least ``needed`` in it.

    A project the user cannot see at all answers 404, so ids of other teams' projects
    do not leak; a role that is too low answers 403.
    """
    project = session.get(Project, project_id) if possible_id(project_id) else None
    role = role_in(session, user, project_id) if project else None
    if project is None or role is None:
        raise not_found("project", project_id)
    if role < needed:
        raise Forbidden(f"this needs the {needed.name} role in project {project.name!r}")
    return project


def require_admin(user: User) -> None:
    if not user.is_admin:
        raise Forbidden("this needs an administrator")
