"""Runs: start one, follow it, read its results and artifacts, cancel it."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, BackgroundTasks, Depends, Query, Request, status
from fastapi.responses import FileResponse, StreamingResponse
from pydantic import AliasPath, BaseModel, Field

from testyard.api.deps import CurrentUser, ProjectRunner, ProjectViewer, SessionDep, SettingsDep
from testyard.api.plans import Dist, Workers
from testyard.api.schemas import Page, PageNo, PerPage, Public, UserRef
from testyard.db.models import Project, Run
from testyard.events.publisher import RunEvents
from testyard.events.store import done_message, status_message, store_events
from testyard.execution import shard_files, shards
from testyard.execution.ingest import final_counts
from testyard.reports import html
from testyard.services import pages, results, runs
from testyard.services.access import Role, require
from testyard.services.errors import NotFound
from testyard.workspace.export import content_disposition

router = APIRouter(tags=["runs"])

ARTIFACTS = {
    "log": "log.txt",
    "log.txt": "log.txt",
    "junit.xml": "junit.xml",
    "allure.zip": "allure.zip",
}
#: The stored artifacts a run lists (when present), by the name the download route takes.
LISTED_ARTIFACTS = ("junit.xml", "log", "allure.zip")
MEDIA_TYPES = {"junit.xml": "application/xml", "allure.zip": "application/zip"}
Outcome = Literal["passed", "failed", "error", "skipped", "xfailed", "xpassed", "pending"]
Status = Literal[
    "queued", "running", "passed", "failed", "error", "cancelled", "timed_out", "interrupted"
]


class RunCreate(BaseModel):
    case_ids: list[int] | None = Field(default=None, max_length=10_000)
    plan_id: int | None = None
    tags: list[str] | None = Field(default=None, max_length=20)
    environment: str | None = Field(default=None, description="environment name")
    workers: Workers | None = None
    dist: Dist | None = None
    retries: int | None = Field(default=None, ge=0, le=10)
    timeout_s: int | None = Field(default=None, ge=1, le=7 * 24 * 3600)
    test_timeout_s: int | None = Field(default=None, ge=1, le=24 * 3600)
    source: Literal["manual", "api", "cli"] = "api"


class RerunBody(BaseModel):
    failed_only: bool = Field(
        default=False, description="run only the node ids that ended failed or error"
    )


class RunCreated(BaseModel):
    id: int
    status: str
    ws_url: str


class RunPublic(Public):
    id: int
    project_id: int
    plan_id: int | None
    title: str
    source: str
    triggered_by: UserRef | None
    environment: str | None
    status: str
    workers: str
    dist: str
    retries: int
    timeout_s: int | None
    test_timeout_s: int | None
    case_ids: list[int]
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    wall_s: float | None
    collected: int | None
    counts: dict[str, int]
    exit_code: int | None
    error: str | None
    executor: str = Field(description="local (this server) or celery (shards on workers)")
    last_seq: int = Field(
        description="the seq of the run's latest stored event: follow its socket after it"
    )
    rerun_of: int | None = Field(
        default=None,
        validation_alias=AliasPath("snapshot", "rerun_of"),
        description="the run this one re-runs",
    )
    failed_only: bool = Field(
        default=False,
        validation_alias=AliasPath("snapshot", "failed_only"),
        description="a re-run of only the tests that failed or errored",
    )


class ArtifactPublic(BaseModel):
    name: str = Field(description="the name GET /runs/{rid}/artifacts/{name} takes")
    filename: str
    size_bytes: int = Field(description="0 for an artifact made when downloaded")
    generated: bool = Field(
        default=False,
        description="made from the stored results when downloaded (report.html): "
        "always up to date, its size unknown until then",
    )


class ShardPublic(Public):
    index: int
    status: str = Field(description="pending, queued, running or done")
    paths: list[str] = Field(description="the case files it runs")
    expected_s: float = Field(description="recorded seconds of its tests (what it was balanced by)")
    worker: str | None
    deliveries: int = Field(description="how often a worker took it (2+: its worker died)")
    started_at: datetime | None
    finished_at: datetime | None
    outcome: str | None
    collected: int | None


class RunDetail(RunPublic):
    artifacts: list[ArtifactPublic] = Field(default_factory=list)
    shards: list[ShardPublic] = Field(
        default_factory=list, description="the run's parts on workers (celery executor)"
    )
    waiting: str | None = Field(
        default=None, description="why the run makes no progress now (no live worker)"
    )
    notices: list[dict[str, Any]] = Field(
        default_factory=list,
        description="the run's stored notice events (seq, level, message), oldest first",
    )


class ResultPublic(Public):
    id: int
    nodeid: str
    case_id: int | None
    outcome: str
    worker: str
    attempt: int
    final: bool
    flaky: bool
    duration_s: float
    cpu_s: float | None = Field(
        default=None, description="CPU seconds of the process that ran it (None: not measured)"
    )
    started_at: datetime | None
    finished_at: datetime | None
    message: str
    longrepr: str
    stdout: str
    stderr: str
    log: str


class SnapshotFile(BaseModel):
    path: str
    name: str
    code: str
    kind: Literal["case", "fixture"]


class SnapshotPublic(BaseModel):
    files: list[SnapshotFile]
    variables: dict[str, str] = Field(description="secret values are masked")
    requirements: str


def ws_url(run_id: int) -> str:
    return f"/ws/runs/{run_id}"


def _run_with(role: Role) -> Any:
    def dependency(rid: int, user: CurrentUser, session: SessionDep) -> Run:
        run = session.get(Run, rid)
        if run is None:
            raise NotFound(f"run {rid} not found")
        try:
            require(session, user, run.project_id, role)
        except NotFound:
            raise NotFound(f"run {rid} not found") from None
        return run

    return dependency


RunViewer = Annotated[Run, Depends(_run_with(Role.viewer))]
RunRunner = Annotated[Run, Depends(_run_with(Role.runner))]


def _events(request: Request) -> RunEvents:
    events: RunEvents = request.app.state.events
    return events


def _wake(request: Request) -> None:
    dispatcher = getattr(request.app.state, "dispatcher", None)
    if dispatcher is not None:
        dispatcher.wake()


@router.post("/projects/{pid}/runs", status_code=status.HTTP_202_ACCEPTED)
def create_run(
    body: RunCreate,
    project: ProjectRunner,
    user: CurrentUser,
    session: SessionDep,
    request: Request,
    background: BackgroundTasks,
) -> RunCreated:
    """Queue a run of cases, of a plan, or of the cases with tags; answers at once."""
    overrides = body.model_dump(
        include={"workers", "dist", "retries", "timeout_s", "test_timeout_s"}
    )
    run = runs.create_run(
        session,
        project,
        user,
        case_ids=body.case_ids,
        plan_id=body.plan_id,
        tags=body.tags,
        environment=body.environment,
        source=body.source,
        overrides=overrides,
    )
    # After the commit: the dispatcher and the project's live lists see a stored run.
    # "queued" is told before the dispatcher is woken, so watchers see it before "running".
    background.add_task(_events(request).publish_status, project.id, status_message(run))
    background.add_task(_wake, request)
    return RunCreated(id=run.id, status=run.status, ws_url=ws_url(run.id))


@router.get("/projects/{pid}/runs")
def list_runs(
    project: ProjectViewer,
    session: SessionDep,
    plan_id: int | None = None,
    case_id: int | None = None,
    status: Status | None = None,
    source: Literal["manual", "api", "cli", "schedule", "watch"] | None = None,
    user_id: int | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    page: PageNo = 1,
    per_page: PerPage = 50,
) -> Page[RunPublic]:
    """Run history, newest first, filtered by plan, case, status, source, user, dates."""
    filters = {
        "plan_id": plan_id,
        "case_id": case_id,
        "status": status,
        "source": source,
        "user_id": user_id,
        "since": since,
        "until": until,
    }
    query = results.run_filters(project.id, filters)
    found = pages.paginate(session, query, page=page, per_page=per_page)
    return Page.of(found, RunPublic.model_validate)


@router.post("/runs/{rid}/rerun", status_code=status.HTTP_202_ACCEPTED)
def rerun(
    body: RerunBody,
    run: RunRunner,
    user: CurrentUser,
    session: SessionDep,
    request: Request,
    background: BackgroundTasks,
) -> RunCreated:
    """Queue the run again: the same cases (as they are now), plan, environment and
    settings, started by the caller. ``failed_only``: only the tests that ended failed
    or error (400 when none did)."""
    again = runs.rerun(session, run, user, failed_only=body.failed_only)
    background.add_task(_events(request).publish_status, again.project_id, status_message(again))
    background.add_task(_wake, request)
    return RunCreated(id=again.id, status=again.status, ws_url=ws_url(again.id))


@router.get("/runs/{rid}")
def get_run(run: RunViewer, session: SessionDep, settings: SettingsDep) -> RunDetail:
    """One run: its status, settings, counts, timing and downloadable artifacts; under
    the celery executor, its shards and whether it waits for a worker."""
    folder = _artifacts_folder(session, settings, run)
    artifacts = []
    if run.status != "queued":
        artifacts.append(
            ArtifactPublic(name=html.NAME, filename=html.NAME, size_bytes=0, generated=True)
        )
    for name in LISTED_ARTIFACTS:
        path = folder / ARTIFACTS[name]
        if path.is_file():
            size = path.stat().st_size
            artifacts.append(ArtifactPublic(name=name, filename=path.name, size_bytes=size))
    detail = RunDetail.model_validate(run)
    detail.artifacts = artifacts
    if run.executor == "celery":
        detail.shards = [ShardPublic.model_validate(s) for s in shards.shards_of(session, run.id)]
        detail.waiting = shards.waiting_reason(session, run, settings.worker_heartbeat_s)
        detail.notices = shards.notices_of(session, run.id)
    return detail


def _artifacts_folder(session: SessionDep, settings: SettingsDep, run: Run) -> Path:
    """The run's artifacts; a finished sharded run's are joined from its shards' first."""
    folder = settings.artifacts_dir / str(run.id)
    if run.executor == "celery" and run.status in runs.FINISHED:
        shard_files.materialize(session, run.id, folder)
    return folder


@router.get("/runs/{rid}/results")
def list_results(
    run: RunViewer,
    session: SessionDep,
    outcome: Outcome | None = None,
    attempts: Annotated[Literal["final", "all"], Query(description="all: every retry")] = "final",
    page: PageNo = 1,
    per_page: Annotated[int, Query(ge=1, le=results.MAX_RESULTS_PER_PAGE)] = 200,
) -> Page[ResultPublic]:
    """The run's results: the final attempt per node id, or every attempt."""
    found = results.list_results(
        session,
        run.id,
        outcome=outcome,
        all_attempts=attempts == "all",
        page=page,
        per_page=per_page,
    )
    return Page.of(found, ResultPublic.model_validate)


@router.get("/runs/{rid}/snapshot")
def get_snapshot(run: RunViewer) -> SnapshotPublic:
    """Exactly what the run ran: its cases and fixture modules as they were."""
    snap = run.snapshot
    files = [
        SnapshotFile(path=f["path"], name=f["name"], code=f["code"], kind="fixture")
        for f in snap.get("fixtures", [])
    ]
    files += [
        SnapshotFile(path=c["path"], name=c["name"], code=c["code"], kind="case")
        for c in snap.get("cases", [])
    ]
    variables = dict(snap.get("variables", {}))
    variables.update({name: "********" for name in snap.get("secrets", {})})
    return SnapshotPublic(
        files=files, variables=variables, requirements=snap.get("requirements", "")
    )


@router.post("/runs/{rid}/cancel")
def cancel_run(
    run: RunRunner, session: SessionDep, request: Request, background: BackgroundTasks
) -> RunPublic:
    """Stop a queued or running run at once; results already received are kept."""
    cancelled = runs.set_run_status(
        session, run.id, "cancelled", counts=final_counts(session, run.id)
    )
    stored = store_events(session, run.id, [done_message(cancelled)])
    executor = getattr(request.app.state, "executor", None)
    if executor is not None:
        background.add_task(executor.cancel, run.id)
    background.add_task(_events(request).publish, run.id, stored)
    background.add_task(_events(request).publish_status, run.project_id, status_message(cancelled))
    return RunPublic.model_validate(cancelled)


@router.get(
    "/runs/{rid}/artifacts/report.html",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/html": {}}, "description": "the report"}},
)
def get_report(
    run: RunViewer,
    session: SessionDep,
    request: Request,
    inline: Annotated[bool, Query(description="show it in the browser, not a download")] = False,
) -> StreamingResponse:
    """The run's report as one HTML file, made from its stored results now (a running
    run's shows the results so far): summary, failures with traceback and output,
    every test, environment, who and what started it. Readable offline."""
    if run.status == "queued":
        raise NotFound(f"run {run.id} has not started: it has no report yet", field="name")
    project = session.get_one(Project, run.project_id)
    disposition = "inline" if inline else "attachment"
    headers = {
        "Content-Disposition": content_disposition(
            html.filename(project.name, run.id), disposition
        ),
        "Content-Security-Policy": html.CSP,
        "Cache-Control": "no-store",
    }
    body = html.render(request.app.state.sessions, run.id)
    return StreamingResponse(body, media_type="text/html; charset=utf-8", headers=headers)


@router.get("/runs/{rid}/artifacts/{name}")
def get_artifact(
    run: RunViewer, name: str, session: SessionDep, settings: SettingsDep
) -> FileResponse:
    """Download a stored artifact: ``log`` (the console output), ``junit.xml``, or
    ``allure.zip`` (the Allure results, when the project records them)."""
    filename = ARTIFACTS.get(name)
    path = _artifacts_folder(session, settings, run) / filename if filename else None
    if filename is None or path is None or not path.is_file():
        raise NotFound(f"run {run.id} has no artifact {name!r}", field="name")
    media = MEDIA_TYPES.get(filename, "text/plain; charset=utf-8")
    return FileResponse(path, media_type=media, filename=f"run-{run.id}-{filename}")
