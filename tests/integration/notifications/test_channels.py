"""Channels through the API: validation per kind, names, the write-only secret, masked
URLs, and plans that notify them."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.factories import make_case, make_channel, make_plan, make_project
from tests.integration.notifications.conftest import send_test
from tests.support.api import Api
from tests.support.receiver import Receiver

SECRET = "very-secret-signing-key"
EMAIL = {"host": "smtp.example.com", "sender": "ci@example.com", "recipients": ["qa@example.com"]}


def test_a_channel_answers_whether_a_secret_is_set_never_the_secret(admin: Api) -> None:
    pid = make_project(admin)["id"]
    created = make_channel(admin, pid, name="ops", secret=SECRET)
    assert created["secret_set"] is True and "secret" not in created
    assert created["kind"] == "webhook" and created["enabled"] is True
    assert created["url"] == "http://127.0.0.1:9/hook" and created["config"] == {}
    path = f"/projects/{pid}/channels/{created['id']}"
    listed = admin.get(f"/projects/{pid}/channels")
    assert listed["total"] == 1 and listed["items"] == [created]
    assert admin.get(path) == created
    kept = admin.patch(path, {"name": "ops-2"})
    assert kept["secret_set"] is True and kept["name"] == "ops-2"
    everything = json.dumps([listed, kept, admin.get(path)])
    assert SECRET not in everything
    assert admin.patch(path, {"secret": ""})["secret_set"] is False


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"kind": "pager"}, "kind"),
        ({"kind": "slack", "url": ""}, "url"),
        ({"kind": "webhook", "url": "ftp://example.com/x"}, "url"),
        ({"kind": "webhook", "url": "http://"}, "url"),
        ({"kind": "slack", "url": "https://hooks.slack.com/services/a", "secret": "x"}, "secret"),
        ({"kind": "wecom", "url": "https://qyapi.weixin.qq.com/x?key=1", "secret": "x"}, "secret"),
        ({"kind": "webhook", "url": "https://example.com", "config": {"host": "x"}}, "config.host"),
        ({"kind": "email", "config": {**EMAIL, "host": ""}}, "config.host"),
        (
            {"kind": "email", "config": {"sender": "ci@example.com", "recipients": ["a@b.c"]}},
            "config.host",
        ),
        ({"kind": "email", "config": {**EMAIL, "recipients": []}}, "config.recipients"),
        (
            {"kind": "email", "config": {**EMAIL, "recipients": ["not an address"]}},
            "config.recipients",
        ),
        (
            {"kind": "email", "config": {**EMAIL, "sender": "ci@example.com\r\nBcc: x@y.z"}},
            "config.sender",
        ),
        ({"kind": "email", "config": {**EMAIL, "security": "ssl"}}, "config.security"),
        ({"kind": "email", "config": {**EMAIL, "port": 70000}}, "config.port"),
        ({"kind": "email", "config": {**EMAIL, "ca_pem": "not a certificate"}}, "config.ca_pem"),
        ({"kind": "email", "config": {**EMAIL, "smarthost": "x"}}, "config.smarthost"),
        ({"kind": "email", "url": "smtp://x", "config": EMAIL}, "url"),
        ({"kind": "email", "secret": "pw", "config": EMAIL}, "config.username"),
        ({"kind": "webhook", "url": "https://example.com", "name": "  "}, "name"),
    ],
)
def test_invalid_channels_are_refused_naming_the_field(
    admin: Api, body: dict[str, Any], field: str
) -> None:
    pid = make_project(admin)["id"]
    answer = admin.post(f"/projects/{pid}/channels", {"name": "c", **body}, status=422)
    assert (answer["error"], answer["field"]) == ("invalid", field), answer
    assert admin.get(f"/projects/{pid}/channels")["total"] == 0


def test_email_fills_in_the_port_for_its_security(admin: Api) -> None:
    pid = make_project(admin)["id"]
    ports = {}
    for security in ("starttls", "tls", "none"):
        config = {**EMAIL, "security": security}
        created = make_channel(admin, pid, kind="email", url="", config=config)
        ports[security] = created["config"]["port"]
        assert created["config"]["verify_tls"] is True and created["url"] == ""
    assert ports == {"starttls": 587, "tls": 465, "none": 25}


def test_names_are_unique_per_project(admin: Api) -> None:
    pid, other = make_project(admin)["id"], make_project(admin)["id"]
    first = make_channel(admin, pid, name="ops")
    answer = admin.post(
        f"/projects/{pid}/channels",
        {"name": "ops", "kind": "webhook", "url": "https://x.example"},
        status=409,
    )
    assert (answer["error"], answer["field"]) == ("conflict", "name")
    make_channel(admin, other, name="ops")  # another project may
    second = make_channel(admin, pid, name="dev")
    renamed = admin.patch(f"/projects/{pid}/channels/{second['id']}", {"name": "ops"}, status=409)
    assert renamed["field"] == "name"
    assert admin.patch(f"/projects/{pid}/channels/{first['id']}", {"name": "ops"})["name"] == "ops"


def test_urls_are_answered_with_their_tokens_masked(admin: Api) -> None:
    pid = make_project(admin)["id"]
    ding = make_channel(
        admin,
        pid,
        kind="dingtalk",
        url="https://oapi.dingtalk.com/robot/send?access_token=abc123def",
    )
    assert ding["url"] == "https://oapi.dingtalk.com/robot/send?access_token=***"
    slack = make_channel(
        admin, pid, kind="slack", url="https://hooks.slack.com/services/T000/B000/XXXXsecret"
    )
    assert slack["url"] == "https://hooks.slack.com/services/T000/B000/***"
    hook = make_channel(admin, pid, url="https://user:pw123@example.com/hook")
    assert hook["url"] == "https://user:***@example.com/hook"
    listed = json.dumps(admin.get(f"/projects/{pid}/channels"))
    assert "abc123def" not in listed and "XXXXsecret" not in listed and "pw123" not in listed
    assert (
        admin.patch(f"/projects/{pid}/channels/{ding['id']}", {"url": "https://other.example/x"})[
            "url"
        ]
        == "https://other.example/x"
    )


def test_the_masked_url_sent_back_keeps_the_real_one(admin: Api, receiver: Receiver) -> None:
    """A form saved unchanged sends the masked URL back: the stored URL stays."""
    pid = make_project(admin)["id"]
    ding = make_channel(admin, pid, kind="dingtalk", url=f"{receiver.url}/send?access_token=t0k")
    path = f"/projects/{pid}/channels/{ding['id']}"
    assert admin.patch(path, {"url": ding["url"], "name": "ding"})["url"] == ding["url"]
    assert send_test(admin, pid, ding["id"])["status"] == "sent"
    assert receiver.requests[0].query["access_token"] == ["t0k"]


def test_changing_the_kind_revalidates_everything(admin: Api) -> None:
    pid = make_project(admin)["id"]
    channel = make_channel(admin, pid, secret="s")
    path = f"/projects/{pid}/channels/{channel['id']}"
    assert admin.patch(path, {"kind": "slack"}, status=422)["field"] == "secret"
    assert admin.patch(path, {"kind": "email"}, status=422)["field"] == "url"
    body = {"kind": "email", "url": "", "secret": "", "config": EMAIL}
    email = admin.patch(path, body)
    assert (email["kind"], email["secret_set"], email["config"]["port"]) == ("email", False, 587)
    assert admin.patch(path, {"enabled": False})["enabled"] is False


def test_plans_notify_only_their_projects_channels(admin: Api) -> None:
    pid, other = make_project(admin)["id"], make_project(admin)["id"]
    mine, theirs = make_channel(admin, pid), make_channel(admin, other)
    case = make_case(admin, pid)
    body = {"case_ids": [case["id"]], "notify": {"when": "always", "channel_ids": [theirs["id"]]}}
    answer = admin.post(f"/projects/{pid}/plans", {"name": "p", **body}, status=422)
    assert answer["field"] == "notify.channel_ids"
    for ids in ([2**40], [mine["id"], mine["id"]]):
        refused = admin.post(
            f"/projects/{pid}/plans", {"name": "p", "notify": {"channel_ids": ids}}, status=422
        )
        assert refused["field"] == "notify.channel_ids"
    plan = make_plan(admin, pid, notify={"when": "change", "channel_ids": [mine["id"]]})
    assert plan["notify"] == {"when": "change", "channel_ids": [mine["id"]]}


def test_deleting_a_channel_removes_it_from_plans(admin: Api) -> None:
    pid = make_project(admin)["id"]
    gone, kept = make_channel(admin, pid), make_channel(admin, pid)
    plan = make_plan(
        admin, pid, notify={"when": "failure", "channel_ids": [gone["id"], kept["id"]]}
    )
    admin.delete(f"/projects/{pid}/channels/{gone['id']}")
    assert (
        admin.expect(404, "GET", f"/projects/{pid}/channels/{gone['id']}")["error"] == "not_found"
    )
    now = admin.get(f"/projects/{pid}/plans/{plan['id']}")
    assert now["notify"] == {"when": "failure", "channel_ids": [kept["id"]]}
    assert now["updated_at"] == plan["updated_at"]  # a clean-up, not an edit


def test_another_projects_channel_is_not_found(admin: Api) -> None:
    pid, other = make_project(admin)["id"], make_project(admin)["id"]
    channel = make_channel(admin, other)
    for method, suffix in (
        ("GET", ""),
        ("PATCH", ""),
        ("DELETE", ""),
        ("POST", "/test"),
        ("GET", "/deliveries"),
    ):
        answer = admin.expect(
            404,
            method,
            f"/projects/{pid}/channels/{channel['id']}{suffix}",
            json={} if method == "PATCH" else None,
        )
        assert answer["error"] == "not_found"
