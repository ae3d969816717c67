"""E-mail channels against a real SMTP server (aiosmtpd) on loopback: plain, STARTTLS
and implicit TLS with a throw-away certificate authority, logins, and refusals."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.factories import make_channel, make_project
from tests.integration.notifications.conftest import PUBLIC_URL, send_test
from tests.support.api import Api
from tests.support.smtp import SmtpServer

LOGIN = ("ci-bot", "smtp-password-1")


@pytest.fixture(scope="session", params=["sqlite"])
def db_backend(request: pytest.FixtureRequest) -> str:
    """What is sent does not depend on the database: one backend is enough (the claims
    are proved on both in test_delivery.py)."""
    return str(request.param)


@pytest.fixture(params=["none", "starttls", "tls"])
def smtp(request: pytest.FixtureRequest) -> Iterator[SmtpServer]:
    server = SmtpServer(request.param, login=None if request.param == "none" else LOGIN)
    yield server.start()
    server.stop()


def email_channel(api: Api, pid: int, smtp: SmtpServer, **config: Any) -> dict[str, Any]:
    base = {
        "host": "127.0.0.1",
        "port": smtp.port,
        "security": smtp.security,
        "sender": "testyard <ci@example.com>",
        "recipients": ["qa@example.com", "dev@example.com"],
    }
    secret = ""
    if smtp.security != "none":
        base.update(username=LOGIN[0], ca_pem=smtp.ca_pem)
        secret = LOGIN[1]
    return make_channel(api, pid, kind="email", url="", secret=secret, config={**base, **config})


def test_a_mail_goes_out_with_text_and_html(admin: Api, smtp: SmtpServer) -> None:
    pid = make_project(admin)["id"]
    channel = email_channel(admin, pid, smtp)
    delivery = send_test(admin, pid, channel["id"])
    assert delivery["status"] == "sent", delivery["attempts"]
    assert delivery["attempts"][0]["status_code"] == 250
    ((envelope, mail),) = smtp.wait_for(1)
    assert envelope.mail_from == "ci@example.com"
    assert envelope.rcpt_tos == ["qa@example.com", "dev@example.com"]
    assert mail["Subject"] == f"testyard: test message for channel {channel['name']}"
    assert mail["To"] == "qa@example.com, dev@example.com"
    assert mail["X-Testyard-Delivery"] == str(delivery["id"])
    assert smtp.logins == ([] if smtp.security == "none" else [LOGIN[0]])
    plain = mail.get_body(("plain",))
    html = mail.get_body(("html",))
    assert plain is not None and html is not None
    link = f"{PUBLIC_URL}/p/{pid}/channels"
    assert f"Open in testyard: {link}" in plain.get_content()
    assert f"<a href='{link}'>Open in testyard</a>" in html.get_content()


def test_an_untrusted_certificate_is_refused(admin: Api) -> None:
    smtp = SmtpServer("tls", login=LOGIN).start()
    try:
        pid = make_project(admin)["id"]
        channel = email_channel(admin, pid, smtp, ca_pem="")
        delivery = send_test(admin, pid, channel["id"])
        assert delivery["status"] == "failed"
        assert "CERTIFICATE_VERIFY_FAILED" in delivery["attempts"][0]["error"]
        # verify_tls: false is the way out for a server one cannot get a CA for.
        lenient = email_channel(admin, pid, smtp, ca_pem="", verify_tls=False)
        assert send_test(admin, pid, lenient["id"])["status"] == "sent"
    finally:
        smtp.stop()
    assert len(smtp.recorder.messages) == 1


def test_a_wrong_password_is_recorded_with_the_smtp_code(admin: Api) -> None:
    smtp = SmtpServer("starttls", login=LOGIN).start()
    try:
        pid = make_project(admin)["id"]
        channel = email_channel(admin, pid, smtp)
        admin.patch(f"/projects/{pid}/channels/{channel['id']}", {"secret": "wrong-password"})
        delivery = send_test(admin, pid, channel["id"])
    finally:
        smtp.stop()
    assert delivery["status"] == "failed"
    attempt = delivery["attempts"][0]
    assert attempt["status_code"] == 535 and attempt["error"].startswith("SMTP 535")
    assert "wrong-password" not in str(delivery)
    assert smtp.recorder.messages == []
