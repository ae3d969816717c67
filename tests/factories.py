"""Factories for the objects most tests need, made through the public API."""

from __future__ import annotations

import itertools
import time
from typing import Any

from tests.support.api import PASSWORD, Api, login

_counter = itertools.count(1)

PASSING_TEST = "def test_ok():\n    assert 1 + 1 == 2\n"
CONFTEST = (
    "import pytest\n\n\n@pytest.fixture\ndef base_url(env_vars):\n    return env_vars.BASE_URL\n"
)


def unique(prefix: str) -> str:
    return f"{prefix}{next(_counter)}"


def make_user(admin: Api, username: str | None = None, *, is_admin: bool = False) -> Api:
    """A new account, logged in: its Api."""
    username = username or unique("user")
    admin.post("/users", {"username": username, "password": PASSWORD, "is_admin": is_admin})
    return admin.as_user(login(admin.client, username))


def make_project(api: Api, **fields: Any) -> dict[str, Any]:
    body = {"name": unique("project"), **fields}
    result: dict[str, Any] = api.post("/projects", body)
    return result


def make_environment(api: Api, pid: int, name: str = "qa", **fields: Any) -> dict[str, Any]:
    result: dict[str, Any] = api.post(f"/projects/{pid}/environments", {"name": name, **fields})
    return result


def make_variable(
    api: Api, pid: int, eid: int, name: str, value: str, *, secret: bool = False
) -> dict[str, Any]:
    body = {"name": name, "value": value, "secret": secret}
    result: dict[str, Any] = api.post(f"/projects/{pid}/environments/{eid}/variables", body)
    return result


def make_fixture_module(api: Api, pid: int, **fields: Any) -> dict[str, Any]:
    body = {"name": unique("fixtures"), "path": "conftest.py", "code": CONFTEST, **fields}
    result: dict[str, Any] = api.post(f"/projects/{pid}/fixtures", body)
    return result


def make_case(api: Api, pid: int, **fields: Any) -> dict[str, Any]:
    """A saved case as GET answers it (without the save-time ``problems``)."""
    body = {"name": unique("case"), "code": PASSING_TEST, **fields}
    result: dict[str, Any] = api.post(f"/projects/{pid}/cases", body)
    return public_case(result)


def public_case(answer: dict[str, Any]) -> dict[str, Any]:
    """A case as GET answers it: a save's answer less its ``problems``."""
    return {key: value for key, value in answer.items() if key != "problems"}


def make_plan(api: Api, pid: int, **fields: Any) -> dict[str, Any]:
    result: dict[str, Any] = api.post(f"/projects/{pid}/plans", {"name": unique("plan"), **fields})
    return result


def make_channel(api: Api, pid: int, **fields: Any) -> dict[str, Any]:
    """A notification channel (a webhook to nowhere unless told otherwise)."""
    body = {"name": unique("channel"), "kind": "webhook", "url": "http://127.0.0.1:9/hook"}
    result: dict[str, Any] = api.post(f"/projects/{pid}/channels", {**body, **fields})
    return result


def add_member(owner: Api, pid: int, member: Api, role: str) -> None:
    user = member.get("/me")
    owner.post(f"/projects/{pid}/members", {"user_id": user["id"], "role": role})


FINISHED = {"passed", "failed", "error", "cancelled", "timed_out", "interrupted"}


def wait_for_run(
    api: Api, run_id: int, timeout: float = 90.0, until: set[str] = FINISHED
) -> dict[str, Any]:
    """Poll the run until its status is in ``until``; fail with the run if it never is."""
    deadline = time.monotonic() + timeout
    run: dict[str, Any] = api.get(f"/runs/{run_id}")
    while run["status"] not in until:
        if time.monotonic() > deadline:
            raise AssertionError(f"run {run_id} still {run['status']} after {timeout}s: {run}")
        time.sleep(0.1)
        run = api.get(f"/runs/{run_id}")
    return run


def start_run(api: Api, pid: int, **body: Any) -> int:
    answer: dict[str, Any] = api.post(f"/projects/{pid}/runs", body, status=202)
    return int(answer["id"])


def run_code(api: Api, pid: int, code: str, **body: Any) -> dict[str, Any]:
    """Save ``code`` as a new case, run it, and return the finished run."""
    case = make_case(api, pid, code=code)
    run_id = start_run(api, pid, case_ids=[case["id"]], **body)
    return wait_for_run(api, run_id)


def results_of(api: Api, run_id: int, **params: Any) -> dict[str, dict[str, Any]]:
    """The run's results keyed by node id (final attempts unless attempts=all)."""
    page = api.get(f"/runs/{run_id}/results", params={"per_page": 1000, **params})
    return {r["nodeid"]: r for r in page["items"]}
