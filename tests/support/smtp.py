"""A real SMTP server (aiosmtpd) on loopback for e-mail notification tests: plain,
STARTTLS or implicit TLS with a throw-away CA's certificate (trustme), optionally
requiring a login; it records every message it accepts."""

from __future__ import annotations

import ssl
import time
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

import trustme
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, Envelope, LoginPassword, Session

from tests.support.receiver import free_port


@dataclass
class Recorder:
    """The aiosmtpd handler: keeps each accepted message with its envelope."""

    messages: list[tuple[Envelope, EmailMessage]] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Session, envelope: Envelope) -> str:
        content = envelope.original_content or b""
        self.messages.append((envelope, message_from_bytes(content, policy=policy.default)))  # type: ignore[arg-type]
        return "250 OK"


class SmtpServer:
    """``security``: ``none``, ``starttls`` or ``tls``; ``login``: (user, password) the
    server demands. ``ca_pem`` is the certificate authority a client must trust."""

    def __init__(self, security: str = "none", login: tuple[str, str] | None = None) -> None:
        self.security = security
        self.port = free_port()
        self.recorder = Recorder()
        self.ca = trustme.CA()
        self.ca_pem = self.ca.cert_pem.bytes().decode()
        server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self.ca.issue_cert("127.0.0.1", "localhost").configure_cert(server_context)
        kwargs: dict[str, Any] = {}
        if security == "starttls":
            kwargs.update(tls_context=server_context, require_starttls=True)
        #: The logins the server accepted.
        self.logins: list[str] = []
        if login is not None:
            # aiosmtpd sees TLS only after STARTTLS and will not offer AUTH on an implicit
            # TLS port unless told TLS is not required (then it may not require AUTH).
            implicit = security == "tls"
            kwargs.update(
                authenticator=self._authenticator(login),
                auth_required=not implicit,
                auth_require_tls=not implicit,
            )
        self.controller = Controller(
            self.recorder,
            hostname="127.0.0.1",
            port=self.port,
            ssl_context=server_context if security == "tls" else None,
            **kwargs,
        )

    def _authenticator(self, login: tuple[str, str]) -> Any:
        def check(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> Any:
            ok = (
                isinstance(data, LoginPassword)
                and (data.login.decode(), data.password.decode()) == login
            )
            if ok:
                self.logins.append(login[0])
            return AuthResult(success=ok, handled=False)

        return check

    def start(self) -> SmtpServer:
        self.controller.start()
        return self

    def stop(self) -> None:
        self.controller.stop()

    def wait_for(self, count: int, timeout: float = 30.0) -> list[tuple[Envelope, EmailMessage]]:
        deadline = time.monotonic() + timeout
        while len(self.recorder.messages) < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"{len(self.recorder.messages)} of {count} mails arrived")
            time.sleep(0.05)
        return list(self.recorder.messages)
