"""Export a project as a runnable zip from the browser, and import a zip as a new project."""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path

from playwright.sync_api import Page, expect

from tests.e2e.conftest import sign_in
from tests.e2e.ui import choose, seed_project
from tests.factories import make_case
from tests.support.api import Api

CASE = "def test_login():\n    assert 1 + 1 == 2\n"


def seed(admin_api: Api) -> int:
    pid = seed_project(admin_api, "Shop", "qa", "prod")
    make_case(admin_api, pid, name="login", path="tests/test_login.py", code=CASE)
    return pid


def choose_file(page: Page, path: Path) -> None:
    page.get_by_test_id("import-file").locator("input[type=file]").set_input_files(path)


def test_export_a_project_and_import_it_back(page: Page, admin_api: Api, tmp_path: Path) -> None:
    pid = seed(admin_api)
    sign_in(page)
    page.goto(f"/p/{pid}/exchange")
    expect(page.get_by_test_id("export-howto")).to_contain_text("pip install -r requirements.txt")
    # Two environments: one must be chosen before the zip can be made.
    expect(page.get_by_test_id("export-download")).to_be_disabled()
    choose(page, "export-environment", "qa")
    expect(page.get_by_test_id("export-include-cases")).to_have_class(re.compile("is-checked"))
    with page.expect_download() as info:
        page.get_by_test_id("export-download").click()
    download = info.value
    # The project and environment name it (the ASCII fallback name is lower case).
    assert download.suggested_filename.lower() == "shop-qa.zip"
    archive = tmp_path / download.suggested_filename
    download.save_as(archive)
    with zipfile.ZipFile(archive) as zipped:
        assert zipped.read("tests/test_login.py").decode() == CASE
        assert "requirements.txt" in zipped.namelist()

    page.get_by_test_id("go-import").click()
    expect(page).to_have_url(re.compile(r"/import$"))
    choose_file(page, archive)
    page.get_by_test_id("import-name").fill("Shop copy")
    page.get_by_test_id("import-submit").click()
    link = page.get_by_test_id("import-project-link")
    expect(link).to_contain_text("Shop copy")
    result = page.get_by_test_id("import-result")
    expect(result).to_contain_text("1 case and 0 fixture modules")
    expect(result).to_contain_text('Variables went into the environment "qa"')
    # An export is testyard's own layout: every file of it is taken in.
    expect(page.get_by_test_id("import-all-taken")).to_be_visible()
    expect(page.get_by_test_id("import-skipped")).to_have_count(0)

    link.click()
    expect(page).to_have_url(re.compile(r"/p/\d+/cases$"))
    new_pid = int(re.findall(r"/p/(\d+)/", page.url)[0])
    assert new_pid != pid
    assert admin_api.get(f"/projects/{new_pid}")["name"] == "Shop copy"
    cases = admin_api.get(f"/projects/{new_pid}/cases")["items"]
    assert [c["path"] for c in cases] == ["tests/test_login.py"]


def test_an_import_reports_what_it_left_out(page: Page, admin_api: Api, tmp_path: Path) -> None:
    archive = tmp_path / "legacy-suite.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("legacy-suite/tests/test_cart.py", "def test_cart():\n    pass\n")
        zipped.writestr("legacy-suite/notes.txt", "remember the milk\n")
    sign_in(page)
    page.goto("/import")
    choose_file(page, archive)
    page.get_by_test_id("import-submit").click()
    expect(page.get_by_test_id("import-project-link")).to_contain_text("legacy-suite")
    skipped = page.get_by_test_id("import-skipped")
    expect(skipped.get_by_role("row")).to_have_count(2)  # the header and notes.txt
    expect(skipped).to_contain_text("notes.txt")
    expect(skipped).to_contain_text("neither a test module nor a conftest or plugin")
    project = next(p for p in admin_api.get("/projects")["items"] if p["name"] == "legacy-suite")
    cases = admin_api.get(f"/projects/{project['id']}/cases")["items"]
    assert [c["path"] for c in cases] == ["tests/test_cart.py"]


def test_a_bad_archive_is_refused_with_its_reason(
    page: Page, admin_api: Api, tmp_path: Path
) -> None:
    sign_in(page)
    page.goto("/import")
    expect(page.get_by_test_id("import-submit")).to_be_disabled()

    fake = tmp_path / "fake.zip"
    fake.write_text("this is not a zip")
    choose_file(page, fake)
    page.get_by_test_id("import-submit").click()
    expect(page.get_by_test_id("import-error")).to_contain_text("not a zip archive")

    tricky = tmp_path / "tricky.zip"
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zipped:
        zipped.writestr("../tests/test_evil.py", "def test_evil(): pass\n")
    tricky.write_bytes(buffer.getvalue())
    choose_file(page, tricky)
    page.get_by_test_id("import-submit").click()
    expect(page.get_by_test_id("import-error")).to_contain_text("'..' is not allowed")
    names = [p["name"] for p in admin_api.get("/projects")["items"]]
    assert "fake" not in names and "tricky" not in names
