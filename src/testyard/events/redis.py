"""The Redis pub/sub event bus: any API process can serve any socket while another
process runs the tests. Survives a Redis restart: publishing drops messages while Redis
is away (the store keeps the ones that matter), subscriptions reconnect and tell their
subscriber to backfill."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import redis
import redis.asyncio as aioredis

from testyard.events.bus import RECONNECTED, Message

log = logging.getLogger(__name__)

RETRY_S = 0.5
WARN_EVERY_S = 30.0


class RedisBus:
    def __init__(self, url: str) -> None:
        self.url = url
        self._client = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
        self._last_warning = 0.0

    def publish(self, channel: str, message: Message) -> None:
        self.publish_many(channel, [message])

    def publish_many(self, channel: str, messages: list[Message]) -> None:
        try:
            pipeline = self._client.pipeline(transaction=False)
            for message in messages:
                pipeline.publish(channel, json.dumps(message, default=str))
            pipeline.execute()
        except redis.RedisError as exc:
            now = time.monotonic()
            if now - self._last_warning > WARN_EVERY_S:
                self._last_warning = now
                log.warning("event bus: cannot publish to Redis (%s); clients will backfill", exc)

    @asynccontextmanager
    async def subscribe(self, channel: str) -> AsyncIterator[AsyncIterator[Message]]:
        client = aioredis.Redis.from_url(self.url, socket_connect_timeout=2)
        pubsub = client.pubsub(ignore_subscribe_messages=True)
        await pubsub.subscribe(channel)
        try:
            yield self._messages(client, pubsub, channel)
        finally:
            try:
                await pubsub.aclose()  # type: ignore[no-untyped-call]
                await client.aclose()
            except redis.RedisError:
                pass

    async def _messages(
        self, client: aioredis.Redis, pubsub: aioredis.client.PubSub, channel: str
    ) -> AsyncIterator[Message]:
        while True:
            try:
                raw = await pubsub.get_message(timeout=1.0)
            except (redis.ConnectionError, redis.TimeoutError, OSError):
                pubsub = await self._resubscribe(client, channel)
                yield RECONNECTED
                continue
            if raw is not None and raw.get("type") == "message":
                yield json.loads(raw["data"])

    async def _resubscribe(self, client: aioredis.Redis, channel: str) -> aioredis.client.PubSub:
        while True:
            await asyncio.sleep(RETRY_S)
            try:
                pubsub = client.pubsub(ignore_subscribe_messages=True)
                await pubsub.subscribe(channel)
                return pubsub
            except (redis.ConnectionError, redis.TimeoutError, OSError):
                continue

    def close(self) -> None:
        self._client.close()
