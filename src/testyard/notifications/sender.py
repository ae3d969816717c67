"""The ``Sender`` protocol every channel kind implements, and what the HTTP kinds share:
one way to post JSON (httpx, a timeout, no redirects) and the checks of a channel's URL.

A sender answers the status code the other side gave (HTTP, or SMTP's reply code) or
raises ``SendError`` with a message fit to show users: built from the answer, never
containing the channel's secret or its URL (which often carries a token itself)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol
from urllib.parse import parse_qsl, urlsplit

import httpx2 as httpx

from testyard import __version__
from testyard.notifications.message import Message

USER_AGENT = f"testyard/{__version__}"
#: How much of an unexpected answer an attempt records.
ANSWER_CHARS = 300
MAX_URL = 2000


@dataclass(frozen=True)
class ChannelSettings:
    """What a sender needs of a channel row (read in a short transaction, used outside)."""

    kind: str
    url: str = ""
    secret: str = field(default="", repr=False)
    config: dict[str, Any] = field(default_factory=dict)


class ChannelError(ValueError):
    """A channel's settings do not fit its kind; ``field`` names the input."""

    def __init__(self, message: str, field: str) -> None:
        super().__init__(message)
        self.field = field


class SendError(Exception):
    """The message was not taken: ``status_code`` is the other side's answer, if any."""

    def __init__(self, message: str, status_code: int | None = None) -> None:
        super().__init__(message)
        self.status_code = status_code


class Sender(Protocol):
    """One channel kind. ``check`` validates a channel's settings before they are saved
    and answers its config with defaults filled in; ``send`` delivers one message (the
    delivery service calls it outside any transaction)."""

    kind: ClassVar[str]

    def __init__(self, channel: ChannelSettings, timeout: float) -> None: ...

    @classmethod
    def check(cls, channel: ChannelSettings) -> dict[str, Any]: ...

    def send(self, message: Message) -> int: ...


class ChatSender:
    """What the chat kinds share: the channel and timeout they send with, and the check
    of an http(s) URL with no other setting. A kind whose URL is its secret sets
    ``secret_note`` (why it takes no secret); a signing kind leaves it None."""

    kind: ClassVar[str]
    secret_note: ClassVar[str | None] = None

    def __init__(self, channel: ChannelSettings, timeout: float) -> None:
        self.channel = channel
        self.timeout = timeout

    @classmethod
    def check(cls, channel: ChannelSettings) -> dict[str, Any]:
        check_http_url(channel.url)
        if cls.secret_note is not None:
            check_no_secret(channel, cls.secret_note)
        return check_no_config(channel)


def check_http_url(url: str) -> None:
    """A chat channel posts to an http(s) URL with a host."""
    if not url:
        raise ChannelError("a URL is required", "url")
    if len(url) > MAX_URL:
        raise ChannelError(f"the URL must be at most {MAX_URL} characters", "url")
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, ValueError) as exc:
        raise ChannelError(f"not a valid URL: {exc}", "url") from None
    if parsed.scheme not in ("http", "https") or not parsed.host:
        raise ChannelError("the URL must start with http:// or https:// and name a host", "url")


def check_no_config(channel: ChannelSettings) -> dict[str, Any]:
    """Chat kinds have nothing besides their URL and secret."""
    for key in channel.config:
        raise ChannelError(f"a {channel.kind} channel has no setting {key!r}", f"config.{key}")
    return {}


def check_no_secret(channel: ChannelSettings, why: str) -> None:
    if channel.secret:
        raise ChannelError(f"a {channel.kind} channel has no secret: {why}", "secret")


def post_json(
    channel: ChannelSettings,
    body: dict[str, Any] | bytes,
    timeout: float,
    *,
    headers: dict[str, str] | None = None,
    url: str | None = None,
) -> httpx.Response:
    """POST ``body`` (a dict, or the exact bytes to send) to the channel's URL (or
    ``url``, the channel's with signing parameters added). Transport errors become
    ``SendError`` without the URL."""
    content = body if isinstance(body, bytes) else encode_json(body)
    sent_headers = {"Content-Type": "application/json", "User-Agent": USER_AGENT}
    try:
        with httpx.Client(timeout=timeout, follow_redirects=False) as client:
            return client.post(
                url or channel.url, content=content, headers={**sent_headers, **(headers or {})}
            )
    except httpx.TimeoutException:
        raise SendError(f"no answer within {timeout:g} s") from None
    except (httpx.HTTPError, httpx.InvalidURL) as exc:
        raise SendError(redact(f"{type(exc).__name__}: {exc}", channel)) from None


def encode_json(body: dict[str, Any]) -> bytes:
    """The bytes a JSON body is sent as (UTF-8, compact): signed as they are sent."""
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()


def expect_2xx(response: httpx.Response, channel: ChannelSettings) -> int:
    """Answer the status code of a successful response; raise for any other."""
    if not response.is_success:
        raise SendError(
            redact(f"HTTP {response.status_code}: {response.text[:ANSWER_CHARS]}", channel),
            response.status_code,
        )
    return response.status_code


def expect_code_zero(response: httpx.Response, channel: ChannelSettings, *keys: str) -> int:
    """The chat robots answer 200 with an error code in the JSON body (``errcode`` for
    DingTalk and WeCom, ``code`` or ``StatusCode`` for Feishu): anything but 0 failed."""
    status = expect_2xx(response, channel)
    try:
        answer = response.json()
    except ValueError:
        answer = None
    if not isinstance(answer, dict):
        raise SendError(
            redact(f"not a JSON object: {response.text[:ANSWER_CHARS]}", channel), status
        )
    code = next((answer[key] for key in keys if key in answer), None)
    if code != 0:
        text = answer.get("errmsg") or answer.get("msg") or answer.get("StatusMessage") or ""
        raise SendError(redact(f"error code {code}: {text}"[:ANSWER_CHARS], channel), status)
    return status


def redact(text: str, channel: ChannelSettings) -> str:
    """``text`` without the channel's secret, URL, or any value of the URL's query."""
    hidden = [channel.secret, channel.url]
    hidden += [value for _, value in parse_qsl(urlsplit(channel.url).query) if len(value) > 3]
    for value in sorted(filter(None, hidden), key=len, reverse=True):
        text = text.replace(value, "***")
    return text
