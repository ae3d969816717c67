"""DingTalk (钉钉) custom robots: a ``markdown`` message. With a signing secret ("加签")
the URL gets ``timestamp`` (milliseconds) and ``sign``, as DingTalk defines them:
``sign = urlencode(base64(HMAC-SHA256(key=secret, msg=f"{timestamp}\\n{secret}")))``.
DingTalk answers 200 with ``errcode`` 0 when it took the message. A robot secured by
keywords needs one of them in the message: "testyard" is in every title."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from typing import Any, ClassVar
from urllib.parse import quote_plus

from testyard.notifications.message import Message
from testyard.notifications.sender import (
    ChatSender,
    expect_code_zero,
    post_json,
)


def sign(secret: str, timestamp_ms: int) -> str:
    """DingTalk's signature, before URL encoding."""
    digest = hmac.new(secret.encode(), f"{timestamp_ms}\n{secret}".encode(), hashlib.sha256)
    return base64.b64encode(digest.digest()).decode()


def signed_url(url: str, secret: str, timestamp_ms: int) -> str:
    joiner = "&" if "?" in url else "?"
    return f"{url}{joiner}timestamp={timestamp_ms}&sign={quote_plus(sign(secret, timestamp_ms))}"


class DingtalkSender(ChatSender):
    kind: ClassVar[str] = "dingtalk"

    def body(self, message: Message) -> dict[str, Any]:
        return {
            "msgtype": "markdown",
            "markdown": {"title": message.title, "text": message.markdown()},
        }

    def send(self, message: Message) -> int:
        url = self.channel.url
        if self.channel.secret:
            url = signed_url(url, self.channel.secret, int(time.time() * 1000))
        response = post_json(self.channel, self.body(message), self.timeout, url=url)
        return expect_code_zero(response, self.channel, "errcode")
