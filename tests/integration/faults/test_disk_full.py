"""A full disk under the data directory (a small tmpfs the test mounts, so it needs
root, as `make test` has): the server answers 507 instead of failing, stays up, and
works again once there is space."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from tests.conftest import ADMIN_PASSWORD
from tests.support.api import Api, login
from testyard.api.app import create_app
from testyard.config import Settings


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    if os.geteuid() != 0:
        pytest.fail("mounting a small tmpfs needs root (make test runs as root in CI)")
    mount = tmp_path / "small"
    mount.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(mount)], check=True)
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=True)


def fill(disk: Path) -> Path:
    """Takes every free byte of the disk; delete the file to give them back."""
    filler = disk / "filler"
    with filler.open("wb") as out:
        try:
            while True:
                out.write(b"\0" * 65_536)
                out.flush()
        except OSError:
            pass
    return filler


def test_a_full_disk_answers_507_and_recovers(small_disk: Path) -> None:
    settings = Settings(
        data_dir=small_disk / "data", admin_password=ADMIN_PASSWORD, scheduler=False
    )
    with TestClient(create_app(settings)) as client:
        admin = Api(client, login(client, "admin", ADMIN_PASSWORD))
        admin.post("/projects", {"name": "before"})
        filler = fill(small_disk)

        answer = admin.request(
            "POST", "/projects", json={"name": "full", "description": "y" * 9_000}
        )
        assert answer.status_code == 507, answer.text
        assert answer.json()["error"] == "insufficient_storage"
        assert "disk is full" in answer.json()["message"]
        assert client.get("/healthz").status_code == 200

        filler.unlink()
        admin.post("/projects", {"name": "after"})
        names = {p["name"] for p in admin.get("/projects")["items"]}
        assert {"before", "after"} <= names
