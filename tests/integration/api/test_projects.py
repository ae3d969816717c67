"""Projects and their members: creating, listing, naming, membership, deleting, limits."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from tests.factories import (
    make_case,
    make_environment,
    make_fixture_module,
    make_plan,
    make_project,
    make_user,
    make_variable,
)
from tests.support.api import PASSWORD, Api
from testyard.config import Settings
from testyard.db.engine import make_engine
from testyard.db.models import (
    Case,
    CaseTag,
    Environment,
    FixtureModule,
    Plan,
    PlanCase,
    Project,
    ProjectMember,
    Variable,
)

BAD_NAMES = ["", "   ", "\t\n", "nul\x00byte", "bell\x07", "tab\there", "new\nline",
             "rtl\u202eoverride", "a/b", "a\\b", "x" * 10_000]  # fmt: skip


def uid(api: Api) -> int:
    return int(api.get("/me")["id"])


def test_you_own_what_you_create_and_list_only_your_projects(admin: Api) -> None:
    alice, bob = make_user(admin, "alice"), make_user(admin, "bob")
    created = alice.post("/projects", {"name": "  Shop checkout  ", "description": "payments"})
    assert (created["name"], created["role"]) == ("Shop checkout", "owner")
    pid = created["id"]
    assert alice.get(f"/projects/{pid}")["role"] == "owner"
    members = alice.get(f"/projects/{pid}/members")
    assert [(m["user"]["username"], m["role"]) for m in members] == [("alice", "owner")]
    make_project(bob, name="bob's")
    make_project(admin, name="admin's")

    listed = alice.get("/projects")
    assert ([p["name"] for p in listed["items"]], listed["total"]) == (["Shop checkout"], 1)
    alice.post(f"/projects/{pid}/members", {"username": "bob", "role": "viewer"})
    roles = {p["name"]: p["role"] for p in bob.get("/projects")["items"]}
    assert roles == {"Shop checkout": "viewer", "bob's": "owner"}
    everything = admin.get("/projects")
    assert {p["name"] for p in everything["items"]} == {"Shop checkout", "bob's", "admin's"}
    assert everything["total"] == 3


def test_lists_are_paginated_and_ordered(admin: Api) -> None:
    for name in ("bravo", "alpha", "delta", "charlie"):
        make_project(admin, name=name)

    def names(query: str) -> list[str]:
        return [p["name"] for p in admin.get(f"/projects?{query}")["items"]]

    first = admin.get("/projects?per_page=3&order=-name")
    assert sorted(first) == ["items", "page", "per_page", "total"]
    assert (first["total"], first["page"], first["per_page"]) == (4, 1, 3)
    assert [p["name"] for p in first["items"]] == ["delta", "charlie", "bravo"]
    assert names("per_page=3&page=2&order=-name") == ["alpha"]
    assert names("order=name") == ["alpha", "bravo", "charlie", "delta"]
    assert names("") == ["bravo", "alpha", "delta", "charlie"]  # by id: creation order
    assert names("page=9") == []
    for query, field in [("order=-password", "order"), ("per_page=0", "per_page"),
                         ("per_page=201", "per_page"), ("page=0", "page")]:  # fmt: skip
        body = admin.expect(422, "GET", f"/projects?{query}")
        assert body["field"] == field, query


def test_names_are_unique_printable_short_and_without_slashes(admin: Api) -> None:
    pid = make_project(admin, name="shop")["id"]
    other = make_project(admin, name="blog")["id"]
    for method, path in [("POST", "/projects"), ("PATCH", f"/projects/{other}")]:
        for name in ("shop", " shop "):
            body = admin.expect(409, method, path, json={"name": name})
            assert (body["error"], body["field"]) == ("conflict", "name")
        for name in BAD_NAMES:
            body = admin.expect(422, method, path, json={"name": name})
            assert (body["error"], body["field"]) == ("invalid", "name"), repr(name)
    assert admin.get("/projects")["total"] == 2
    assert admin.patch(f"/projects/{other}", {"name": "blog"})["name"] == "blog"
    unchanged = admin.patch(f"/projects/{pid}", {"name": None, "description": None})
    assert (unchanged["name"], unchanged["description"]) == ("shop", "")


def test_recording_allure_results_is_off_until_switched_on(admin: Api) -> None:
    plain = make_project(admin)
    assert plain["allure"] is False
    asking = make_project(admin, allure=True)
    assert asking["allure"] is True
    assert admin.get(f"/projects/{asking['id']}")["allure"] is True
    assert admin.patch(f"/projects/{asking['id']}", {"allure": None})["allure"] is True
    assert admin.patch(f"/projects/{asking['id']}", {"allure": False})["allure"] is False
    assert admin.patch(f"/projects/{plain['id']}", {"allure": True})["allure"] is True
    body = admin.expect(422, "PATCH", f"/projects/{plain['id']}", json={"allure": "maybe"})
    assert body["field"] == "allure"
    listed = {p["id"]: p["allure"] for p in admin.get("/projects")["items"]}
    assert listed == {plain["id"]: True, asking["id"]: False}


def test_an_unknown_project_is_404(admin: Api) -> None:
    alice = make_user(admin, "alice")
    for pid in (999_999, 0, -1, 2**31, 2**63, 10**30):
        for api in (admin, alice):
            for method, path, body in [
                ("GET", f"/projects/{pid}", None),
                ("PATCH", f"/projects/{pid}", {"description": "x"}),
                ("DELETE", f"/projects/{pid}", None),
                ("GET", f"/projects/{pid}/members", None),
                ("GET", f"/projects/{pid}/cases", None),
            ]:
                answer = api.expect(404, method, path, json=body)
                assert answer["error"] == "not_found"


def test_members_are_added_by_username_or_id_and_change_roles(admin: Api) -> None:
    alice, bob, carol = (make_user(admin, name) for name in ("alice", "bob", "carol"))
    pid = make_project(alice)["id"]
    members = f"/projects/{pid}/members"

    added = alice.post(members, {"username": "bob", "role": "editor"})
    assert (added["user"]["username"], added["role"]) == ("bob", "editor")
    added = alice.post(members, {"user_id": uid(carol), "role": "viewer"})
    assert (added["user"]["id"], added["role"]) == (uid(carol), "viewer")
    bob.patch(f"/projects/{pid}", {"description": "bob edits"})
    carol.expect(403, "PATCH", f"/projects/{pid}", json={"description": "carol cannot"})

    assert alice.put(f"{members}/{uid(carol)}", {"role": "editor"})["role"] == "editor"
    carol.patch(f"/projects/{pid}", {"description": "carol edits now"})
    again = alice.post(members, {"username": "bob", "role": "runner"})  # adding twice: a change
    assert again["role"] == "runner"
    roles = {m["user"]["username"]: m["role"] for m in alice.get(members)}
    assert roles == {"alice": "owner", "bob": "runner", "carol": "editor"}

    alice.delete(f"{members}/{uid(bob)}")
    bob.expect(404, "GET", f"/projects/{pid}")
    alice.expect(404, "DELETE", f"{members}/{uid(bob)}")


def test_a_member_needs_one_known_user_and_a_known_role(admin: Api) -> None:
    bob = admin.post("/users", {"username": "bob", "password": PASSWORD})["id"]
    pid = make_project(admin)["id"]
    members = f"/projects/{pid}/members"
    for body, status, field in [
        ({"username": "bob", "role": "boss"}, 422, "role"),
        ({"username": "bob", "role": "Owner"}, 422, "role"),
        ({"username": "bob"}, 422, "role"),
        ({"role": "viewer"}, 422, None),
        ({"username": "bob", "user_id": bob, "role": "viewer"}, 422, None),
        ({"username": "nobody", "role": "viewer"}, 404, "username"),
        ({"user_id": 999_999, "role": "viewer"}, 404, None),
    ]:
        answer = admin.expect(status, "POST", members, json=body)
        assert answer["field"] == field, body
    assert [m["user"]["username"] for m in admin.get(members)] == ["admin"]
    admin.post(members, {"user_id": bob, "role": "viewer"})
    answer = admin.expect(422, "PUT", f"{members}/{bob}", json={"role": "boss"})
    assert (answer["error"], answer["field"]) == ("invalid", "role")
    assert admin.put(f"{members}/{bob}", {"role": "runner"})["role"] == "runner"


def test_the_last_owner_cannot_leave_or_be_demoted(admin: Api) -> None:
    alice = make_user(admin, "alice")
    bob = admin.post("/users", {"username": "bob", "password": PASSWORD})["id"]
    pid = make_project(alice)["id"]
    members = f"/projects/{pid}/members"
    for method, path, body in [
        ("DELETE", f"{members}/{uid(alice)}", None),
        ("PUT", f"{members}/{uid(alice)}", {"role": "editor"}),
        ("POST", members, {"username": "alice", "role": "viewer"}),
    ]:
        answer = alice.expect(409, method, path, json=body)
        assert (answer["error"], answer["field"]) == ("conflict", "role")

    alice.post(members, {"user_id": bob, "role": "owner"})
    alice.put(f"{members}/{uid(alice)}", {"role": "editor"})  # bob still owns it
    admin.expect(409, "DELETE", f"{members}/{bob}")
    admin.expect(409, "PUT", f"{members}/{bob}", json={"role": "viewer"})
    admin.delete(f"{members}/{uid(alice)}")
    assert [(m["user"]["id"], m["role"]) for m in admin.get(members)] == [(bob, "owner")]


def populate(api: Api) -> int:
    """A project with two of everything; answers its id."""
    pid = int(make_project(api)["id"])
    for env_name in ("qa", "prod"):
        eid = make_environment(api, pid, env_name)["id"]
        make_variable(api, pid, eid, "BASE_URL", "https://example.test")
        make_variable(api, pid, eid, "TOKEN", "s3cret", secret=True)
    make_fixture_module(api, pid)
    make_fixture_module(api, pid, path="fixtures/db.py")
    cases = [make_case(api, pid, tags=["smoke", "api"])["id"] for _ in range(2)]
    make_plan(api, pid, case_ids=cases)
    make_plan(api, pid, case_ids=cases[:1], environment="qa")
    return pid


#: The rows one ``populate``d project owns, table by table.
ONE_PROJECT = {
    "projects": 1,
    "project_members": 1,
    "environments": 2,
    "variables": 4,
    "fixture_modules": 2,
    "cases": 2,
    "case_tags": 4,
    "plans": 2,
    "plan_cases": 3,
}


def count_rows(settings: Settings) -> dict[str, int]:
    """Row counts read straight from the database, past the API."""
    models = [Project, ProjectMember, Environment, Variable, FixtureModule, Case, CaseTag,
              Plan, PlanCase]  # fmt: skip
    engine = make_engine(settings.resolved_database_url)
    try:
        with engine.connect() as conn:
            count = select(func.count())
            return {m.__tablename__: conn.scalar(count.select_from(m)) or 0 for m in models}
    finally:
        engine.dispose()


def test_deleting_a_project_removes_everything_in_it(admin: Api, settings: Settings) -> None:
    alice = make_user(admin, "alice")
    doomed, kept = populate(alice), populate(alice)
    alice.post(f"/projects/{doomed}/members", {"username": "admin", "role": "viewer"})
    both = {table: 2 * n for table, n in ONE_PROJECT.items()}
    assert count_rows(settings) == {**both, "project_members": 3}

    alice.delete(f"/projects/{doomed}")

    assert count_rows(settings) == ONE_PROJECT
    alice.expect(404, "GET", f"/projects/{doomed}")
    assert [p["id"] for p in alice.get("/projects")["items"]] == [kept]
    assert alice.get(f"/projects/{kept}/cases")["total"] == 2


def test_a_body_over_the_limit_is_413_json(admin: Api) -> None:
    big = {"name": "big", "description": "x" * (1024 * 1024)}
    response = admin.request("POST", "/projects", json=big)
    assert response.status_code == 413
    assert response.headers["content-type"] == "application/json"
    assert response.json()["error"] == "too_large"
    assert response.headers["x-content-type-options"] == "nosniff"

    def chunks() -> Any:  # no Content-Length: the limit applies while the body streams
        yield b'{"name": "streamed", "description": "'
        for _ in range(20):
            yield b"x" * 65_536
        yield b'"}'

    response = admin.request(
        "POST", "/projects", content=chunks(), headers={"Content-Type": "application/json"}
    )
    assert (response.status_code, response.json()["error"]) == (413, "too_large")
    assert admin.get("/projects")["total"] == 0


def test_every_response_carries_the_security_headers(admin: Api, anonymous: Api) -> None:
    pid = make_project(admin)["id"]
    responses = [
        admin.request("GET", f"/projects/{pid}"),
        admin.request("POST", "/projects", json={"name": "another"}),
        admin.request("DELETE", f"/projects/{pid}"),
        admin.request("GET", "/projects/424242"),
        admin.request("POST", "/projects", json={"name": ""}),
        anonymous.request("GET", "/projects"),
        anonymous.request("GET", "/healthz"),
    ]
    assert [r.status_code for r in responses] == [200, 201, 204, 404, 422, 401, 200]
    for response in responses:
        assert response.headers["X-Content-Type-Options"] == "nosniff", response.url
        assert response.headers["X-Frame-Options"] == "DENY", response.url
