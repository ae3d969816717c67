"""The delivery service: retries with backoff, every attempt recorded, channels that
fail, refuse or hang, and claims that never let two senders take one delivery."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator

import pytest
from sqlalchemy import text
from starlette.testclient import TestClient

from tests.conftest import ADMIN_PASSWORD
from tests.factories import (
    make_case,
    make_channel,
    make_plan,
    make_project,
    start_run,
    wait_for_run,
)
from tests.integration.notifications.conftest import (
    MAX_ATTEMPTS,
    RETRY_S,
    TIMEOUT_S,
    send_test,
    wait_for_delivery,
)
from tests.support.api import Api, login
from tests.support.receiver import Receiver, free_port
from testyard.api.app import create_app
from testyard.config import Settings
from testyard.notifications.delivery import Policy, claim_due, deliver_due


def test_a_500_is_retried_after_a_backoff(admin: Api, receiver: Receiver) -> None:
    receiver.fail_first(1)
    pid = make_project(admin)["id"]
    channel = make_channel(admin, pid, url=receiver.url)
    delivery = send_test(admin, pid, channel["id"])
    assert delivery["status"] == "sent" and delivery["attempt_count"] == 2
    first, second = delivery["attempts"]
    assert first["status_code"] == 500 and first["error"].startswith("HTTP 500: ")
    assert second["status_code"] == 200 and second["error"] == ""
    assert delivery["finished_at"] is not None and delivery["next_attempt_at"] is None
    early, late = receiver.requests
    assert late.at - early.at >= RETRY_S * 0.9  # waited for the backoff
    assert early.headers["x-testyard-delivery"] == late.headers["x-testyard-delivery"]


def test_a_refused_connection_is_retried_until_the_receiver_is_up(admin: Api) -> None:
    port = free_port()  # nothing listens here yet
    pid = make_project(admin)["id"]
    channel = make_channel(admin, pid, url=f"http://127.0.0.1:{port}/hook")
    queued = admin.post(f"/projects/{pid}/channels/{channel['id']}/test", status=202)
    refused = wait_for_delivery(
        admin, pid, channel["id"], queued["id"], until={"pending"}, attempts=1
    )
    attempt = refused["attempts"][0]
    assert attempt["status_code"] is None and "refused" in attempt["error"].lower()
    assert refused["next_attempt_at"] is not None
    receiver = Receiver(port).start()
    try:
        sent = wait_for_delivery(admin, pid, channel["id"], queued["id"])
    finally:
        receiver.stop()
    assert sent["status"] == "sent"
    assert [a["status_code"] for a in sent["attempts"]][-1] == 200
    assert len(receiver.requests) == 1


def test_a_delivery_failing_every_attempt_ends_failed(admin: Api, receiver: Receiver) -> None:
    receiver.fail_first(100, status=503)
    pid = make_project(admin)["id"]
    channel = make_channel(admin, pid, url=receiver.url)
    delivery = send_test(admin, pid, channel["id"])
    assert delivery["status"] == "failed" and delivery["attempt_count"] == MAX_ATTEMPTS
    assert [a["status_code"] for a in delivery["attempts"]] == [503] * MAX_ATTEMPTS
    assert all(a["error"].startswith("HTTP 503") for a in delivery["attempts"])
    assert delivery["next_attempt_at"] is None and delivery["finished_at"] is not None
    assert len(receiver.requests) == MAX_ATTEMPTS


def test_a_hanging_channel_does_not_hold_up_the_others(admin: Api) -> None:
    stuck, healthy = Receiver().start(), Receiver().start()
    stuck.hang()
    try:
        pid = make_project(admin)["id"]
        slow = make_channel(admin, pid, url=stuck.url)
        fast = make_channel(admin, pid, url=healthy.url)
        hanging = admin.post(f"/projects/{pid}/channels/{slow['id']}/test", status=202)
        stuck.wait_for(1)  # the first attempt is hanging now
        assert send_test(admin, pid, fast["id"])["status"] == "sent"
        still = admin.get(f"/projects/{pid}/channels/{slow['id']}/deliveries")["items"][0]
        assert (still["id"], still["status"], still["attempts"]) == (hanging["id"], "pending", [])
        timed_out = wait_for_delivery(
            admin, pid, slow["id"], hanging["id"], until={"pending"}, attempts=1
        )
        assert timed_out["attempts"][0]["error"] == f"no answer within {TIMEOUT_S:g} s"
        assert timed_out["attempts"][0]["duration_ms"] >= TIMEOUT_S * 1000 * 0.9
    finally:
        stuck.stop()
        healthy.stop()


def test_deliveries_are_listed_newest_first_in_pages(admin: Api, receiver: Receiver) -> None:
    pid = make_project(admin)["id"]
    channel = make_channel(admin, pid, url=receiver.url)
    ids = [send_test(admin, pid, channel["id"])["id"] for _ in range(3)]
    path = f"/projects/{pid}/channels/{channel['id']}/deliveries"
    first = admin.get(path, params={"per_page": 2})
    second = admin.get(path, params={"per_page": 2, "page": 2})
    assert (first["total"], first["page"], first["per_page"]) == (3, 1, 2)
    assert [d["id"] for d in first["items"] + second["items"]] == ids[::-1]
    item = first["items"][0]
    assert (item["channel_id"], item["channel_name"], item["channel_kind"]) == (
        channel["id"],
        channel["name"],
        "webhook",
    )
    assert item["event"] == "test" and item["title"].startswith("testyard: test message")
    assert admin.get(path, params={"status": "failed"})["total"] == 0
    assert admin.get(path, params={"status": "sent"})["total"] == 3


def test_a_finished_plan_run_is_delivered(admin: Api, receiver: Receiver) -> None:
    """The rule's hook in set_run_status, on both databases (test_rules.py has them all)."""
    pid = make_project(admin)["id"]
    channel = make_channel(admin, pid, url=receiver.url)
    plan = make_plan(
        admin,
        pid,
        case_ids=[make_case(admin, pid)["id"]],
        notify={"when": "always", "channel_ids": [channel["id"]]},
    )
    run = wait_for_run(admin, start_run(admin, pid, plan_id=plan["id"]))
    (queued,) = admin.get(f"/runs/{run['id']}/notifications")["items"]
    sent = wait_for_delivery(admin, pid, channel["id"], queued["id"])
    assert (sent["status"], sent["run_id"]) == ("sent", run["id"])
    assert receiver.requests[0].json()["run"]["status"] == run["status"] == "passed"


@pytest.mark.parametrize("channel_ids", [5, ["x"]])
def test_a_broken_rule_never_fails_the_run(admin: Api, channel_ids: object) -> None:
    """A plan whose stored ``notify`` is not what the API writes (an old row, a hand
    edit): the error stays in the rule's savepoint; the run finishes as it should."""
    pid = make_project(admin)["id"]
    plan = make_plan(admin, pid, case_ids=[make_case(admin, pid)["id"]])
    notify = json.dumps({"when": "always", "channel_ids": channel_ids})
    with admin.client.app.state.engine.begin() as conn:  # type: ignore[attr-defined]
        conn.execute(
            text("UPDATE plans SET notify = :n WHERE id = :id"), {"n": notify, "id": plan["id"]}
        )
    run = wait_for_run(admin, start_run(admin, pid, plan_id=plan["id"]))
    assert run["status"] == "passed"
    assert admin.get(f"/runs/{run['id']}/notifications")["items"] == []


@pytest.fixture
def quiet(settings: Settings) -> Iterator[tuple[Api, Settings]]:
    """The API without a delivery service of its own: the test sends by hand."""
    quiet_settings = settings.model_copy(update={"notify_send": False})
    with TestClient(create_app(quiet_settings, migrate=False)) as client:
        yield Api(client, login(client, "admin", ADMIN_PASSWORD)), quiet_settings


def test_two_senders_never_claim_the_same_delivery(quiet: tuple[Api, Settings]) -> None:
    api, settings = quiet
    pid = make_project(api)["id"]
    channel = make_channel(api, pid)
    queued = {
        api.post(f"/projects/{pid}/channels/{channel['id']}/test", status=202)["id"]
        for _ in range(12)
    }
    sessions = api.client.app.state.sessions  # type: ignore[attr-defined]
    claimed: list[list[int]] = []
    start = threading.Barrier(3)

    def claim() -> None:
        start.wait()
        for _ in range(4):
            claimed.append(claim_due(sessions, 2, Policy.of(settings).lease))

    threads = [threading.Thread(target=claim) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    every = [i for batch in claimed for i in batch]
    assert sorted(every) == sorted(queued)  # each once: none twice, none left
    assert claim_due(sessions, 100, Policy.of(settings).lease) == []  # leased


def test_deliver_due_sends_what_is_due(quiet: tuple[Api, Settings], receiver: Receiver) -> None:
    """The service's work as a plain function: claim, send, record."""
    api, settings = quiet
    pid = make_project(api)["id"]
    channel = make_channel(api, pid, url=receiver.url)
    queued = api.post(f"/projects/{pid}/channels/{channel['id']}/test", status=202)
    sessions = api.client.app.state.sessions  # type: ignore[attr-defined]
    assert deliver_due(sessions, Policy.of(settings)) == [queued["id"]]
    assert len(receiver.requests) == 1
    assert deliver_due(sessions, Policy.of(settings)) == []
    listed = api.get(f"/projects/{pid}/channels/{channel['id']}/deliveries")["items"]
    assert listed[0]["status"] == "sent" and listed[0]["attempts"][0]["status_code"] == 200
