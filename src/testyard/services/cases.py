"""Cases: pytest test modules, each at its ``path`` in the project."""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from testyard.db.models import Case, CaseTag, Project, User
from testyard.services import names
from testyard.services.errors import Conflict, Invalid, not_found
from testyard.services.pages import Page, order_by, paginate
from testyard.services.paths import default_case_path
from testyard.services.sources import check_code, check_path_free, path_taken

EDITABLE = {"name", "path", "description", "code", "tags", "version"}
ORDERABLE = {"id", "name", "path", "created_at", "updated_at"}
MAX_TAGS = 20
TAG = re.compile(r"^[^\s,]{1,50}$")


def query_cases(
    project: Project,
    *,
    q: str | None = None,
    tag: str | None = None,
    code: str | None = None,
    search: str | None = None,
) -> Select[Case]:
    """Cases of the project, filtered by keyword (name, description), tag, code substring
    and ``search``, a substring of the name, description, code or a tag (keyword, code
    and search ignore case; tag matches whole)."""
    query = select(Case).where(Case.project_id == project.id)
    if search:
        tagged = select(CaseTag.case_id).where(CaseTag.tag.icontains(search, autoescape=True))
        query = query.where(
            Case.name.icontains(search, autoescape=True)
            | Case.description.icontains(search, autoescape=True)
            | Case.code.icontains(search, autoescape=True)
            | Case.id.in_(tagged)
        )
    if q:
        query = query.where(
            Case.name.icontains(q, autoescape=True) | Case.description.icontains(q, autoescape=True)
        )
    if tag:
        query = query.where(Case.id.in_(select(CaseTag.case_id).where(CaseTag.tag == tag)))
    if code:
        # icontains, not contains: LIKE ignores case on SQLite but not on PostgreSQL.
        query = query.where(Case.code.icontains(code, autoescape=True))
    return query


def list_cases(
    session: Session,
    project: Project,
    *,
    page: int = 1,
    per_page: int = 50,
    order: str | None = None,
    **filters: str | None,
) -> Page[Case]:
    query = order_by(query_cases(project, **filters), Case, order, ORDERABLE)
    return paginate(session, query, page=page, per_page=per_page)


def get_case(session: Session, project: Project, case_id: int) -> Case:
    case = session.get(Case, case_id)
    if case is None or case.project_id != project.id:
        raise not_found("case", case_id)
    return case


def create_case(session: Session, project: Project, author: User, fields: dict[str, Any]) -> Case:
    _check_fields(fields)
    name = names.display_name(fields["name"], max_length=200)
    path = fields.get("path") or _free_default_path(session, project, name)
    path = check_path_free(session, project, path, kind="case", own=("case", None))
    code = fields.get("code", "")
    check_code(code, path)
    case = Case(
        project_id=project.id,
        name=name,
        path=path,
        description=fields.get("description", ""),
        code=code,
        author_id=author.id,
    )
    _set_tags(case, fields.get("tags", []))
    session.add(case)
    session.flush()
    return case


def update_case(session: Session, case: Case, fields: dict[str, Any]) -> Case:
    """Apply ``fields``; a stale ``version`` (someone saved in between) is a 409."""
    _check_fields(fields)
    version = fields.pop("version", None)
    if version is not None and version != case.version:
        raise Conflict(
            f"case was changed by someone else (version {case.version}, yours {version}); "
            "reload it before saving",
            field="version",
        )
    project = session.get_one(Project, case.project_id)
    if "name" in fields:
        fields["name"] = names.display_name(fields["name"], max_length=200)
    path = check_path_free(
        session, project, fields.get("path", case.path), kind="case", own=("case", case.id)
    )
    check_code(fields.get("code", case.code), path)
    fields["path"] = path
    if "tags" in fields:
        _set_tags(case, fields.pop("tags"))
    for key, value in fields.items():
        setattr(case, key, value)
    case.version += 1
    session.flush()
    return case


def copy_case(
    session: Session, case: Case, author: User, fields: dict[str, Any] | None = None
) -> Case:
    """A new case with the same code, description and tags, at a free path."""
    fields = dict(fields or {})
    project = session.get_one(Project, case.project_id)
    name = fields.get("name") or f"{case.name} (copy)"
    return create_case(
        session,
        project,
        author,
        {
            "name": name,
            "path": fields.get("path") or _free_default_path(session, project, name),
            "description": case.description,
            "code": case.code,
            "tags": case.tags,
        },
    )


def delete_case(session: Session, case: Case) -> None:
    # plan_cases rows go with it (ON DELETE CASCADE): the case leaves every plan.
    session.delete(case)
    session.flush()


def _free_default_path(session: Session, project: Project, name: str) -> str:
    base = default_case_path(name)
    if path_taken(session, project, base) is None:
        return base
    stem = base.removesuffix(".py")
    for n in range(2, 1000):
        candidate = f"{stem}_{n}.py"
        if path_taken(session, project, candidate) is None:
            return candidate
    raise Conflict("no free path for this name; give a path", field="path")


def _set_tags(case: Case, tags: list[str]) -> None:
    # Keep the rows of tags that stay: re-adding a row with the same key would be an
    # INSERT before the DELETE of the old one.
    wanted = _tags(tags)
    kept = [row for row in case.tag_rows if row.tag in wanted]
    have = {row.tag for row in kept}
    new = [CaseTag(tag=t) for t in wanted if t not in have]
    case.tag_rows = sorted(kept + new, key=lambda row: row.tag)  # as the relationship orders


def _tags(tags: list[str]) -> list[str]:
    if len(tags) > MAX_TAGS:
        raise Invalid(f"at most {MAX_TAGS} tags", field="tags")
    clean = []
    for tag in tags:
        tag = tag.strip()
        if not TAG.match(tag) or any(unicodedata.category(c) == "Cc" for c in tag):
            raise Invalid(
                f"tag {tag[:60]!r} must be 1-50 characters without spaces or commas", field="tags"
            )
        clean.append(tag)
    return sorted(set(clean))


def _check_fields(fields: dict[str, Any]) -> None:
    unknown = set(fields) - EDITABLE
    if unknown:
        raise Invalid(f"unknown fields {sorted(unknown)}")
