"""Each chat kind against a real HTTP receiver: the body as the vendor expects it, and
the signature recomputed here from the vendor's documented formula."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time

import pytest

from tests.factories import make_channel, make_project
from tests.integration.notifications.conftest import PUBLIC_URL, send_test
from tests.support.api import Api
from tests.support.receiver import Receiver

SECRET = "SECd0c5e1b2a7f9-signing-secret"


@pytest.fixture(scope="session", params=["sqlite"])
def db_backend(request: pytest.FixtureRequest) -> str:
    """What is sent does not depend on the database: one backend is enough (the claims
    are proved on both in test_delivery.py)."""
    return str(request.param)


def test_webhook_signs_the_exact_body_bytes(admin: Api, receiver: Receiver) -> None:
    pid = make_project(admin)["id"]
    channel = make_channel(
        admin, pid, kind="webhook", url=f"{receiver.url}/hooks/ci", secret=SECRET
    )
    delivery = send_test(admin, pid, channel["id"])
    assert delivery["status"] == "sent"
    (request,) = receiver.requests
    assert (request.method, request.path) == ("POST", "/hooks/ci")
    assert request.headers["content-type"] == "application/json"
    expected = hmac.new(SECRET.encode(), request.body, hashlib.sha256).hexdigest()
    assert request.headers["x-testyard-signature"] == f"sha256={expected}"
    assert request.headers["x-testyard-event"] == "test"
    assert request.headers["x-testyard-delivery"] == str(delivery["id"])
    body = request.json()
    assert request.headers["x-testyard-timestamp"] == str(body["timestamp"])
    assert abs(body["timestamp"] - time.time()) < 60
    assert body["event"] == "test" and body["delivery_id"] == delivery["id"]
    assert body["channel"]["name"] == channel["name"]
    assert body["url"] == f"{PUBLIC_URL}/p/{pid}/channels"
    assert SECRET not in request.body.decode()


def test_webhook_without_a_secret_is_not_signed(admin: Api, receiver: Receiver) -> None:
    pid = make_project(admin)["id"]
    channel = make_channel(admin, pid, kind="webhook", url=receiver.url + "/")
    assert send_test(admin, pid, channel["id"])["status"] == "sent"
    assert "x-testyard-signature" not in receiver.requests[0].headers


def test_slack_gets_text_and_blocks(admin: Api, receiver: Receiver) -> None:
    pid = make_project(admin)["id"]
    channel = make_channel(admin, pid, kind="slack", url=f"{receiver.url}/services/T1/B2/XyZ")
    assert send_test(admin, pid, channel["id"])["status"] == "sent"
    body = receiver.requests[0].json()
    assert body["text"].startswith("testyard: test message for channel")
    assert f"{PUBLIC_URL}/p/{pid}/channels" in body["text"]
    (block,) = body["blocks"]
    assert block["type"] == "section" and block["text"]["type"] == "mrkdwn"
    assert f"*<{PUBLIC_URL}/p/{pid}/channels|testyard: test message" in block["text"]["text"]


def test_dingtalk_signs_the_url_as_dingtalk_defines(admin: Api, receiver: Receiver) -> None:
    pid = make_project(admin)["id"]
    url = f"{receiver.url}/robot/send?access_token=tok123"
    channel = make_channel(admin, pid, kind="dingtalk", url=url, secret=SECRET)
    assert send_test(admin, pid, channel["id"])["status"] == "sent"
    (request,) = receiver.requests
    assert request.path == "/robot/send"
    assert request.query["access_token"] == ["tok123"]
    (timestamp,) = request.query["timestamp"]
    assert abs(int(timestamp) / 1000 - time.time()) < 60  # milliseconds
    digest = hmac.new(SECRET.encode(), f"{timestamp}\n{SECRET}".encode(), hashlib.sha256)
    assert request.query["sign"] == [base64.b64encode(digest.digest()).decode()]
    body = request.json()
    assert body["msgtype"] == "markdown"
    assert body["markdown"]["title"].startswith("testyard:")
    assert "testyard" in body["markdown"]["text"]  # a robot's keyword can be "testyard"


def test_dingtalk_error_code_is_a_failure(admin: Api, receiver: Receiver) -> None:
    receiver.answer = {"errcode": 310000, "errmsg": "sign not match"}
    pid = make_project(admin)["id"]
    channel = make_channel(
        admin, pid, kind="dingtalk", url=receiver.url + "/robot/send", secret=SECRET
    )
    delivery = send_test(admin, pid, channel["id"])
    assert delivery["status"] == "failed"
    assert [a["status_code"] for a in delivery["attempts"]] == [200, 200, 200]
    assert delivery["attempts"][0]["error"] == "error code 310000: sign not match"


def test_feishu_signs_the_body_as_feishu_defines(admin: Api, receiver: Receiver) -> None:
    pid = make_project(admin)["id"]
    channel = make_channel(
        admin, pid, kind="feishu", url=receiver.url + "/open-apis/bot/v2/x", secret=SECRET
    )
    assert send_test(admin, pid, channel["id"])["status"] == "sent"
    body = receiver.requests[0].json()
    timestamp = body["timestamp"]
    assert isinstance(timestamp, str) and abs(int(timestamp) - time.time()) < 60  # seconds
    digest = hmac.new(f"{timestamp}\n{SECRET}".encode(), b"", hashlib.sha256)
    assert body["sign"] == base64.b64encode(digest.digest()).decode()
    assert body["msg_type"] == "post"
    post = body["content"]["post"]["zh_cn"]
    assert post["title"].startswith("testyard: test message")
    link = post["content"][-1][0]
    assert link == {
        "tag": "a",
        "text": "Open in testyard",
        "href": f"{PUBLIC_URL}/p/{pid}/channels",
    }


def test_feishu_error_code_is_a_failure(admin: Api, receiver: Receiver) -> None:
    receiver.answer = {"code": 19021, "msg": "sign match fail or timestamp is not within one hour"}
    pid = make_project(admin)["id"]
    channel = make_channel(admin, pid, kind="feishu", url=receiver.url)
    delivery = send_test(admin, pid, channel["id"])
    assert delivery["status"] == "failed"
    assert delivery["attempts"][-1]["error"].startswith("error code 19021: sign match fail")
    assert "sign" not in receiver.requests[0].json()  # no secret: not signed


def test_wecom_gets_markdown(admin: Api, receiver: Receiver) -> None:
    pid = make_project(admin)["id"]
    channel = make_channel(
        admin, pid, kind="wecom", url=receiver.url + "/cgi-bin/webhook/send?key=k1"
    )
    assert send_test(admin, pid, channel["id"])["status"] == "sent"
    request = receiver.requests[0]
    assert request.query == {"key": ["k1"]}
    body = request.json()
    assert body["msgtype"] == "markdown"
    assert body["markdown"]["content"].startswith("### testyard: test message")
    assert f"[Open in testyard]({PUBLIC_URL}/p/{pid}/channels)" in body["markdown"]["content"]


def test_wecom_error_code_is_a_failure(admin: Api, receiver: Receiver) -> None:
    receiver.answer = {"errcode": 93000, "errmsg": "invalid webhook url"}
    pid = make_project(admin)["id"]
    channel = make_channel(admin, pid, kind="wecom", url=receiver.url + "/send?key=secret-key")
    delivery = send_test(admin, pid, channel["id"])
    assert delivery["status"] == "failed"
    assert delivery["attempts"][0]["error"] == "error code 93000: invalid webhook url"
    listed = admin.get(f"/projects/{pid}/channels/{channel['id']}/deliveries")
    assert "secret-key" not in json.dumps(listed)
