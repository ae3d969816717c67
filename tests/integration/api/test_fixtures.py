"""Fixture modules: code that must compile, a path in the project's one namespace."""

from __future__ import annotations

from typing import Any

from tests.factories import CONFTEST, make_case, make_fixture_module, make_project
from tests.support.api import Api

FIXTURES_CODE = """\
import pytest


def determine_scope(fixture_name, config):
    return "session"


@pytest.fixture(scope=determine_scope)
def browser():
    yield "browser"


@pytest.fixture(scope="session", autouse=True, params=["chrome", "firefox"])
def engine(request, tmp_path_factory):
    return request.param


@pytest.fixture
def page(browser, engine):
    return (browser, engine)
"""
BROKEN_CODE = "import pytest\n\n\n@pytest.fixture\ndef db(:\n    return 1\n"
BAD_PATHS = [
    "../conftest.py",
    "/abs/conftest.py",
    "a//conftest.py",
    "tests/test_x.py",
    "tests/x_test.py",
    "tests/../conftest.py",
    "tests\\conftest.py",
    ".hidden/conftest.py",
    "tests/conftest.txt",
    "tests/",
    "C:/conftest.py",
    "t\u00e9sts/conftest.py",
    "tests/con ftest.py",
    "tests/__init__.py",
]


def fixtures_path(pid: int) -> str:
    return f"/projects/{pid}/fixtures"


def brief(items: list[dict[str, Any]]) -> list[tuple[str, str]]:
    return [(m["name"], m["path"]) for m in items]


def test_fixture_module_crud_reports_the_fixtures_it_defines(admin: Api) -> None:
    pid = make_project(admin)["id"]
    assert admin.get(fixtures_path(pid)) == []

    created = admin.post(
        fixtures_path(pid),
        {"name": "Browser", "code": FIXTURES_CODE, "description": "web fixtures"},
    )
    assert created["path"] == "conftest.py"  # the default
    assert created["code"] == FIXTURES_CODE and created["description"] == "web fixtures"
    assert created["author"]["username"] == "admin"
    found = {f["name"]: f for f in created["fixtures"]}
    assert [f["name"] for f in created["fixtures"]] == ["browser", "engine", "page"]
    assert found["browser"] == {
        "name": "browser",
        "scope": "dynamic",
        "scope_callable": "determine_scope",
        "autouse": False,
        "params": None,
        "requests": [],
        "line": 9,
    }
    assert found["engine"]["scope"] == "session" and found["engine"]["scope_callable"] is None
    assert found["engine"]["autouse"] is True
    assert found["engine"]["params"] == ['"chrome"', '"firefox"']
    assert found["engine"]["requests"] == ["request", "tmp_path_factory"]
    assert (found["engine"]["line"], found["page"]["line"]) == (14, 19)
    assert found["page"]["scope"] == "function" and found["page"]["autouse"] is False
    assert found["page"]["requests"] == ["browser", "engine"]
    fid = created["id"]
    assert admin.get(f"{fixtures_path(pid)}/{fid}") == created

    make_fixture_module(admin, pid, name="Api", path="tests/api/conftest.py")
    make_fixture_module(admin, pid, name="Db plugin", path="fixtures/db.py")
    assert brief(admin.get(fixtures_path(pid))) == [
        ("Browser", "conftest.py"),
        ("Db plugin", "fixtures/db.py"),
        ("Api", "tests/api/conftest.py"),
    ]

    updated = admin.patch(f"{fixtures_path(pid)}/{fid}", {"name": "Base", "code": CONFTEST})
    assert updated["name"] == "Base" and updated["code"] == CONFTEST
    assert updated["path"] == "conftest.py" and updated["description"] == "web fixtures"
    assert [(f["name"], f["requests"]) for f in updated["fixtures"]] == [("base_url", ["env_vars"])]
    moved = admin.patch(f"{fixtures_path(pid)}/{fid}", {"path": "tests/conftest.py"})
    assert moved["path"] == "tests/conftest.py" and moved["code"] == CONFTEST
    assert admin.get(f"{fixtures_path(pid)}/{fid}") == moved

    admin.delete(f"{fixtures_path(pid)}/{fid}")
    assert admin.expect(404, "GET", f"{fixtures_path(pid)}/{fid}")["error"] == "not_found"
    assert [m["name"] for m in admin.get(fixtures_path(pid))] == ["Db plugin", "Api"]
    # The freed path can be used again.
    assert make_fixture_module(admin, pid, name="New", path="tests/conftest.py")["id"] != fid


def test_code_that_does_not_compile_is_422_with_its_position_and_nothing_is_saved(
    admin: Api,
) -> None:
    pid = make_project(admin)["id"]

    body = admin.expect(
        422, "POST", fixtures_path(pid), json={"name": "Broken", "code": BROKEN_CODE}
    )
    assert body["error"] == "syntax_error" and body["field"] == "code"
    assert (body["line"], body["column"]) == (5, 8)
    assert "line 5" in body["message"]
    assert admin.get(fixtures_path(pid)) == []

    module = make_fixture_module(admin, pid, name="Good")
    body = admin.expect(
        422,
        "PATCH",
        f"{fixtures_path(pid)}/{module['id']}",
        json={"name": "Renamed", "code": "x = 1\nif x > 0\n    pass\n"},
    )
    assert body["error"] == "syntax_error" and body["field"] == "code"
    assert (body["line"], body["column"]) == (2, 9)
    assert admin.get(f"{fixtures_path(pid)}/{module['id']}") == module
    assert admin.get(fixtures_path(pid)) == [module]


def test_invalid_paths_are_422_on_path(admin: Api) -> None:
    pid = make_project(admin)["id"]
    module = make_fixture_module(admin, pid, name="Root")
    for bad in BAD_PATHS:
        body = admin.expect(422, "POST", fixtures_path(pid), json={"name": "M", "path": bad})
        assert body["error"] == "invalid" and body["field"] == "path", bad
        body = admin.expect(
            422, "PATCH", f"{fixtures_path(pid)}/{module['id']}", json={"path": bad}
        )
        assert body["field"] == "path", bad
    assert admin.get(fixtures_path(pid)) == [module]


def test_taken_path_or_name_is_409(admin: Api) -> None:
    pid = make_project(admin)["id"]
    root = make_fixture_module(admin, pid, name="Root")
    api = make_fixture_module(admin, pid, name="Api", path="tests/api/conftest.py")
    case = make_case(admin, pid, path="tests/login_test.py")

    conflicts = [
        ("POST", fixtures_path(pid), {"name": "Other"}, "path"),  # default conftest.py
        ("POST", fixtures_path(pid), {"name": "Other", "path": "tests/api/conftest.py"}, "path"),
        ("POST", fixtures_path(pid), {"name": "Root", "path": "tests/conftest.py"}, "name"),
        ("PATCH", f"{fixtures_path(pid)}/{api['id']}", {"path": "conftest.py"}, "path"),
        ("PATCH", f"{fixtures_path(pid)}/{api['id']}", {"name": "Root"}, "name"),
    ]
    for method, path, json, field in conflicts:
        body = admin.expect(409, method, path, json=json)
        assert body["error"] == "conflict" and body["field"] == field, json
    assert admin.get(fixtures_path(pid)) == [root, api]

    # Cases and fixture modules share one namespace of paths. A case's path is a test
    # file's, which a fixture module may never have: that is refused before the conflict.
    body = admin.expect(422, "POST", fixtures_path(pid), json={"name": "X", "path": case["path"]})
    assert body["field"] == "path" and "test file" in body["message"]
    body = admin.expect(
        409, "POST", f"/projects/{pid}/cases", json={"name": "Twin", "path": case["path"]}
    )
    assert body["field"] == "path" and "case" in body["message"]
    assert admin.get(fixtures_path(pid)) == [root, api]
    # Keeping its own name and path is no conflict.
    same = {"name": "Api", "path": "tests/api/conftest.py"}
    assert admin.patch(f"{fixtures_path(pid)}/{api['id']}", same)["name"] == "Api"
    other = make_project(admin)["id"]
    assert make_fixture_module(admin, other, name="Root")["path"] == "conftest.py"


def test_nested_conftest_and_plugin_paths_are_accepted(admin: Api) -> None:
    pid = make_project(admin)["id"]
    paths = [
        "tests/api/conftest.py",
        "tests/conftest.py",
        "tests/api/v2/conftest.py",
        "fixtures/db.py",
        "plugins/browser_fixtures.py",
        "conftest.py",
    ]
    for n, path in enumerate(paths):
        assert make_fixture_module(admin, pid, name=f"m{n}", path=path)["path"] == path
    assert [m["path"] for m in admin.get(fixtures_path(pid))] == sorted(paths)


def test_unknown_fixture_module_is_404(admin: Api) -> None:
    pid = make_project(admin)["id"]
    other = make_project(admin)["id"]
    foreign = make_fixture_module(admin, other, name="Foreign")
    for fid in (999999, foreign["id"]):
        for method, json in (("GET", None), ("PATCH", {"name": "x"}), ("DELETE", None)):
            body = admin.expect(404, method, f"{fixtures_path(pid)}/{fid}", json=json)
            assert body["error"] == "not_found", (method, fid)
    assert admin.get(fixtures_path(other)) == [foreign]
