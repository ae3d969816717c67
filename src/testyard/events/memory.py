"""The in-process event bus: the embedded default, one server process."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from testyard.events.bus import RECONNECTED, Message

#: Messages a subscriber may have waiting; past it new ones are dropped and the
#: subscriber is told (RECONNECTED) to catch up from the store.
QUEUE_LIMIT = 10_000


class _Inbox:
    """One subscription's bounded queue, and whether it has dropped messages since the
    subscriber last heard so."""

    def __init__(self) -> None:
        self.queue: asyncio.Queue[Message] = asyncio.Queue(QUEUE_LIMIT)
        self.lost = False

    def offer(self, messages: list[Message]) -> None:
        for message in messages:
            if self.queue.full():
                self.lost = True
            else:
                self.queue.put_nowait(message)

    async def messages(self) -> AsyncIterator[Message]:
        while True:
            message = await self.queue.get()
            if self.lost:
                self.lost = False
                yield RECONNECTED
            yield message


class MemoryBus:
    """Subscribers are asyncio queues on their own loops; ``publish`` may come from any
    thread (run drivers), so it hands each message over with ``call_soon_threadsafe``."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._subscribers: dict[str, set[tuple[asyncio.AbstractEventLoop, _Inbox]]] = {}

    def publish(self, channel: str, message: Message) -> None:
        self.publish_many(channel, [message])

    def publish_many(self, channel: str, messages: list[Message]) -> None:
        # One hand-over per subscriber for the whole list: each wakes its loop.
        messages = list(messages)  # the caller may reuse its list
        with self._lock:
            targets = list(self._subscribers.get(channel, ()))
        for loop, inbox in targets:
            try:
                loop.call_soon_threadsafe(inbox.offer, messages)
            except RuntimeError:  # the subscriber's loop has closed
                continue

    @asynccontextmanager
    async def subscribe(self, channel: str) -> AsyncIterator[AsyncIterator[Message]]:
        inbox = _Inbox()
        entry = (asyncio.get_running_loop(), inbox)
        with self._lock:
            self._subscribers.setdefault(channel, set()).add(entry)
        try:
            yield inbox.messages()
        finally:
            with self._lock:
                self._subscribers.get(channel, set()).discard(entry)

    def close(self) -> None:
        with self._lock:
            self._subscribers.clear()
