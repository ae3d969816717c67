"""Run reports from real runs: junit.xml and the HTML report agree with the stored
results, secrets stay out of every download, Allure results come only when asked."""

from __future__ import annotations

import html
import io
import json
import xml.etree.ElementTree as ET
import zipfile
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from tests.conftest import ADMIN_PASSWORD
from tests.factories import (
    make_case,
    make_environment,
    make_project,
    make_variable,
    results_of,
    run_code,
    start_run,
)
from tests.support.api import Api, login
from testyard.api.app import create_app
from testyard.config import Settings

#: A secret holding what XML and JSON escape, so an escaped copy would slip past a
#: mask that looks for the plain value only.
SECRET = 'p&ss<"w0rd>-k3y'
SECRET_FORMS = [SECRET, html.escape(SECRET), json.dumps(SECRET)[1:-1], "w0rd"]

MIXED = """
import logging, os, sys, time
from pathlib import Path

import pytest

@pytest.fixture
def broken():
    raise RuntimeError("fixture exploded")

def test_pass():
    time.sleep(0.3)
    print("hello from stdout")

def test_fail(env_vars):
    print("the key is", env_vars.API_KEY)
    sys.stderr.write("complaint on stderr\\n")
    logging.getLogger("shop").warning("a logged warning")
    assert env_vars.API_KEY == "wrong", "the key does not match"

def test_error(broken):
    pass

def test_skip():
    pytest.skip("not today")

@pytest.mark.xfail(reason="known bug")
def test_xfail():
    assert False

@pytest.mark.xfail(reason="fixed meanwhile")
def test_xpass():
    pass

@pytest.mark.flaky(reruns=1)
def test_flaky():
    seen = Path(os.environ["TMPDIR"]) / "flaky-seen"
    if not seen.exists():
        seen.touch()
        assert False, "the first attempt fails"
"""
#: The stored outcome as junit.xml (xunit2) can tell it: an xpass is a plain pass there.
AS_JUNIT = {"xpassed": "passed"}
#: The stored outcome as allure-pytest reports it.
AS_ALLURE = {"error": "broken", "xfailed": "skipped", "xpassed": "passed"}
PROBE = (
    "import sys\n\ndef test_probe():\n    print(sorted(m for m in sys.modules if 'allure' in m))\n"
)


def mixed_run(admin: Api, **project_fields: Any) -> dict[str, Any]:
    """A finished run of MIXED in the environment ``qa`` whose secret API_KEY the
    failing test prints and asserts."""
    project = make_project(admin, **project_fields)
    env = make_environment(admin, project["id"], "qa")
    make_variable(admin, project["id"], env["id"], "API_KEY", SECRET, secret=True)
    make_variable(admin, project["id"], env["id"], "BASE_URL", "https://qa.example")
    run = run_code(admin, project["id"], MIXED, environment="qa", workers=0, source="cli")
    assert run["status"] == "failed", run
    return run


def attempts_of(admin: Api, run_id: int) -> dict[str, list[dict[str, Any]]]:
    """Every stored attempt, per node id, in the order they ran."""
    page = admin.get(f"/runs/{run_id}/results", params={"attempts": "all", "per_page": 1000})
    found: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for result in sorted(page["items"], key=lambda r: r["attempt"]):
        found[result["nodeid"]].append(result)
    return found


def junit_outcome(testcase: ET.Element) -> str:
    kinds = {child.tag: child for child in testcase}
    if "error" in kinds:
        return "error"
    if "failure" in kinds:
        return "failed"
    if "skipped" in kinds:
        return "xfailed" if kinds["skipped"].get("type") == "pytest.xfail" else "skipped"
    return "passed"


def artifact(admin: Api, run_id: int, name: str, **params: Any) -> Any:
    response = admin.request("GET", f"/runs/{run_id}/artifacts/{name}", params=params)
    assert response.status_code == 200, response.text
    return response


def test_junit_xml_agrees_with_the_stored_results(admin: Api) -> None:
    run = mixed_run(admin)
    stored = attempts_of(admin, run["id"])
    junit = ET.fromstring(artifact(admin, run["id"], "junit.xml").content)
    cases: dict[str, list[ET.Element]] = defaultdict(list)
    for testcase in junit.iter("testcase"):
        path = testcase.get("classname", "").replace(".", "/")
        cases[f"{path}.py::{testcase.get('name')}"].append(testcase)
    assert set(cases) == set(stored)
    assert len(stored) == 7
    for nodeid, attempts in stored.items():
        # One testcase per attempt (pytest-rerunfailures reports each), the last final.
        assert len(cases[nodeid]) == len(attempts), nodeid
        final = attempts[-1]
        assert final["final"]
        assert junit_outcome(cases[nodeid][-1]) == AS_JUNIT.get(final["outcome"], final["outcome"])
        for testcase, attempt in zip(cases[nodeid], attempts, strict=True):
            assert float(testcase.get("time", "0")) == pytest.approx(
                attempt["duration_s"], abs=0.05
            ), nodeid
    by_name = {nodeid.split("::")[1]: attempts for nodeid, attempts in stored.items()}
    assert by_name["test_pass"][0]["duration_s"] >= 0.3
    assert [a["outcome"] for a in by_name["test_flaky"]] == ["failed", "passed"]
    assert by_name["test_flaky"][-1]["flaky"]


def test_the_html_report_shows_every_result_the_failure_and_who_ran_it(admin: Api) -> None:
    run = mixed_run(admin)
    source = artifact(admin, run["id"], "report.html").text
    page = html.unescape(source)  # what a reader sees
    results = results_of(admin, run["id"])
    for nodeid in results:
        assert f">{nodeid}<" in page, nodeid
    failed = next(r for nodeid, r in results.items() if nodeid.endswith("::test_fail"))
    assert "the key does not match" in failed["message"]
    for text in ("message", "longrepr", "stdout", "stderr", "log"):
        assert failed[text] and failed[text] in page, text
    assert "complaint on stderr" in page and "a logged warning" in page
    assert "RuntimeError: fixture exploded" in page
    assert "the first attempt fails" in page, "the retried attempt's failure is shown"
    assert '<dd id="trigger">admin, from the command line</dd>' in page
    assert '<dd id="environment">qa</dd>' in page and "https://qa.example" in page
    assert '<strong id="count-total">7</strong>' in page
    assert '<strong id="count-failed">1</strong>' in page
    assert '<strong id="count-flaky">1</strong>' in page
    assert '<span class="status s-failed" id="status">failed</span>' in page
    assert "<script" not in source and "src=" not in source and "http-equiv" in source


def test_a_secret_a_test_prints_or_asserts_is_in_no_download(admin: Api) -> None:
    run = mixed_run(admin, allure=True)
    failed = next(r for k, r in results_of(admin, run["id"]).items() if k.endswith("test_fail"))
    assert "********" in failed["stdout"] and "********" in failed["longrepr"]
    texts = {name: artifact(admin, run["id"], name).text for name in ("report.html", "log")}
    texts["junit.xml"] = artifact(admin, run["id"], "junit.xml").text
    with zipfile.ZipFile(io.BytesIO(artifact(admin, run["id"], "allure.zip").content)) as zipped:
        texts.update({n: zipped.read(n).decode("utf-8", "replace") for n in zipped.namelist()})
    leaks = [(name, form) for name, text in texts.items() for form in SECRET_FORMS if form in text]
    assert leaks == []
    assert any("********" in text for name, text in texts.items() if name.endswith(".json"))


def test_the_report_downloads_with_its_name_and_a_strict_policy(admin: Api) -> None:
    project = make_project(admin, name="Shop 商城")
    run = run_code(admin, project["id"], "def test_ok():\n    pass\n")
    listed = {a["name"]: a for a in admin.get(f"/runs/{run['id']}")["artifacts"]}
    assert listed["report.html"] == {
        "name": "report.html",
        "filename": "report.html",
        "size_bytes": 0,
        "generated": True,
    }
    assert "allure.zip" not in listed
    download = artifact(admin, run["id"], "report.html")
    assert download.headers["content-type"] == "text/html; charset=utf-8"
    assert download.headers["content-security-policy"] == (
        "default-src 'none'; style-src 'unsafe-inline'"
    )
    disposition = download.headers["content-disposition"]
    assert disposition.startswith('attachment; filename="shop-shang-cheng-run-')
    assert f"filename*=UTF-8''Shop%20%E5%95%86%E5%9F%8E-run-{run['id']}-report.html" in disposition
    shown = artifact(admin, run["id"], "report.html", inline=1)
    assert shown.headers["content-disposition"].startswith("inline;")
    assert shown.headers["content-security-policy"] == download.headers["content-security-policy"]


def test_a_queued_run_has_no_report_yet(database_url: str, tmp_path: Path) -> None:
    settings = Settings(
        database_url=database_url,
        data_dir=tmp_path / "data",
        admin_password=ADMIN_PASSWORD,
        scheduler=False,
        executor="none",
    )
    with TestClient(create_app(settings, migrate=False)) as client:
        admin = Api(client, login(client, "admin", ADMIN_PASSWORD))
        project = make_project(admin)
        run_id = start_run(admin, project["id"], case_ids=[make_case(admin, project["id"])["id"]])
        assert admin.get(f"/runs/{run_id}")["artifacts"] == []
        missing = admin.expect(404, "GET", f"/runs/{run_id}/artifacts/report.html")
        assert missing["field"] == "name" and "has not started" in missing["message"]


def test_allure_results_agree_with_the_final_outcomes(admin: Api) -> None:
    run = mixed_run(admin, allure=True)
    stored = attempts_of(admin, run["id"])
    listed = {a["name"]: a for a in admin.get(f"/runs/{run['id']}")["artifacts"]}
    assert listed["allure.zip"]["size_bytes"] > 0
    download = artifact(admin, run["id"], "allure.zip")
    assert download.headers["content-type"] == "application/zip"
    allure: dict[str, list[dict[str, Any]]] = defaultdict(list)
    with zipfile.ZipFile(io.BytesIO(download.content)) as zipped:
        for name in zipped.namelist():
            if name.endswith("-result.json"):
                result = json.loads(zipped.read(name))
                module, _, test = result["fullName"].partition("#")
                allure[f"{module.replace('.', '/')}.py::{test}"].append(result)
    assert set(allure) == set(stored)
    for nodeid, attempts in stored.items():
        results = sorted(allure[nodeid], key=lambda r: r["stop"])
        assert len(results) == len(attempts), nodeid
        final = attempts[-1]["outcome"]
        assert results[-1]["status"] == AS_ALLURE.get(final, final), nodeid


def test_allure_is_loaded_only_for_the_projects_that_ask(admin: Api) -> None:
    plain = make_project(admin)
    run = run_code(admin, plain["id"], PROBE)
    assert run["status"] == "passed", run
    assert next(iter(results_of(admin, run["id"]).values()))["stdout"].strip() == "[]"
    assert "allure.zip" not in {a["name"] for a in run["artifacts"]}
    admin.expect(404, "GET", f"/runs/{run['id']}/artifacts/allure.zip")

    asking = make_project(admin, allure=True)
    run = run_code(admin, asking["id"], PROBE)
    assert "allure_pytest" in next(iter(results_of(admin, run["id"]).values()))["stdout"]
    assert "allure.zip" in {a["name"] for a in run["artifacts"]}


def test_a_link_planted_among_the_allure_results_is_not_followed(
    admin: Api, tmp_path: Path
) -> None:
    outside = tmp_path / "server-only.txt"
    outside.write_text("server-only content")
    code = (
        "import os\nfrom pathlib import Path\n\n"
        "def test_plant():\n"
        "    folder = Path('.testyard/allure')\n"
        "    folder.mkdir(parents=True, exist_ok=True)\n"
        f"    os.symlink({str(outside)!r}, folder / 'planted.txt')\n"
    )
    project = make_project(admin, allure=True)
    run = run_code(admin, project["id"], code)
    assert run["status"] == "passed", run
    download = artifact(admin, run["id"], "allure.zip")
    with zipfile.ZipFile(io.BytesIO(download.content)) as zipped:
        names = zipped.namelist()
        contents = b"".join(zipped.read(name) for name in names)
        note = zipped.read("testyard-left-out.txt").decode()
    assert b"server-only content" not in contents
    assert "planted.txt" not in names and "planted.txt" in note
    assert any(name.endswith("-result.json") for name in names)
