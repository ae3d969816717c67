"""``testyard run`` against a real server, and a server restart with runs in flight."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.server import TESTYARD, ServerProcess, cli_env

PASSWORD = "admin-password-1"
HANG = "import time\n\ndef test_quick():\n    pass\n\ndef test_hang():\n    time.sleep(600)\n"


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ServerProcess]:
    process = ServerProcess(
        tmp_path / "data",
        tmp_path / "serve.log",
        TESTYARD_ADMIN_PASSWORD=PASSWORD,
        TESTYARD_MAX_CONCURRENT_RUNS="1",
        TESTYARD_WORK_DIR=str(tmp_path / "work"),
    ).start()
    try:
        yield process
    finally:
        process.stop()


def api_token(server: ServerProcess) -> str:
    with server.client() as http:
        login = http.post("/auth/login", json={"username": "admin", "password": PASSWORD})
        token = login.json()["token"]
    with server.client(token) as http:
        return str(http.post("/me/tokens", json={"name": "ci"}).json()["token"])


def post(server: ServerProcess, token: str, path: str, body: dict[str, Any]) -> Any:
    with server.client(token) as http:
        response = http.post(path, json=body)
        assert response.status_code in (201, 202), response.text
        return response.json()


def get(server: ServerProcess, token: str, path: str) -> Any:
    with server.client(token) as http:
        return http.get(path).json()


def test_run_follow_exits_0_only_when_the_run_passed(server: ServerProcess, tmp_path: Path) -> None:
    token = api_token(server)
    project = post(server, token, "/projects", {"name": "shop"})
    good = post(
        server,
        token,
        f"/projects/{project['id']}/cases",
        {"name": "good", "code": "def test_ok():\n    pass\n"},
    )
    bad = post(
        server,
        token,
        f"/projects/{project['id']}/cases",
        {"name": "bad", "code": "def test_no():\n    assert 2 + 2 == 5\n"},
    )
    post(
        server,
        token,
        f"/projects/{project['id']}/plans",
        {"name": "nightly", "case_ids": [good["id"], bad["id"]]},
    )
    env = cli_env(tmp_path / "cli-data", TESTYARD_URL=server.url, TESTYARD_TOKEN=token)

    passed = subprocess.run(
        [*TESTYARD, "run", "--project", "shop", "--case", str(good["id"]), "--follow"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert passed.returncode == 0, passed.stdout + passed.stderr
    assert "passed" in passed.stdout

    failed = subprocess.run(
        [*TESTYARD, "run", "--project", "shop", "--plan", "nightly", "--follow"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert failed.returncode == 1, failed.stdout + failed.stderr
    assert "FAILED tests/test_bad.py::test_no" in failed.stdout
    assert "assert (2 + 2) == 5" in failed.stdout
    runs = get(server, token, f"/projects/{project['id']}/runs")["items"]
    assert {r["source"] for r in runs} == {"cli"}

    unknown = subprocess.run(
        [*TESTYARD, "run", "--project", "nope", "--case", "1"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert unknown.returncode == 2 and "no project named 'nope'" in unknown.stderr


def test_restart_interrupts_the_running_run_and_runs_the_queued_one(
    server: ServerProcess,
) -> None:
    token = api_token(server)
    project = post(server, token, "/projects", {"name": "restart"})
    pid = project["id"]
    hang = post(server, token, f"/projects/{pid}/cases", {"name": "hang", "code": HANG})
    quick = post(
        server,
        token,
        f"/projects/{pid}/cases",
        {"name": "quick", "code": "def test_ok():\n    pass\n"},
    )
    running = post(
        server, token, f"/projects/{pid}/runs", {"case_ids": [hang["id"]], "workers": 0}
    )["id"]
    queued = post(server, token, f"/projects/{pid}/runs", {"case_ids": [quick["id"]]})["id"]
    deadline = time.monotonic() + 60
    while not get(server, token, f"/runs/{running}/results")["items"]:
        assert time.monotonic() < deadline, "the first test never reported"
        time.sleep(0.1)
    assert get(server, token, f"/runs/{queued}")["status"] == "queued"

    server.kill()
    server.start()

    run = get(server, token, f"/runs/{running}")
    assert run["status"] == "interrupted"
    kept = get(server, token, f"/runs/{running}/results")["items"]
    assert [(r["nodeid"].split("::")[1], r["outcome"]) for r in kept] == [("test_quick", "passed")]
    deadline = time.monotonic() + 60
    while (status := get(server, token, f"/runs/{queued}")["status"]) in ("queued", "running"):
        assert time.monotonic() < deadline
        time.sleep(0.2)
    assert status == "passed"


def test_export_and_import_commands(server: ServerProcess, tmp_path: Path) -> None:
    token = api_token(server)
    project = post(server, token, "/projects", {"name": "exported"})
    post(server, token, f"/projects/{project['id']}/environments", {"name": "qa"})
    post(
        server,
        token,
        f"/projects/{project['id']}/cases",
        {"name": "ok", "code": "def test_ok():\n    pass\n"},
    )
    env = cli_env(tmp_path / "cli-data", TESTYARD_URL=server.url, TESTYARD_TOKEN=token)
    out = tmp_path / "exported.zip"
    exported = subprocess.run(
        [*TESTYARD, "export", str(out), "--project", "exported", "--env", "qa", "--with-cases"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert exported.returncode == 0, exported.stderr
    legacy = tmp_path / "legacy"
    (legacy / "tests").mkdir(parents=True)
    (legacy / "tests" / "test_legacy.py").write_text("def test_legacy():\n    pass\n")
    (legacy / "notes.txt").write_text("hello\n")
    (legacy / ".venv").mkdir()
    (legacy / ".venv" / "test_ignored.py").write_text("def test_no():\n    pass\n")
    for path in (out, legacy):
        done = subprocess.run(
            [*TESTYARD, "import", str(path)], env=env, capture_output=True, text=True, timeout=60
        )
        assert done.returncode == 0, done.stderr
        assert "imported project" in done.stdout and "1 cases" in done.stdout
    assert "not imported: notes.txt" in done.stdout
    missing = subprocess.run(
        [*TESTYARD, "export", str(out), "--project", "exported", "--env", "prod"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert missing.returncode == 2 and "prod" in missing.stderr
