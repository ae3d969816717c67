"""A generic webhook: the message's facts as JSON, signed when the channel has a secret.

Headers: ``X-Testyard-Event`` (``run.finished`` or ``test``), ``X-Testyard-Delivery``
(the same on every retry of one delivery, so a receiver can drop duplicates),
``X-Testyard-Timestamp`` (Unix seconds, also in the body as ``timestamp``) and, with a
secret, ``X-Testyard-Signature: sha256=<hex>``: HMAC-SHA256 keyed with the secret over
the exact body bytes. The body carries the timestamp, so the signature covers it too."""

from __future__ import annotations

import hashlib
import hmac
import time
from typing import Any, ClassVar

from testyard.notifications.message import Message
from testyard.notifications.sender import (
    ChatSender,
    encode_json,
    expect_2xx,
    post_json,
)


def signature(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


class WebhookSender(ChatSender):
    kind: ClassVar[str] = "webhook"

    def body(self, message: Message, timestamp: int) -> dict[str, Any]:
        return {
            **message.facts,
            "delivery_id": message.delivery_id,
            "timestamp": timestamp,
            "title": message.title,
            "text": message.text(),
            "url": message.link,
        }

    def send(self, message: Message) -> int:
        timestamp = int(time.time())
        body = encode_json(self.body(message, timestamp))
        headers = {
            "X-Testyard-Event": str(message.facts.get("event")),
            "X-Testyard-Delivery": str(message.delivery_id),
            "X-Testyard-Timestamp": str(timestamp),
        }
        if self.channel.secret:
            headers["X-Testyard-Signature"] = signature(self.channel.secret, body)
        response = post_json(self.channel, body, self.timeout, headers=headers)
        return expect_2xx(response, self.channel)
