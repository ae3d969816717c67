"""Request body size limit: a JSON 413 before the body is read, whatever the route."""

from __future__ import annotations

import json

from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

#: A route may raise the limit for itself (imports of zipped projects) by setting this
#: key in the scope before reading the body.
LIMIT_SCOPE_KEY = "testyard.max_body_bytes"


class BodyLimitMiddleware:
    """Refuse bodies over ``max_bytes``: at once when Content-Length says so, else as
    soon as the streamed body passes the limit (the route's read raises a 413)."""

    def __init__(self, app: ASGIApp, max_bytes: int, overrides: dict[str, int] | None = None
                 ) -> None:  # fmt: skip
        self.app = app
        self.max_bytes = max_bytes
        self.overrides = overrides or {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        scope.setdefault(LIMIT_SCOPE_KEY, self.overrides.get(scope["path"], self.max_bytes))
        length = Headers(scope=scope).get("content-length")
        if length and length.isdigit() and int(length) > scope[LIMIT_SCOPE_KEY]:
            await _too_large(scope[LIMIT_SCOPE_KEY], send)
            return
        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > scope[LIMIT_SCOPE_KEY]:
                    raise HTTPException(413, "request body is too large")
            return message

        await self.app(scope, limited_receive, send)


async def _too_large(limit: int, send: Send) -> None:
    body = json.dumps(
        {"error": "too_large", "message": f"request body is over {limit} bytes", "field": None}
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
