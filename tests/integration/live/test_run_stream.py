"""Live events over real WebSockets against a real server: order, resume, several
subscribers, authentication, and the project's status stream."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from tests.support.server import ServerProcess

PASSWORD = "admin-password-1"
SLOW_PAIR = (
    "import time\n\n"
    "def test_first():\n    print('first says hi')\n    time.sleep(1.2)\n\n"
    "def test_second():\n    assert 1 == 2\n"
)


class Live:
    """A running server plus an admin token, and helpers to talk to it."""

    def __init__(self, server: ServerProcess) -> None:
        self.server = server
        with server.client() as http:
            answer = http.post("/auth/login", json={"username": "admin", "password": PASSWORD})
        self.token = answer.json()["token"]
        self.http = server.client(self.token)

    def post(self, path: str, body: dict[str, Any]) -> Any:
        response = self.http.post(path, json=body)
        assert response.status_code in (201, 202), response.text
        return response.json()

    def ws(self, path: str, **params: Any) -> ClientConnection:
        query = "&".join(f"{k}={v}" for k, v in params.items())
        url = f"ws://127.0.0.1:{self.server.port}{path}" + (f"?{query}" if query else "")
        return connect(url, open_timeout=10)

    def start_run(self, code: str, **body: Any) -> dict[str, Any]:
        project = self.post("/projects", {"name": f"p{time.monotonic_ns()}"})
        case = self.post(f"/projects/{project['id']}/cases", {"name": "c", "code": code})
        run = self.post(f"/projects/{project['id']}/runs", {"case_ids": [case["id"]], **body})
        return {**run, "project_id": project["id"]}


def read_all(socket: ClientConnection, timeout: float = 60) -> list[dict[str, Any]]:
    """Every message until the server closes the socket."""
    messages = []
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            messages.append(json.loads(socket.recv(timeout=deadline - time.monotonic())))
    except ConnectionClosed:
        return messages
    raise AssertionError(f"stream did not end: {messages[-3:]}")


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    root = tmp_path_factory.mktemp("live")
    server = ServerProcess(
        root / "data",
        root / "serve.log",
        TESTYARD_ADMIN_PASSWORD=PASSWORD,
        TESTYARD_WORK_DIR=str(root / "work"),
    ).start()
    session = Live(server)
    try:
        yield session
    finally:
        session.http.close()
        server.stop()


def stored(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [m for m in messages if m["event"] in ("run", "test", "done", "timeout")]


def test_events_arrive_in_order_with_increasing_seq(live: Live) -> None:
    run = live.start_run(SLOW_PAIR, workers=0)
    with live.ws(run["ws_url"], token=live.token) as socket:
        messages = read_all(socket)
    kinds = [m["event"] for m in messages]
    assert kinds[0] == "run" and kinds[-1] == "done"
    seqs = [m["seq"] for m in messages]
    assert seqs == sorted(seqs), "seq never goes back"
    kept = stored(messages)
    assert [m["seq"] for m in kept] == list(range(1, len(kept) + 1)), "no stored event missing"
    tests = [m for m in kept if m["event"] == "test"]
    assert [(t["nodeid"].split("::")[1], t["outcome"]) for t in tests] == [
        ("test_first", "passed"),
        ("test_second", "failed"),
    ]
    assert "tick" in kinds, "a quiet second while test_first sleeps sends a tick"
    logs = [line for m in messages if m["event"] == "log" for line in m["lines"]]
    assert any("1 failed, 1 passed" in line for line in logs)
    first = messages[0]["run"]
    assert first["triggered_by"] == "admin" and first["title"] == "c"
    assert any(m["event"] == "run" and m["run"]["collected"] == 2 for m in kept)
    assert messages[-1]["status"] == "failed" and messages[-1]["counts"]["failed"] == 1


def test_resume_after_seq_gets_exactly_the_missed_stored_events(live: Live) -> None:
    run = live.start_run(SLOW_PAIR, workers=0)
    with live.ws(run["ws_url"], token=live.token) as socket:
        everything = stored(read_all(socket))
    cut = everything[2]["seq"]
    with live.ws(run["ws_url"], token=live.token, after=cut) as socket:
        resumed = stored(read_all(socket))
    assert resumed == [m for m in everything if m["seq"] > cut]


def test_two_subscribers_see_the_same_stored_stream(live: Live) -> None:
    run = live.start_run(SLOW_PAIR, workers=0)
    results: dict[str, list[dict[str, Any]]] = {}

    def watch(name: str) -> None:
        with live.ws(run["ws_url"], token=live.token) as socket:
            results[name] = stored(read_all(socket))

    threads = [threading.Thread(target=watch, args=(n,)) for n in ("a", "b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(90)
    assert results["a"] == results["b"] and results["a"][-1]["event"] == "done"


def test_the_token_may_come_as_the_first_message(live: Live) -> None:
    run = live.start_run("def test_ok():\n    pass\n")
    with live.ws(run["ws_url"]) as socket:
        socket.send(json.dumps({"token": live.token}))
        messages = read_all(socket)
    assert messages[-1]["event"] == "done" and messages[-1]["status"] == "passed"


@pytest.mark.parametrize("token", ["ty_wrong", ""])
def test_a_bad_token_closes_with_policy_violation(live: Live, token: str) -> None:
    run = live.start_run("def test_ok():\n    pass\n")
    with live.ws(run["ws_url"], token=token) as socket:
        if not token:
            socket.send(json.dumps({"token": 42}))
        with pytest.raises(ConnectionClosed) as closed:
            socket.recv(timeout=10)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1008


def test_a_user_outside_the_project_is_refused(live: Live) -> None:
    run = live.start_run("def test_ok():\n    pass\n")
    live.post("/users", {"username": f"out{time.monotonic_ns()}", "password": PASSWORD})
    users = live.http.get("/users").json()
    outsider = users[-1]["username"]
    with live.server.client() as http:
        token = http.post("/auth/login", json={"username": outsider, "password": PASSWORD}).json()[
            "token"
        ]
    with live.ws(run["ws_url"], token=token) as socket, pytest.raises(ConnectionClosed) as closed:
        socket.recv(timeout=10)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1008


def test_project_stream_pushes_status_changes(live: Live) -> None:
    project = live.post("/projects", {"name": f"watched{time.monotonic_ns()}"})
    case = live.post(
        f"/projects/{project['id']}/cases", {"name": "c", "code": "def test_ok():\n    pass\n"}
    )
    with live.ws(f"/ws/projects/{project['id']}/runs", token=live.token) as socket:
        time.sleep(0.3)  # subscribed before the run starts
        run = live.post(f"/projects/{project['id']}/runs", {"case_ids": [case["id"]]})
        statuses = []
        deadline = time.monotonic() + 60
        while "passed" not in statuses and time.monotonic() < deadline:
            message = json.loads(socket.recv(timeout=deadline - time.monotonic()))
            assert message["run_id"] == run["id"]
            statuses.append(message["status"])
    assert statuses == ["queued", "running", "passed"]


def test_data_dir_log_mentions_no_token(live: Live) -> None:
    """Tokens travel in the query string of sockets: the server log must not keep them."""
    assert live.token not in Path(live.server.log).read_text()
