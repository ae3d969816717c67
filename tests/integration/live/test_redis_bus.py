"""The Redis event bus: one server process runs the tests, a client watches through
another; a Redis restart in the middle of a run loses no stored event."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from websockets.sync.client import connect

from tests.integration.live.test_run_stream import PASSWORD, Live, read_all, stored
from tests.support.redis import RedisServer
from tests.support.server import ServerProcess

LONG = (
    "import time\nimport pytest\n\n"
    "@pytest.mark.parametrize('n', range(8))\n"
    "def test_step(n):\n    time.sleep(0.5)\n"
)


@pytest.fixture
def redis_server() -> Iterator[RedisServer]:
    server = RedisServer().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def pair(tmp_path: Path, redis_server: RedisServer) -> Iterator[tuple[Live, Live]]:
    """Two servers on one database and one Redis: ``runner`` executes runs, ``api``
    only answers (TESTYARD_EXECUTOR=none)."""
    common = {
        "TESTYARD_ADMIN_PASSWORD": PASSWORD,
        "TESTYARD_REDIS_URL": redis_server.url,
        "TESTYARD_WORK_DIR": str(tmp_path / "work"),
    }
    data = tmp_path / "data"
    runner = ServerProcess(data, tmp_path / "runner.log", **common).start()
    api = ServerProcess(data, tmp_path / "api.log", TESTYARD_EXECUTOR="none", **common).start()
    sessions = (Live(runner), Live(api))
    try:
        yield sessions
    finally:
        for session in sessions:
            session.http.close()
        api.stop()
        runner.stop()


def watch(live: Live, run: dict[str, Any], into: list[dict[str, Any]]) -> threading.Thread:
    def read() -> None:
        url = f"ws://127.0.0.1:{live.server.port}{run['ws_url']}?token={live.token}"
        with connect(url, open_timeout=10) as socket:
            into.extend(read_all(socket, timeout=90))

    thread = threading.Thread(target=read)
    thread.start()
    return thread


def test_a_client_on_another_process_sees_the_run_live(pair: tuple[Live, Live]) -> None:
    _runner, api = pair
    run = api.start_run(LONG, workers=0)
    messages: list[dict[str, Any]] = []
    watch(api, run, messages).join(90)
    kinds = [m["event"] for m in messages]
    assert kinds[-1] == "done" and kinds.count("test") == 8
    assert "log" in kinds, "live-only log lines crossed processes over Redis"
    assert "passed" in json.dumps(messages[-1])
    assert api.http.get(f"/runs/{run['id']}").json()["status"] == "passed"


def test_a_redis_restart_mid_run_loses_no_stored_event(
    pair: tuple[Live, Live], redis_server: RedisServer
) -> None:
    _runner, api = pair
    run = api.start_run(LONG, workers=0)
    messages: list[dict[str, Any]] = []
    reader = watch(api, run, messages)
    deadline = time.monotonic() + 60
    while not any(m["event"] == "test" for m in messages):
        assert time.monotonic() < deadline, "no result before the restart"
        time.sleep(0.05)
    redis_server.restart(down_s=1.0)
    reader.join(90)
    kept = stored(messages)
    assert kept[-1]["event"] == "done"
    assert [m["seq"] for m in kept] == list(range(1, len(kept) + 1)), "a stored event was lost"
    assert sum(m["event"] == "test" for m in kept) == 8
    # After the restart the bus works again: a new run streams live.
    again: list[dict[str, Any]] = []
    watch(api, api.start_run("def test_ok():\n    pass\n"), again).join(90)
    assert again[-1]["event"] == "done" and again[-1]["status"] == "passed"
