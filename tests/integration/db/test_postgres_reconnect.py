"""A PostgreSQL restart or a server-side idle timeout under a running testyard is
invisible to the next request: pooled connections are checked before use."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from starlette.testclient import TestClient

from tests.conftest import ADMIN_PASSWORD
from tests.factories import make_project
from tests.support.api import Api, login
from tests.support.postgres import PostgresServer
from testyard.api.app import create_app
from testyard.config import Settings


@pytest.fixture
def pg_client(postgres: PostgresServer, tmp_path: Path) -> Iterator[TestClient]:
    url = postgres.create_database("testyard_reconnect")
    settings = Settings(database_url=url, data_dir=tmp_path, admin_password=ADMIN_PASSWORD)
    with TestClient(create_app(settings)) as client:
        yield client


def test_postgres_restart_is_invisible_to_the_next_request(
    pg_client: TestClient, postgres: PostgresServer
) -> None:
    api = Api(pg_client, login(pg_client, "admin", ADMIN_PASSWORD))
    project = make_project(api)
    postgres.restart()
    # Every pooled connection is now dead; the very next request must still succeed.
    assert api.get(f"/projects/{project['id']}")["name"] == project["name"]
    assert api.get("/projects")["total"] == 1
    make_project(api)


def test_idle_timeout_on_the_server_is_invisible(
    pg_client: TestClient, postgres: PostgresServer
) -> None:
    with psycopg.connect(
        f"host=127.0.0.1 port={postgres.port} user=postgres dbname=postgres", autocommit=True
    ) as conn:
        conn.execute("ALTER DATABASE testyard_reconnect SET idle_session_timeout = '300ms'")
    api = Api(pg_client, login(pg_client, "admin", ADMIN_PASSWORD))
    # The setting applies to new connections: open fresh ones, then let them idle out.
    pg_client.app.state.engine.dispose()  # type: ignore[attr-defined]
    for _ in range(3):
        api.get("/projects")
        time.sleep(0.6)
    assert api.get("/me")["username"] == "admin"
