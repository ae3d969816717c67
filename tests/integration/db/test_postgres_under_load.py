"""PostgreSQL stopped and started again while 20 clients keep a real ``testyard serve``
busy: during the outage the API answers 503 with ``Retry-After`` (never a 500, never a
hang past the client's timeout); after it every request succeeds again without
restarting testyard, and a run started after the restart completes."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx2 as httpx
import pytest

from tests.support.postgres import PostgresServer
from tests.support.server import ServerProcess

PASSWORD = "admin-password-1"
CLIENTS = 20
LOAD_S = 15.0
OUTAGE_AT_S = 4.0
OUTAGE_S = 3.0
CLIENT_TIMEOUT_S = 10.0
#: After PostgreSQL is back, how long the pool may take to notice before every request
#: must succeed.
SETTLE_S = 2.0


@dataclass
class Answer:
    started: float
    elapsed: float
    status: int  # 0: a transport error (a timeout, a refused connection)
    retry_after: str | None
    path: str


@pytest.fixture
def served(postgres: PostgresServer, tmp_path: Path) -> Iterator[ServerProcess]:
    url = postgres.create_database("testyard_under_load")
    server = ServerProcess(
        tmp_path / "data",
        tmp_path / "serve.log",
        TESTYARD_DATABASE_URL=url,
        TESTYARD_ADMIN_PASSWORD=PASSWORD,
        TESTYARD_WORK_DIR=str(tmp_path / "work"),
    ).start()
    try:
        yield server
    finally:
        server.stop()


def load(base: str, token: str, paths: list[str], until: float, out: list[Answer]) -> None:
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=base, headers=headers, timeout=CLIENT_TIMEOUT_S) as http:
        n = 0
        while time.monotonic() < until:
            path = paths[n % len(paths)]
            n += 1
            started = time.monotonic()
            try:
                response = http.get(path)
                status, retry = response.status_code, response.headers.get("retry-after")
            except httpx.TransportError:
                status, retry = 0, None
            out.append(Answer(started, time.monotonic() - started, status, retry, path))
            if status == 503:
                time.sleep(0.1)  # a client that honours Retry-After would wait longer


def test_postgres_restarted_under_load(served: ServerProcess, postgres: PostgresServer) -> None:
    with served.client() as http:
        token = http.post("/auth/login", json={"username": "admin", "password": PASSWORD})
    admin = served.client(token.json()["token"])
    pid = admin.post("/projects", json={"name": "load"}).json()["id"]
    case = admin.post(
        f"/projects/{pid}/cases", json={"name": "c", "code": "def test_ok():\n    pass\n"}
    )
    paths = [
        "/projects",
        f"/projects/{pid}",
        f"/projects/{pid}/cases",
        f"/projects/{pid}/runs",
        "/me",
    ]

    answers: list[Answer] = []
    begin = time.monotonic()
    until = begin + LOAD_S
    threads = [
        threading.Thread(
            target=load,
            args=(
                f"{served.url}/api/v1",
                admin.headers["Authorization"][7:],
                paths,
                until,
                answers,
            ),
        )
        for _ in range(CLIENTS)
    ]
    for thread in threads:
        thread.start()
    time.sleep(OUTAGE_AT_S)
    down = time.monotonic()
    postgres.stop()
    time.sleep(OUTAGE_S)  # the outage itself: its length is the point
    postgres.start()
    up = time.monotonic()
    for thread in threads:
        thread.join(LOAD_S + CLIENT_TIMEOUT_S * 2)

    statuses = Counter(a.status for a in answers)
    during = [a for a in answers if down <= a.started < up]
    after = [a for a in answers if a.started >= up + SETTLE_S]
    slowest = max(a.elapsed for a in answers)
    print(
        f"\n{len(answers)} answers from {CLIENTS} clients in {LOAD_S:.0f} s, PostgreSQL down "
        f"{up - down:.1f} s: {dict(statuses)}; during the outage "
        f"{dict(Counter(a.status for a in during))}; after it "
        f"{dict(Counter(a.status for a in after))}; slowest {slowest:.2f} s"
    )
    assert statuses[500] == 0 and statuses[0] == 0, statuses
    assert slowest < CLIENT_TIMEOUT_S
    assert set(statuses) <= {200, 503}, statuses
    assert all(a.retry_after for a in answers if a.status == 503), "503 without Retry-After"
    assert statuses[503] > 0, "the outage was not seen: the test proves nothing"
    assert after and all(a.status == 200 for a in after), Counter(a.status for a in after)

    body = {"case_ids": [case.json()["id"]], "workers": 0}
    rid = admin.post(f"/projects/{pid}/runs", json=body).json()["id"]
    deadline = time.monotonic() + 180
    while (run := admin.get(f"/runs/{rid}").json())["status"] in ("queued", "running"):
        assert time.monotonic() < deadline, "the run after the restart did not finish"
        time.sleep(0.2)
    assert run["status"] == "passed", run
    admin.close()
    errors = [
        line
        for line in served.log.read_text().splitlines()
        if "Traceback" in line or " 500 " in line
    ]
    assert not [line for line in errors if " 500 " in line], errors
