"""The HTML report as a person reads it: downloaded through the API, opened from disk in
Chromium with the network closed, showing the failure, its traceback and the counts,
filtering by outcome without any script."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Page, Request, Route, expect

from tests.factories import make_case, make_project, start_run, wait_for_run
from tests.support.api import Api

FAILING = """
def test_passes():
    pass

def test_also_passes():
    pass

def test_fails():
    print("checking the total")
    assert 1 + 1 == 3, "the total is wrong"
"""


def test_a_downloaded_report_shows_the_failure_and_the_counts_offline(
    page: Page, admin_api: Api, tmp_path: Path
) -> None:
    pid = make_project(admin_api, name="Report reader")["id"]
    case = make_case(admin_api, pid, name="totals", path="tests/test_totals.py", code=FAILING)
    run_id = start_run(admin_api, pid, case_ids=[case["id"]], workers=0)
    assert wait_for_run(admin_api, run_id)["status"] == "failed"
    response = admin_api.request("GET", f"/runs/{run_id}/artifacts/report.html")
    assert response.status_code == 200, response.text
    saved = tmp_path / "report.html"
    saved.write_bytes(response.content)

    fetched: list[str] = []

    def refuse(route: Route, request: Request) -> None:
        fetched.append(request.url)
        route.abort()

    page.route("http*://**", refuse)  # offline: anything but the file itself fails
    problems: list[str] = []
    page.on("console", lambda message: problems.append(message.text))
    page.goto(saved.as_uri())

    expect(page).to_have_title(f"Run #{run_id} totals - failed - Report reader")
    expect(page.locator("#status")).to_have_text("failed")
    expect(page.locator("#count-total")).to_have_text("3")
    expect(page.locator("#count-passed")).to_have_text("2")
    expect(page.locator("#count-failed")).to_have_text("1")
    failure = page.locator("#failures details.result")
    expect(failure).to_have_count(1)
    expect(failure.locator("summary")).to_contain_text("tests/test_totals.py::test_fails")
    expect(failure.locator(".message")).to_contain_text("the total is wrong")
    expect(failure.locator("pre").first).to_be_visible()
    expect(failure.locator("pre").first).to_contain_text("assert 1 + 1 == 3")
    expect(failure).to_contain_text("checking the total")
    expect(page.locator("#trigger")).to_contain_text("admin")

    rows = page.locator("#tests tbody tr")
    expect(rows).to_have_count(3)
    page.locator("label[for=f-failed]").click()
    expect(rows.filter(visible=True)).to_have_count(1)
    expect(rows.filter(visible=True)).to_contain_text("test_fails")
    page.locator("label[for=f-passed]").click()
    expect(rows.filter(visible=True)).to_have_count(2)
    page.locator("label[for=f-all]").click()
    expect(rows.filter(visible=True)).to_have_count(3)
    # The failure's own link leads to its details.
    rows.filter(has_text="test_fails").get_by_role("link").click()
    expect(failure).to_be_in_viewport()

    assert fetched == [], "the report asked for something outside itself"
    assert problems == [], "the browser complained (a blocked style would show here)"
    # Its styles apply under its own policy: the failed badge is red, not unstyled.
    colour = page.locator("#status").evaluate("e => getComputedStyle(e).backgroundColor")
    assert colour == "rgb(207, 34, 46)"
