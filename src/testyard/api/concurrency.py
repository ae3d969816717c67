"""At most ``TESTYARD_MAX_CONCURRENT_REQUESTS`` API requests run at once; the rest
wait their turn on the event loop, holding no thread and no database connection.

Without it, a burst beyond the HTTP thread pool (40 threads) filled every thread with
requests waiting for a database connection held by requests that needed a thread to
finish: the server stalled and answered 5xx (``bench/soak_api.py``). WebSockets and the
web UI's files are not counted.
"""

from __future__ import annotations

import asyncio

from starlette.types import ASGIApp, Receive, Scope, Send


class ConcurrencyLimitMiddleware:
    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit
        self._slots: asyncio.Semaphore | None = None  # made on the server's own loop

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith("/api/"):
            await self.app(scope, receive, send)
            return
        if self._slots is None:
            self._slots = asyncio.Semaphore(self.limit)
        async with self._slots:
            await self.app(scope, receive, send)
