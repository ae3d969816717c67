"""What the browser tests share beyond fixtures (those are in conftest.py): driving the
web UI's widgets the way a user does — typing into the CodeMirror editor, picking an
option of an Element Plus select, answering a confirmation box, finding a table row or
the error under a form field — and seeding a project through the API."""

from __future__ import annotations

from playwright.sync_api import Locator, Page

from tests.factories import make_environment, make_project
from tests.support.api import Api


def type_code(page: Page, code: str) -> None:
    """Replaces the editor's text, as a paste would (no auto-indent on the way)."""
    page.locator(".cm-content").click()
    page.keyboard.press("ControlOrMeta+a")
    page.keyboard.press("Delete")
    page.keyboard.insert_text(code)


def choose(page: Page, testid: str, option: str) -> None:
    """Opens the Element Plus select ``testid`` and picks the option named ``option``."""
    page.get_by_test_id(testid).click()
    page.get_by_role("option", name=option, exact=True).click()


def confirm(page: Page) -> None:
    """Answers OK in the confirmation box the page shows."""
    page.locator(".el-message-box").get_by_role("button", name="OK").click()


def field_error(page: Page, testid: str) -> Locator:
    """The error Element Plus shows under the form item holding ``testid`` (the innermost
    one, where form items are nested)."""
    item = page.locator(".el-form-item", has=page.get_by_test_id(testid)).last
    return item.locator(".el-form-item__error")


def table_row(page: Page, table: str, text: str) -> Locator:
    """The row of the Element Plus table ``table`` (a test id) that shows ``text``."""
    return page.get_by_test_id(table).locator(".el-table__row", has_text=text)


def seed_project(admin_api: Api, name: str, *environments: str) -> int:
    """A new project named ``name`` with the given environments: its id."""
    pid = int(make_project(admin_api, name=name)["id"])
    for env in environments:
        make_environment(admin_api, pid, env)
    return pid
