"""Notifications and reports in the browser: a signed webhook channel made in the UI and
its test message delivered to a real receiver, a channel that cannot be reached, the
e-mail form's errors, a plan that notifies on failure, the run's Notifications tab, its
HTML report, and a project that records Allure results."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import ADMIN_PASSWORD, sign_in, webui_dir
from tests.e2e.ui import field_error, seed_project, table_row
from tests.factories import make_case, make_plan, start_run, wait_for_run
from tests.support.api import Api
from tests.support.receiver import Received, Receiver, free_port
from tests.support.server import ServerProcess

SECRET = "s3cret-signing-key"
FAILING = "def test_total():\n    assert 1 + 1 == 3, 'the total is wrong'\n"
PASSING = "def test_fine():\n    pass\n"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """conftest's server, with notifications looked for often and retried once after a
    second, so a failing delivery ends ``failed`` within the test."""
    data = tmp_path_factory.mktemp("e2e-data")
    process = ServerProcess(
        data,
        data / "server.log",
        TESTYARD_ADMIN_PASSWORD=ADMIN_PASSWORD,
        TESTYARD_WEBUI_DIR=str(webui_dir()),
        TESTYARD_NOTIFY_INTERVAL_S="0.5",
        TESTYARD_NOTIFY_TIMEOUT_S="5",
        TESTYARD_NOTIFY_RETRY_S="1",
        TESTYARD_NOTIFY_MAX_ATTEMPTS="2",
    ).start()
    yield process
    process.stop()


@pytest.fixture(scope="module")
def receiver() -> Iterator[Receiver]:
    receiver = Receiver().start()
    yield receiver
    receiver.stop()


def signed_correctly(request: Received, secret: str) -> bool:
    """The webhook's signature, recomputed: HMAC-SHA256 of the exact body."""
    expected = "sha256=" + hmac.new(secret.encode(), request.body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(request.headers.get("x-testyard-signature", ""), expected)


def wait_for_event(receiver: Receiver, event: str, after: int) -> Received:
    """The first request past the first ``after`` ones that carries ``event``."""
    for count in range(after + 1, after + 10):
        arrived = receiver.wait_for(count)[after:]
        found = [r for r in arrived if r.headers.get("x-testyard-event") == event]
        if found:
            return found[0]
    raise AssertionError(f"no {event} request arrived")


def create_webhook(page: Page, name: str, url: str, secret: str) -> None:
    page.get_by_test_id("new-channel").click()
    page.get_by_test_id("channel-name").fill(name)
    page.get_by_test_id("channel-kind-webhook").click()
    page.get_by_test_id("channel-url").fill(url)
    page.get_by_test_id("channel-secret").fill(secret)
    page.get_by_test_id("channel-save").click()
    expect(page.get_by_test_id("channel-dialog")).to_be_hidden()


def channel_named(api: Api, pid: int, name: str) -> dict[str, Any]:
    items: list[dict[str, Any]] = api.get(f"/projects/{pid}/channels")["items"]
    [found] = [c for c in items if c["name"] == name]
    return found


def test_a_signed_webhook_made_in_the_ui_delivers_its_test_message(
    page: Page, admin_api: Api, receiver: Receiver
) -> None:
    pid = seed_project(admin_api, "Webhook channel")
    sign_in(page)
    page.goto(f"/p/{pid}/cases")
    page.get_by_test_id("nav-channels").click()
    expect(page).to_have_url(re.compile(rf"/p/{pid}/channels$"))
    create_webhook(page, "CI hook", f"{receiver.url}/hook?token=abcdef", SECRET)

    channel = channel_named(admin_api, pid, "CI hook")
    assert channel["kind"] == "webhook" and channel["secret_set"] is True
    assert "secret" not in channel
    chid = channel["id"]
    row = table_row(page, "channels", "CI hook")
    expect(row.get_by_test_id(f"channel-secret-{chid}")).to_have_attribute("data-secret", "set")
    # The URL's token is shown masked, never as typed.
    expect(row.get_by_test_id(f"channel-target-{chid}")).to_have_text(
        f"{receiver.url}/hook?token=***"
    )

    # Editing shows the secret as set, never its value; saving leaves secret and URL as they were.
    row.get_by_test_id(f"channel-edit-{chid}").click()
    expect(page.get_by_test_id("channel-secret-set")).to_be_visible()
    expect(page.get_by_test_id("channel-secret")).to_have_value("")
    expect(page.get_by_test_id("channel-url")).to_have_value(f"{receiver.url}/hook?token=***")
    page.get_by_test_id("channel-save").click()
    expect(page.get_by_test_id("channel-dialog")).to_be_hidden()
    assert channel_named(admin_api, pid, "CI hook")["secret_set"] is True

    # A test message: its progress, then the delivery sent with 200 in the log.
    before = len(receiver.requests)
    row.get_by_test_id(f"channel-test-{chid}").click()
    drawer = page.get_by_test_id("deliveries-drawer")
    expect(drawer.get_by_test_id("test-progress")).to_have_attribute("data-status", "sent")
    expect(drawer.get_by_test_id("test-progress")).to_contain_text("status 200")
    [delivery] = admin_api.get(f"/projects/{pid}/channels/{chid}/deliveries")["items"]
    assert delivery["status"] == "sent" and delivery["event"] == "test"
    expect(drawer.get_by_test_id(f"delivery-status-{delivery['id']}")).to_have_attribute(
        "data-status", "sent"
    )
    expect(drawer.get_by_test_id(f"delivery-last-{delivery['id']}")).to_contain_text("200")
    attempts = drawer.get_by_test_id("delivery-attempts")  # the test message opens by itself
    expect(attempts.get_by_test_id("attempt-code")).to_have_text("200")

    # The receiver got it to the URL as typed (token and all), signed with the secret.
    request = wait_for_event(receiver, "test", before)
    assert request.path == "/hook" and request.query == {"token": ["abcdef"]}
    assert signed_correctly(request, SECRET)
    assert not signed_correctly(request, SECRET + "x")
    body = request.json()
    assert body["channel"]["name"] == "CI hook" and body["requested_by"] == "admin"


def test_an_unreachable_channel_shows_its_failed_attempts_and_error(
    page: Page, admin_api: Api
) -> None:
    pid = seed_project(admin_api, "Closed port")
    closed = free_port()  # nothing listens there
    channel = admin_api.post(
        f"/projects/{pid}/channels",
        {"name": "Nowhere", "kind": "webhook", "url": f"http://127.0.0.1:{closed}/hook"},
    )
    sign_in(page)
    page.goto(f"/p/{pid}/channels")
    table_row(page, "channels", "Nowhere").get_by_test_id(f"channel-test-{channel['id']}").click()
    drawer = page.get_by_test_id("deliveries-drawer")
    progress = drawer.get_by_test_id("test-progress")
    # The first attempt fails, then its one retry: the delivery ends failed.
    expect(progress).to_have_attribute("data-status", "failed", timeout=30_000)
    expect(progress).to_contain_text("after 2 attempts")
    [delivery] = admin_api.get(f"/projects/{pid}/channels/{channel['id']}/deliveries")["items"]
    assert delivery["status"] == "failed" and len(delivery["attempts"]) == 2
    error = delivery["attempts"][-1]["error"]
    assert error and delivery["attempts"][-1]["status_code"] is None
    expect(drawer.get_by_test_id(f"delivery-last-{delivery['id']}")).to_contain_text(error)
    errors = drawer.get_by_test_id("delivery-attempts").get_by_test_id("attempt-error")
    expect(errors).to_have_count(2)
    expect(errors.first).to_contain_text(re.compile("Connect|refused", re.IGNORECASE))

    # The filter keeps to failed deliveries; sent ones: none.
    drawer.get_by_test_id("delivery-filter-sent").click()
    expect(drawer.get_by_test_id(f"delivery-status-{delivery['id']}")).to_have_count(0)
    drawer.get_by_test_id("delivery-filter-failed").click()
    expect(drawer.get_by_test_id(f"delivery-status-{delivery['id']}")).to_be_visible()


def test_the_email_form_shows_errors_next_to_its_fields_and_saves_smtp_settings(
    page: Page, admin_api: Api
) -> None:
    pid = seed_project(admin_api, "Mail channel")
    sign_in(page)
    page.goto(f"/p/{pid}/channels")
    page.get_by_test_id("new-channel").click()
    page.get_by_test_id("channel-name").fill("QA mail")
    page.get_by_test_id("channel-kind-email").click()
    expect(page.get_by_test_id("channel-url")).to_have_count(0)
    page.get_by_test_id("channel-sender").fill("testyard <qa@example.com>")
    page.get_by_test_id("channel-recipients").fill("a@example.com\nb@example.com")

    # No host: the error sits under the host.
    page.get_by_test_id("channel-save").click()
    expect(field_error(page, "channel-host")).to_be_visible()
    page.get_by_test_id("channel-host").fill("smtp.example.com")
    # A password without a username: the error sits under the username.
    page.get_by_test_id("channel-secret").fill("app-password")
    page.get_by_test_id("channel-save").click()
    expect(field_error(page, "channel-username")).to_contain_text("username")
    expect(field_error(page, "channel-host")).to_have_count(0)
    page.get_by_test_id("channel-username").fill("qa-bot")
    page.get_by_test_id("channel-security-tls").click()
    page.get_by_test_id("channel-save").click()
    expect(page.get_by_test_id("channel-dialog")).to_be_hidden()

    channel = channel_named(admin_api, pid, "QA mail")
    assert channel["kind"] == "email" and channel["url"] == "" and channel["secret_set"] is True
    assert channel["config"]["host"] == "smtp.example.com"
    assert channel["config"]["security"] == "tls" and channel["config"]["port"] == 465
    assert channel["config"]["username"] == "qa-bot"
    assert channel["config"]["recipients"] == ["a@example.com", "b@example.com"]
    assert channel["config"]["verify_tls"] is True
    row = table_row(page, "channels", "QA mail")
    expect(row.get_by_test_id(f"channel-target-{channel['id']}")).to_have_text(
        "smtp.example.com:465 → a@example.com, b@example.com"
    )

    # Switched off from the list.
    switch = row.get_by_test_id(f"channel-enabled-{channel['id']}")
    with page.expect_response(lambda r: r.request.method == "PATCH") as patched:
        switch.click()
    assert patched.value.ok
    expect(switch).not_to_have_class(re.compile("is-checked"))
    assert channel_named(admin_api, pid, "QA mail")["enabled"] is False


def test_a_plan_notifies_on_failure_and_the_run_shows_it_with_its_report(
    page: Page, admin_api: Api, receiver: Receiver
) -> None:
    pid = seed_project(admin_api, "Notifying plan")
    hook = admin_api.post(
        f"/projects/{pid}/channels",
        {"name": "Team hook", "kind": "webhook", "url": f"{receiver.url}/team", "secret": SECRET},
    )
    admin_api.post(
        f"/projects/{pid}/channels",
        {"name": "Other hook", "kind": "webhook", "url": f"{receiver.url}/other"},
    )
    case = make_case(admin_api, pid, name="total", path="tests/test_total.py", code=FAILING)
    plan = make_plan(admin_api, pid, name="Nightly", case_ids=[case["id"]], workers=0)
    assert plan["notify"]["channel_ids"] == []

    # The plan editor: notify "Team hook" on failure.
    sign_in(page)
    page.goto(f"/p/{pid}/plans/{plan['id']}/edit")
    expect(page.get_by_test_id("plan-name")).to_have_value("Nightly")
    section = page.get_by_test_id("plan-notify")
    section.get_by_test_id("plan-notify-when-always").click()
    section.get_by_test_id("plan-notify-when-failure").click()
    page.get_by_test_id("plan-notify-channels").click()  # each option shows its kind too
    page.get_by_role("option", name="Team hook").click()
    page.keyboard.press("Escape")
    page.get_by_test_id("plan-save").click()
    expect(page).to_have_url(re.compile(rf"/p/{pid}/plans/{plan['id']}$"))
    saved = admin_api.get(f"/projects/{pid}/plans/{plan['id']}")
    assert saved["notify"] == {"when": "failure", "channel_ids": [hook["id"]]}

    # Reopened, the editor shows the rule as saved.
    page.goto(f"/p/{pid}/plans/{plan['id']}/edit")
    expect(section.locator(".el-select__tags, .el-select__selection")).to_contain_text("Team hook")
    expect(section.get_by_test_id("plan-notify-when-failure")).to_have_class(
        re.compile("is-checked")
    )

    # The plan runs and fails: one notification, to the chosen channel only.
    before = len(receiver.requests)
    run_id = start_run(admin_api, pid, plan_id=plan["id"])
    run = wait_for_run(admin_api, run_id)
    assert run["status"] == "failed"
    request = wait_for_event(receiver, "run.finished", before)
    assert request.path == "/team" and signed_correctly(request, SECRET)
    body = json.loads(request.body)
    assert body["run"]["id"] == run_id and body["run"]["status"] == "failed"
    assert body["failures"][0]["nodeid"] == "tests/test_total.py::test_total"

    page.goto(f"/p/{pid}/runs/{run_id}")
    expect(page.get_by_test_id("run-status")).to_have_attribute("data-status", "failed")
    page.get_by_role("tab", name="Notifications").click()
    [delivery] = admin_api.get(f"/runs/{run_id}/notifications")["items"]
    assert delivery["channel_id"] == hook["id"]
    tab = page.get_by_test_id("run-notifications")
    expect(tab.get_by_test_id(f"delivery-status-{delivery['id']}")).to_have_attribute(
        "data-status", "sent"
    )
    expect(tab.get_by_test_id("deliveries")).to_contain_text("Team hook")
    expect(tab.get_by_test_id("deliveries")).not_to_contain_text("Other hook")
    expect(tab.get_by_test_id(f"delivery-last-{delivery['id']}")).to_contain_text("200")

    # The HTML report opens in a new tab, fetched with the token.
    with page.context.expect_page() as opened:
        page.get_by_test_id("open-report").click()
    report = opened.value
    expect(report).to_have_url(re.compile(r"^blob:"))
    expect(report.locator("body")).to_contain_text("tests/test_total.py::test_total")
    expect(report.locator("body")).to_contain_text("the total is wrong")
    report.close()

    # And it downloads from the artifacts.
    page.get_by_role("tab", name="Artifacts").click()
    with page.expect_download() as info:
        page.get_by_test_id("download-report.html").click()
    download = info.value
    assert download.suggested_filename.endswith(".html")
    html = Path(download.path()).read_text(encoding="utf-8")
    assert "tests/test_total.py::test_total" in html and "the total is wrong" in html


def test_a_project_switched_to_allure_keeps_allure_results(page: Page, admin_api: Api) -> None:
    pid = seed_project(admin_api, "Allure project")
    case = make_case(admin_api, pid, name="fine", path="tests/test_fine.py", code=PASSING)
    sign_in(page)
    page.goto("/projects")
    table_row(page, "projects", "Allure project").get_by_role("button", name="Edit").click()
    switch = page.get_by_test_id("project-allure")
    expect(switch).not_to_have_class(re.compile("is-checked"))
    switch.click()
    page.get_by_test_id("project-save").click()
    expect(page.get_by_test_id("project-name")).to_be_hidden()
    assert admin_api.get(f"/projects/{pid}")["allure"] is True

    # Reopened, the switch is on.
    table_row(page, "projects", "Allure project").get_by_role("button", name="Edit").click()
    expect(page.get_by_test_id("project-allure")).to_have_class(re.compile("is-checked"))
    page.keyboard.press("Escape")

    run_id = start_run(admin_api, pid, case_ids=[case["id"]], workers=0)
    assert wait_for_run(admin_api, run_id)["status"] == "passed"
    page.goto(f"/p/{pid}/runs/{run_id}")
    page.get_by_role("tab", name="Artifacts").click()
    artifacts = page.get_by_test_id("artifacts")
    expect(artifacts).to_contain_text("Allure results")
    expect(artifacts).to_contain_text("HTML report")
    with page.expect_download() as info:
        page.get_by_test_id("download-allure.zip").click()
    assert info.value.suggested_filename == f"run-{run_id}-allure.zip"
