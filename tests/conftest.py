"""Fixtures every level of the suite shares: real databases and a running app.

Each xdist worker gets its own PostgreSQL cluster and its own SQLite file, so workers
never see each other's rows. API tests run once per backend (``db_backend``).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from starlette.testclient import TestClient

from tests.support.api import Api, login
from tests.support.postgres import PostgresServer
from testyard.api.app import create_app
from testyard.config import Settings
from testyard.db.engine import make_engine
from testyard.db.migrate import upgrade
from testyard.db.models import Base

ADMIN_PASSWORD = "admin-password-1"


@pytest.fixture(scope="session")
def worker_id_str(request: pytest.FixtureRequest) -> str:
    return os.environ.get("PYTEST_XDIST_WORKER", "main")


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    """This worker's PostgreSQL server (fails loudly when PostgreSQL is missing)."""
    server = PostgresServer().start()
    try:
        yield server
    finally:
        server.cleanup()


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def db_backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="session")
def migrated_urls(tmp_path_factory: pytest.TempPathFactory, worker_id_str: str) -> dict[str, str]:
    """Database URLs per backend, created lazily and migrated once per session."""
    return {}


@pytest.fixture
def database_url(
    db_backend: str,
    migrated_urls: dict[str, str],
    tmp_path_factory: pytest.TempPathFactory,
    request: pytest.FixtureRequest,
) -> Iterator[str]:
    """A migrated, empty database of the current backend."""
    if db_backend not in migrated_urls:
        if db_backend == "sqlite":
            path = tmp_path_factory.mktemp("sqlite") / "testyard.db"
            url = f"sqlite:///{path}"
        else:
            server: PostgresServer = request.getfixturevalue("postgres")
            url = server.create_database("testyard_api")
        engine = make_engine(url)
        upgrade(engine)
        engine.dispose()
        migrated_urls[db_backend] = url
    url = migrated_urls[db_backend]
    yield url
    engine = make_engine(url)
    try:
        empty_tables(engine)
    finally:
        engine.dispose()


def empty_tables(engine: Engine) -> None:
    tables = [t.name for t in reversed(Base.metadata.sorted_tables)]
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
        else:
            for table in tables:
                conn.execute(text(f"DELETE FROM {table}"))


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    # The scheduler runs only where a test asks for it (tests/integration/scheduling).
    return Settings(
        database_url=database_url,
        data_dir=tmp_path / "data",
        admin_password=ADMIN_PASSWORD,
        scheduler=False,
    )


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings, migrate=False)) as test_client:
        yield test_client


@pytest.fixture
def anonymous(client: TestClient) -> Api:
    return Api(client, None)


@pytest.fixture
def admin(client: TestClient) -> Api:
    """The first administrator, created on start from TESTYARD_ADMIN_PASSWORD."""
    return Api(client, login(client, "admin", ADMIN_PASSWORD))
