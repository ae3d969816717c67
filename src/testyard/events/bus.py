"""The event bus interface and its factory."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager
from typing import Any, Protocol

Message = dict[str, Any]

#: Yielded by a subscription after the bus lost and regained its connection: messages
#: may have been missed meanwhile, so the subscriber backfills from the store.
RECONNECTED: Message = {"event": "_reconnected"}


def run_channel(run_id: int) -> str:
    return f"run:{run_id}"


def project_channel(project_id: int) -> str:
    return f"project:{project_id}:runs"


class EventBus(Protocol):
    def publish(self, channel: str, message: Message) -> None:
        """Send ``message`` to the channel's subscribers; callable from any thread,
        never raises (a lost live message is recovered from the store)."""

    def publish_many(self, channel: str, messages: list[Message]) -> None:
        """``publish`` for several messages, in order (one round trip where it can)."""

    def subscribe(self, channel: str) -> AbstractAsyncContextManager[AsyncIterator[Message]]:
        """An async context: the messages of ``channel`` from now on."""

    def close(self) -> None: ...


def make_bus(redis_url: str | None) -> EventBus:
    """Redis pub/sub when ``TESTYARD_REDIS_URL`` is set, else in-process."""
    if redis_url:
        from testyard.events.redis import RedisBus

        return RedisBus(redis_url)
    from testyard.events.memory import MemoryBus

    return MemoryBus()
