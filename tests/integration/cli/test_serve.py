"""The real ``testyard`` command: a fresh data directory, a server on a real port."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx2 as httpx
import pytest

from tests.support.server import TESTYARD, ServerProcess, cli_env


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """``testyard serve`` on SQLite in an empty data directory, with no admin password set."""
    process = ServerProcess(tmp_path / "data", tmp_path / "serve.log").start()
    try:
        yield process.url, process.log
    finally:
        process.stop()


def test_first_start_creates_admin_with_a_password_printed_once(
    server: tuple[str, Path], tmp_path: Path
) -> None:
    base, log = server
    match = re.search(r"created user 'admin' with password: (\S+)", log.read_text())
    assert match, log.read_text()
    answer = httpx.post(
        f"{base}/api/v1/auth/login", json={"username": "admin", "password": match.group(1)}
    )
    assert answer.status_code == 200
    assert (tmp_path / "data" / "testyard.db").exists()
    assert oct((tmp_path / "data").stat().st_mode & 0o777) == "0o700"
    docs = httpx.get(f"{base}/openapi.json").json()
    assert "/api/v1/projects/{pid}/cases" in docs["paths"]


def test_createuser_and_db_upgrade(tmp_path: Path) -> None:
    env = cli_env(tmp_path / "data")
    upgraded = subprocess.run(
        [*TESTYARD, "db", "upgrade"], env=env, capture_output=True, text=True, check=True
    )
    assert "database at revision" in upgraded.stdout
    created = subprocess.run(
        [*TESTYARD, "createuser", "qa-lead", "--admin", "--password-stdin"],
        env=env,
        input="long-enough-pw\n",
        capture_output=True,
        text=True,
    )
    assert created.returncode == 0, created.stderr
    again = subprocess.run(
        [*TESTYARD, "createuser", "qa-lead", "--password-stdin"],
        env=env,
        input="long-enough-pw\n",
        capture_output=True,
        text=True,
    )
    assert again.returncode == 1
    assert "already exists" in again.stderr
    short = subprocess.run(
        [*TESTYARD, "createuser", "x", "--password-stdin"],
        env=env,
        input="short\n",
        capture_output=True,
        text=True,
    )
    assert short.returncode == 1 and "at least 8" in short.stderr
