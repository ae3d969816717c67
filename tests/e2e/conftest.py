"""The browser journey: a real ``testyard serve`` with the built web UI, driven by
Debian's Chromium through Playwright. A failing test leaves a screenshot and the
page's HTML in ``test-output/e2e/`` (or ``$TESTYARD_TEST_OUTPUT/e2e``).

``TESTYARD_WEBUI_DIR`` points the server at another build (``vite build --outDir``).
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import httpx2 as httpx
import pytest
from playwright.sync_api import Browser, Page, Playwright, expect, sync_playwright

from tests.support.api import Api
from tests.support.server import ServerProcess
from testyard.webui import STATIC_DIR

ADMIN_PASSWORD = "e2e-admin-password"
ROOT = Path(__file__).resolve().parents[2]
OUTPUT = Path(os.environ.get("TESTYARD_TEST_OUTPUT", ROOT / "test-output")) / "e2e"
# Chromium in a closed network: no background connections, no sandbox as root.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]
expect.set_options(timeout=15_000)


def webui_dir() -> Path:
    built = Path(os.environ.get("TESTYARD_WEBUI_DIR", STATIC_DIR))
    if not (built / "index.html").is_file():
        pytest.fail(f"the web UI is not built in {built}: run `make web`", pytrace=False)
    return built


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="session")
def browser(playwright: Playwright) -> Iterator[Browser]:
    executable = shutil.which("chromium") or shutil.which("chromium-browser")
    if executable is None:
        pytest.fail("Chromium is missing: `make test` installs Debian's chromium", pytrace=False)
    browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
    yield browser
    browser.close()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """One server per test module, on SQLite in a fresh data directory."""
    data = tmp_path_factory.mktemp("e2e-data")
    process = ServerProcess(
        data,
        data / "server.log",
        TESTYARD_ADMIN_PASSWORD=ADMIN_PASSWORD,
        TESTYARD_WEBUI_DIR=str(webui_dir()),
        TESTYARD_SCHEDULE_SYNC_S="1",
    ).start()
    yield process
    process.stop()


@pytest.fixture(scope="module")
def admin_api(server: ServerProcess) -> Iterator[Api]:
    """The API as the admin, for seeding data and checking what the UI saved."""
    with httpx.Client(base_url=server.url, timeout=30) as client:
        response = client.post(
            "/api/v1/auth/login", json={"username": "admin", "password": ADMIN_PASSWORD}
        )
        response.raise_for_status()
        yield Api(client, response.json()["token"])  # type: ignore[arg-type]


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]):  # type: ignore[no-untyped-def]
    report = yield
    if report.when == "call" and report.failed:
        page = item.funcargs.get("page") if hasattr(item, "funcargs") else None
        if isinstance(page, Page):
            save_evidence(page, item.nodeid)
    return report


def save_evidence(page: Page, nodeid: str) -> None:
    OUTPUT.mkdir(parents=True, exist_ok=True)
    stem = re.sub(r"[^\w.-]+", "_", nodeid)
    try:
        page.screenshot(path=str(OUTPUT / f"{stem}.png"), full_page=True)
        (OUTPUT / f"{stem}.html").write_text(page.content())
    except Exception as error:  # the page may be gone; the test's own failure matters more
        print(f"no screenshot for {nodeid}: {error}")


@pytest.fixture
def page(browser: Browser, server: ServerProcess) -> Iterator[Page]:
    context = browser.new_context(
        base_url=server.url, locale="en-US", viewport={"width": 1400, "height": 900}
    )
    context.set_default_timeout(15_000)
    page = context.new_page()
    yield page
    context.close()


def sign_in(page: Page, username: str = "admin", password: str = ADMIN_PASSWORD) -> None:
    page.goto("/login")
    page.get_by_test_id("login-username").fill(username)
    page.get_by_test_id("login-password").fill(password)
    page.get_by_test_id("login-submit").click()
    expect(page.get_by_test_id("user-menu")).to_be_visible()
