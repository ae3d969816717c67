"""Scale-out tests: a testyard app with the celery executor on a real PostgreSQL and a
real Redis, and real ``testyard worker`` processes beside it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import redis
from starlette.testclient import TestClient

from tests.conftest import ADMIN_PASSWORD
from tests.support.api import Api, login
from tests.support.redis import RedisServer
from tests.support.workers import FAST, WorkerProcess, wait_until
from testyard.api.app import create_app
from testyard.config import Settings

SECRET_KEY = "scale-out-test-key"


@pytest.fixture(scope="session", params=["postgresql"])
def db_backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="module")
def redis_server() -> Iterator[RedisServer]:
    server = RedisServer().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def settings(database_url: str, tmp_path: Path, redis_server: RedisServer) -> Settings:
    redis.Redis.from_url(redis_server.url).flushall()  # no earlier test's message waits
    return Settings(
        database_url=database_url,
        data_dir=tmp_path / "data",
        admin_password=ADMIN_PASSWORD,
        scheduler=False,
        executor="celery",
        redis_url=redis_server.url,
        secret_key=SECRET_KEY,
        worker_heartbeat_s=float(FAST["TESTYARD_WORKER_HEARTBEAT_S"]),
        celery_visibility_timeout_s=int(FAST["TESTYARD_CELERY_VISIBILITY_TIMEOUT_S"]),
        celery_restore_interval_s=float(FAST["TESTYARD_CELERY_RESTORE_INTERVAL_S"]),
    )


@pytest.fixture
def api(settings: Settings) -> Iterator[Api]:
    with TestClient(create_app(settings, migrate=False)) as client:
        yield Api(client, login(client, "admin", ADMIN_PASSWORD))


@pytest.fixture
def start_worker(
    settings: Settings, tmp_path: Path, api: Api
) -> Iterator[Callable[[str], WorkerProcess]]:
    """Start a named worker and wait until the server lists it live."""
    started: list[WorkerProcess] = []

    def start(name: str, slots: int = 2) -> WorkerProcess:
        worker = WorkerProcess(
            name,
            tmp_path / "workers",
            slots=slots,
            TESTYARD_DATABASE_URL=str(settings.database_url),
            TESTYARD_REDIS_URL=str(settings.redis_url),
            TESTYARD_SECRET_KEY=SECRET_KEY,
        ).start()
        started.append(worker)
        wait_until(
            lambda: any(w["name"] == name and w["live"] for w in api.get("/workers")["workers"]),
            timeout=60,
            what=f"worker {name} to report:\n{worker.output()}",
        )
        return worker

    yield start
    for worker in started:
        worker.stop()
