"""The test process: a clean environment, its own directory, limits, a run-as user."""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from tests.conftest import ADMIN_PASSWORD
from tests.factories import make_project, results_of, run_code
from tests.support.api import Api, login
from testyard.api.app import create_app
from testyard.config import Settings

RUN_AS = "testyard-run"

PROBE = """
import os, resource
from pathlib import Path

def test_probe():
    print("CWD", os.getcwd())
    print("UID", os.getuid())
    print("ENV", sorted(os.environ))
    print("NOFILE", resource.getrlimit(resource.RLIMIT_NOFILE)[0])
    print("AS", resource.getrlimit(resource.RLIMIT_AS)[0])
"""


ALLOWED_ENV = {
    "PATH",
    "HOME",
    "TMPDIR",
    "LANG",
    "LC_ALL",
    "PYTHONPATH",
    "PYTHONUNBUFFERED",
    "PYTHONDONTWRITEBYTECODE",
    "PYTHONIOENCODING",
    "TESTYARD_MASK_NAMES",
    "TESTYARD_EVENTS_CONTROLLER_PID",
    "TESTYARD_FORKSERVER_SOCKET",
    "TESTYARD_FORKSERVER_PYTHON",
    "PYTEST_CURRENT_TEST",
    "PYTEST_VERSION",
}


def probe(stdout: str) -> dict[str, str]:
    return dict(line.split(" ", 1) for line in stdout.splitlines() if " " in line)


def test_clean_environment_own_directory_and_limits(
    admin: Api, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TESTYARD_SECRET_KEY", "server-only")
    monkeypatch.setenv("DATABASE_URL", "postgresql://server-only")
    project = make_project(admin)
    run = run_code(admin, project["id"], PROBE)
    assert run["status"] == "passed", run
    seen = probe(next(iter(results_of(admin, run["id"]).values()))["stdout"])
    names = eval(seen["ENV"])  # a list literal printed by the test
    assert "TESTYARD_SECRET_KEY" not in names and "DATABASE_URL" not in names
    assert set(names) <= ALLOWED_ENV, set(names) - ALLOWED_ENV
    workspace = Path(seen["CWD"])
    assert workspace.parent == settings.resolved_work_dir / "workspaces"
    assert not workspace.exists(), "the workspace is removed after the run"
    assert int(seen["NOFILE"]) == settings.run_open_files
    assert int(seen["AS"]) == settings.run_memory_mb * 1024 * 1024


def test_memory_limit_fails_the_greedy_test_not_the_server(admin: Api) -> None:
    project = make_project(admin)
    code = "def test_greedy():\n    blob = bytearray(8 * 1024 ** 3)\n\ndef test_fine():\n    pass\n"
    run = run_code(admin, project["id"], code, workers=0)
    results = {k.split("::")[1]: v for k, v in results_of(admin, run["id"]).items()}
    assert results["test_greedy"]["outcome"] == "failed"
    assert "MemoryError" in results["test_greedy"]["longrepr"]
    assert results["test_fine"]["outcome"] == "passed"


@pytest.fixture(scope="session")
def run_as_user() -> str:
    """An unprivileged account for test processes (CI runs as root)."""
    if os.geteuid() != 0:
        pytest.fail("the run-as tests need root to create the run-as user (CI runs as root)")
    try:
        pwd.getpwnam(RUN_AS)
    except KeyError:
        subprocess.run(["useradd", "--system", "--no-create-home", RUN_AS], check=True)
    return RUN_AS


@pytest.fixture
def run_as_client(database_url: str, tmp_path: Path, run_as_user: str) -> Iterator[TestClient]:
    # Outside pytest's own (0700) temporary directories, so the run-as user reaches it.
    work = Path(tempfile.mkdtemp(prefix="testyard-run-as-"))
    work.chmod(0o755)
    settings = Settings(
        database_url=database_url,
        data_dir=tmp_path / "data",
        admin_password=ADMIN_PASSWORD,
        run_as_user=run_as_user,
        run_python=Path("/usr/bin/python3"),
        work_dir=work,
    )
    try:
        with TestClient(create_app(settings, migrate=False)) as client:
            yield client
    finally:
        shutil.rmtree(work, ignore_errors=True)


def test_run_as_user_cannot_read_the_data_directory(
    run_as_client: TestClient, tmp_path: Path
) -> None:
    api = Api(run_as_client, login(run_as_client, "admin", ADMIN_PASSWORD))
    project = make_project(api)
    data = tmp_path / "data"
    code = (
        "import os, pytest\n\n"
        "def test_identity():\n"
        "    assert os.getuid() != 0\n\n"
        f"def test_data_dir_is_closed():\n"
        f"    with pytest.raises(PermissionError):\n"
        f"        os.listdir({str(data)!r})\n"
    )
    run = run_code(api, project["id"], code)
    assert run["status"] == "passed", run["error"]
    assert oct(data.stat().st_mode & 0o777) == "0o700"
