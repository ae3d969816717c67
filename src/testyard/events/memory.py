"""The in-process event bus: the embedded default, one server process."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from testyard.events.bus import Message

QUEUE_LIMIT = 10_000


class MemoryBus:
    """Subscribers are asyncio queues on their own loops; ``publish`` may come from any
    thread (run drivers), so it hands each message over with ``call_soon_threadsafe``."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._subscribers: dict[
            str, set[tuple[asyncio.AbstractEventLoop, asyncio.Queue[Message]]]
        ] = {}

    def publish(self, channel: str, message: Message) -> None:
        with self._lock:
            targets = list(self._subscribers.get(channel, ()))
        for loop, queue in targets:
            try:
                loop.call_soon_threadsafe(_offer, queue, message)
            except RuntimeError:  # the subscriber's loop has closed
                continue

    def publish_many(self, channel: str, messages: list[Message]) -> None:
        for message in messages:
            self.publish(channel, message)

    @asynccontextmanager
    async def subscribe(self, channel: str) -> AsyncIterator[AsyncIterator[Message]]:
        queue: asyncio.Queue[Message] = asyncio.Queue(QUEUE_LIMIT)
        entry = (asyncio.get_running_loop(), queue)
        with self._lock:
            self._subscribers.setdefault(channel, set()).add(entry)
        try:
            yield _drain(queue)
        finally:
            with self._lock:
                self._subscribers.get(channel, set()).discard(entry)

    def close(self) -> None:
        with self._lock:
            self._subscribers.clear()


def _offer(queue: asyncio.Queue[Message], message: Message) -> None:
    # A subscriber that fell 10,000 messages behind loses live ones; stored events
    # come back from the store when it reconnects.
    if not queue.full():
        queue.put_nowait(message)


async def _drain(queue: asyncio.Queue[Message]) -> AsyncIterator[Message]:
    while True:
        yield await queue.get()
