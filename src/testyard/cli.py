"""The ``testyard`` command line."""

from __future__ import annotations

import logging
import signal
import sys
import threading
from datetime import timedelta
from pathlib import Path
from typing import Annotated

import typer
import uvicorn

from testyard.config import Settings
from testyard.db.engine import make_engine, make_session_factory, transaction
from testyard.db.migrate import current_revision, upgrade
from testyard.logs import redact_tokens
from testyard.services import users
from testyard.services.errors import ServiceError

app = typer.Typer(help="testyard: a self-hosted platform for pytest test automation.")
db_app = typer.Typer(help="Database maintenance.")
app.add_typer(db_app, name="db")


def _engine(settings: Settings):  # type: ignore[no-untyped-def]
    if settings.database_url is None:
        settings.ensure_data_dir()
    return make_engine(settings.resolved_database_url)


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="port to listen on")] = 8000,
    no_scheduler: Annotated[
        bool, typer.Option("--no-scheduler", help="do not run the scheduler in this process")
    ] = False,
) -> None:
    """Start the API and web UI (and, by default, the scheduler and the local executor)."""
    from testyard.api.app import create_app

    settings = Settings()
    if no_scheduler:
        settings.scheduler = False
    logging.basicConfig(
        level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    config = uvicorn.Config(
        create_app(settings),
        host=host,
        port=port,
        log_level=settings.log_level,
        timeout_graceful_shutdown=5,
    )
    redact_tokens()  # after uvicorn configured its loggers
    uvicorn.Server(config).run()


@app.command()
def openapi(
    out: Annotated[Path | None, typer.Argument(help="file to write (default: stdout)")] = None,
) -> None:
    """Print the HTTP API's OpenAPI document (the web UI's types are generated from it)."""
    import json

    from testyard.api.app import create_app

    text = json.dumps(create_app(Settings()).openapi(), indent=1, sort_keys=True) + "\n"
    if out is None:
        typer.echo(text, nl=False)
    else:
        out.write_text(text)


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Bring the database schema up to date."""
    engine = _engine(Settings())
    upgrade(engine)
    typer.echo(f"database at revision {current_revision(engine)}")


@app.command()
def createuser(
    name: Annotated[str, typer.Argument(help="the username")],
    admin: Annotated[bool, typer.Option("--admin", help="make the user an administrator")] = False,
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="read the password from standard input")
    ] = False,
) -> None:
    """Create a user account."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = typer.prompt("password", hide_input=True, confirmation_prompt=True)
    engine = _engine(Settings())
    upgrade(engine)
    try:
        with transaction(make_session_factory(engine)) as session:
            users.create_user(session, name, password, is_admin=admin)
    except ServiceError as exc:
        typer.echo(f"error: {exc.message}", err=True)
        raise typer.Exit(1) from exc
    typer.echo(f"created user {name!r}" + (" (administrator)" if admin else ""))


@app.command()
def run(
    project: Annotated[str, typer.Option(help="project name or id")],
    plan: Annotated[str | None, typer.Option(help="plan name")] = None,
    case: Annotated[list[int] | None, typer.Option(help="case id (repeatable)")] = None,
    env: Annotated[str | None, typer.Option(help="environment name")] = None,
    follow: Annotated[bool, typer.Option(help="show progress until the run ends")] = False,
    url: Annotated[str | None, typer.Option(help="server URL (TESTYARD_URL)")] = None,
    token: Annotated[str | None, typer.Option(help="API token (TESTYARD_TOKEN)")] = None,
) -> None:
    """Start a run of a plan or of cases; with --follow, exit 0 only if it passed."""
    from rich.console import Console

    from testyard.client import Client, ClientError
    from testyard.follow import follow as follow_run
    from testyard.follow import print_summary

    settings = Settings()
    console = Console(stderr=False)
    if (plan is None) == (not case):
        typer.echo("error: give --plan NAME or --case ID (one of them)", err=True)
        raise typer.Exit(2)
    try:
        client = Client(url or settings.url, token or settings.token)
        pid = client.project_id(project)
        body: dict[str, object] = {"environment": env, "source": "cli"}
        if plan is not None:
            body["plan_id"] = client.plan_id(pid, plan)
        else:
            body["case_ids"] = case
        created = client.call("POST", f"/projects/{pid}/runs", json=body)
        typer.echo(f"run {created['id']} queued")
        if not follow:
            return
        finished = follow_run(client, created["id"], created["ws_url"], console)
        print_summary(client, finished, console)
    except ClientError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc
    raise typer.Exit(0 if finished["status"] == "passed" else 1)


@app.command()
def export(
    out: Annotated[Path, typer.Argument(help="the zip to write")],
    project: Annotated[str, typer.Option(help="project name or id")],
    env: Annotated[str, typer.Option(help="environment whose variables to write")],
    with_cases: Annotated[bool, typer.Option("--with-cases", help="include the cases")] = False,
    url: Annotated[str | None, typer.Option(help="server URL (TESTYARD_URL)")] = None,
    token: Annotated[str | None, typer.Option(help="API token (TESTYARD_TOKEN)")] = None,
) -> None:
    """Export a project as a zip that runs with plain pytest."""
    from testyard.client import Client, ClientError

    settings = Settings()
    try:
        client = Client(url or settings.url, token or settings.token)
        pid = client.project_id(project)
        size = client.download(f"/projects/{pid}/export", out, environment=env,
                               include_cases=str(with_cases).lower())  # fmt: skip
    except ClientError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc
    typer.echo(f"wrote {out} ({size} bytes)")


@app.command(name="import")
def import_(
    path: Annotated[Path, typer.Argument(help="a pytest project: a directory or a zip")],
    name: Annotated[str | None, typer.Option(help="the new project's name")] = None,
    url: Annotated[str | None, typer.Option(help="server URL (TESTYARD_URL)")] = None,
    token: Annotated[str | None, typer.Option(help="API token (TESTYARD_TOKEN)")] = None,
) -> None:
    """Create a project from an existing pytest project (or a testyard export)."""
    from testyard.client import Client, ClientError
    from testyard.workspace.archive import zip_directory

    settings = Settings()
    if not path.exists():
        typer.echo(f"error: {path} does not exist", err=True)
        raise typer.Exit(2)
    data = zip_directory(path) if path.is_dir() else path.read_bytes()
    filename = (path.name if path.is_dir() else path.stem) + ".zip"
    try:
        client = Client(url or settings.url, token or settings.token, timeout=300)
        answer = client.call("POST", "/projects/import", files={"file": (filename, data)},
                             data={"name": name} if name else None)  # fmt: skip
    except ClientError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc
    typer.echo(f"imported project {answer['name']!r} (id {answer['id']}): "
               f"{answer['fixtures']} fixture modules, {answer['cases']} cases")  # fmt: skip
    for skipped in answer["not_imported"]:
        typer.echo(f"  not imported: {skipped['path']}: {skipped['reason']}")


@app.command()
def scheduler() -> None:
    """Run only the scheduler (the production shape beside `serve --no-scheduler`);
    it fires plans while it holds the leader lock, and stands by otherwise. It also
    sends notifications (unless TESTYARD_NOTIFY_SEND=false)."""
    from testyard.notifications.delivery import DeliveryService
    from testyard.scheduling.service import SchedulerService

    settings = Settings()
    logging.basicConfig(
        level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    engine = _engine(settings)
    upgrade(engine)
    sessions = make_session_factory(engine)
    service = SchedulerService(settings, engine, sessions)
    notifier = DeliveryService(sessions, settings) if settings.notify_send else None
    stopped = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stopped.set())
    service.start()
    if notifier is not None:
        notifier.start()
    typer.echo("scheduler started; waiting for the leader lock if another one holds it")
    stopped.wait()
    service.stop()
    if notifier is not None:
        notifier.stop()


@app.command()
def worker(
    slots: Annotated[
        int | None, typer.Option(help="pytest-xdist processes per shard (default: CPU count)")
    ] = None,
    name: Annotated[str | None, typer.Option(help="this worker's name (default: host-pid)")] = None,
    concurrency: Annotated[int, typer.Option(min=1, help="shards run at once")] = 1,
) -> None:
    """Run shards of runs on this machine for a server with TESTYARD_EXECUTOR=celery.
    Needs the server's database, Redis and secret key (TESTYARD_DATABASE_URL,
    TESTYARD_REDIS_URL, TESTYARD_SECRET_KEY)."""
    from testyard import crypto
    from testyard.execution.worker import run_worker

    settings = Settings()
    logging.basicConfig(
        level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    if not settings.redis_url:
        raise typer.BadParameter("set TESTYARD_REDIS_URL: workers take shards from Redis")
    if settings.database_url is None:
        raise typer.BadParameter("set TESTYARD_DATABASE_URL to the server's database")
    crypto.configure(settings)
    redact_tokens()
    run_worker(settings, name=name, slots=slots, concurrency=concurrency)


@app.command()
def purge(
    older_than: Annotated[str, typer.Option(help="age of the runs to delete, e.g. 30d or 12h")],
) -> None:
    """Delete runs (results, artifacts) older than the given age, and old fire records;
    each plan keeps its latest runs (TESTYARD_RETENTION_KEEP_RUNS)."""
    from testyard.scheduling.retention import run_retention

    age = _age(older_than)
    settings = Settings()
    engine = _engine(settings)
    upgrade(engine)
    purged = run_retention(make_session_factory(engine), settings, runs_older_than=age)
    typer.echo(f"deleted {purged.runs} runs and {purged.fires} fire records")


def _age(text: str) -> timedelta:
    units = {"d": "days", "h": "hours", "m": "minutes"}
    number, unit = text[:-1], text[-1:]
    if unit not in units or not number.isdigit() or int(number) <= 0:
        typer.echo(f"error: give an age such as 90d, 12h or 30m, not {text!r}", err=True)
        raise typer.Exit(2)
    return timedelta(**{units[unit]: int(number)})


if __name__ == "__main__":
    app()
