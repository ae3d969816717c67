"""Project exchange: export a runnable zip, import an existing pytest project."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Form, HTTPException, Query, Request, UploadFile, status
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field

from testyard.api.deps import CurrentUser, ProjectViewer, SessionDep
from testyard.services.environments import find_environment
from testyard.workspace import archive, export, importer

router = APIRouter(tags=["exchange"])

#: A zipped project may be larger than an ordinary request (see api/limits.py).
IMPORT_MAX_BYTES = 50 * 1024 * 1024


class SkippedFile(BaseModel):
    path: str
    reason: str


class Imported(BaseModel):
    id: int
    name: str
    fixtures: int
    cases: int
    environment: str | None
    not_imported: list[SkippedFile] = Field(description="what could not be taken in, and why")


@router.get("/projects/{pid}/export")
def export_project(
    project: ProjectViewer,
    session: SessionDep,
    request: Request,
    environment: Annotated[
        str | None, Query(description="required: the environment whose variables to write")
    ] = None,
    include_cases: bool = False,
) -> StreamingResponse:
    """The project as a zip that runs with plain pytest (cases only when asked)."""
    if not environment:
        raise HTTPException(400, "give ?environment=NAME: an export is for one environment")
    env = find_environment(session, project, environment)
    name = export.archive_name(project, env.name)
    chunks = export.stream_zip(request.app.state.sessions, project.id, env.id, include_cases)
    return StreamingResponse(
        chunks,
        media_type="application/zip",
        headers={"Content-Disposition": export.content_disposition(name)},
    )


@router.post("/projects/import", status_code=status.HTTP_201_CREATED)
async def import_project(
    user: CurrentUser,
    session: SessionDep,
    file: Annotated[UploadFile, File(description="a zip of a pytest project")],
    name: Annotated[str | None, Form(max_length=100)] = None,
) -> Imported:
    """Create a project from a zipped pytest project or a testyard export."""
    data = await file.read()
    files = archive.read_zip(data)
    plan = importer.plan_import(files)
    default = (file.filename or "imported").removesuffix(".zip")
    project = importer.import_project(session, user, plan, name or default)
    return Imported(
        id=project.id,
        name=project.name,
        fixtures=len(plan.fixtures),
        cases=len(plan.cases),
        environment=plan.environment,
        not_imported=[SkippedFile(path=s.path, reason=s.reason) for s in plan.skipped],
    )
