"""The default run environment is built as the server starts, not by the first run."""

from __future__ import annotations

import time
from pathlib import Path

from fastapi.testclient import TestClient

from testyard.api.app import create_app
from testyard.config import Settings
from testyard.execution.pyenvs import environment_key


def test_the_default_environment_is_built_as_the_server_starts(
    settings: Settings, tmp_path: Path
) -> None:
    fresh = Settings(**{**settings.model_dump(), "work_dir": tmp_path / "work"})
    ready = tmp_path / "work" / "envs" / environment_key(fresh.run_python, []) / ".ready"
    with TestClient(create_app(fresh, migrate=False)):
        deadline = time.monotonic() + 180
        while not ready.exists():  # no run asked for it
            assert time.monotonic() < deadline, "the default environment was not built"
            time.sleep(0.2)
    python = ready.parent / "bin" / "python"
    assert python.exists()
