"""Rules shared by everything that lands as a file in a run's workspace: cases and
fixture modules. Their paths share one namespace per project and their code must compile."""

from __future__ import annotations

from typing import Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from testyard.db.models import Case, FixtureModule, Project
from testyard.services.code_analysis import CodeSyntaxError, check_compiles
from testyard.services.errors import Conflict, Invalid
from testyard.services.paths import PathError, validate_relative_path

MAX_CODE = 512 * 1024


def check_code(code: str, path: str) -> None:
    """422 naming line and column when ``code`` does not compile."""
    if len(code) > MAX_CODE:
        raise Invalid(f"code must be at most {MAX_CODE} characters", field="code")
    try:
        check_compiles(code, path)
    except CodeSyntaxError as exc:
        raise SourceSyntaxError(exc) from exc


class SourceSyntaxError(Invalid):
    code = "syntax_error"

    def __init__(self, exc: CodeSyntaxError) -> None:
        super().__init__(exc.message, field="code")
        self.line = exc.line
        self.column = exc.column


def path_taken(session: Session, project: Project, path: str) -> str | None:
    """What already sits at ``path`` in the project: ``case:ID``, ``fixture:ID`` or None."""
    case_id = session.scalar(
        select(Case.id).where(Case.project_id == project.id, Case.path == path)
    )
    if case_id is not None:
        return f"case:{case_id}"
    fixture_id = session.scalar(
        select(FixtureModule.id).where(
            FixtureModule.project_id == project.id, FixtureModule.path == path
        )
    )
    return f"fixture:{fixture_id}" if fixture_id is not None else None


def check_path_free(
    session: Session,
    project: Project,
    path: str,
    *,
    kind: Literal["case", "fixture"],
    own: tuple[str, int | None],
) -> str:
    """Validate ``path`` and make sure no other case or fixture module holds it."""
    try:
        path = validate_relative_path(path, kind=kind)
    except PathError as exc:
        raise Invalid(str(exc), field="path") from exc
    holder = path_taken(session, project, path)
    if holder is not None and holder != f"{own[0]}:{own[1]}":
        raise Conflict(f"{path!r} is already used by {holder.replace(':', ' ')}", field="path")
    return path
