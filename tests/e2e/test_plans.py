"""Plans in the browser: build one with ordered cases and a crontab previewed as it is
typed, switch it off from the list, run it, and read its dashboard."""

from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import Page, expect

from tests.e2e.conftest import sign_in
from tests.e2e.ui import choose, field_error, table_row
from tests.factories import make_case, make_environment, make_plan, make_project, wait_for_run
from tests.support.api import Api

WEEKDAYS_AT_2 = "0 2 * * 1-5"


def seed(api: Api) -> tuple[int, dict[str, Any], dict[str, Any]]:
    """A project with an environment and two passing cases, the first first by path."""
    pid = make_project(api)["id"]
    make_environment(api, pid, "qa")
    first = make_case(api, pid, name="Alpha login", path="tests/test_alpha.py")
    second = make_case(api, pid, name="Beta checkout", path="tests/test_beta.py")
    return pid, first, second


def test_build_a_plan_with_ordered_cases_and_a_previewed_crontab(
    page: Page, admin_api: Api
) -> None:
    pid, first, second = seed(admin_api)
    sign_in(page)
    page.goto(f"/p/{pid}/plans")
    page.get_by_test_id("new-plan").click()
    expect(page).to_have_url(re.compile(rf"/p/{pid}/plans/new$"))
    page.get_by_test_id("plan-name").fill("Nightly regression")

    # Pick both cases in the dialog, then put the second one first.
    page.get_by_test_id("plan-add-cases").click()
    picker = page.get_by_test_id("case-picker-table")
    picker.get_by_text("Alpha login").click()
    picker.get_by_text("Beta checkout").click()
    page.get_by_test_id("case-picker-add").click()
    names = page.get_by_test_id("plan-case-name")
    expect(names).to_have_text(["Alpha login", "Beta checkout"])
    page.get_by_test_id("plan-case-down").first.click()
    expect(names).to_have_text(["Beta checkout", "Alpha login"])

    choose(page, "plan-environment", "qa")

    # A crontab in words and its next five fire times, before anything is saved.
    page.get_by_test_id("trigger-kind-cron").click()
    page.get_by_test_id("cron-expression").fill(WEEKDAYS_AT_2)
    expect(page.get_by_test_id("schedule-words")).to_have_text("At 02:00, Monday through Friday")
    fire_times = page.get_by_test_id("schedule-next").locator("li")
    expect(fire_times).to_have_count(5)
    for text in fire_times.all_inner_texts():
        assert "02:00" in text and not re.search(r"\b(Sat|Sun)\b", text), text

    # An invalid crontab: its error next to the input, and a save that saves nothing.
    page.get_by_test_id("cron-expression").fill("61 2 * * 1-5")
    expect(field_error(page, "cron-expression")).to_contain_text("invalid crontab")
    expect(page.get_by_test_id("schedule-preview")).to_have_count(0)
    page.get_by_test_id("plan-save").click()
    expect(field_error(page, "cron-expression")).to_contain_text("invalid crontab")
    expect(page).to_have_url(re.compile(rf"/p/{pid}/plans/new$"))
    assert admin_api.get(f"/projects/{pid}/plans")["total"] == 0

    # The help's example fills the input back in; save.
    page.get_by_test_id("cron-help").click()
    page.get_by_test_id("cron-example-weekdaysAt2").click()
    expect(page.get_by_test_id("cron-expression")).to_have_value(WEEKDAYS_AT_2)
    expect(page.get_by_test_id("schedule-words")).to_have_text("At 02:00, Monday through Friday")
    expect(field_error(page, "cron-expression")).to_have_count(0)
    page.get_by_test_id("plan-save").click()
    expect(page).to_have_url(re.compile(rf"/p/{pid}/plans/\d+$"))
    expect(page.get_by_test_id("plan-title")).to_have_text("Nightly regression")

    [plan] = admin_api.get(f"/projects/{pid}/plans")["items"]
    assert plan["name"] == "Nightly regression"
    assert plan["case_ids"] == [second["id"], first["id"]]
    assert plan["environment"] == "qa"
    assert plan["enabled"] is True
    assert (plan["trigger"]["kind"], plan["trigger"]["expression"]) == ("cron", WEEKDAYS_AT_2)
    assert plan["trigger"]["timezone"]  # the browser's zone by default


def test_switch_a_plan_off_in_the_list_and_run_it_from_there(page: Page, admin_api: Api) -> None:
    pid, first, _second = seed(admin_api)
    cron = {"kind": "cron", "expression": WEEKDAYS_AT_2, "timezone": "UTC"}
    plan = make_plan(
        admin_api, pid, name="Smoke", case_ids=[first["id"]], trigger=cron, enabled=True
    )
    sign_in(page)
    page.goto(f"/p/{pid}/plans")
    row = table_row(page, "plans", "Smoke")
    expect(row.get_by_test_id("plan-trigger")).to_have_text("At 02:00, Monday through Friday")
    expect(row.get_by_test_id("plan-next")).to_contain_text("02:00")
    expect(row.get_by_text("never run")).to_be_visible()

    row.get_by_test_id("plan-switch").click()
    expect(page.get_by_text("Schedule switched off")).to_be_visible()
    expect(row.get_by_test_id("plan-next")).to_have_text("—")
    assert admin_api.get(f"/projects/{pid}/plans/{plan['id']}")["enabled"] is False

    row.get_by_test_id("plan-run").click()
    expect(page).to_have_url(re.compile(rf"/p/{pid}/runs/\d+$"))
    run_id = int(page.url.rsplit("/", 1)[1])
    run = admin_api.get(f"/runs/{run_id}")
    assert (run["plan_id"], run["source"]) == (plan["id"], "manual")


def test_the_dashboard_charts_a_finished_run(page: Page, admin_api: Api) -> None:
    pid, first, second = seed(admin_api)
    plan = make_plan(admin_api, pid, name="Regression", case_ids=[first["id"], second["id"]])
    answer = admin_api.post(f"/projects/{pid}/runs", {"plan_id": plan["id"]}, status=202)
    wait_for_run(admin_api, answer["id"])

    sign_in(page)
    page.goto(f"/p/{pid}/plans/{plan['id']}")
    expect(page.get_by_test_id("plan-title")).to_have_text("Regression")
    expect(page.get_by_test_id("trend-chart").locator("canvas")).to_be_visible()
    expect(page.get_by_test_id("plan-slowest")).to_contain_text("test_alpha.py")
    runs = page.get_by_test_id("plan-runs")
    runs.get_by_test_id("plan-run-link").filter(has_text=f"#{answer['id']}").click()
    expect(page).to_have_url(re.compile(rf"/p/{pid}/runs/{answer['id']}$"))
