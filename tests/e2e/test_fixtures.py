"""Fixture modules: written in the browser, listed with the fixtures their code defines."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.e2e.conftest import sign_in
from tests.e2e.ui import confirm, field_error, seed_project, type_code
from tests.support.api import Api

CODE = """import pytest


@pytest.fixture(scope="session")
def base_url():
    return "https://qa.example"


@pytest.fixture(autouse=True)
def clean_db():
    yield
"""


def test_write_a_fixture_module_and_see_its_fixtures(page: Page, admin_api: Api) -> None:
    pid = seed_project(admin_api, "Fixture shop")
    sign_in(page)
    page.goto(f"/p/{pid}/fixtures")
    page.get_by_test_id("new-fixture").click()
    expect(page).to_have_url(re.compile(rf"/p/{pid}/fixtures/new$"))
    expect(page.get_by_test_id("fixture-path")).to_have_value("conftest.py")
    expect(page.get_by_test_id("fixture-reach")).to_contain_text("visible to every case")
    page.get_by_test_id("fixture-name").fill("Shared")
    page.get_by_test_id("fixture-description").fill("URLs and a clean database")
    type_code(page, CODE)
    page.get_by_test_id("fixture-save").click()

    # Saved: the page becomes the module's own and shows what the code defines.
    expect(page).to_have_url(re.compile(rf"/p/{pid}/fixtures/\d+$"))
    expect(page.get_by_test_id("defined-base_url")).to_be_visible()
    expect(page.get_by_test_id("defined-scope-base_url")).to_have_text("session")
    expect(page.get_by_test_id("defined-autouse-base_url")).to_have_text("No")
    expect(page.get_by_test_id("defined-scope-clean_db")).to_have_text("function")
    expect(page.get_by_test_id("defined-autouse-clean_db")).to_have_text("Yes")
    [module] = admin_api.get(f"/projects/{pid}/fixtures")
    assert (module["name"], module["path"], module["code"]) == ("Shared", "conftest.py", CODE)
    assert module["description"] == "URLs and a clean database"

    # The list shows each module's path and fixtures with their scope and autouse.
    page.get_by_test_id("fixtures-back").click()
    expect(page).to_have_url(re.compile(rf"/p/{pid}/fixtures$"))
    expect(page.get_by_test_id("fixture-module-Shared")).to_be_visible()
    expect(page.get_by_test_id("fixture-modules")).to_contain_text("conftest.py")
    listed = page.get_by_test_id("fixtures-of-Shared")
    expect(listed.get_by_test_id("fixture-base_url")).to_contain_text("session")
    expect(listed.get_by_test_id("autouse-base_url")).to_have_count(0)
    expect(listed.get_by_test_id("fixture-clean_db")).to_contain_text("function")
    expect(listed.get_by_test_id("autouse-clean_db")).to_have_text("autouse")

    # Editing: a plugin module path, saved with PATCH.
    page.get_by_test_id("fixture-module-Shared").click()
    page.get_by_test_id("fixture-path").fill("fixtures/shared.py")
    expect(page.get_by_test_id("fixture-reach")).to_contain_text("Plugin module")
    page.get_by_test_id("fixture-save").click()
    expect(page.get_by_test_id("unsaved")).to_have_count(0)
    assert admin_api.get(f"/projects/{pid}/fixtures/{module['id']}")["path"] == "fixtures/shared.py"


def test_a_syntax_error_is_shown_and_nothing_is_saved(page: Page, admin_api: Api) -> None:
    pid = seed_project(admin_api, "Fixture errors")
    sign_in(page)
    page.goto(f"/p/{pid}/fixtures/new")
    page.get_by_test_id("fixture-name").fill("Broken")
    type_code(page, "import pytest\n\n@pytest.fixture\ndef broken(:\n    pass\n")
    page.get_by_test_id("fixture-save").click()
    expect(page.get_by_test_id("code-error")).to_contain_text("line 4")
    expect(page).to_have_url(re.compile(rf"/p/{pid}/fixtures/new$"))
    assert admin_api.get(f"/projects/{pid}/fixtures") == []

    # A bad path is refused next to the path field.
    type_code(page, "import pytest\n")
    page.get_by_test_id("fixture-path").fill("../outside.py")
    page.get_by_test_id("fixture-save").click()
    expect(field_error(page, "fixture-path")).to_be_visible()
    expect(page.get_by_test_id("code-error")).to_have_count(0)
    assert admin_api.get(f"/projects/{pid}/fixtures") == []

    # Leaving with unsaved changes asks first; cancelling stays on the page.
    page.get_by_test_id("fixtures-back").click()
    box = page.locator(".el-message-box")
    expect(box).to_contain_text("unsaved changes")
    box.get_by_role("button", name="Cancel").click()
    expect(page).to_have_url(re.compile(rf"/p/{pid}/fixtures/new$"))
    page.get_by_test_id("fixtures-back").click()
    confirm(page)
    expect(page).to_have_url(re.compile(rf"/p/{pid}/fixtures$"))


def test_delete_a_fixture_module(page: Page, admin_api: Api) -> None:
    pid = seed_project(admin_api, "Fixture delete")
    admin_api.post(f"/projects/{pid}/fixtures", {"name": "Gone", "code": "import pytest\n"})
    sign_in(page)
    page.goto(f"/p/{pid}/fixtures")
    expect(page.get_by_test_id("fixtures-of-Gone")).to_contain_text("defines no fixtures")
    page.get_by_test_id("delete-fixture-Gone").click()
    confirm(page)
    expect(page.get_by_test_id("fixture-module-Gone")).to_have_count(0)
    assert admin_api.get(f"/projects/{pid}/fixtures") == []
