"""With a run-as user, a test's code cannot reach the server's secrets.

A real ``testyard serve`` (as root, like a service) holds secrets in its environment:
``TESTYARD_SECRET_KEY``, a ``TESTYARD_DATABASE_URL`` with a password, ``PGPASSWORD``;
on SQLite, the database and the generated ``secret.key`` in its data directory. A case
then tries every way in we know of: its own environment, ``/proc/<pid>/environ`` and
``cmdline`` of the server and of every process it can see, the server's open files
(``/proc/<pid>/fd``), descriptors it might have inherited, and the data directory, the
key file and the database file themselves. Every test of the case must pass (each
read fails), and no secret may appear in what the run stored.
"""

from __future__ import annotations

import json
import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.integration.execution.test_hygiene import run_as_user  # noqa: F401 (fixture)
from tests.support.postgres import PostgresServer
from tests.support.server import ServerProcess

PASSWORD = "admin-password-1"
SECRET_KEY = "server-secret-key-f00dfeed"
DB_PASSWORD = "db-password-c0ffee"
PG_PASSWORD = "pg-password-beefcafe"

PROBE = """
import os
from pathlib import Path

import pytest

SERVER = {server}
DATA = Path({data!r})
SECRETS = {secrets!r}


def leaks(blob: bytes) -> list[str]:
    return [s for s in SECRETS if s.encode() in blob]


def test_own_environment_holds_no_secret():
    assert not leaks("\\n".join(f"{{k}}={{v}}" for k, v in os.environ.items()).encode())


@pytest.mark.parametrize("name", ["environ", "mem"])
def test_the_servers_process_is_closed(name):
    for pid in {{SERVER, os.getppid()}}:
        with pytest.raises(PermissionError):
            Path(f"/proc/{{pid}}/{{name}}").read_bytes()[:1]


def test_the_servers_open_files_are_closed():
    with pytest.raises(PermissionError):
        os.listdir(f"/proc/{{SERVER}}/fd")


def test_no_visible_process_shows_a_secret():
    for pid in filter(str.isdigit, os.listdir("/proc")):
        for name in ("environ", "cmdline"):
            try:
                blob = Path(f"/proc/{{pid}}/{{name}}").read_bytes()
            except OSError:  # closed to us, or gone
                continue
            assert not leaks(blob), (pid, name)


def test_no_inherited_descriptor_reaches_the_data_directory():
    for fd in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{{fd}}")
        except OSError:
            continue
        assert not target.startswith(str(DATA)), target


@pytest.mark.parametrize("name", ["", "secret.key", "testyard.db", "testyard.db-wal"])
def test_the_data_directory_is_closed(name):
    with pytest.raises(PermissionError):
        if name:
            (DATA / name).read_bytes()
        else:
            os.listdir(DATA)
"""


class Served:
    def __init__(self, root: Path, user: str, **settings: str) -> None:
        # The work directory must be reachable by the run-as user, unlike pytest's.
        self.work = Path(tempfile.mkdtemp(prefix="testyard-run-as-"))
        self.work.chmod(0o755)
        self.data = root / "data"
        self.server = ServerProcess(
            self.data,
            root / "serve.log",
            TESTYARD_ADMIN_PASSWORD=PASSWORD,
            TESTYARD_RUN_AS_USER=user,
            TESTYARD_RUN_PYTHON="/usr/bin/python3",
            TESTYARD_WORK_DIR=str(self.work),
            **settings,
        ).start()
        with self.server.client() as http:
            token = http.post("/auth/login", json={"username": "admin", "password": PASSWORD})
        self.http = self.server.client(token.json()["token"])

    def run(self, code: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        pid = self.http.post("/projects", json={"name": "secrets"}).json()["id"]
        case = self.http.post(f"/projects/{pid}/cases", json={"name": "probe", "code": code})
        body = {"case_ids": [case.json()["id"]], "workers": 0}
        rid = self.http.post(f"/projects/{pid}/runs", json=body).json()["id"]
        deadline = time.monotonic() + 300
        while (run := self.http.get(f"/runs/{rid}").json())["status"] in ("queued", "running"):
            assert time.monotonic() < deadline, "the run did not finish"
            time.sleep(0.2)
        results = self.http.get(f"/runs/{rid}/results", params={"per_page": 200}).json()
        return run, results["items"]

    def close(self) -> None:
        self.http.close()
        self.server.stop()
        shutil.rmtree(self.work, ignore_errors=True)


@pytest.fixture(params=["sqlite", "postgresql"])
def served(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    run_as_user: str,  # noqa: F811
) -> Iterator[Served]:
    settings = {"PGPASSWORD": PG_PASSWORD}
    if request.param == "postgresql":
        postgres: PostgresServer = request.getfixturevalue("postgres")
        url = postgres.create_database("testyard_run_as")
        settings["TESTYARD_DATABASE_URL"] = url.replace("postgres@", f"postgres:{DB_PASSWORD}@")
        settings["TESTYARD_SECRET_KEY"] = SECRET_KEY
    served = Served(tmp_path, run_as_user, **settings)
    try:
        yield served
    finally:
        served.close()


def test_a_tests_code_cannot_read_the_servers_secrets(served: Served) -> None:
    assert served.server.process is not None
    secrets = [SECRET_KEY, DB_PASSWORD, PG_PASSWORD]
    key_file = served.data / "secret.key"
    if key_file.exists():  # SQLite: the key testyard generated
        secrets.append(key_file.read_text().strip())
    code = PROBE.format(server=served.server.process.pid, data=str(served.data), secrets=secrets)
    run, results = served.run(code)
    failed = {r["nodeid"]: r["longrepr"] for r in results if r["outcome"] != "passed"}
    assert run["status"] == "passed" and not failed, json.dumps(failed or run, indent=1)
    assert len(results) == 10
    stored = json.dumps([run, results])
    assert not [s for s in secrets if s in stored]
