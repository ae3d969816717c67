"""Factories for the objects most tests need, made through the public API."""

from __future__ import annotations

import itertools
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


def make_variable(api: Api, pid: int, eid: int, name: str, value: str, *, secret: bool = False
                  ) -> dict[str, Any]:  # fmt: skip
    body = {"name": name, "value": value, "secret": secret}
    result: dict[str, Any] = api.post(f"/projects/{pid}/environments/{eid}/variables", body)
    return result


def make_fixture_module(api: Api, pid: int, **fields: Any) -> dict[str, Any]:
    body = {"name": unique("fixtures"), "path": "conftest.py", "code": CONFTEST, **fields}
    result: dict[str, Any] = api.post(f"/projects/{pid}/fixtures", body)
    return result


def make_case(api: Api, pid: int, **fields: Any) -> dict[str, Any]:
    body = {"name": unique("case"), "code": PASSING_TEST, **fields}
    result: dict[str, Any] = api.post(f"/projects/{pid}/cases", body)
    return result


def make_plan(api: Api, pid: int, **fields: Any) -> dict[str, Any]:
    result: dict[str, Any] = api.post(f"/projects/{pid}/plans", {"name": unique("plan"), **fields})
    return result


def add_member(owner: Api, pid: int, member: Api, role: str) -> None:
    user = member.get("/me")
    owner.post(f"/projects/{pid}/members", {"user_id": user["id"], "role": role})
