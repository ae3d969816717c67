"""WebSockets: the live events of a run, and the status changes of a project's runs.

A socket authenticates with the API's bearer token, as ``?token=`` or as the first
message ``{"token": …}``, and needs the viewer role in the run's project; otherwise it
is closed with 1008 (policy violation). The run stream subscribes to the bus first,
then replays the stored events after ``?after=SEQ`` and drops live duplicates by seq,
so nothing stored is missed and nothing is sent twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, WebSocket, WebSocketDisconnect, status
from starlette.concurrency import run_in_threadpool

from testyard.db.engine import transaction
from testyard.db.models import Run
from testyard.events.bus import RECONNECTED, EventBus, Message, project_channel, run_channel
from testyard.events.store import STORED, events_after
from testyard.services import users
from testyard.services.access import Role, require
from testyard.services.errors import ServiceError

router = APIRouter()

BEHIND = "run %s stream: client behind, catching up from the store"
log = logging.getLogger(__name__)

FIRST_MESSAGE_TIMEOUT_S = 5.0
TICK_S = 1.0
#: How often a quiet stream rereads the store, in case a live message was lost.
RESYNC_S = 5.0
#: Messages sent in one go (stored events read back are sent in batches this size).
BATCH = 500
#: The close code for a client too slow to take its events ("try again later").
SLOW_CLIENT = 1013
SLOW_REASON = "too slow to follow the run: reconnect with ?after=SEQ"


class Refused(Exception):
    pass


@router.websocket("/ws/runs/{rid}")
async def run_stream(websocket: WebSocket, rid: int, after: int = 0) -> None:
    await websocket.accept()
    try:
        run = await _authorize(websocket, lambda s, u: _readable_run(s, u, rid))
    except Refused as exc:
        await websocket.close(status.WS_1008_POLICY_VIOLATION, reason=str(exc))
        return
    bus: EventBus = websocket.app.state.bus
    stream = RunStream(websocket, run, after)
    try:
        async with bus.subscribe(run_channel(rid)) as live:
            await stream.serve(live)
    except WebSocketDisconnect:
        return


@router.websocket("/ws/projects/{pid}/runs")
async def project_stream(websocket: WebSocket, pid: int) -> None:
    await websocket.accept()
    try:
        await _authorize(websocket, lambda s, u: require(s, u, pid, Role.viewer).id)
    except Refused as exc:
        await websocket.close(status.WS_1008_POLICY_VIOLATION, reason=str(exc))
        return
    bus: EventBus = websocket.app.state.bus
    try:
        async with bus.subscribe(project_channel(pid)) as live:
            async for message in live:
                if message is not RECONNECTED:
                    await websocket.send_json(message)
    except WebSocketDisconnect:
        return


async def _authorize(websocket: WebSocket, check: Any) -> Any:
    token = websocket.query_params.get("token")
    if not token:
        try:
            first = await asyncio.wait_for(websocket.receive_text(), FIRST_MESSAGE_TIMEOUT_S)
            token = json.loads(first).get("token")
        except (TimeoutError, ValueError, AttributeError):
            raise Refused("send the token as ?token= or as a first message {token}") from None
    if not isinstance(token, str):
        raise Refused("missing token")

    def authorize() -> Any:
        with transaction(websocket.app.state.sessions) as session:
            return check(session, users.resolve_token(session, token))

    try:
        return await run_in_threadpool(authorize)
    except ServiceError as exc:
        raise Refused(exc.message) from None


def _readable_run(session: Any, user: Any, rid: int) -> dict[str, Any]:
    run = session.get(Run, rid)
    if run is None:
        raise Refused(f"run {rid} not found")
    try:
        require(session, user, run.project_id, Role.viewer)
    except ServiceError:
        raise Refused(f"run {rid} not found") from None
    return {
        "id": run.id,
        "status": run.status,
        "created_at": run.created_at,
        "started_at": run.started_at,
    }


class RunStream:
    """One client's stream: stored events after ``last``, then live ones, with a
    ``tick`` every second while nothing else is said, until ``done``.

    Live messages wait in a queue of at most ``limit``; the stream takes whatever is
    waiting at once and sends it as one batch, so fifty sockets on a burst cost a send
    per message, not a task per message. When the queue is full (a client slower than
    the run), new messages are dropped and the stream falls ``behind``: it rereads the
    store after the last seq it sent before taking the queue again, so every stored
    event still arrives once, in order; only live ``log`` lines may be skipped. A batch
    the client does not take within ``send_timeout_s`` closes the socket with 1013
    (try again later): the client reconnects with ``?after=SEQ``.
    """

    def __init__(self, websocket: WebSocket, run: dict[str, Any], after: int) -> None:
        settings = websocket.app.state.settings
        self.websocket = websocket
        self.run_id: int = run["id"]
        self.last = after
        self.status: str = run["status"]
        self.since: datetime = run["started_at"] or run["created_at"]
        self.finished = False
        self.behind = False
        self.limit: int = settings.ws_queue_limit
        self.send_timeout_s: float = settings.ws_send_timeout_s

    async def serve(self, live: AsyncIterator[Message]) -> None:
        # The live messages go through a queue: waiting on it with a timeout (for
        # ticks) must not cancel, and so end, the subscription's iterator.
        queue: asyncio.Queue[Message] = asyncio.Queue()
        pumping = asyncio.create_task(self._pump(live, queue))
        try:
            await self._loop(queue)
        except TimeoutError:
            log.info("run %s stream: client too slow, closing with 1013", self.run_id)
            # The close frame waits behind what the client has not read yet; a client
            # that reads nothing for as long again is dropped without it.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.send_timeout_s):
                    await self.websocket.close(SLOW_CLIENT, reason=SLOW_REASON)
            return
        finally:
            pumping.cancel()
        await self.websocket.close()

    async def _pump(self, live: AsyncIterator[Message], queue: asyncio.Queue[Message]) -> None:
        async for message in live:
            if self.behind or queue.qsize() >= self.limit or message is RECONNECTED:
                if not self.behind:  # said when it happens: the loop may be stuck sending
                    log.info(BEHIND, self.run_id)
                self.behind = True  # dropped; the loop rereads the store
            else:
                queue.put_nowait(message)

    async def _loop(self, queue: asyncio.Queue[Message]) -> None:
        await self.backfill()
        quiet_since = last_sync = time.monotonic()
        while not self.finished:
            if self.behind:
                self.behind = False
                await self.backfill()
                last_sync = time.monotonic()
                continue
            batch = _take(queue)
            if not batch:
                try:
                    batch = [await asyncio.wait_for(queue.get(), TICK_S)]
                except TimeoutError:
                    last_sync = await self._quiet(quiet_since, last_sync)
                    continue
                batch += _take(queue)
            if await self.send_batch(batch):
                quiet_since = time.monotonic()

    async def _quiet(self, quiet_since: float, last_sync: float) -> float:
        """Nothing came for a second: reread the store now and then, and tick."""
        now = time.monotonic()
        if now - last_sync >= RESYNC_S:
            last_sync = now
            await self.backfill()
        if not self.finished and time.monotonic() - quiet_since >= TICK_S:
            await self.send_batch([self.tick()])
        return last_sync

    async def backfill(self) -> None:
        def load() -> list[Message]:
            with transaction(self.websocket.app.state.sessions) as session:
                return events_after(session, self.run_id, self.last)

        messages = await run_in_threadpool(load)
        for start in range(0, len(messages), BATCH):
            await self.send_batch(messages[start : start + BATCH])

    async def send_batch(self, messages: list[Message]) -> bool:
        """Send those not already sent (stored events by seq); True if one was a test
        result. Raises TimeoutError when the client takes too long to take them."""
        texts = [_encode(m) for m in messages if self._fresh(m)]
        async with asyncio.timeout(self.send_timeout_s):
            for text in texts:
                await self.websocket.send_text(text)
        return any(m.get("event") == "test" for m in messages)

    def _fresh(self, message: Message) -> bool:
        if message.get("event") in STORED:
            if message["seq"] <= self.last:
                return False
            self.last = message["seq"]
        self._follow(message)
        return True

    def _follow(self, message: Message) -> None:
        if message.get("event") == "run":
            run = message["run"]
            self.status = run["status"]
            started = run.get("started_at")
            if started:
                self.since = datetime.fromisoformat(started)
        elif message.get("event") == "done":
            self.finished = True

    def tick(self) -> Message:
        elapsed = (datetime.now(UTC) - self.since).total_seconds()
        return {
            "event": "tick",
            "seq": self.last,
            "status": self.status,
            "elapsed_s": round(elapsed, 1),
        }


def _take(queue: asyncio.Queue[Message]) -> list[Message]:
    """Everything waiting in ``queue``, up to a batch, without awaiting."""
    batch: list[Message] = []
    while len(batch) < BATCH and not queue.empty():
        batch.append(queue.get_nowait())
    return batch


def _encode(message: Message) -> str:
    # As Starlette's send_json does.
    return json.dumps(message, separators=(",", ":"), ensure_ascii=False)
