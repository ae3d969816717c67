"""The run pages: a run followed live, its failures and their output, the live history,
cancel, re-running only the failures, and downloading junit.xml."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import sign_in
from tests.e2e.ui import choose, confirm, seed_project
from tests.factories import make_case
from tests.support.api import Api

MIXED = """
import time

def test_passes():
    pass

def test_fails():
    print("checking the total")
    assert 1 + 1 == 3, "the total is wrong"

def test_slow_1():
    time.sleep(1)

def test_slow_2():
    time.sleep(1)

def test_slow_3():
    time.sleep(1)

def test_slow_4():
    time.sleep(1)
"""
HANG = "import time\n\ndef test_hangs():\n    time.sleep(600)\n"
QUICK = "def test_quick():\n    pass\n"
FINISHED = {"passed", "failed", "error", "cancelled", "timed_out", "interrupted"}


@pytest.fixture(scope="module")
def project(admin_api: Api) -> dict[str, Any]:
    """A project with a case that passes, fails and takes ~4 s, one that hangs, and a
    quick one."""
    pid = seed_project(admin_api, "Run pages")
    project: dict[str, Any] = {"id": pid}
    for name, code in (("mixed", MIXED), ("hang", HANG), ("quick", QUICK)):
        case = make_case(admin_api, pid, name=name, path=f"tests/test_{name}.py", code=code)
        project[name] = case["id"]
    return project


def start(api: Api, project: dict[str, Any], case: str) -> int:
    body = {"case_ids": [project[case]], "workers": 0, "source": "manual"}
    return int(api.post(f"/projects/{project['id']}/runs", body, status=202)["id"])


def finished(api: Api, run_id: int) -> dict[str, Any]:
    """The run once it has ended (the page already showed it; this only confirms)."""
    run: dict[str, Any] = api.get(f"/runs/{run_id}")
    assert run["status"] in FINISHED, run
    return run


def test_a_run_arrives_live_and_its_failure_shows_traceback_output_and_junit(
    page: Page, admin_api: Api, project: dict[str, Any]
) -> None:
    sign_in(page)
    run_id = start(admin_api, project, "mixed")
    page.goto(f"/p/{project['id']}/runs/{run_id}")
    expect(page.get_by_test_id("run-title")).to_contain_text(f"#{run_id} mixed")
    # While it runs: some results, not all; then the bar fills and the run fails.
    progress = page.get_by_test_id("run-progress")
    expect(progress).to_have_attribute("data-progress", re.compile(r"^[1-9]\d?$"), timeout=60_000)
    expect(page.get_by_test_id("run-status")).to_have_attribute("data-status", "running")
    expect(page.get_by_test_id("cancel-run")).to_be_visible()
    expect(progress).to_have_attribute("data-progress", "100", timeout=30_000)
    expect(page.get_by_test_id("run-status")).to_have_attribute("data-status", "failed")
    expect(page.get_by_test_id("results-shown")).to_have_text("6 of 6")
    expect(page.get_by_test_id("run-progress-text")).to_have_text("6 of 6 tests")
    expect(page.get_by_test_id("cancel-run")).to_have_count(0)
    assert finished(admin_api, run_id)["status"] == "failed"

    # Only the failures, then the one failure in full.
    page.get_by_test_id("filter-problems").click()
    rows = page.get_by_test_id("result-row")
    expect(rows).to_have_count(1)
    expect(rows).to_have_attribute("data-nodeid", "tests/test_mixed.py::test_fails")
    page.get_by_test_id("result-search").fill("slow")
    expect(page.get_by_test_id("results-shown")).to_have_text("0 of 6")
    page.get_by_test_id("result-search").fill("fails")
    rows.first.click()
    drawer = page.get_by_test_id("result-drawer")
    expect(drawer.get_by_test_id("result-nodeid")).to_have_text("tests/test_mixed.py::test_fails")
    expect(drawer.get_by_test_id("result-message")).to_contain_text("the total is wrong")
    expect(drawer.get_by_test_id("result-traceback")).to_contain_text("assert 1 + 1 == 3")
    expect(drawer.get_by_test_id("result-stdout")).to_contain_text("checking the total")
    page.keyboard.press("Escape")

    # The console shows the whole log once the run has ended.
    page.get_by_role("tab", name="Console").click()
    expect(page.get_by_test_id("console")).to_contain_text("1 failed, 5 passed")

    page.get_by_role("tab", name="Artifacts").click()
    with page.expect_download() as info:
        page.get_by_test_id("download-junit.xml").click()
    download = info.value
    assert download.suggested_filename == f"run-{run_id}-junit.xml"
    junit = Path(download.path()).read_text(encoding="utf-8")
    assert 'name="test_fails"' in junit and "the total is wrong" in junit


def test_the_runs_list_follows_status_changes_without_a_reload(
    page: Page, admin_api: Api, project: dict[str, Any]
) -> None:
    sign_in(page)
    page.goto(f"/p/{project['id']}/runs")
    expect(page.get_by_test_id("runs")).to_be_visible()
    page.evaluate("window.__samePage = true")
    # A first run shows up once its status changes: the page is following by then.
    quick = start(admin_api, project, "quick")
    expect(page.get_by_test_id(f"run-status-{quick}")).to_have_attribute(
        "data-status", "passed", timeout=60_000
    )
    run_id = start(admin_api, project, "mixed")
    # The new run appears on top, then moves through its states by itself.
    status = page.get_by_test_id(f"run-status-{run_id}")
    expect(status).to_have_attribute("data-status", re.compile("queued|running"))
    first_row = page.get_by_test_id("runs").locator("tbody tr").first
    expect(first_row).to_contain_text(f"#{run_id}")
    expect(status).to_have_attribute("data-status", "failed", timeout=60_000)
    expect(first_row.get_by_test_id("count-failed")).to_have_text("failed 1")
    expect(first_row.get_by_test_id("count-passed")).to_have_text("passed 5")
    assert page.evaluate("window.__samePage") is True
    assert finished(admin_api, run_id)["status"] == "failed"

    # The status filter keeps to its runs, and opening a row opens the run.
    choose(page, "filter-status", "passed")
    expect(page).to_have_url(re.compile(r"status=passed"))
    expect(page.get_by_test_id(f"run-row-{run_id}")).to_have_count(0)
    choose(page, "filter-status", "failed")
    page.get_by_test_id(f"run-row-{run_id}").click()
    expect(page).to_have_url(re.compile(rf"/p/{project['id']}/runs/{run_id}$"))


def test_cancel_a_long_run(page: Page, admin_api: Api, project: dict[str, Any]) -> None:
    sign_in(page)
    run_id = start(admin_api, project, "hang")
    page.goto(f"/p/{project['id']}/runs/{run_id}")
    expect(page.get_by_test_id("run-status")).to_have_attribute(
        "data-status", "running", timeout=60_000
    )
    page.get_by_test_id("cancel-run").click()
    confirm(page)
    expect(page.get_by_test_id("run-status")).to_have_attribute("data-status", "cancelled")
    expect(page.get_by_test_id("rerun")).to_be_visible()
    assert finished(admin_api, run_id)["status"] == "cancelled"


def test_rerun_failed_only_runs_only_the_failures(
    page: Page, admin_api: Api, project: dict[str, Any]
) -> None:
    sign_in(page)
    run_id = start(admin_api, project, "mixed")
    page.goto(f"/p/{project['id']}/runs/{run_id}")
    expect(page.get_by_test_id("run-status")).to_have_attribute(
        "data-status", "failed", timeout=60_000
    )
    page.get_by_test_id("rerun-failed").click()
    expect(page).not_to_have_url(re.compile(rf"/runs/{run_id}$"))
    again = int(page.url.rsplit("/", 1)[1])
    expect(page.get_by_test_id("failed-only")).to_be_visible()
    expect(page.get_by_test_id("rerun-of")).to_have_text(f"Re-run of #{run_id}")
    expect(page.get_by_test_id("run-status")).to_have_attribute(
        "data-status", "failed", timeout=60_000
    )
    expect(page.get_by_test_id("results-shown")).to_have_text("1 of 1")
    rerun = finished(admin_api, again)
    assert rerun["rerun_of"] == run_id and rerun["failed_only"] is True
    results = admin_api.get(f"/runs/{again}/results")["items"]
    assert [r["nodeid"] for r in results] == ["tests/test_mixed.py::test_fails"]
