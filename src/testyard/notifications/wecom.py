"""WeCom (企业微信) group robots: a ``markdown`` message. The ``key`` in the URL is the
robot's secret; WeCom answers 200 with ``errcode`` 0 when it took the message."""

from __future__ import annotations

from typing import Any, ClassVar

from testyard.notifications.message import Message
from testyard.notifications.sender import (
    ChatSender,
    expect_code_zero,
    post_json,
)

#: WeCom refuses markdown content over 4096 bytes (UTF-8).
MAX_BYTES = 4096


def fit(text: str, limit: int = MAX_BYTES) -> str:
    """``text`` cut to ``limit`` UTF-8 bytes without splitting a character."""
    data = text.encode()
    return text if len(data) <= limit else data[: limit - 3].decode(errors="ignore") + "…"


class WecomSender(ChatSender):
    kind: ClassVar[str] = "wecom"
    secret_note: ClassVar[str | None] = "the key in the webhook URL is its secret"

    def body(self, message: Message) -> dict[str, Any]:
        return {"msgtype": "markdown", "markdown": {"content": fit(message.markdown())}}

    def send(self, message: Message) -> int:
        response = post_json(self.channel, self.body(message), self.timeout)
        return expect_code_zero(response, self.channel, "errcode")
