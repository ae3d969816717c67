"""Signing in and out, deep links, projects and the language switch."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.e2e.conftest import ADMIN_PASSWORD, sign_in
from tests.e2e.ui import choose, field_error
from tests.support.api import Api


def test_wrong_password_is_refused_and_a_deep_link_survives_sign_in(page: Page) -> None:
    page.goto("/p/1/runs")
    expect(page).to_have_url(re.compile(r"/login\?next=(/|%2F)p(/|%2F)1(/|%2F)runs$"))
    page.get_by_test_id("login-username").fill("admin")
    page.get_by_test_id("login-password").fill("not-the-password")
    page.get_by_test_id("login-submit").click()
    expect(page.get_by_test_id("login-error")).to_contain_text("Wrong username or password")
    page.get_by_test_id("login-password").fill(ADMIN_PASSWORD)
    page.get_by_test_id("login-submit").click()
    expect(page).to_have_url(re.compile(r"/p/1/runs$"))


def test_create_a_project_and_switch_language(page: Page, admin_api: Api) -> None:
    sign_in(page)
    page.goto("/projects")
    page.get_by_test_id("new-project").click()
    page.get_by_test_id("project-name").fill("Shop")
    page.get_by_test_id("project-save").click()
    expect(page).to_have_url(re.compile(r"/p/\d+/cases$"))
    names = [p["name"] for p in admin_api.get("/projects")["items"]]
    assert "Shop" in names

    # A second project with the same name is refused next to the name field.
    page.goto("/projects")
    page.get_by_test_id("new-project").click()
    page.get_by_test_id("project-name").fill("Shop")
    page.get_by_test_id("project-save").click()
    expect(field_error(page, "project-name")).to_be_visible()

    page.goto("/projects")
    choose(page, "language", "简体中文")
    expect(page.get_by_role("heading", name="项目")).to_be_visible()
    page.reload()  # remembered
    expect(page.get_by_role("heading", name="项目")).to_be_visible()


def test_a_deep_link_loads_after_a_reload(page: Page) -> None:
    sign_in(page)
    page.goto("/projects")
    page.reload()
    expect(page.get_by_role("heading", name="Projects")).to_be_visible()


def test_the_sign_in_page_sends_no_request_without_a_token(page: Page) -> None:
    refused: list[str] = []
    page.on("response", lambda r: refused.append(r.url) if r.status == 401 else None)
    page.goto("/p/1/runs")
    expect(page.get_by_test_id("login-submit")).to_be_visible()
    page.get_by_test_id("login-username").fill("admin")
    page.get_by_test_id("login-password").fill(ADMIN_PASSWORD)
    page.get_by_test_id("login-submit").click()
    expect(page.get_by_test_id("user-menu")).to_be_visible()
    page.wait_for_load_state("networkidle")
    assert refused == []  # each would flash an error at the user
