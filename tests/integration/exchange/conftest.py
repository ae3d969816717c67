"""Exchange tests need no second database: the files are the point."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session", params=["sqlite"])
def db_backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)
