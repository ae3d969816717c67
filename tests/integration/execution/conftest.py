"""Execution tests run real pytest subprocesses through the API; SQLite is enough for
most of them (the database layer is proved on both backends elsewhere)."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session", params=["sqlite"])
def db_backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)
