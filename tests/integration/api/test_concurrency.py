"""A burst of requests larger than the HTTP thread pool is served, none dropped: at most
TESTYARD_MAX_CONCURRENT_REQUESTS run at once and the others wait on the event loop."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx2 as httpx

from tests.support.server import ServerProcess

PASSWORD = "burst-admin-password"
CLIENTS = 120  # three times anyio's 40 threads


def test_a_burst_beyond_the_thread_pool_gets_every_answer(tmp_path: Path) -> None:
    server = ServerProcess(tmp_path, tmp_path / "server.log", TESTYARD_ADMIN_PASSWORD=PASSWORD)
    server.start()
    try:
        login = httpx.post(
            f"{server.url}/api/v1/auth/login", json={"username": "admin", "password": PASSWORD}
        )
        headers = {"Authorization": f"Bearer {login.json()['token']}"}

        def one(i: int) -> int:
            with httpx.Client(base_url=server.url, headers=headers, timeout=60) as client:
                if i % 4 == 0:
                    return client.post("/api/v1/projects", json={"name": f"p{i}"}).status_code
                return client.get("/api/v1/projects").status_code

        with ThreadPoolExecutor(CLIENTS) as pool:
            statuses = list(pool.map(one, range(CLIENTS)))
    finally:
        server.stop()
    assert sorted(set(statuses)) == [200, 201], statuses
    assert "Traceback" not in (tmp_path / "server.log").read_text()
