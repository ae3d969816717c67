"""Fixture modules: ``conftest.py`` files and plugin modules of pytest fixtures."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from testyard.db.models import FixtureModule, Project, User
from testyard.services import names
from testyard.services.code_analysis import FixtureInfo, find_fixtures
from testyard.services.errors import Conflict, Invalid, not_found
from testyard.services.sources import check_code, check_path_free

EDITABLE = {"name", "path", "description", "code"}


def list_fixture_modules(session: Session, project: Project) -> list[FixtureModule]:
    return list(
        session.scalars(
            select(FixtureModule)
            .where(FixtureModule.project_id == project.id)
            .order_by(FixtureModule.path)
        )
    )


def get_fixture_module(session: Session, project: Project, module_id: int) -> FixtureModule:
    module = session.get(FixtureModule, module_id)
    if module is None or module.project_id != project.id:
        raise not_found("fixture module", module_id)
    return module


def create_fixture_module(
    session: Session, project: Project, author: User, fields: dict[str, Any]
) -> FixtureModule:
    _check_fields(fields)
    name = names.display_name(fields["name"])
    path = fields.get("path") or "conftest.py"
    path = check_code_and_path(session, project, fields.get("code", ""), path, None)
    _unique_name(session, project, name, None)
    module = FixtureModule(
        project_id=project.id,
        name=name,
        path=path,
        description=fields.get("description", ""),
        code=fields.get("code", ""),
        author_id=author.id,
    )
    session.add(module)
    session.flush()
    return module


def update_fixture_module(
    session: Session, module: FixtureModule, fields: dict[str, Any]
) -> FixtureModule:
    _check_fields(fields)
    project = session.get_one(Project, module.project_id)
    if "name" in fields:
        fields["name"] = names.display_name(fields["name"])
        _unique_name(session, project, fields["name"], module.id)
    fields["path"] = check_code_and_path(
        session,
        project,
        fields.get("code", module.code),
        fields.get("path", module.path),
        module.id,
    )
    for key, value in fields.items():
        setattr(module, key, value)
    session.flush()
    return module


def delete_fixture_module(session: Session, module: FixtureModule) -> None:
    session.delete(module)
    session.flush()


def fixtures_of(module: FixtureModule) -> list[FixtureInfo]:
    """The fixtures the module defines, read from its syntax tree."""
    return find_fixtures(module.code)


def check_code_and_path(
    session: Session, project: Project, code: str, path: str, own_id: int | None
) -> str:
    path = check_path_free(session, project, path, kind="fixture", own=("fixture", own_id))
    check_code(code, path)
    return path


def _check_fields(fields: dict[str, Any]) -> None:
    unknown = set(fields) - EDITABLE
    if unknown:
        raise Invalid(f"unknown fields {sorted(unknown)}")


def _unique_name(session: Session, project: Project, name: str, own_id: int | None) -> None:
    other = session.scalar(
        select(FixtureModule.id).where(
            FixtureModule.project_id == project.id, FixtureModule.name == name
        )
    )
    if other is not None and other != own_id:
        raise Conflict(f"a fixture module named {name!r} already exists", field="name")
