"""Every name a user can type, tried systematically with hostile values: path tricks,
control characters, bidi overrides, 10,000-character strings and Unicode.

For each field and value the answer is either a success whose GET gives back exactly
the same string, or 400/422 naming the field; never a 500, and never a file written
outside the workspace (each path trick names a file after a marker that must appear
nowhere on disk afterwards).
"""

from __future__ import annotations

import io
import os
import uuid
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.factories import make_environment, make_project, unique
from tests.support.api import Api
from testyard.services.names import display_name
from testyard.services.paths import validate_relative_path

MARKER = f"hostile_{uuid.uuid4().hex[:12]}"
GOOD_TEST = "def test_ok():\n    pass\n"

#: Path tricks: each would land outside its directory if taken as a path.
PATHS = {
    "dot-dot": f"../{MARKER}.py",
    "absolute": f"/tmp/{MARKER}/test_x.py",
    "dot-dot inside": f"a/../../{MARKER}/test_x.py",
    "backslashes": f"..\\..\\{MARKER}\\test_x.py",
    "NUL": f"tests/test_{MARKER}.py\x00.txt",
}
#: Characters that must never be taken silently: control characters and bidi overrides.
CONTROLS = {
    **{f"control {code:#04x}": f"a{chr(code)}b" for code in (0, 1, 9, 10, 13, 0x1B, 0x1F, 0x7F)},
    "bidi override U+202E": "invoice\u202egpj.exe",
    "bidi isolate U+2066": "a\u2066b",
}
LONG = {"10,000 characters": "x" * 10_000, "10,000 CJK characters": "测" * 10_000}
#: Text any script may hold: accepted where a display name goes, exactly as typed.
UNICODE = {
    "CJK": "登录测试",
    "emoji": "🚀 launch ✅",
    "emoji with joiners": "👩‍💻 dev 👨‍👩‍👧",
    "combining marks": "e\u0301te\u0301 n\u0303",
    "RTL": "اختبار تسجيل الدخول",
    "mixed": "Zoë 测试 №1",
}
HOSTILE = {**PATHS, **CONTROLS, **LONG, **UNICODE}


def assert_taken_or_refused(
    api: Api, response: Any, field: str, value: str, read: Callable[[dict[str, Any]], str]
) -> None:
    """A success answers (and GET gives back) exactly ``value``; a refusal is 400/422
    naming ``field``; nothing else."""
    assert response.status_code != 500, response.text
    if response.status_code in (200, 201):
        created = response.json()
        assert read(created) == value, "taken, but not as typed"
        return
    assert response.status_code in (400, 422), response.text
    body = response.json()
    assert body["field"] is not None and body["field"].split(".")[-1] == field, body


def assert_nothing_written(*roots: Path) -> None:
    """No file or directory named after the marker under ``roots`` (os.walk skips what
    other processes remove meanwhile)."""
    for root in roots:
        for directory, dirs, files in os.walk(root):
            named = [n for n in dirs + files if MARKER in n]
            assert not named, f"{named} written under {directory}"


@pytest.fixture
def project(admin: Api) -> dict[str, Any]:
    return make_project(admin)


@pytest.mark.parametrize("value", list(HOSTILE.values()), ids=list(HOSTILE))
def test_project_name(admin: Api, value: str) -> None:
    response = admin.request("POST", "/projects", json={"name": value})

    def read(created: dict[str, Any]) -> str:
        return str(admin.get(f"/projects/{created['id']}")["name"])

    assert_taken_or_refused(admin, response, "name", value, read)


@pytest.mark.parametrize("value", list(HOSTILE.values()), ids=list(HOSTILE))
def test_case_name_and_path(admin: Api, project: dict[str, Any], value: str) -> None:
    pid = project["id"]
    cases = f"/projects/{pid}/cases"

    def read(field: str) -> Callable[[dict[str, Any]], str]:
        return lambda created: str(admin.get(f"{cases}/{created['id']}")[field])

    response = admin.request("POST", cases, json={"name": value, "code": GOOD_TEST})
    assert_taken_or_refused(admin, response, "name", value, read("name"))
    body = {"name": unique("case"), "path": value, "code": GOOD_TEST}
    assert_taken_or_refused(admin, admin.request("POST", cases, json=body), "path", value,
                            read("path"))  # fmt: skip


@pytest.mark.parametrize("value", list(HOSTILE.values()), ids=list(HOSTILE))
def test_fixture_module_name_and_path(admin: Api, project: dict[str, Any], value: str) -> None:
    fixtures = f"/projects/{project['id']}/fixtures"

    def read(field: str) -> Callable[[dict[str, Any]], str]:
        return lambda created: str(admin.get(f"{fixtures}/{created['id']}")[field])

    body = {"name": value, "path": f"plugin_{uuid.uuid4().hex[:8]}.py", "code": ""}
    response = admin.request("POST", fixtures, json=body)
    assert_taken_or_refused(admin, response, "name", value, read("name"))
    body = {"name": unique("fixtures"), "path": value, "code": ""}
    assert_taken_or_refused(admin, admin.request("POST", fixtures, json=body), "path", value,
                            read("path"))  # fmt: skip


@pytest.mark.parametrize("value", list(HOSTILE.values()), ids=list(HOSTILE))
def test_environment_name(admin: Api, project: dict[str, Any], value: str) -> None:
    environments = f"/projects/{project['id']}/environments"
    response = admin.request("POST", environments, json={"name": value})

    def read(created: dict[str, Any]) -> str:
        return str(admin.get(f"{environments}/{created['id']}")["name"])

    assert_taken_or_refused(admin, response, "name", value, read)


@pytest.mark.parametrize("value", list(HOSTILE.values()), ids=list(HOSTILE))
def test_variable_name_and_value(admin: Api, project: dict[str, Any], value: str) -> None:
    env = make_environment(admin, project["id"])
    variables = f"/projects/{project['id']}/environments/{env['id']}/variables"

    def read(field: str) -> Callable[[dict[str, Any]], str]:
        return lambda created: str(admin.get(f"{variables}/{created['id']}")[field])

    response = admin.request("POST", variables, json={"name": value, "value": "v"})
    assert_taken_or_refused(admin, response, "name", value, read("name"))
    body = {"name": unique("VAR_"), "value": value}
    assert_taken_or_refused(admin, admin.request("POST", variables, json=body), "value", value,
                            read("value"))  # fmt: skip


@pytest.mark.parametrize("value", list(HOSTILE.values()), ids=list(HOSTILE))
def test_plan_name(admin: Api, project: dict[str, Any], value: str) -> None:
    plans = f"/projects/{project['id']}/plans"
    response = admin.request("POST", plans, json={"name": value})

    def read(created: dict[str, Any]) -> str:
        return str(admin.get(f"{plans}/{created['id']}")["name"])

    assert_taken_or_refused(admin, response, "name", value, read)


@pytest.mark.parametrize("value", list(HOSTILE.values()), ids=list(HOSTILE))
def test_channel_name(admin: Api, project: dict[str, Any], value: str) -> None:
    channels = f"/projects/{project['id']}/channels"
    body = {"name": value, "kind": "webhook", "url": "http://127.0.0.1:9/hook"}
    response = admin.request("POST", channels, json=body)

    def read(created: dict[str, Any]) -> str:
        return str(admin.get(f"{channels}/{created['id']}")["name"])

    assert_taken_or_refused(admin, response, "name", value, read)


def import_zip(admin: Api, entries: dict[str, str]) -> Any:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        for name, text in entries.items():
            zf.writestr(name, text)
    return admin.client.post(
        "/api/v1/projects/import",
        files={"file": ("hostile.zip", buffer.getvalue(), "application/zip")},
        headers={"Authorization": f"Bearer {admin.token}"},
    )


@pytest.mark.parametrize("value", list(HOSTILE.values()), ids=list(HOSTILE))
def test_archive_entry(admin: Api, value: str, tmp_path: Path) -> None:
    """An entry under a hostile name, beside a good one: the archive is refused (400),
    or imported with the hostile entry left out (or, for a path zipfile itself cuts at
    a NUL, at a plain path); as the top folder (the project's name), the name is taken
    if valid, else replaced by a plain one, or refused. Never a 500, nothing written outside."""
    response = import_zip(admin, {"tests/test_ok.py": GOOD_TEST, value: GOOD_TEST})
    assert response.status_code in (201, 400), response.text
    if response.status_code == 201:
        body = response.json()
        cases = admin.get(f"/projects/{body['id']}/cases")["items"]
        assert any(c["path"].endswith("test_ok.py") for c in cases), "the good entry is in"
        for case in cases:
            assert validate_relative_path(case["path"], kind="case") == case["path"]
    top = import_zip(admin, {f"{value}/tests/test_ok.py": GOOD_TEST})
    assert top.status_code in (201, 400, 422), top.text
    if top.status_code == 201:  # the folder's name if it is a valid name, else a plain one
        name = admin.get(f"/projects/{top.json()['id']}")["name"]
        assert display_name(name) == name
    assert_nothing_written(tmp_path.parent, Path("/tmp"))


def test_accepted_unicode_survives_export_and_import(admin: Api, project: dict[str, Any]
                                                     ) -> None:  # fmt: skip
    """Case names become ASCII paths in the export (plain pytest); the paths and the
    variables, Unicode values included, come back exactly."""
    pid = project["id"]
    for name in UNICODE.values():
        admin.post(f"/projects/{pid}/cases", {"name": name, "code": GOOD_TEST})
    env = make_environment(admin, pid, "qa")
    values = {f"V{n}": value for n, value in enumerate(UNICODE.values())}
    for name, value in values.items():
        admin.post(f"/projects/{pid}/environments/{env['id']}/variables",
                   {"name": name, "value": value})  # fmt: skip
    exported = admin.client.get(
        f"/api/v1/projects/{pid}/export?environment=qa&include_cases=true",
        headers={"Authorization": f"Bearer {admin.token}"},
    )
    assert exported.status_code == 200, exported.text
    with zipfile.ZipFile(io.BytesIO(exported.content)) as zf:
        assert all(n.isascii() and ".." not in n and not n.startswith("/") for n in zf.namelist())
    imported = admin.client.post(
        "/api/v1/projects/import",
        files={"file": ("unicode.zip", exported.content, "application/zip")},
        headers={"Authorization": f"Bearer {admin.token}"},
    )
    assert imported.status_code == 201, imported.text
    new = imported.json()["id"]

    def paths(project_id: int) -> set[str]:
        return {c["path"] for c in admin.get(f"/projects/{project_id}/cases")["items"]}

    assert paths(new) == paths(pid) and len(paths(pid)) == len(UNICODE)
    (new_env,) = admin.get(f"/projects/{new}/environments")
    got = admin.get(f"/projects/{new}/environments/{new_env['id']}/variables")
    assert {v["name"]: v["value"] for v in got} == values
