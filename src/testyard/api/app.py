"""The FastAPI app factory: settings in, a ready app out (routers, errors, limits)."""

from __future__ import annotations

import logging
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from testyard import __version__, crypto
from testyard.api import errors, routers, spa
from testyard.api.concurrency import ConcurrencyLimitMiddleware
from testyard.api.exchange import IMPORT_MAX_BYTES
from testyard.api.headers import SecurityHeadersMiddleware
from testyard.api.limits import BodyLimitMiddleware
from testyard.config import Settings
from testyard.db.engine import make_engine, make_session_factory, transaction
from testyard.db.migrate import upgrade
from testyard.events.bus import make_bus
from testyard.events.publisher import RunEvents
from testyard.execution.context import ExecutionContext
from testyard.execution.fixture_plan import provided_fixtures
from testyard.execution.forkservers import fork_servers
from testyard.execution.local import LocalExecutor
from testyard.execution.protocol import Executor
from testyard.execution.queue import Dispatcher
from testyard.execution.warmup import warm_up
from testyard.notifications.delivery import DeliveryService
from testyard.scheduling.service import SchedulerService
from testyard.services import runs
from testyard.services.users import ensure_first_admin
from testyard.webui import STATIC_DIR

log = logging.getLogger("testyard")


def create_app(settings: Settings | None = None, *, migrate: bool = True) -> FastAPI:
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        start(app, settings, migrate=migrate)
        try:
            yield
        finally:
            stop(app)

    app = FastAPI(
        title="testyard",
        version=__version__,
        description="A self-hosted platform for pytest test automation.",
        lifespan=lifespan,
        openapi_url="/openapi.json",
    )
    app.state.settings = settings
    errors.install(app)
    app.add_middleware(
        BodyLimitMiddleware,
        max_bytes=settings.max_body_bytes,
        overrides={"/api/v1/projects/import": IMPORT_MAX_BYTES},
    )
    app.add_middleware(ConcurrencyLimitMiddleware, limit=settings.max_concurrent_requests)
    app.add_middleware(SecurityHeadersMiddleware)
    routers.register(app)
    spa.install(app, settings.webui_dir or STATIC_DIR)
    return app


def start(app: FastAPI, settings: Settings, *, migrate: bool) -> None:
    """Open the database, bring its schema up to date, create the first admin."""
    settings.ensure_data_dir()
    crypto.configure(settings)  # before migrating: a migration seals old plaintext
    engine = make_engine(
        settings.resolved_database_url, sqlite_busy_timeout_ms=settings.sqlite_busy_timeout_ms
    )
    if migrate:
        upgrade(engine)
    app.state.engine = engine
    app.state.sessions = make_session_factory(engine)
    with transaction(app.state.sessions) as session:
        generated = ensure_first_admin(session, settings.admin_password)
    if generated:
        # Printed once, on purpose: the only way to learn the first password.
        log.warning("created user 'admin' with password: %s", generated)
    app.state.bus = make_bus(settings.redis_url)
    app.state.events = RunEvents(app.state.bus)
    if settings.executor == "celery":
        start_celery_execution(app, settings)
    elif settings.executor == "local":
        start_local_execution(app, settings)
    if settings.scheduler:
        start_scheduler(app, settings)
    if settings.notify_send:
        app.state.notifier = DeliveryService(app.state.sessions, settings)
        app.state.notifier.start()
    # Ask pytest once, in the background, which fixtures it provides: saving a case
    # checks its fixtures against them and should not wait for pytest.
    threading.Thread(target=_warm_fixture_check, args=(settings,), daemon=True).start()


def _warm_fixture_check(settings: Settings) -> None:
    try:
        provided_fixtures(settings)
    except Exception:  # asked again, and reported, at the first save
        log.warning("could not ask pytest for its fixtures yet", exc_info=True)


def start_scheduler(app: FastAPI, settings: Settings) -> None:
    """The scheduler runs here only while this process holds the leader lock."""

    def run_created(_run_id: int) -> None:
        dispatcher = getattr(app.state, "dispatcher", None)
        if dispatcher is not None:
            dispatcher.wake()

    app.state.scheduler = SchedulerService(
        settings, app.state.engine, app.state.sessions, run_created
    )
    app.state.scheduler.start()


def start_local_execution(app: FastAPI, settings: Settings) -> None:
    """Recover from a previous stop, then run queued runs in this process."""
    with transaction(app.state.sessions) as session:
        interrupted = runs.interrupt_running(session)
    if interrupted:
        log.warning("runs %s were running when the server stopped: interrupted", interrupted)
    context = ExecutionContext(
        settings=settings,
        sessions=app.state.sessions,
        events=app.state.events,
        forkservers=fork_servers(settings),
    )
    executor = LocalExecutor(context)
    warm_up(settings)
    executor.on_done = _dispatch(app, settings, executor).wake


def start_celery_execution(app: FastAPI, settings: Settings) -> None:
    """Hand queued runs to ``testyard worker`` processes. Runs the workers were running
    when this server stopped go on: nothing to recover."""
    from testyard.execution.celery_executor import CeleryExecutor  # Celery only when used

    executor = CeleryExecutor(app.state.sessions, app.state.events, settings)
    executor.start()
    _dispatch(app, settings, executor)


def _dispatch(app: FastAPI, settings: Settings, executor: Executor) -> Dispatcher:
    dispatcher = Dispatcher(
        app.state.sessions,
        executor,
        app.state.events,
        limit=settings.max_concurrent_runs,
        interval=settings.dispatch_interval_s,
    )
    app.state.executor, app.state.dispatcher = executor, dispatcher
    dispatcher.start()
    return dispatcher


def stop(app: FastAPI) -> None:
    """Stop the scheduler and taking runs, interrupt the running ones, stop sending
    notifications, close the database."""
    scheduler = getattr(app.state, "scheduler", None)
    if scheduler is not None:
        scheduler.stop()
    dispatcher = getattr(app.state, "dispatcher", None)
    if dispatcher is not None:
        dispatcher.stop()
        app.state.executor.shutdown()
    notifier = getattr(app.state, "notifier", None)
    if notifier is not None:  # after the runs: an interrupted run's notifications are queued
        notifier.stop()
    bus = getattr(app.state, "bus", None)
    if bus is not None:
        bus.close()
    engine = getattr(app.state, "engine", None)
    if engine is not None:
        engine.dispose()
