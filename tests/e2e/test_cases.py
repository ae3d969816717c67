"""Cases: written and run in the browser with results arriving live, searched, copied,
deleted, run together; a syntax error refused; a stale save caught; the fixture plan."""

from __future__ import annotations

import re

from playwright.sync_api import Locator, Page, expect

from tests.e2e.conftest import sign_in
from tests.e2e.ui import choose, confirm, field_error, seed_project, table_row, type_code
from tests.factories import make_case
from tests.support.api import Api

TWO_TESTS = """def test_pass():
    assert 1 + 1 == 2


def test_fail():
    assert "checkout" == "refund"
"""

CONFTEST = """import pytest


@pytest.fixture(scope="session")
def base_url():
    return "https://qa.example"


@pytest.fixture
def user(base_url):
    yield {"name": "ann", "site": base_url}
"""


def row(page: Page, name: str) -> Locator:
    return table_row(page, "cases", name)


def listed_names(page: Page) -> Locator:
    return page.get_by_test_id("cases").get_by_test_id("case-name")


def test_write_save_and_run_a_case_with_live_results(page: Page, admin_api: Api) -> None:
    pid = seed_project(admin_api, "Live shop", "dev", "qa")
    sign_in(page)
    page.goto(f"/p/{pid}/cases")
    page.get_by_test_id("new-case").click()
    expect(page).to_have_url(re.compile(rf"/p/{pid}/cases/new$"))
    page.get_by_test_id("case-name-input").fill("Checkout totals")
    page.get_by_test_id("case-path").fill("tests/shop/test_checkout.py")
    page.get_by_test_id("case-description").fill("Adds and compares")
    page.get_by_test_id("case-tags").click()
    page.keyboard.type("smoke")
    page.keyboard.press("Enter")
    page.keyboard.press("Escape")
    type_code(page, TWO_TESTS)
    page.get_by_test_id("case-save").click()

    # Saved: the page moves to the case's own address; the API holds what was typed.
    expect(page).to_have_url(re.compile(rf"/p/{pid}/cases/\d+$"))
    cid = int(page.url.rsplit("/", 1)[1])
    saved = admin_api.get(f"/projects/{pid}/cases/{cid}")
    assert (saved["name"], saved["path"], saved["description"]) == (
        "Checkout totals",
        "tests/shop/test_checkout.py",
        "Adds and compares",
    )
    assert saved["tags"] == ["smoke"]
    assert saved["code"] == TWO_TESTS
    expect(page.get_by_test_id("case-dirty")).to_have_count(0)

    # Run it in qa from the editor: each test's result appears in the panel beside it.
    choose(page, "run-environment", "qa")
    page.get_by_test_id("case-run-now").click()
    results = page.get_by_test_id("run-panel-results")
    passed = results.locator('[data-nodeid="tests/shop/test_checkout.py::test_pass"]')
    failed = results.locator('[data-nodeid="tests/shop/test_checkout.py::test_fail"]')
    expect(passed).to_have_attribute("data-outcome", "passed", timeout=60_000)
    expect(failed).to_have_attribute("data-outcome", "failed")
    expect(failed).to_contain_text("refund")  # the failure's message
    expect(page.get_by_test_id("run-panel-status")).to_have_attribute(
        "data-status", "failed", timeout=30_000
    )
    counts = page.get_by_test_id("run-panel-counts")
    expect(counts.locator('[data-outcome="passed"]')).to_contain_text("1")
    expect(counts.locator('[data-outcome="failed"]')).to_contain_text("1")
    link = page.get_by_test_id("run-panel-link")
    rid = int(re.findall(r"\d+", link.inner_text())[-1])
    run = admin_api.get(f"/runs/{rid}")
    assert (run["case_ids"], run["environment"], run["source"]) == ([cid], "qa", "manual")

    # An unsaved change is saved before the next run, which replaces the panel's rows.
    type_code(page, "def test_pass():\n    pass\n")
    expect(page.get_by_test_id("case-dirty")).to_be_visible()
    page.get_by_test_id("case-run-now").click()
    expect(page.get_by_test_id("run-panel-status")).to_have_attribute(
        "data-status", "passed", timeout=60_000
    )
    expect(failed).to_have_count(0)
    assert admin_api.get(f"/projects/{pid}/cases/{cid}")["code"] == "def test_pass():\n    pass\n"

    # The list shows my latest result of the case.
    page.get_by_test_id("nav-cases").click()
    latest = row(page, "Checkout totals").get_by_test_id("latest-result")
    expect(latest.locator("[data-status]")).to_have_attribute("data-status", "passed")


def test_a_syntax_error_is_refused_next_to_the_code(page: Page, admin_api: Api) -> None:
    pid = seed_project(admin_api, "Broken shop")
    sign_in(page)
    page.goto(f"/p/{pid}/cases/new")
    page.get_by_test_id("case-name-input").fill("Half written")
    type_code(page, "def test_a():\n    assert (1 +\n")
    page.get_by_test_id("case-save").click()
    expect(field_error(page, "code-editor")).to_contain_text("line")
    expect(page).to_have_url(re.compile(rf"/p/{pid}/cases/new$"))
    assert admin_api.get(f"/projects/{pid}/cases")["total"] == 0

    # A path pytest would not collect is refused next to the path.
    type_code(page, "def test_a():\n    pass\n")
    page.get_by_test_id("case-path").fill("tests/checkout.py")
    page.get_by_test_id("case-save").click()
    expect(field_error(page, "case-path")).to_be_visible()
    assert admin_api.get(f"/projects/{pid}/cases")["total"] == 0


def test_search_by_tag_and_code_then_copy_and_delete(page: Page, admin_api: Api) -> None:
    pid = seed_project(admin_api, "Search shop")
    login = make_case(admin_api, pid, name="Login", tags=["auth"],
                      code="def test_login():\n    assert 'needle_word'\n")  # fmt: skip
    make_case(admin_api, pid, name="Checkout", tags=["smoke"])
    make_case(admin_api, pid, name="Refund", description="money back")
    sign_in(page)
    page.goto(f"/p/{pid}/cases")
    expect(listed_names(page)).to_have_count(3)

    search = page.get_by_test_id("case-search")
    search.fill("smoke")
    expect(listed_names(page)).to_have_text(["Checkout"])
    search.fill("needle_word")
    expect(listed_names(page)).to_have_text(["Login"])
    search.fill("money")
    expect(listed_names(page)).to_have_text(["Refund"])
    search.fill("")
    expect(listed_names(page)).to_have_count(3)

    # Copy: the copy opens in the editor.
    row(page, "Login").get_by_test_id("case-copy").click()
    expect(page).to_have_url(re.compile(rf"/p/{pid}/cases/\d+$"))
    copy_id = int(page.url.rsplit("/", 1)[1])
    assert copy_id != login["id"]
    expect(page.get_by_test_id("case-name-input")).to_have_value("Login (copy)")
    copied = admin_api.get(f"/projects/{pid}/cases/{copy_id}")
    assert (copied["code"], copied["tags"]) == (login["code"], ["auth"])

    # Delete, after confirming.
    page.get_by_test_id("nav-cases").click()
    row(page, "Refund").get_by_test_id("case-delete").click()
    confirm(page)
    expect(listed_names(page)).to_have_count(3)
    expect(row(page, "Refund")).to_have_count(0)
    names = {c["name"] for c in admin_api.get(f"/projects/{pid}/cases")["items"]}
    assert names == {"Login", "Login (copy)", "Checkout"}


def test_run_selected_cases_together(page: Page, admin_api: Api) -> None:
    pid = seed_project(admin_api, "Batch shop", "staging")
    first = make_case(admin_api, pid, name="First")
    second = make_case(admin_api, pid, name="Second")
    make_case(admin_api, pid, name="Third")
    sign_in(page)
    page.goto(f"/p/{pid}/cases")
    expect(page.get_by_test_id("run-selected")).to_have_count(0)
    for name in ("First", "Second"):
        row(page, name).locator(".el-checkbox").click()
    page.get_by_test_id("run-selected").click()
    expect(page.get_by_test_id("run-environment")).to_contain_text("staging")
    page.get_by_test_id("run-start").click()
    expect(page).to_have_url(re.compile(rf"/p/{pid}/runs/\d+$"))
    run = admin_api.get(f"/runs/{page.url.rsplit('/', 1)[1]}")
    assert sorted(run["case_ids"]) == sorted([first["id"], second["id"]])
    assert (run["environment"], run["source"]) == ("staging", "manual")


def test_a_save_over_someone_elses_is_refused(page: Page, admin_api: Api) -> None:
    pid = seed_project(admin_api, "Busy shop")
    found = make_case(admin_api, pid, name="Shared")
    sign_in(page)
    page.goto(f"/p/{pid}/cases/{found['id']}")
    expect(page.get_by_test_id("case-name-input")).to_have_value("Shared")
    admin_api.patch(f"/projects/{pid}/cases/{found['id']}", {"description": "theirs"})
    page.get_by_test_id("case-name-input").fill("Mine")
    page.get_by_test_id("case-save").click()
    expect(page.get_by_test_id("case-conflict")).to_be_visible()
    assert admin_api.get(f"/projects/{pid}/cases/{found['id']}")["name"] == "Shared"
    page.get_by_test_id("case-reload").click()
    expect(page.get_by_test_id("case-description")).to_have_value("theirs")
    expect(page.get_by_test_id("case-name-input")).to_have_value("Shared")


def test_fixture_plan_and_missing_fixture_warnings(page: Page, admin_api: Api) -> None:
    pid = seed_project(admin_api, "Fixture plan shop")
    admin_api.post(f"/projects/{pid}/fixtures",
                   {"name": "Shared", "path": "conftest.py", "code": CONFTEST})  # fmt: skip
    code = "def test_profile(user, tmp_path):\n    assert user['name']\n"
    found = make_case(admin_api, pid, name="Profile", path="tests/test_profile.py", code=code)
    sign_in(page)
    page.goto(f"/p/{pid}/cases/{found['id']}")
    page.get_by_test_id("case-fixture-plan").click()
    expect(page).to_have_url(re.compile(rf"/p/{pid}/cases/{found['id']}/fixture-plan$"))
    test = page.locator('[data-nodeid="tests/test_profile.py::test_profile"]')
    lines = test.get_by_test_id("plan-line")
    expect(lines).to_have_count(9, timeout=60_000)
    order = [(line.get_attribute("data-kind"), line.get_attribute("data-fixture"))
             for line in lines.all()]  # fmt: skip
    assert order == [
        ("setup", "base_url"),
        ("setup", "tmp_path_factory"),
        ("setup", "user"),
        ("setup", "tmp_path"),
        ("test", None),
        ("teardown", "tmp_path"),
        ("teardown", "user"),
        ("teardown", "tmp_path_factory"),
        ("teardown", "base_url"),
    ], order
    base_url = lines.and_(page.locator('[data-fixture="base_url"]')).first
    expect(base_url).to_contain_text("session")
    expect(base_url.get_by_test_id("plan-module")).to_have_text("conftest.py")
    user = lines.and_(page.locator('[data-fixture="user"]')).first
    expect(user).to_contain_text("function")
    expect(user).to_contain_text("base_url")  # what it requests
    tmp = lines.and_(page.locator('[data-fixture="tmp_path"]')).first
    expect(tmp.get_by_test_id("plan-module")).to_have_text("pytest or a plugin")

    # A typo in a requested fixture: saved, with a warning that suggests the right name.
    page.get_by_test_id("plan-back").click()
    type_code(page, "def test_profile(usr):\n    assert usr\n")
    page.get_by_test_id("case-save").click()
    problems = page.get_by_test_id("case-problems")
    expect(problems).to_contain_text('fixture "usr" not found')
    expect(problems).to_contain_text("user")
    assert "usr" in admin_api.get(f"/projects/{pid}/cases/{found['id']}")["code"]


def test_actions_follow_the_role(page: Page, admin_api: Api) -> None:
    pid = seed_project(admin_api, "Role shop", "qa")
    found = make_case(admin_api, pid, name="Guarded")
    for username, role in (("case-runner", "runner"), ("case-viewer", "viewer")):
        admin_api.post("/users", {"username": username, "password": "role-password-1"})
        admin_api.post(f"/projects/{pid}/members", {"username": username, "role": role})

    # A runner runs, but neither creates, copies, deletes nor edits.
    sign_in(page, "case-runner", "role-password-1")
    page.goto(f"/p/{pid}/cases")
    expect(row(page, "Guarded").get_by_test_id("case-run")).to_be_visible()
    expect(page.get_by_test_id("new-case")).to_have_count(0)
    expect(page.get_by_test_id("case-copy")).to_have_count(0)
    expect(page.get_by_test_id("case-delete")).to_have_count(0)
    page.goto(f"/p/{pid}/cases/{found['id']}")
    expect(page.get_by_test_id("case-run-now")).to_be_visible()
    expect(page.get_by_test_id("case-name-input")).to_be_disabled()
    expect(page.get_by_test_id("case-save")).to_have_count(0)

    # A viewer only looks.
    page.get_by_test_id("user-menu").hover()
    page.get_by_test_id("logout").click()
    sign_in(page, "case-viewer", "role-password-1")
    page.goto(f"/p/{pid}/cases")
    expect(row(page, "Guarded")).to_be_visible()
    expect(page.get_by_test_id("case-run")).to_have_count(0)
    expect(page.get_by_test_id("new-case")).to_have_count(0)
    page.goto(f"/p/{pid}/cases/{found['id']}")
    expect(page.get_by_test_id("case-name-input")).to_have_value("Guarded")
    expect(page.get_by_test_id("case-run-now")).to_have_count(0)
