"""User accounts in the browser: an admin manages users, a user changes their password
and makes API tokens, and only admins see the user list."""

from __future__ import annotations

import re

import httpx2 as httpx
from playwright.sync_api import Page, expect

from tests.e2e.conftest import sign_in
from tests.e2e.ui import confirm, field_error
from tests.support.api import Api
from tests.support.server import ServerProcess


def sign_out(page: Page) -> None:
    page.evaluate(
        "localStorage.removeItem('testyard.token'); localStorage.removeItem('testyard.user')"
    )


def login_status(server: ServerProcess, username: str, password: str) -> int:
    answer = httpx.post(
        f"{server.url}/api/v1/auth/login", json={"username": username, "password": password}
    )
    return answer.status_code


def test_a_new_user_changes_their_password_and_makes_an_api_token(
    page: Page, admin_api: Api, server: ServerProcess
) -> None:
    sign_in(page)
    page.goto("/users")
    page.get_by_test_id("new-user").click()
    page.get_by_test_id("user-username").fill("tester")
    page.get_by_test_id("user-password").fill("short")
    page.get_by_test_id("user-save").click()
    expect(field_error(page, "user-password")).to_contain_text("at least 8 characters")
    page.get_by_test_id("user-password").fill("first-password-1")
    page.get_by_test_id("user-save").click()
    expect(page.get_by_test_id("user-tester")).to_be_visible()
    tester = next(u for u in admin_api.get("/users") if u["username"] == "tester")
    assert tester["is_admin"] is False and tester["is_active"] is True

    sign_out(page)
    sign_in(page, "tester", "first-password-1")
    page.goto("/account")
    # A wrong current password is refused next to its field.
    page.get_by_test_id("current-password").fill("not-my-password")
    page.get_by_test_id("new-password").fill("second-password-2")
    page.get_by_test_id("repeat-password").fill("second-password-2")
    page.get_by_test_id("change-password").click()
    expect(field_error(page, "current-password")).to_have_text("current password is wrong")
    # Two different new passwords never reach the server.
    page.get_by_test_id("current-password").fill("first-password-1")
    page.get_by_test_id("repeat-password").fill("second-password-3")
    expect(field_error(page, "repeat-password")).to_have_text("The two new passwords differ")
    expect(field_error(page, "current-password")).to_have_count(0)
    page.get_by_test_id("change-password").click()
    assert login_status(server, "tester", "first-password-1") == 200
    page.get_by_test_id("repeat-password").fill("second-password-2")
    page.get_by_test_id("change-password").click()
    expect(page.get_by_text("Password changed")).to_be_visible()
    assert login_status(server, "tester", "first-password-1") == 401
    assert login_status(server, "tester", "second-password-2") == 200

    # Still signed in after the change (it ends every session): the token list loads.
    page.get_by_test_id("new-token").click()
    page.get_by_test_id("token-name").fill("nightly CI")
    page.get_by_test_id("token-create").click()
    value = page.get_by_test_id("token-value")
    expect(value).to_have_value(re.compile(r"^ty_\S{20,}$"))
    token = value.input_value()
    expect(page.get_by_text("this is the only time it is shown")).to_be_visible()
    page.get_by_test_id("token-done").click()
    expect(page.get_by_test_id("tokens")).to_contain_text("nightly CI")
    expect(page.get_by_test_id("tokens")).to_contain_text(token[:8])

    with httpx.Client(base_url=server.url) as client:
        me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
        assert me.status_code == 200 and me.json()["username"] == "tester"
        page.reload()
        expect(page.get_by_test_id("tokens")).to_contain_text("nightly CI")
        assert token not in page.content()  # shown once, never again

        page.get_by_test_id("delete-token-nightly CI").click()
        confirm(page)
        expect(page.get_by_test_id("tokens")).not_to_contain_text("nightly CI")
        gone = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
        assert gone.status_code == 401


def test_an_admin_grants_resets_disables_and_deletes(
    page: Page, admin_api: Api, server: ServerProcess
) -> None:
    ops = admin_api.post("/users", {"username": "ops", "password": "ops-password-1"})
    sign_in(page)
    page.goto("/users")

    page.get_by_test_id("admin-ops").click()
    expect(page.get_by_test_id("admin-ops")).to_have_class(re.compile("is-checked"))
    assert admin_api.get(f"/users/{ops['id']}")["is_admin"] is True

    page.get_by_test_id("reset-ops").click()
    page.get_by_test_id("reset-password").fill("reset-password-1")
    page.get_by_test_id("reset-save").click()
    expect(page.get_by_text("The password of ops was reset")).to_be_visible()
    assert login_status(server, "ops", "reset-password-1") == 200

    page.get_by_test_id("active-ops").click()
    confirm(page)
    expect(page.get_by_test_id("active-ops")).not_to_have_class(re.compile("is-checked"))
    assert admin_api.get(f"/users/{ops['id']}")["is_active"] is False
    assert login_status(server, "ops", "reset-password-1") == 401

    page.get_by_test_id("delete-ops").click()
    confirm(page)
    expect(page.get_by_test_id("user-ops")).to_have_count(0)
    assert "ops" not in [u["username"] for u in admin_api.get("/users")]
    # The admin cannot take away their own access from here.
    expect(page.get_by_test_id("delete-admin")).to_have_count(0)


def test_a_non_admin_sees_no_user_list(page: Page, admin_api: Api) -> None:
    admin_api.post("/users", {"username": "plain", "password": "plain-password-1"})
    sign_in(page, "plain", "plain-password-1")
    expect(page.get_by_test_id("nav-users")).to_have_count(0)
    page.goto("/users")
    expect(page.get_by_test_id("admins-only")).to_contain_text("Admins only")
    expect(page.get_by_test_id("users")).to_have_count(0)
    expect(page.get_by_test_id("user-admin")).to_have_count(0)
    expect(page.get_by_test_id("new-user")).to_have_count(0)
