"""A run-stream client slower than the run, against a real server: its socket's queue is
bounded (the server falls behind and catches up from the store, and says so in its
log), and a client that takes nothing for too long is closed with 1013 and resumes
with ``?after=SEQ``. Either way it gets every stored event once, in order."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from websockets.client import ClientProtocol
from websockets.exceptions import ConnectionClosed
from websockets.frames import Frame, Opcode
from websockets.protocol import State
from websockets.sync.client import ClientConnection, connect
from websockets.uri import parse_uri

from tests.support.server import ServerProcess

PASSWORD = "admin-password-1"
TESTS = 3000
#: Long parameter ids make each `test` event ~3 KB, so the burst (~9 MB) outgrows the
#: socket buffers of both ends (up to 4 MB each on Linux) and the server's sends block.
BURST = (
    "import pytest\n\n\n"
    f"@pytest.mark.parametrize('n', range({TESTS}), ids=lambda n: f'{{n:05d}}-' + 'x' * 3000)\n"
    "def test_burst(n):\n    assert n == n\n"
)
STORED = frozenset({"run", "test", "done", "timeout"})


class Stream:
    """A server with a tiny per-socket queue and a short send timeout."""

    def __init__(self, root: Path, **settings: str) -> None:
        self.server = ServerProcess(
            root / "data",
            root / "serve.log",
            TESTYARD_ADMIN_PASSWORD=PASSWORD,
            TESTYARD_WORK_DIR=str(root / "work"),
            TESTYARD_WS_QUEUE_LIMIT="20",
            **settings,
        ).start()
        with self.server.client() as http:
            login = http.post("/auth/login", json={"username": "admin", "password": PASSWORD})
        self.http = self.server.client(login.json()["token"])
        self.token = login.json()["token"]

    def start_burst(self) -> dict[str, Any]:
        project = self.http.post("/projects", json={"name": f"p{time.monotonic_ns()}"}).json()
        pid = project["id"]
        case = self.http.post(f"/projects/{pid}/cases", json={"name": "c", "code": BURST}).json()
        answer = self.http.post(
            f"/projects/{pid}/runs", json={"case_ids": [case["id"]], "workers": 0}
        )
        assert answer.status_code == 202, answer.text
        return dict(answer.json())

    def stalled(self, path: str) -> StalledClient:
        return StalledClient(self.server.port, path, self.token)

    def wait_for_log(self, text: str, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while text not in self.server.log.read_text():
            assert time.monotonic() < deadline, f"no {text!r} in the server log"
            time.sleep(0.1)

    def wait_finished(self, rid: int, timeout: float = 180) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            run = self.http.get(f"/runs/{rid}").json()
            if run["status"] not in ("queued", "running"):
                return dict(run)
            time.sleep(0.2)
        raise AssertionError(f"run {rid} did not finish")

    def close(self) -> None:
        self.http.close()
        self.server.stop()


@pytest.fixture
def stream(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Stream]:
    settings = getattr(request, "param", {})
    served = Stream(tmp_path, **settings)
    try:
        yield served
    finally:
        served.close()


class StalledClient:
    """A WebSocket client on a raw socket that reads nothing until ``receive``: a
    4 KiB receive buffer, set before connecting, and websockets' sans-I/O protocol (no
    compression, no pings), so the server's sends really block."""

    def __init__(self, port: int, path: str, token: str) -> None:
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        self.sock.connect(("127.0.0.1", port))
        self.protocol = ClientProtocol(parse_uri(f"ws://127.0.0.1:{port}{path}"))
        self.protocol.send_request(self.protocol.connect())
        self._flush()
        while self.protocol.state is not State.OPEN:
            self.protocol.receive_data(self.sock.recv(4096))
        self.protocol.send_text(json.dumps({"token": token}).encode())
        self._flush()

    def _flush(self) -> None:
        for data in self.protocol.data_to_send():
            self.sock.sendall(data)

    def receive(self, timeout: float = 60) -> tuple[list[dict[str, Any]], int]:
        """Every message until the server closes, and the close code it sent."""
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 * 1024 * 1024)
        self.sock.settimeout(timeout)
        messages = []
        while self.protocol.state is not State.CLOSED:
            data = self.sock.recv(1 << 20)
            self.protocol.receive_data(data) if data else self.protocol.receive_eof()
            self._flush()
            for event in self.protocol.events_received():
                if isinstance(event, Frame) and event.opcode is Opcode.TEXT:
                    messages.append(json.loads(event.data))
            if not data:
                break
        self.sock.close()
        close = self.protocol.close_rcvd
        return messages, close.code if close else 1006


def receive(ws: ClientConnection, timeout: float = 60) -> tuple[list[dict[str, Any]], int]:
    """Every message until the server closes, and the close code it sent."""
    messages = []
    try:
        while True:
            messages.append(json.loads(ws.recv(timeout=timeout)))
    except ConnectionClosed as closed:
        return messages, closed.rcvd.code if closed.rcvd else 1006


def assert_complete(messages: list[dict[str, Any]]) -> None:
    kept = [m for m in messages if m["event"] in STORED]
    assert [m["seq"] for m in kept] == list(range(1, len(kept) + 1)), "once each, in order"
    tests = [m["nodeid"].split("[")[1][:5] for m in kept if m["event"] == "test"]
    assert tests == [f"{n:05d}" for n in range(TESTS)]
    assert kept[-1]["event"] == "done" and kept[-1]["status"] == "passed"


@pytest.mark.parametrize("stream", [{"TESTYARD_WS_SEND_TIMEOUT_S": "300"}], indirect=True)
def test_a_slow_client_catches_up_from_the_store_and_misses_nothing(stream: Stream) -> None:
    run = stream.start_burst()
    client = stream.stalled(run["ws_url"])
    # With an unbounded queue the server would buffer the whole burst and never say so.
    stream.wait_for_log("client behind, catching up from the store")
    stream.wait_finished(run["id"])
    messages, code = client.receive()
    assert code == 1000
    assert_complete(messages)


@pytest.mark.parametrize("stream", [{"TESTYARD_WS_SEND_TIMEOUT_S": "2"}], indirect=True)
def test_a_client_that_takes_nothing_is_closed_with_1013_and_resumes(stream: Stream) -> None:
    run = stream.start_burst()
    client = stream.stalled(run["ws_url"])
    stream.wait_for_log("client too slow, closing with 1013")
    first, code = client.receive()
    assert code == 1013
    last = max(m["seq"] for m in first if m["event"] in STORED)
    url = f"ws://127.0.0.1:{stream.server.port}{run['ws_url']}?after={last}"
    with connect(url, open_timeout=10) as ws:
        ws.send(json.dumps({"token": stream.token}))
        rest, code = receive(ws)
    assert code == 1000
    assert_complete(first + rest)
