"""Notification tests: the app's delivery service polls often and retries after short
delays, and real receivers (HTTP, SMTP) listen on loopback."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from tests.support.api import Api
from tests.support.receiver import Receiver
from testyard.config import Settings

PUBLIC_URL = "http://testyard.example:8080"
TIMEOUT_S = 2.0
RETRY_S = 0.3
MAX_ATTEMPTS = 3
DONE = {"sent", "failed"}


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(
        update={
            "public_url": PUBLIC_URL,
            "notify_interval_s": 0.05,
            "notify_timeout_s": TIMEOUT_S,
            "notify_retry_s": RETRY_S,
            "notify_retry_max_s": 1.0,
            "notify_max_attempts": MAX_ATTEMPTS,
        }
    )


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver().start()
    yield server
    server.stop()


def wait_for_delivery(
    api: Api,
    pid: int,
    chid: int,
    delivery_id: int,
    until: set[str] = DONE,
    attempts: int = 0,
    timeout: float = 30.0,
) -> dict[str, Any]:
    """Poll the channel's deliveries until this one's status is in ``until`` and it has
    at least ``attempts`` attempts."""
    deadline = time.monotonic() + timeout
    while True:
        page = api.get(f"/projects/{pid}/channels/{chid}/deliveries", params={"per_page": 200})
        found = next(d for d in page["items"] if d["id"] == delivery_id)
        if found["status"] in until and len(found["attempts"]) >= attempts:
            return dict(found)
        if time.monotonic() > deadline:
            raise AssertionError(f"delivery still {found['status']} after {timeout}s: {found}")
        time.sleep(0.05)


def send_test(api: Api, pid: int, chid: int) -> dict[str, Any]:
    """POST …/test and wait until the delivery service is done with it."""
    queued = api.post(f"/projects/{pid}/channels/{chid}/test", status=202)
    assert queued["status"] == "pending" and queued["run_id"] is None
    return wait_for_delivery(api, pid, chid, queued["id"])
