"""Export a project, run it with plain pytest in a fresh virtual environment, and get
the same outcomes, node id by node id, as testyard; import it back and export again."""

from __future__ import annotations

import io
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

from uv import find_uv_bin

from tests.factories import make_case, make_project, results_of, start_run, wait_for_run
from tests.support.api import Api

ROOT_CONFTEST = """import pytest

ORDER = []


@pytest.fixture(scope="session")
def api_base(env_vars):
    return env_vars.BASE_URL


@pytest.fixture(autouse=True)
def record(request):
    ORDER.append(request.node.name)
    yield
"""

API_CONFTEST = """import pytest


@pytest.fixture(scope="module")
def client(api_base, env_vars):
    return {"base": api_base, "key": env_vars.API_KEY}
"""

PLUGIN = """import pytest


@pytest.fixture(scope="class")
def counter():
    return {"n": 0}
"""

API_CASE = """import pytest


@pytest.mark.parametrize("path", ["/login", "/logout", "/broken"])
def test_paths(client, path):
    assert client["key"].startswith("s3cr3t")
    assert path != "/broken", "the broken path"


class TestCounter:
    def test_first(self, counter):
        counter["n"] += 1
        assert counter["n"] == 1

    def test_second(self, counter):
        counter["n"] += 1
        assert counter["n"] == 2
"""

UI_CASE = """import pytest


def test_home(api_base):
    assert api_base.startswith("https://")


@pytest.mark.skip(reason="not today")
def test_later():
    pass


@pytest.mark.xfail(reason="known")
def test_known_bug():
    assert False
"""


def build_project(admin: Api) -> tuple[int, list[int]]:
    project = make_project(admin, name="导出 shop")
    pid = project["id"]
    qa = admin.post(f"/projects/{pid}/environments", {"name": "qa"})
    admin.post(
        f"/projects/{pid}/environments/{qa['id']}/variables",
        {"name": "BASE_URL", "value": "https://qa.example"},
    )
    admin.post(
        f"/projects/{pid}/environments/{qa['id']}/variables",
        {"name": "API_KEY", "value": "s3cr3t-value", "secret": True},
    )
    for name, path, code in (
        ("root", "conftest.py", ROOT_CONFTEST),
        ("api", "tests/api/conftest.py", API_CONFTEST),
        ("counter", "fixtures/counting.py", PLUGIN),
    ):
        admin.post(f"/projects/{pid}/fixtures", {"name": name, "path": path, "code": code})
    cases = [
        make_case(admin, pid, path="tests/api/test_paths.py", code=API_CASE),
        make_case(admin, pid, path="tests/ui/test_home.py", code=UI_CASE),
    ]
    return pid, [c["id"] for c in cases]


def export(admin: Api, pid: int, **params: Any) -> bytes:
    response = admin.request(
        "GET", f"/projects/{pid}/export", params={"environment": "qa", **params}
    )
    assert response.status_code == 200, response.text
    return response.content


def junit_outcomes(path: Path) -> dict[str, str]:
    outcomes = {}
    for case in ElementTree.parse(path).iter("testcase"):
        file = case.get("classname", "").replace(".", "/")
        module, _, klass = file.partition("/Test")
        nodeid = f"{module}.py::" + (f"Test{klass}::" if klass else "") + case.get("name", "")
        kinds = {child.tag for child in case}
        outcome = "passed"
        if "failure" in kinds:
            outcome = "failed"
        elif "error" in kinds:
            outcome = "error"
        elif "skipped" in kinds:
            skipped = case.find("skipped")
            outcome = (
                "xfailed"
                if skipped is not None and skipped.get("type") == "pytest.xfail"
                else "skipped"
            )
        outcomes[nodeid] = outcome
    return outcomes


def test_export_runs_with_plain_pytest_like_testyard(admin: Api, tmp_path: Path) -> None:
    pid, case_ids = build_project(admin)
    # Serially, as plain pytest runs (xdist would split the class across workers).
    run = wait_for_run(admin, start_run(admin, pid, case_ids=case_ids, environment="qa", workers=0))
    in_testyard = {k: v["outcome"] for k, v in results_of(admin, run["id"]).items()}
    assert set(in_testyard.values()) >= {"passed", "failed", "skipped", "xfailed"}

    data = export(admin, pid, include_cases="true")
    unpacked = zipfile.ZipFile(io.BytesIO(data))
    assert all(b"s3cr3t-value" not in unpacked.read(n) for n in unpacked.namelist())
    project = tmp_path / "exported"
    zipfile.ZipFile(io.BytesIO(data)).extractall(project)
    assert "API_KEY" in (project / "README.md").read_text()
    venv = tmp_path / "venv"
    uv = find_uv_bin()
    subprocess.run([uv, "venv", "--quiet", "--python", sys.executable, str(venv)], check=True)
    subprocess.run(
        [
            uv,
            "pip",
            "install",
            "--quiet",
            "--python",
            str(venv / "bin" / "python"),
            "-r",
            str(project / "requirements.txt"),
        ],
        check=True,
        timeout=300,
    )
    env = {
        "PATH": f"{venv / 'bin'}:/usr/bin:/bin",
        "API_KEY": "s3cr3t-value",
        "HOME": str(tmp_path),
    }
    plain = subprocess.run(
        [
            str(venv / "bin" / "pytest"),
            "-p",
            "no:cacheprovider",
            f"--junitxml={tmp_path / 'junit.xml'}",
        ],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert plain.returncode == 1, plain.stdout + plain.stderr  # one test fails on purpose
    assert junit_outcomes(tmp_path / "junit.xml") == in_testyard


def test_export_import_export_gives_the_same_files(admin: Api) -> None:
    pid, _ = build_project(admin)
    first = export(admin, pid, include_cases="true")
    upload = {"file": ("shop.zip", first, "application/zip")}
    imported = admin.client.post(
        "/api/v1/projects/import", files=upload, headers={"Authorization": f"Bearer {admin.token}"}
    )
    assert imported.status_code == 201, imported.text
    body = imported.json()
    assert (body["fixtures"], body["cases"], body["environment"]) == (3, 2, "qa")
    assert body["not_imported"] == []
    variables = admin.get(f"/projects/{body['id']}/environments")
    secret = [
        v
        for v in admin.get(f"/projects/{body['id']}/environments/{variables[0]['id']}/variables")
        if v["secret"]
    ]
    assert [s["name"] for s in secret] == ["API_KEY"]
    second = export(admin, body["id"], include_cases="true")

    def files(data: bytes) -> dict[str, bytes]:
        archive = zipfile.ZipFile(io.BytesIO(data))
        return {name: archive.read(name) for name in archive.namelist()}

    assert files(second) == files(first)


def test_export_needs_an_environment_and_names_the_file(admin: Api) -> None:
    pid, _ = build_project(admin)
    missing = admin.request("GET", f"/projects/{pid}/export")
    assert missing.status_code == 400 and "environment" in missing.json()["message"]
    unknown = admin.request("GET", f"/projects/{pid}/export", params={"environment": "prod"})
    assert unknown.status_code == 422 and unknown.json()["field"] == "environment"
    ok = admin.request("GET", f"/projects/{pid}/export", params={"environment": "qa"})
    disposition = ok.headers["content-disposition"]
    assert "filename*=UTF-8''%E5%AF%BC%E5%87%BA%20shop-qa.zip" in disposition
    names = zipfile.ZipFile(io.BytesIO(ok.content)).namelist()
    assert "tests/api/test_paths.py" not in names, "cases only when asked"
    assert {"conftest.py", "testyard.py", "requirements.txt", "pytest.ini"} <= set(names)


def test_pytest_options_apply_to_runs_and_travel_in_exports(admin: Api) -> None:
    project = make_project(
        admin, pytest_options={"xfail_strict": "true", "markers": ["slow: takes long"]}
    )
    pid = project["id"]
    admin.post(f"/projects/{pid}/environments", {"name": "qa"})
    code = (
        "import pytest\n\n@pytest.mark.xfail(reason='fixed now')\ndef test_fixed():\n"
        "    pass\n\n@pytest.mark.slow\ndef test_marked():\n    pass\n"
    )
    case = make_case(admin, pid, code=code)
    run = wait_for_run(admin, start_run(admin, pid, case_ids=[case["id"]], workers=0))
    outcomes = {k.split("::")[1]: v["outcome"] for k, v in results_of(admin, run["id"]).items()}
    assert outcomes == {"test_fixed": "failed", "test_marked": "passed"}  # strict xfail
    data = export(admin, pid)
    ini = zipfile.ZipFile(io.BytesIO(data)).read("pytest.ini").decode()
    assert "xfail_strict = true" in ini and "markers = slow: takes long" in ini
    body = admin.expect(
        422, "PATCH", f"/projects/{pid}", json={"pytest_options": {"Bad Name": "x"}}
    )
    assert body["field"] == "pytest_options"
