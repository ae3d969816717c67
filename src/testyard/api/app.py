"""The FastAPI app factory: settings in, a ready app out (routers, errors, limits)."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from testyard import __version__
from testyard.api import errors, routers
from testyard.api.headers import SecurityHeadersMiddleware
from testyard.api.limits import BodyLimitMiddleware
from testyard.config import Settings
from testyard.db.engine import make_engine, make_session_factory, transaction
from testyard.db.migrate import upgrade
from testyard.services.users import ensure_first_admin

log = logging.getLogger("testyard")


def create_app(settings: Settings | None = None, *, migrate: bool = True) -> FastAPI:
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        start(app, settings, migrate=migrate)
        yield
        app.state.engine.dispose()

    app = FastAPI(
        title="testyard",
        version=__version__,
        description="A self-hosted platform for pytest test automation.",
        lifespan=lifespan,
        openapi_url="/openapi.json",
    )
    app.state.settings = settings
    errors.install(app)
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes)
    app.add_middleware(SecurityHeadersMiddleware)
    routers.register(app)
    return app


def start(app: FastAPI, settings: Settings, *, migrate: bool) -> None:
    """Open the database, bring its schema up to date, create the first admin."""
    if settings.database_url is None:
        settings.ensure_data_dir()
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
