"""Scheduling tests drive the real APScheduler in a real app, with short intervals."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from tests.conftest import ADMIN_PASSWORD
from tests.support.api import Api, login
from testyard.api.app import create_app
from testyard.config import Settings


@pytest.fixture(scope="session", params=["sqlite"])
def db_backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def scheduling_settings(database_url: str, data_dir: Path, **extra: object) -> Settings:
    return Settings(
        database_url=database_url,
        data_dir=data_dir,
        admin_password=ADMIN_PASSWORD,
        schedule_sync_s=0.2,
        leader_retry_s=0.5,
        **extra,  # type: ignore[arg-type]
    )


class App:
    """A testyard app that can be stopped and started again on the same database."""

    def __init__(self, database_url: str, data_dir: Path) -> None:
        self.database_url = database_url
        self.data_dir = data_dir
        self.client: TestClient | None = None

    def start(self, **extra: object) -> Api:
        settings = scheduling_settings(self.database_url, self.data_dir, **extra)
        self.client = TestClient(create_app(settings, migrate=False))
        self.client.__enter__()
        return Api(self.client, login(self.client, "admin", ADMIN_PASSWORD))

    def stop(self) -> None:
        if self.client is not None:
            self.client.__exit__(None, None, None)
            self.client = None


@pytest.fixture
def app(database_url: str, tmp_path: Path) -> Iterator[App]:
    instance = App(database_url, tmp_path / "data")
    try:
        yield instance
    finally:
        instance.stop()
