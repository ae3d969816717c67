"""Slack incoming webhooks: ``text`` (the notification's fallback) and Block Kit
sections in Slack's mrkdwn. The URL is the secret; Slack answers ``ok`` or an error."""

from __future__ import annotations

from typing import Any, ClassVar

from testyard.notifications.message import Message
from testyard.notifications.sender import (
    ChatSender,
    expect_2xx,
    post_json,
)

#: Slack refuses a section's text over 3000 characters.
SECTION_CHARS = 3000


def escape(text: str) -> str:
    """Slack's mrkdwn needs only these three escaped."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text[:SECTION_CHARS]}}


class SlackSender(ChatSender):
    kind: ClassVar[str] = "slack"
    secret_note: ClassVar[str | None] = "the webhook URL is its secret"

    def body(self, message: Message) -> dict[str, Any]:
        summary = "\n".join(f"*{label}:* {escape(value)}" for label, value in message.lines())
        blocks = [section(f"*<{message.link}|{escape(message.title)}>*\n{summary}")]
        if message.failures:
            listed = [
                f"• `{escape(f['nodeid'])}`: {escape(f['message'])}" for f in message.failures
            ]
            if message.more_failures:
                listed.append(f"… and {message.more_failures} more")
            blocks.append(section("*First failures*\n" + "\n".join(listed)))
        return {"text": f"{message.title} {message.link}", "blocks": blocks}

    def send(self, message: Message) -> int:
        response = post_json(self.channel, self.body(message), self.timeout)
        return expect_2xx(response, self.channel)
