"""Limits every route shares: body size, field lengths, unknown ids."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from tests.factories import (
    make_case,
    make_environment,
    make_fixture_module,
    make_plan,
    make_project,
    make_variable,
)
from tests.support.api import Api

TWO_MB = 2 * 1024 * 1024


def too_large(api: Api, method: str, path: str, **kwargs: Any) -> None:
    response = api.request(method, path, **kwargs)
    assert response.status_code == 413, (method, path, response.status_code, response.text[:200])
    assert response.headers["content-type"].startswith("application/json")
    assert response.json()["error"] == "too_large", (method, path)


def test_a_body_over_one_mebibyte_is_413_and_nothing_is_saved(admin: Api) -> None:
    pid = make_project(admin)["id"]
    eid = make_environment(admin, pid)["id"]
    case = make_case(admin, pid)
    plan = make_plan(admin, pid)
    big = "x" * TWO_MB

    too_large(admin, "POST", f"/projects/{pid}/cases", json={"name": "Big", "code": big})
    for method, path, body in [
        ("POST", "/projects", {"name": "Big", "description": big}),
        ("POST", f"/projects/{pid}/environments", {"name": "big", "description": big}),
        ("POST", f"/projects/{pid}/environments/{eid}/variables", {"name": "B", "value": big}),
        ("POST", f"/projects/{pid}/fixtures", {"name": "Big", "code": big}),
        ("POST", f"/projects/{pid}/plans", {"name": "Big", "description": big}),
        ("POST", f"/projects/{pid}/cases/{case['id']}/copy", {"name": big}),
        ("PATCH", f"/projects/{pid}/cases/{case['id']}", {"code": big}),
        ("PUT", f"/projects/{pid}/plans/{plan['id']}/cases", {"case_ids": [1] * 600_000}),
        ("POST", "/auth/login", {"username": "admin", "password": big}),
    ]:
        too_large(admin, method, path, json=body)

    # Without a Content-Length the body is cut off as it streams in.
    def chunks() -> Iterator[bytes]:
        yield b'{"name": "Streamed", "code": "'
        for _ in range(40):
            yield b"x" * 64 * 1024
        yield b'"}'

    too_large(
        admin,
        "POST",
        f"/projects/{pid}/cases",
        content=chunks(),
        headers={"content-type": "application/json"},
    )

    assert [p["id"] for p in admin.get("/projects")["items"]] == [pid]
    assert [e["id"] for e in admin.get(f"/projects/{pid}/environments")] == [eid]
    assert admin.get(f"/projects/{pid}/environments/{eid}/variables") == []
    assert admin.get(f"/projects/{pid}/fixtures") == []
    assert admin.get(f"/projects/{pid}/cases")["items"] == [case]
    assert admin.get(f"/projects/{pid}/plans")["items"] == [plan]


def test_a_body_just_under_the_limit_is_read(admin: Api) -> None:
    pid = make_project(admin)["id"]
    code = "x = 1\n" * 140_000  # 840 kB: under the body limit, over the code limit
    response = admin.request("POST", f"/projects/{pid}/cases", json={"name": "Big", "code": code})
    assert len(json.dumps({"name": "Big", "code": code})) < 1024 * 1024
    assert response.status_code == 422, response.text[:200]
    assert response.json()["field"] == "code"
    code = "x = 1\n" * 80_000  # 480 kB fits both
    assert make_case(admin, pid, code=code)["code"] == code


def test_overlong_names_are_422(admin: Api) -> None:
    pid = make_project(admin)["id"]
    eid = make_environment(admin, pid)["id"]
    long = "n" * 10_000
    for path, body in [
        (f"/projects/{pid}/cases", {"name": long}),
        ("/projects", {"name": long}),
        (f"/projects/{pid}/environments", {"name": long}),
        (f"/projects/{pid}/environments/{eid}/variables", {"name": long}),
        (f"/projects/{pid}/fixtures", {"name": long}),
        (f"/projects/{pid}/plans", {"name": long}),
        (f"/projects/{pid}/cases", {"name": "ok", "description": long * 2}),
    ]:
        body_out = admin.expect(422, "POST", path, json=body)
        assert body_out["error"] == "invalid", path
        assert body_out["field"] in ("name", "description"), (path, body_out)
        assert len(body_out["message"]) < 500, path
    assert admin.get(f"/projects/{pid}/cases")["total"] == 0
    assert admin.get(f"/projects/{pid}/plans")["total"] == 0
    assert [p["id"] for p in admin.get("/projects")["items"]] == [pid]


def test_unknown_ids_everywhere_are_404(admin: Api) -> None:
    pid = make_project(admin)["id"]
    eid = make_environment(admin, pid)["id"]
    vid = make_variable(admin, pid, eid, "A", "1")["id"]
    fid = make_fixture_module(admin, pid)["id"]
    cid = make_case(admin, pid)["id"]
    plid = make_plan(admin, pid, case_ids=[cid])["id"]
    nope = 999999
    routes: list[tuple[str, str, Any]] = [
        ("GET", f"/projects/{nope}", None),
        ("PATCH", f"/projects/{nope}", {"name": "x"}),
        ("DELETE", f"/projects/{nope}", None),
        ("GET", f"/projects/{nope}/members", None),
        ("GET", f"/projects/{nope}/environments", None),
        ("GET", f"/projects/{nope}/fixtures", None),
        ("POST", f"/projects/{nope}/fixtures", {"name": "x"}),
        ("GET", f"/projects/{nope}/cases", None),
        ("POST", f"/projects/{nope}/cases", {"name": "x"}),
        ("GET", f"/projects/{nope}/plans", None),
        ("POST", f"/projects/{nope}/plans", {"name": "x"}),
        ("GET", f"/projects/{nope}/environments/{eid}", None),
        ("GET", f"/projects/{pid}/environments/{nope}", None),
        ("PATCH", f"/projects/{pid}/environments/{nope}", {"name": "x"}),
        ("GET", f"/projects/{pid}/environments/{nope}/variables", None),
        ("GET", f"/projects/{pid}/environments/{eid}/variables/{nope}", None),
        ("POST", f"/projects/{pid}/environments/{eid}/variables/{nope}/reveal", None),
        ("POST", f"/projects/{pid}/environments/{nope}/variables/{vid}/reveal", None),
        ("GET", f"/projects/{pid}/fixtures/{nope}", None),
        ("PATCH", f"/projects/{pid}/fixtures/{nope}", {"name": "x"}),
        ("DELETE", f"/projects/{pid}/fixtures/{nope}", None),
        ("GET", f"/projects/{pid}/cases/{nope}", None),
        ("PATCH", f"/projects/{pid}/cases/{nope}", {"name": "x"}),
        ("DELETE", f"/projects/{pid}/cases/{nope}", None),
        ("POST", f"/projects/{pid}/cases/{nope}/copy", None),
        ("GET", f"/projects/{pid}/plans/{nope}", None),
        ("PATCH", f"/projects/{pid}/plans/{nope}", {"name": "x"}),
        ("DELETE", f"/projects/{pid}/plans/{nope}", None),
        ("POST", f"/projects/{pid}/plans/{nope}/cases", {"case_ids": [cid]}),
        ("PUT", f"/projects/{pid}/plans/{nope}/cases", {"case_ids": [cid]}),
        ("DELETE", f"/projects/{pid}/plans/{plid}/cases/{nope}", None),
        ("GET", f"/users/{nope}", None),
        # ids beyond any integer column: still a 404, never a 500
        ("GET", f"/projects/{pid}/cases/{2**63}", None),
        ("GET", f"/projects/{pid}/cases/{2**31}", None),
        ("DELETE", f"/projects/{pid}/cases/{2**40}", None),
        ("GET", f"/projects/{pid}/plans/{2**31}", None),
        ("GET", f"/projects/{pid}/fixtures/{2**63}", None),
        ("GET", f"/projects/{pid}/environments/{2**31}", None),
        ("GET", f"/projects/{pid}/environments/{eid}/variables/{2**31}", None),
        ("GET", f"/projects/{pid}/cases/0", None),
        ("GET", f"/projects/{pid}/cases/-1", None),
    ]
    for method, path, body in routes:
        response = admin.request(method, path, json=body)
        assert response.status_code == 404, (method, path, response.status_code, response.text)
        assert response.json()["error"] == "not_found", (method, path)
    for huge in (2**31, 2**63):
        body = admin.expect(422, "POST", f"/projects/{pid}/plans/{plid}/cases",
                            json={"case_ids": [huge]})  # fmt: skip
        assert body["field"] == "case_ids"
    unknown_route = admin.request("GET", "/no-such-thing")
    assert unknown_route.status_code == 404
    assert unknown_route.json()["error"] == "not_found"
    # Nothing was changed by any of it.
    assert admin.get(f"/projects/{pid}/plans/{plid}")["case_ids"] == [cid]
    assert admin.get(f"/projects/{pid}/environments/{eid}/variables/{vid}")["value"] == "1"
    assert admin.get(f"/projects/{pid}/fixtures/{fid}")["id"] == fid


def test_ids_in_other_digits_are_422_never_500(admin: Api) -> None:
    # "¹".isdigit() is true but int("¹") fails: found by the fuzz test with a random seed.
    pid = make_project(admin)["id"]
    plid = make_plan(admin, pid)["id"]
    for method, path in [
        ("GET", "/projects/¹"),
        ("DELETE", "/projects/¹"),
        ("GET", f"/projects/{pid}/plans/²"),
        ("GET", f"/projects/-²/plans/{plid}"),
    ]:
        response = admin.request(method, path)
        assert response.status_code == 422, (method, path, response.status_code, response.text)
        assert response.json()["error"] == "invalid", (method, path)
    assert admin.get(f"/projects/{pid}/plans/{plid}")["id"] == plid


def test_a_page_past_a_64_bit_offset_is_422_never_500(admin: Api) -> None:
    # Found by the fuzz test with a random seed: OFFSET overflowed the database's integer.
    pid = make_project(admin)["id"]
    for path in ("/projects", f"/projects/{pid}/cases", f"/projects/{pid}/runs"):
        response = admin.request("GET", path, params={"page": 10**29, "per_page": 91})
        assert response.status_code == 422, (path, response.status_code, response.text)
        assert response.json()["field"] == "page", path
    assert admin.get("/projects", params={"page": 10**9})["items"] == []
