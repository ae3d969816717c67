"""Environments and their variables; secret values stay hidden except through reveal."""

from __future__ import annotations

from typing import Any

from tests.factories import add_member, make_environment, make_project, make_user, make_variable
from tests.support.api import Api

MASK = "********"
BAD_VARIABLE_NAMES = ["1abc", "a-b", "class", "a b", "", "x" * 10_000, "A\n", "caf\u00e9"]


def envs_path(pid: int) -> str:
    return f"/projects/{pid}/environments"


def vars_path(pid: int, eid: int) -> str:
    return f"/projects/{pid}/environments/{eid}/variables"


def names_of(items: list[dict[str, Any]]) -> list[str]:
    return [item["name"] for item in items]


def test_environment_crud(admin: Api) -> None:
    pid = make_project(admin)["id"]
    assert admin.get(envs_path(pid)) == []

    created = admin.post(envs_path(pid), {"name": "qa", "description": "the QA stage"})
    assert created["name"] == "qa" and created["description"] == "the QA stage"
    eid = created["id"]
    make_environment(admin, pid, "prod")
    assert names_of(admin.get(envs_path(pid))) == ["qa", "prod"]
    assert admin.get(f"{envs_path(pid)}/{eid}") == created

    renamed = admin.patch(f"{envs_path(pid)}/{eid}", {"name": "staging"})
    assert renamed["name"] == "staging" and renamed["description"] == "the QA stage"
    described = admin.patch(f"{envs_path(pid)}/{eid}", {"description": ""})
    assert described["name"] == "staging" and described["description"] == ""
    assert admin.get(f"{envs_path(pid)}/{eid}")["name"] == "staging"

    admin.delete(f"{envs_path(pid)}/{eid}")
    assert names_of(admin.get(envs_path(pid))) == ["prod"]
    body = admin.expect(404, "GET", f"{envs_path(pid)}/{eid}")
    assert body["error"] == "not_found"


def test_duplicate_environment_name_is_409(admin: Api) -> None:
    pid = make_project(admin)["id"]
    make_environment(admin, pid, "qa")
    prod = make_environment(admin, pid, "prod")

    body = admin.expect(409, "POST", envs_path(pid), json={"name": "qa"})
    assert body["error"] == "conflict" and body["field"] == "name"
    assert "qa" in body["message"]
    body = admin.expect(409, "PATCH", f"{envs_path(pid)}/{prod['id']}", json={"name": "qa"})
    assert body["field"] == "name"
    assert names_of(admin.get(envs_path(pid))) == ["qa", "prod"]

    # Renaming to its own name is not a conflict; other projects have their own names.
    assert admin.patch(f"{envs_path(pid)}/{prod['id']}", {"name": "prod"})["name"] == "prod"
    other = make_project(admin)["id"]
    assert make_environment(admin, other, "qa")["name"] == "qa"


def test_bad_environment_name_is_422_and_nothing_is_saved(admin: Api) -> None:
    pid = make_project(admin)["id"]
    qa = make_environment(admin, pid, "qa")
    for bad in ["", "a b", "qa/prod", "-qa", "q\u00e4", "qa\n", "x" * 65, "x" * 10_000]:
        body = admin.expect(422, "POST", envs_path(pid), json={"name": bad})
        assert body["error"] == "invalid" and body["field"] == "name", bad
        body = admin.expect(422, "PATCH", f"{envs_path(pid)}/{qa['id']}", json={"name": bad})
        assert body["field"] == "name", bad
    body = admin.expect(422, "POST", envs_path(pid), json={"description": "no name"})
    assert body["field"] == "name"
    assert admin.get(envs_path(pid)) == [qa]


def test_variable_crud(admin: Api) -> None:
    pid = make_project(admin)["id"]
    eid = make_environment(admin, pid)["id"]
    path = vars_path(pid, eid)
    assert admin.get(path) == []

    created = admin.post(
        path, {"name": "BASE_URL", "value": "https://qa.example", "description": "d"}
    )
    assert created == {
        "id": created["id"],
        "name": "BASE_URL",
        "value": "https://qa.example",
        "secret": False,
        "description": "d",
    }
    vid = created["id"]
    make_variable(admin, pid, eid, "API_KEY", "k1")
    assert names_of(admin.get(path)) == ["API_KEY", "BASE_URL"]
    assert admin.get(f"{path}/{vid}") == created

    updated = admin.patch(f"{path}/{vid}", {"value": "https://qa2.example"})
    assert updated["value"] == "https://qa2.example" and updated["description"] == "d"
    renamed = admin.patch(f"{path}/{vid}", {"name": "ROOT_URL", "description": ""})
    assert renamed["name"] == "ROOT_URL" and renamed["value"] == "https://qa2.example"
    assert admin.get(f"{path}/{vid}") == renamed
    revealed = admin.post(f"{path}/{vid}/reveal", status=200)
    assert revealed == {"id": vid, "name": "ROOT_URL", "value": "https://qa2.example"}

    admin.delete(f"{path}/{vid}")
    assert names_of(admin.get(path)) == ["API_KEY"]
    assert admin.expect(404, "GET", f"{path}/{vid}")["error"] == "not_found"

    # Deleting the environment takes its variables with it: a new one starts empty.
    admin.delete(f"{envs_path(pid)}/{eid}")
    assert admin.expect(404, "GET", path)["error"] == "not_found"
    again = make_environment(admin, pid, "qa")
    assert admin.get(vars_path(pid, again["id"])) == []


def test_variable_name_must_be_an_identifier(admin: Api) -> None:
    pid = make_project(admin)["id"]
    eid = make_environment(admin, pid)["id"]
    path = vars_path(pid, eid)
    good = make_variable(admin, pid, eid, "GOOD", "1")
    for bad in BAD_VARIABLE_NAMES:
        body = admin.expect(422, "POST", path, json={"name": bad, "value": "v"})
        assert body["error"] == "invalid" and body["field"] == "name", bad[:20]
        body = admin.expect(422, "PATCH", f"{path}/{good['id']}", json={"name": bad})
        assert body["field"] == "name", bad[:20]
    assert admin.get(path) == [good]
    for fine in ["_private", "a1", "A_B_C", "classic"]:
        assert make_variable(admin, pid, eid, fine, "v")["name"] == fine


def test_duplicate_variable_is_409_only_within_one_environment(admin: Api) -> None:
    pid = make_project(admin)["id"]
    qa = make_environment(admin, pid, "qa")["id"]
    prod = make_environment(admin, pid, "prod")["id"]
    make_variable(admin, pid, qa, "BASE_URL", "https://qa.example")
    token = make_variable(admin, pid, qa, "TOKEN", "t")

    body = admin.expect(409, "POST", vars_path(pid, qa), json={"name": "BASE_URL", "value": "x"})
    assert body["error"] == "conflict" and body["field"] == "name"
    body = admin.expect(
        409, "PATCH", f"{vars_path(pid, qa)}/{token['id']}", json={"name": "BASE_URL"}
    )
    assert body["field"] == "name"
    qa_vars = admin.get(vars_path(pid, qa))
    assert [(v["name"], v["value"]) for v in qa_vars] == [
        ("BASE_URL", "https://qa.example"),
        ("TOKEN", "t"),
    ]

    # The same name in another environment is fine; TOKEN exists in qa only.
    make_variable(admin, pid, prod, "BASE_URL", "https://prod.example")
    assert [(v["name"], v["value"]) for v in admin.get(vars_path(pid, prod))] == [
        ("BASE_URL", "https://prod.example")
    ]
    assert admin.get(vars_path(pid, qa)) == qa_vars


def test_secret_value_is_never_returned_except_by_reveal(admin: Api) -> None:
    pid = make_project(admin)["id"]
    eid = make_environment(admin, pid)["id"]
    path = vars_path(pid, eid)
    secret_value = "s3cr3t-hunter2"

    created = admin.post(path, {"name": "PASSWORD", "value": secret_value, "secret": True})
    assert created["value"] == MASK and created["secret"] is True
    vid = created["id"]
    responses = [
        admin.request("GET", path),
        admin.request("GET", f"{path}/{vid}"),
        admin.request("PATCH", f"{path}/{vid}", json={"description": "db password"}),
        admin.request("PATCH", f"{path}/{vid}", json={"value": secret_value + "2"}),
        admin.request("PATCH", f"{path}/{vid}", json={"name": "DB_PASSWORD"}),
    ]
    for response in responses:
        assert response.status_code == 200, response.text
        assert secret_value not in response.text, response.text
    assert [v["value"] for v in admin.get(path)] == [MASK]
    assert admin.get(f"{path}/{vid}")["value"] == MASK

    # A non-secret variable made secret is masked from then on.
    plain = make_variable(admin, pid, eid, "USER", "alice")
    assert admin.patch(f"{path}/{plain['id']}", {"secret": True})["value"] == MASK
    assert "alice" not in admin.request("GET", path).text

    revealed = admin.post(f"{path}/{vid}/reveal", status=200)
    assert revealed == {"id": vid, "name": "DB_PASSWORD", "value": secret_value + "2"}
    assert admin.post(f"{path}/{plain['id']}/reveal", status=200)["value"] == "alice"


def test_reveal_needs_an_editor(admin: Api) -> None:
    pid = make_project(admin)["id"]
    eid = make_environment(admin, pid)["id"]
    vid = make_variable(admin, pid, eid, "PASSWORD", "pw-1234", secret=True)["id"]
    viewer = make_user(admin)
    editor = make_user(admin)
    add_member(admin, pid, viewer, "viewer")
    add_member(admin, pid, editor, "editor")

    assert viewer.get(vars_path(pid, eid))[0]["value"] == MASK
    body = viewer.expect(403, "POST", f"{vars_path(pid, eid)}/{vid}/reveal")
    assert body["error"] == "forbidden"
    assert "pw-1234" not in str(body)
    body = viewer.expect(403, "PATCH", f"{vars_path(pid, eid)}/{vid}", json={"secret": False})
    assert body["error"] == "forbidden"
    assert editor.post(f"{vars_path(pid, eid)}/{vid}/reveal", status=200)["value"] == "pw-1234"
    assert admin.get(f"{vars_path(pid, eid)}/{vid}")["secret"] is True


def test_updating_a_secret_without_value_keeps_its_value(admin: Api) -> None:
    pid = make_project(admin)["id"]
    eid = make_environment(admin, pid)["id"]
    path = vars_path(pid, eid)
    vid = make_variable(admin, pid, eid, "TOKEN", "original-token", secret=True)["id"]

    admin.patch(f"{path}/{vid}", {"description": "CI token"})
    admin.patch(f"{path}/{vid}", {"name": "CI_TOKEN", "secret": True})
    admin.patch(f"{path}/{vid}", {"value": None})
    assert admin.post(f"{path}/{vid}/reveal", status=200)["value"] == "original-token"

    admin.patch(f"{path}/{vid}", {"value": "rotated-token"})
    assert admin.post(f"{path}/{vid}/reveal", status=200)["value"] == "rotated-token"


def test_unknown_ids_are_404(admin: Api) -> None:
    pid = make_project(admin)["id"]
    eid = make_environment(admin, pid, "qa")["id"]
    vid = make_variable(admin, pid, eid, "A", "1")["id"]
    other_pid = make_project(admin)["id"]
    other_eid = make_environment(admin, other_pid, "qa")["id"]
    other_vid = make_variable(admin, other_pid, other_eid, "A", "other")["id"]
    sibling_eid = make_environment(admin, pid, "prod")["id"]

    missing = [
        ("GET", f"{envs_path(pid)}/999999", None),
        ("PATCH", f"{envs_path(pid)}/999999", {"name": "x"}),
        ("DELETE", f"{envs_path(pid)}/999999", None),
        ("GET", f"{vars_path(pid, 999999)}", None),
        ("POST", f"{vars_path(pid, 999999)}", {"name": "B", "value": "2"}),
        ("GET", f"{vars_path(pid, eid)}/999999", None),
        ("PATCH", f"{vars_path(pid, eid)}/999999", {"value": "x"}),
        ("DELETE", f"{vars_path(pid, eid)}/999999", None),
        ("POST", f"{vars_path(pid, eid)}/999999/reveal", None),
        # an environment of another project, through this project
        ("GET", f"{envs_path(pid)}/{other_eid}", None),
        ("PATCH", f"{envs_path(pid)}/{other_eid}", {"name": "hijacked"}),
        ("DELETE", f"{envs_path(pid)}/{other_eid}", None),
        ("GET", f"{vars_path(pid, other_eid)}", None),
        ("POST", f"{vars_path(pid, other_eid)}", {"name": "B", "value": "2"}),
        ("POST", f"{vars_path(pid, other_eid)}/{other_vid}/reveal", None),
        # a variable of another environment, through this environment
        ("GET", f"{vars_path(pid, eid)}/{other_vid}", None),
        ("POST", f"{vars_path(pid, eid)}/{other_vid}/reveal", None),
        ("DELETE", f"{vars_path(pid, sibling_eid)}/{vid}", None),
        ("GET", f"{envs_path(999999)}", None),
    ]
    for method, path, json in missing:
        body = admin.expect(404, method, path, json=json)
        assert body["error"] == "not_found", (method, path)
    assert names_of(admin.get(envs_path(other_pid))) == ["qa"]
    assert admin.get(vars_path(other_pid, other_eid))[0]["value"] == "other"
    assert names_of(admin.get(vars_path(pid, eid))) == ["A"]
