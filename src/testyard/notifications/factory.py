"""The one place channel kinds are known: the sender class for each, built here."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from testyard.notifications.dingtalk import DingtalkSender
from testyard.notifications.feishu import FeishuSender
from testyard.notifications.sender import ChannelError, ChannelSettings, Sender
from testyard.notifications.slack import SlackSender
from testyard.notifications.smtp import SmtpSender
from testyard.notifications.webhook import WebhookSender
from testyard.notifications.wecom import WecomSender

SENDERS: dict[str, type[Sender]] = {
    cls.kind: cls
    for cls in (WebhookSender, SlackSender, DingtalkSender, FeishuSender, WecomSender, SmtpSender)
}
KINDS = tuple(SENDERS)
MASK = "***"


def check(channel: ChannelSettings) -> dict[str, Any]:
    """Validate a channel's settings for its kind (``ChannelError`` names the field);
    answers the config to store, defaults filled in."""
    sender = SENDERS.get(channel.kind)
    if sender is None:
        raise ChannelError(f"unknown kind {channel.kind!r}; one of {', '.join(KINDS)}", "kind")
    return sender.check(channel)


def make_sender(channel: ChannelSettings, timeout: float) -> Sender:
    return SENDERS[channel.kind](channel, timeout)


def mask_url(kind: str, url: str) -> str:
    """A channel's URL as the API shows it: robots' URLs carry their token (DingTalk's
    ``access_token``, WeCom's ``key``, Slack's last path segment), so every query value
    a Slack hook's last segment and a password in the URL are masked."""
    if not url:
        return url
    parts = urlsplit(url)
    query = urlencode(
        [(key, MASK) for key, _ in parse_qsl(parts.query, keep_blank_values=True)], safe="*"
    )
    netloc = parts.netloc
    if parts.password:
        netloc = f"{parts.username}:{MASK}@" + netloc.rpartition("@")[2]
    path = parts.path
    if kind == "slack" and "/" in path.strip("/"):
        path = path.rstrip("/").rsplit("/", 1)[0] + "/" + MASK
    return urlunsplit((parts.scheme, netloc, path, query, ""))
