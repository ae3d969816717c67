"""Per-project requirements: a cached environment per requirement list, made with uv."""

from __future__ import annotations

from tests.factories import make_project, run_code
from tests.support.api import Api

USES_PACKAGE = "import pyjokes\n\ndef test_joke():\n    assert pyjokes.get_joke()\n"


def test_a_project_requirement_is_installed_for_its_runs(admin: Api) -> None:
    project = make_project(admin, requirements="pyjokes==0.8.3\n")
    run = run_code(admin, project["id"], USES_PACKAGE)
    assert run["status"] == "passed", run


def test_a_project_without_it_cannot_import_it(admin: Api) -> None:
    project = make_project(admin)
    run = run_code(admin, project["id"], USES_PACKAGE)
    assert run["status"] == "error"
    assert "pyjokes" in run["error"]


def test_an_uninstallable_requirement_ends_the_run_with_the_installer_message(
    admin: Api,
) -> None:
    project = make_project(admin, requirements="testyard-no-such-package-xyz==1.0\n")
    run = run_code(admin, project["id"], "def test_x():\n    pass\n")
    assert run["status"] == "error"
    assert "testyard-no-such-package-xyz" in run["error"]


def test_installer_options_are_refused_on_save(admin: Api) -> None:
    body = admin.expect(
        422, "POST", "/projects", json={"name": "opts", "requirements": "--index-url http://x\n"}
    )
    assert body["field"] == "requirements"
