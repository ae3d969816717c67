"""WebSockets: the live events of a run, and the status changes of a project's runs.

A socket authenticates with the API's bearer token, as ``?token=`` or as the first
message ``{"token": …}``, and needs the viewer role in the run's project; otherwise it
is closed with 1008 (policy violation). The run stream subscribes to the bus first,
then replays the stored events after ``?after=SEQ`` and drops live duplicates by seq,
so nothing stored is missed and nothing is sent twice.
"""

from __future__ import annotations

import asyncio
import json
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

FIRST_MESSAGE_TIMEOUT_S = 5.0
TICK_S = 1.0
#: How often a quiet stream rereads the store, in case a live message was lost.
RESYNC_S = 5.0


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
    ``tick`` every second while nothing else is said, until ``done``."""

    def __init__(self, websocket: WebSocket, run: dict[str, Any], after: int) -> None:
        self.websocket = websocket
        self.run_id: int = run["id"]
        self.last = after
        self.status: str = run["status"]
        self.since: datetime = run["started_at"] or run["created_at"]
        self.finished = False

    async def serve(self, live: AsyncIterator[Message]) -> None:
        # The live messages go through a queue: waiting on it with a timeout (for
        # ticks) must not cancel, and so end, the subscription's iterator.
        queue: asyncio.Queue[Message] = asyncio.Queue()

        async def pump() -> None:
            async for message in live:
                await queue.put(message)

        pumping = asyncio.create_task(pump())
        try:
            await self._loop(queue)
        finally:
            pumping.cancel()
        await self.websocket.close()

    async def _loop(self, queue: asyncio.Queue[Message]) -> None:
        await self.backfill()
        quiet_since = time.monotonic()
        last_sync = time.monotonic()
        while not self.finished:
            try:
                message = await asyncio.wait_for(queue.get(), TICK_S)
            except TimeoutError:
                if time.monotonic() - last_sync >= RESYNC_S:
                    last_sync = time.monotonic()
                    await self.backfill()
                if not self.finished and time.monotonic() - quiet_since >= TICK_S:
                    await self.tick()
                continue
            if message is RECONNECTED:
                await self.backfill()
                continue
            if await self.send(message):
                quiet_since = time.monotonic()

    async def backfill(self) -> None:
        def load() -> list[Message]:
            with transaction(self.websocket.app.state.sessions) as session:
                return events_after(session, self.run_id, self.last)

        for message in await run_in_threadpool(load):
            await self.send(message)

    async def send(self, message: Message) -> bool:
        """Send unless it is a stored event already sent; True for a test result."""
        if message.get("event") in STORED:
            if message["seq"] <= self.last:
                return False
            self.last = message["seq"]
        self._follow(message)
        await self.websocket.send_json(message)
        return message.get("event") == "test"

    def _follow(self, message: Message) -> None:
        if message.get("event") == "run":
            run = message["run"]
            self.status = run["status"]
            started = run.get("started_at")
            if started:
                self.since = datetime.fromisoformat(started)
        elif message.get("event") == "done":
            self.finished = True

    async def tick(self) -> None:
        elapsed = (datetime.now(UTC) - self.since).total_seconds()
        await self.websocket.send_json(
            {
                "event": "tick",
                "seq": self.last,
                "status": self.status,
                "elapsed_s": round(elapsed, 1),
            }
        )
