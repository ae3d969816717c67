"""The whole journey of a new team in the browser, from an empty server to an export:
sign in, a project, an environment with a secret, a fixture module, two cases, a case
run watched live, a plan with a crontab and its next fire times, the plan run and its
failures, the project as a zip, and the pages in Chinese."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

from playwright.sync_api import Page, expect

from tests.e2e.conftest import sign_in
from tests.e2e.ui import choose, table_row, type_code
from tests.support.api import Api

SECRET = "s3cr3t-journey-token"
FIXTURES = """import os

import pytest


@pytest.fixture(scope="session")
def api_token():
    return os.environ["API_TOKEN"]
"""
# The code checks the secret's ending only, so the whole secret is in no case's code.
CHECKOUT = """def test_total(api_token):
    assert api_token.endswith("-journey-token") and len(api_token) == 20


def test_refund():
    assert 2 + 2 == 5, "refund is off by one"
"""
CATALOGUE = "def test_list():\n    assert sorted([3, 1, 2]) == [1, 2, 3]\n"


def create_project(page: Page) -> int:
    page.goto("/projects")
    page.get_by_test_id("new-project").click()
    page.get_by_test_id("project-name").fill("Journey shop")
    page.get_by_test_id("project-save").click()
    expect(page).to_have_url(re.compile(r"/p/\d+/cases$"))
    return int(re.findall(r"/p/(\d+)/", page.url)[0])


def create_environment_with_a_secret(page: Page) -> None:
    page.get_by_test_id("nav-environments").click()
    page.get_by_test_id("new-environment").click()
    page.get_by_test_id("environment-name").fill("qa")
    page.get_by_test_id("environment-save").click()
    expect(page.get_by_test_id("environment-qa")).to_be_visible()
    page.get_by_test_id("add-variable").click()
    page.get_by_test_id("variable-name").fill("API_TOKEN")
    page.get_by_test_id("variable-secret").click()
    page.get_by_test_id("variable-value").fill(SECRET)
    page.get_by_test_id("variable-save").click()
    expect(page.get_by_test_id("secret-API_TOKEN")).to_be_visible()
    page.reload()
    expect(page.get_by_test_id("variable-API_TOKEN")).to_be_visible()
    assert SECRET not in page.content()


def create_fixture_module(page: Page) -> None:
    page.get_by_test_id("nav-fixtures").click()
    page.get_by_test_id("new-fixture").click()
    page.get_by_test_id("fixture-name").fill("Shared")
    type_code(page, FIXTURES)
    page.get_by_test_id("fixture-save").click()
    expect(page.get_by_test_id("defined-api_token")).to_be_visible()
    expect(page.get_by_test_id("defined-scope-api_token")).to_have_text("session")


def create_case(page: Page, name: str, path: str, code: str) -> None:
    page.get_by_test_id("nav-cases").click()
    page.get_by_test_id("new-case").click()
    page.get_by_test_id("case-name-input").fill(name)
    page.get_by_test_id("case-path").fill(path)
    type_code(page, code)
    page.get_by_test_id("case-save").click()
    expect(page).to_have_url(re.compile(r"/cases/\d+$"))
    expect(page.get_by_test_id("case-dirty")).to_have_count(0)


def run_case_and_watch_it_live(page: Page) -> None:
    """From the editor of the case just saved: results arrive beside the code."""
    choose(page, "run-environment", "qa")
    page.get_by_test_id("case-run-now").click()
    results = page.get_by_test_id("run-panel-results")
    total = results.locator('[data-nodeid="tests/shop/test_checkout.py::test_total"]')
    refund = results.locator('[data-nodeid="tests/shop/test_checkout.py::test_refund"]')
    # The secret reached the test through the fixture module: test_total passes.
    expect(total).to_have_attribute("data-outcome", "passed", timeout=60_000)
    expect(refund).to_have_attribute("data-outcome", "failed")
    expect(page.get_by_test_id("run-panel-status")).to_have_attribute(
        "data-status", "failed", timeout=30_000
    )


def create_plan_with_a_crontab(page: Page, pid: int) -> None:
    page.get_by_test_id("nav-plans").click()
    page.get_by_test_id("new-plan").click()
    page.get_by_test_id("plan-name").fill("Nightly")
    page.get_by_test_id("plan-add-cases").click()
    picker = page.get_by_test_id("case-picker-table")
    picker.get_by_text("Checkout", exact=True).click()
    picker.get_by_text("Catalogue", exact=True).click()
    page.get_by_test_id("case-picker-add").click()
    expect(page.get_by_test_id("plan-case-name")).to_have_count(2)
    choose(page, "plan-environment", "qa")
    page.get_by_test_id("trigger-kind-cron").click()
    page.get_by_test_id("cron-expression").fill("30 1 * * *")
    expect(page.get_by_test_id("schedule-words")).to_have_text("At 01:30")
    fire_times = page.get_by_test_id("schedule-next").locator("li")
    expect(fire_times).to_have_count(5)
    assert all("01:30" in text for text in fire_times.all_inner_texts())
    page.get_by_test_id("plan-save").click()
    expect(page).to_have_url(re.compile(rf"/p/{pid}/plans/\d+$"))


def run_plan_and_filter_failures(page: Page) -> int:
    page.get_by_test_id("nav-plans").click()
    table_row(page, "plans", "Nightly").get_by_test_id("plan-run").click()
    expect(page).to_have_url(re.compile(r"/runs/\d+$"))
    expect(page.get_by_test_id("run-status")).to_have_attribute(
        "data-status", "failed", timeout=60_000
    )
    expect(page.get_by_test_id("results-shown")).to_have_text("3 of 3")
    page.get_by_test_id("filter-problems").click()
    rows = page.get_by_test_id("result-row")
    expect(rows).to_have_count(1)
    expect(rows).to_have_attribute("data-nodeid", "tests/shop/test_checkout.py::test_refund")
    rows.first.click()
    drawer = page.get_by_test_id("result-drawer")
    expect(drawer.get_by_test_id("result-message")).to_contain_text("refund is off by one")
    page.keyboard.press("Escape")
    return int(page.url.rsplit("/", 1)[1])


def export_project(page: Page, tmp_path: Path) -> None:
    page.get_by_test_id("nav-exchange").click()
    choose(page, "export-environment", "qa")
    with page.expect_download() as info:
        page.get_by_test_id("export-download").click()
    archive = tmp_path / "export.zip"
    info.value.save_as(archive)
    with zipfile.ZipFile(archive) as zipped:
        names = zipped.namelist()
        assert zipped.read("tests/shop/test_checkout.py").decode() == CHECKOUT
        assert "tests/test_catalogue.py" in names
        assert "conftest.py" in names
        assert all(SECRET.encode() not in zipped.read(name) for name in names)


def switch_to_chinese(page: Page, pid: int, run_id: int) -> None:
    choose(page, "language", "简体中文")
    nav = page.get_by_test_id("nav")
    expect(nav.get_by_test_id("nav-cases")).to_have_text("用例")
    expect(nav.get_by_test_id("nav-plans")).to_have_text("测试计划")
    page.goto(f"/p/{pid}/runs/{run_id}")  # a reload: the language is remembered
    expect(page.get_by_test_id("run-status")).to_have_text("失败")
    expect(page.get_by_role("tab", name="控制台")).to_be_visible()
    page.get_by_test_id("nav-projects").click()
    expect(page.get_by_role("heading", name="项目")).to_be_visible()


def test_a_team_from_an_empty_server_to_an_export(
    page: Page, admin_api: Api, tmp_path: Path
) -> None:
    sign_in(page)
    pid = create_project(page)
    create_environment_with_a_secret(page)
    create_fixture_module(page)
    create_case(page, "Catalogue", "tests/test_catalogue.py", CATALOGUE)
    create_case(page, "Checkout", "tests/shop/test_checkout.py", CHECKOUT)
    run_case_and_watch_it_live(page)
    create_plan_with_a_crontab(page, pid)
    run_id = run_plan_and_filter_failures(page)
    export_project(page, tmp_path)
    switch_to_chinese(page, pid, run_id)

    # What the UI did is what the server holds.
    [plan] = admin_api.get(f"/projects/{pid}/plans")["items"]
    assert plan["trigger"]["expression"] == "30 1 * * *"
    assert admin_api.get(f"/runs/{run_id}")["counts"]["failed"] == 1
