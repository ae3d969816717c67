"""E-mail over SMTP: plain text with an HTML alternative, to the channel's recipients.

``config``: ``host``, ``port`` (default 587 for ``starttls``, 465 for ``tls``, 25 for
``none``), ``security`` (``starttls``: upgrade a plain connection; ``tls``: implicit TLS;
``none``), ``username`` (the channel's secret is the password), ``sender``,
``recipients``, ``verify_tls`` (default true) and ``ca_pem``: PEM certificates to trust
besides the system's, for a server with a private CA or a self-signed certificate."""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage
from email.utils import make_msgid, parseaddr
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from testyard.notifications.message import Message
from testyard.notifications.sender import ChannelError, ChannelSettings, SendError, redact

PORTS = {"starttls": 587, "tls": 465, "none": 25}
SENT = 250


def _address(value: str) -> str:
    """One address (``a@b.c`` or ``Name <a@b.c>``); no line breaks (header injection)."""
    if any(ch in value for ch in "\r\n"):
        raise ValueError("an address must not contain line breaks")
    _, address = parseaddr(value)
    local, at, domain = address.rpartition("@")
    if not (local and at and domain) or any(ch.isspace() for ch in address):
        raise ValueError(f"{value!r} is not an e-mail address")
    return value.strip()


class SmtpConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    host: str = Field(min_length=1, max_length=253)
    port: int | None = Field(default=None, ge=1, le=65535)
    security: Literal["starttls", "tls", "none"] = "starttls"
    username: str = Field(default="", max_length=320)
    sender: str = Field(max_length=320)
    recipients: list[str] = Field(min_length=1, max_length=50)
    verify_tls: bool = True
    ca_pem: str = Field(default="", max_length=256 * 1024)

    @field_validator("sender")
    @classmethod
    def _sender(cls, value: str) -> str:
        return _address(value)

    @field_validator("recipients")
    @classmethod
    def _recipients(cls, value: list[str]) -> list[str]:
        return [_address(v) for v in value]

    def tls_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context()
        if self.ca_pem:
            context.load_verify_locations(cadata=self.ca_pem)
        if not self.verify_tls:
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        return context


class SmtpSender:
    kind: ClassVar[str] = "email"

    def __init__(self, channel: ChannelSettings, timeout: float) -> None:
        self.channel = channel
        self.timeout = timeout
        self.config = SmtpConfig.model_validate(channel.config)

    @classmethod
    def check(cls, channel: ChannelSettings) -> dict[str, Any]:
        if channel.url:
            raise ChannelError("an email channel has no URL: set config.host", "url")
        try:
            config = SmtpConfig.model_validate(channel.config)
        except ValidationError as exc:
            error = exc.errors()[0]
            where = ".".join(str(part) for part in error["loc"] if not isinstance(part, int))
            raise ChannelError(error["msg"], f"config.{where}" if where else "config") from None
        if channel.secret and not config.username:
            raise ChannelError("a password (the secret) needs config.username", "config.username")
        try:
            config.tls_context()
        except (ssl.SSLError, ValueError) as exc:
            raise ChannelError(f"cannot read the certificates: {exc}", "config.ca_pem") from None
        config.port = config.port or PORTS[config.security]
        return config.model_dump()

    def mail(self, message: Message) -> EmailMessage:
        mail = EmailMessage()
        mail["Subject"] = message.title
        mail["From"] = self.config.sender
        mail["To"] = ", ".join(self.config.recipients)
        mail["Message-ID"] = make_msgid("testyard")
        mail["X-Testyard-Delivery"] = str(message.delivery_id)
        mail.set_content(message.text())
        mail.add_alternative(message.html(), subtype="html")
        return mail

    def send(self, message: Message) -> int:
        try:
            self._send(self.mail(message))
        except smtplib.SMTPResponseException as exc:
            answer = (
                exc.smtp_error.decode(errors="replace")
                if isinstance(exc.smtp_error, bytes)
                else str(exc.smtp_error)
            )
            raise SendError(
                redact(f"SMTP {exc.smtp_code}: {answer}", self.channel), exc.smtp_code
            ) from None
        except smtplib.SMTPRecipientsRefused as exc:
            codes = sorted({code for code, _ in exc.recipients.values()})
            raise SendError(f"every recipient was refused ({codes})", codes[0]) from None
        except TimeoutError:
            raise SendError(f"no answer within {self.timeout:g} s") from None
        except (OSError, smtplib.SMTPException) as exc:
            raise SendError(redact(f"{type(exc).__name__}: {exc}", self.channel)) from None
        return SENT

    def _send(self, mail: EmailMessage) -> None:
        config, port = self.config, self.config.port or PORTS[self.config.security]
        context = config.tls_context()
        smtp: smtplib.SMTP
        if config.security == "tls":
            smtp = smtplib.SMTP_SSL(config.host, port, timeout=self.timeout, context=context)
        else:
            smtp = smtplib.SMTP(config.host, port, timeout=self.timeout)
        with smtp:
            if config.security == "starttls":
                smtp.starttls(context=context)
            if config.username:
                smtp.login(config.username, self.channel.secret)
            smtp.send_message(mail)
