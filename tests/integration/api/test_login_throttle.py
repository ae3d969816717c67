"""Login throttling: repeated wrong passwords lock a username from an address, then the
address; the lock is in the database, so another server process sees it too."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from starlette.testclient import TestClient

from tests.conftest import ADMIN_PASSWORD
from tests.support.api import PREFIX
from testyard.api.app import create_app
from testyard.config import Settings


@pytest.fixture
def throttled(settings: Settings) -> Settings:
    settings.login_max_failures = 3
    settings.login_max_failures_per_address = 5
    settings.login_lockout_s = 2
    return settings


@pytest.fixture
def app_client(throttled: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(throttled, migrate=False)) as client:
        yield client


def login(client: TestClient, username: str, password: str) -> int:
    response = client.post(
        f"{PREFIX}/auth/login", json={"username": username, "password": password}
    )
    if response.status_code == 429:
        assert int(response.headers["retry-after"]) >= 1
        assert response.json()["error"] == "too_many_requests"
    return response.status_code


def test_a_username_is_locked_after_repeated_failures_even_with_the_right_password(
    app_client: TestClient,
) -> None:
    assert [login(app_client, "admin", "wrong") for _ in range(3)] == [401, 401, 401]
    assert login(app_client, "admin", ADMIN_PASSWORD) == 429
    assert login(app_client, "admin", "wrong") == 429  # not counted while locked out


def test_the_lock_ends_after_the_lockout_period(app_client: TestClient) -> None:
    for _ in range(3):
        login(app_client, "admin", "wrong")
    assert login(app_client, "admin", ADMIN_PASSWORD) == 429
    time.sleep(2.1)
    assert login(app_client, "admin", ADMIN_PASSWORD) == 200


def test_a_success_before_the_limit_starts_the_count_again(app_client: TestClient) -> None:
    for _ in range(2):
        assert login(app_client, "admin", "wrong") == 401
    assert login(app_client, "admin", ADMIN_PASSWORD) == 200
    assert [login(app_client, "admin", "wrong") for _ in range(2)] == [401, 401]
    assert login(app_client, "admin", ADMIN_PASSWORD) == 200


def test_an_address_trying_many_usernames_is_locked_as_a_whole(app_client: TestClient) -> None:
    codes = [login(app_client, f"guess{i}", "wrong") for i in range(5)]
    assert codes == [401] * 5
    assert login(app_client, "admin", ADMIN_PASSWORD) == 429


def test_another_server_process_sees_the_lock(app_client: TestClient, throttled: Settings) -> None:
    for _ in range(3):
        login(app_client, "admin", "wrong")
    with TestClient(create_app(throttled, migrate=False)) as other:
        assert login(other, "admin", ADMIN_PASSWORD) == 429
