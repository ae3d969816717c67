"""Project members: owners add users by name, change their roles and remove them."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.e2e.conftest import sign_in
from tests.e2e.ui import choose, confirm, field_error, seed_project
from tests.support.api import Api

PASSWORD = "member-password-1"


def roles(admin_api: Api, pid: int) -> dict[str, str]:
    return {m["user"]["username"]: m["role"] for m in admin_api.get(f"/projects/{pid}/members")}


def test_an_owner_adds_changes_and_removes_members(page: Page, admin_api: Api) -> None:
    pid = seed_project(admin_api, "Team")
    admin_api.post("/users", {"username": "mia", "password": PASSWORD})
    sign_in(page)
    page.goto(f"/p/{pid}/members")
    expect(page.get_by_test_id("member-admin")).to_be_visible()
    # The only owner can be neither demoted nor removed.
    expect(page.get_by_test_id("role-admin")).to_have_text("owner")
    expect(page.get_by_test_id("remove-admin")).to_have_count(0)

    # An unknown username is refused next to the username field.
    page.get_by_test_id("member-username").fill("nobody")
    page.get_by_test_id("add-member").click()
    expect(field_error(page, "member-username")).to_contain_text("not found")

    page.get_by_test_id("member-username").fill("mia")
    choose(page, "member-role", "editor")
    page.get_by_test_id("add-member").click()
    expect(page.get_by_test_id("member-mia")).to_be_visible()
    expect(field_error(page, "member-username")).to_have_count(0)
    expect(page.get_by_test_id("role-mia")).to_contain_text("editor")
    assert roles(admin_api, pid) == {"admin": "owner", "mia": "editor"}

    # The select shows a role once the server answers the change.
    choose(page, "role-mia", "runner")
    expect(page.locator(".el-message", has_text="mia is now runner")).to_be_visible()
    expect(page.get_by_test_id("role-mia")).to_contain_text("runner")
    assert roles(admin_api, pid) == {"admin": "owner", "mia": "runner"}

    # With a second owner, the first one can be changed too.
    choose(page, "role-mia", "owner")
    expect(page.get_by_test_id("remove-admin")).to_be_visible()
    expect(page.get_by_test_id("role-mia")).to_contain_text("owner")
    assert roles(admin_api, pid)["mia"] == "owner"

    page.get_by_test_id("remove-mia").click()
    confirm(page)
    expect(page.get_by_test_id("member-mia")).to_have_count(0)
    assert roles(admin_api, pid) == {"admin": "owner"}


def test_only_owners_see_the_controls(page: Page, admin_api: Api) -> None:
    pid = seed_project(admin_api, "Team view")
    admin_api.post("/users", {"username": "ned", "password": PASSWORD})
    admin_api.post(f"/projects/{pid}/members", {"username": "ned", "role": "editor"})
    sign_in(page, "ned", PASSWORD)
    page.goto(f"/p/{pid}/members")
    expect(page.get_by_test_id("member-admin")).to_be_visible()
    expect(page.get_by_test_id("role-ned")).to_have_text("editor")
    expect(page.get_by_test_id("roles-legend")).to_be_visible()
    for testid in ("add-member-form", "add-member", "remove-admin", "remove-ned"):
        expect(page.get_by_test_id(testid)).to_have_count(0)
    expect(page.locator(".el-select", has=page.get_by_test_id("role-ned"))).to_have_count(0)
