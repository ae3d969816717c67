"""Runs fork their pytest processes from a warm fork server (execution/forkservers.py):
the controller and every xdist worker, through the API, with real runs."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.conftest import ADMIN_PASSWORD
from tests.factories import make_case, make_project, results_of, run_code, start_run, wait_for_run
from tests.support.api import Api, login
from testyard.api.app import create_app
from testyard.config import Settings

PROBE = """
import os
from pathlib import Path

import pytest


@pytest.mark.parametrize("n", range(4))
def test_where(n):
    parent = Path(f"/proc/{os.getppid()}/cmdline").read_bytes().split(b"\\0")
    print("PARENT", os.getppid(), parent[1].decode().rsplit("/", 1)[-1], parent[2].decode())
"""


def parents(api: Api, run: dict[str, object]) -> set[tuple[str, ...]]:
    """(pid, first two arguments) of the process each test's process was started by."""
    assert run["status"] == "passed", run
    results = results_of(api, int(str(run["id"])))
    assert len(results) == 4
    return {tuple(r["stdout"].split()[1:]) for r in results.values()}


def test_the_controller_and_workers_are_forked_from_one_warm_server(admin: Api) -> None:
    # Under "-W error" a plugin imported the wrong way by the server would fail the run.
    project = make_project(admin, pytest_options={"filterwarnings": ["error"]})
    first = parents(admin, run_code(admin, project["id"], PROBE, workers=2))
    second = parents(admin, run_code(admin, project["id"], PROBE, workers=2))
    assert len(first) == 1 and first == second  # the same server, kept warm
    _pid, program, role = first.pop()
    assert (program, role) == ("forkserver.py", "serve")


def test_a_run_goes_on_when_its_fork_server_died(admin: Api) -> None:
    project = make_project(admin)
    ((pid, *_),) = parents(admin, run_code(admin, project["id"], PROBE, workers=2))
    os.kill(int(pid), signal.SIGKILL)
    ((again, program, _),) = parents(admin, run_code(admin, project["id"], PROBE, workers=2))
    assert program == "forkserver.py" and again != pid  # a new one


HANG = """
import os
import subprocess
import time
from pathlib import Path

import pytest


@pytest.mark.parametrize("n", range(2))
def test_hangs_with_a_child(n):
    sleeper = subprocess.Popen(["sleep", "300"])
    Path({seen!r}, f"{{os.getpid()}}-{{sleeper.pid}}").touch()
    time.sleep(300)
"""


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1]
    except FileNotFoundError:
        return False
    return not state.startswith("Z")


def test_cancel_kills_every_forked_process_and_what_the_tests_started(
    admin: Api, tmp_path: Path
) -> None:
    seen = tmp_path / "seen"
    seen.mkdir()
    project = make_project(admin)
    case = make_case(admin, project["id"], code=HANG.format(seen=str(seen)))
    run_id = start_run(admin, project["id"], case_ids=[case["id"]], workers=2)
    deadline = time.monotonic() + 60
    while len(list(seen.iterdir())) < 2:
        assert time.monotonic() < deadline, wait_for_run(admin, run_id, timeout=0)
        time.sleep(0.1)
    pids = [int(pid) for path in seen.iterdir() for pid in path.name.split("-")]
    admin.post(f"/runs/{run_id}/cancel", status=200)
    assert wait_for_run(admin, run_id)["status"] == "cancelled"
    deadline = time.monotonic() + 10
    while any(alive(pid) for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not [pid for pid in pids if alive(pid)]


@pytest.fixture
def plain_admin(settings: Settings) -> Iterator[Api]:
    plain = settings.model_copy(update={"fork_server": False})
    with TestClient(create_app(plain, migrate=False)) as client:
        yield Api(client, login(client, "admin", ADMIN_PASSWORD))


def test_with_the_fork_server_off_each_process_starts_an_interpreter(plain_admin: Api) -> None:
    project = make_project(plain_admin)
    found = parents(plain_admin, run_code(plain_admin, project["id"], PROBE, workers=2))
    assert {(program, role) for _pid, program, role in found} == {("-m", "pytest")}
