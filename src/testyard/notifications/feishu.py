"""Feishu / Lark custom bots: a ``post`` (rich text) message. With a signing secret the
body gets ``timestamp`` (seconds) and ``sign``, as Feishu defines them:
``sign = base64(HMAC-SHA256(key=f"{timestamp}\\n{secret}", msg=b""))``. Feishu answers
200 with ``code`` (older bots: ``StatusCode``) 0 when it took the message."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from typing import Any, ClassVar

from testyard.notifications.message import Message
from testyard.notifications.sender import (
    ChatSender,
    expect_code_zero,
    post_json,
)


def sign(secret: str, timestamp_s: int) -> str:
    digest = hmac.new(f"{timestamp_s}\n{secret}".encode(), b"", hashlib.sha256)
    return base64.b64encode(digest.digest()).decode()


def text(value: str) -> dict[str, str]:
    return {"tag": "text", "text": value}


class FeishuSender(ChatSender):
    kind: ClassVar[str] = "feishu"

    def body(self, message: Message) -> dict[str, Any]:
        paragraphs = [[text(f"{label}: {value}")] for label, value in message.lines()]
        if message.failures:
            paragraphs.append([text("First failures:")])
            paragraphs += [[text(f"• {f['nodeid']}: {f['message']}")] for f in message.failures]
            if message.more_failures:
                paragraphs.append([text(f"… and {message.more_failures} more")])
        paragraphs.append([{"tag": "a", "text": "Open in testyard", "href": message.link}])
        post = {"zh_cn": {"title": message.title, "content": paragraphs}}
        return {"msg_type": "post", "content": {"post": post}}

    def send(self, message: Message) -> int:
        body = self.body(message)
        if self.channel.secret:
            timestamp = int(time.time())
            body = {
                "timestamp": str(timestamp),
                "sign": sign(self.channel.secret, timestamp),
                **body,
            }
        response = post_json(self.channel, body, self.timeout)
        return expect_code_zero(response, self.channel, "code", "StatusCode")
