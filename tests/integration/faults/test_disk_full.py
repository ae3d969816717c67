"""A full disk under the data directory (a small tmpfs the test mounts, so it needs
root, as `make test` has): the server answers 507 instead of failing, stays up, and
works again once there is space."""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from tests.conftest import ADMIN_PASSWORD
from tests.factories import make_case, make_project, run_code, start_run, wait_for_run
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


#: Test code that takes every free byte of the small disk (the same loop as `fill`).
FILL = """
import pathlib


def fill():
    with (pathlib.Path({disk!r}) / "filler").open("wb") as out:
        try:
            while True:
                out.write(b"\\0" * 65_536)
                out.flush()
        except OSError:
            pass
"""

FILL_THEN_TALK = (
    FILL
    + """

def test_fill_the_disk_then_talk():
    fill()
    for n in range(20_000):
        print("line", n, "x" * 100)
    assert False, "the report repeats the output: it has to go to the full disk"
"""
)


def test_a_disk_that_fills_during_a_run_ends_it_error_and_the_server_stays_up(
    small_disk: Path, tmp_path: Path
) -> None:
    """The data directory (the run's log and artifacts) fills while the run runs; the
    database lives elsewhere, as PostgreSQL would."""
    settings = Settings(
        data_dir=small_disk / "data",
        database_url=f"sqlite:///{tmp_path / 'testyard.db'}",
        work_dir=tmp_path / "work",
        admin_password=ADMIN_PASSWORD,
        scheduler=False,
    )
    with TestClient(create_app(settings)) as client:
        admin = Api(client, login(client, "admin", ADMIN_PASSWORD))
        pid = make_project(admin)["id"]
        run = run_code(admin, pid, FILL_THEN_TALK.format(disk=str(small_disk)), workers=0)
        assert run["status"] == "error", run
        assert "no space left on device" in run["error"], run["error"]
        assert client.get("/healthz").status_code == 200
        assert admin.get(f"/projects/{pid}")["id"] == pid

        (small_disk / "filler").unlink()
        again = run_code(admin, pid, "def test_ok():\n    pass\n", workers=0)
        assert again["status"] == "passed", again


FILL_THEN_REPORT = (
    FILL
    + """

def test_fill_the_disk():
    fill()


def test_after_it():
    pass
"""
)


def test_a_full_disk_under_the_sqlite_database_ends_the_run_once_there_is_space(
    small_disk: Path, tmp_path: Path
) -> None:
    """The default set-up: SQLite in the data directory, which fills during the run.
    Nothing can be written meanwhile; the test process is stopped, and the run ends
    ``error`` with a clear message as soon as space is freed, without a restart."""
    settings = Settings(
        data_dir=small_disk / "data",
        work_dir=tmp_path / "work",
        admin_password=ADMIN_PASSWORD,
        scheduler=False,
    )
    with TestClient(create_app(settings)) as client:
        admin = Api(client, login(client, "admin", ADMIN_PASSWORD))
        pid = make_project(admin)["id"]
        case = make_case(admin, pid, code=FILL_THEN_REPORT.format(disk=str(small_disk)))
        run_id = start_run(admin, pid, case_ids=[case["id"]], workers=0)
        workspaces = tmp_path / "work" / "workspaces"

        def gave_up_running() -> bool:
            """The driver removes the workspace once the run broke, before ending it."""
            started = (small_disk / "filler").exists()
            return started and not list(workspaces.glob(f"run-{run_id}-*"))

        deadline = time.monotonic() + 60
        while not gave_up_running():
            assert time.monotonic() < deadline, "the run never hit the full disk"
            time.sleep(0.1)
        (small_disk / "filler").unlink()

        run = wait_for_run(admin, run_id, timeout=60)
        assert run["status"] == "error", run
        assert "no space left on device" in run["error"], run["error"]
        again = run_code(admin, pid, "def test_ok():\n    pass\n", workers=0)
        assert again["status"] == "passed", again
