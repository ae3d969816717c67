"""Environments and their variables: secrets stay masked until an editor reveals them."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import Page, expect

from tests.e2e.conftest import sign_in
from tests.e2e.ui import confirm, field_error, seed_project
from tests.factories import make_environment
from tests.support.api import Api

SECRET = "s3cret-token-7c1f"
PASSWORD = "viewer-password-1"


def add_variable(page: Page, name: str, value: str, *, secret: bool = False) -> None:
    page.get_by_test_id("add-variable").click()
    page.get_by_test_id("variable-name").fill(name)
    if secret:
        page.get_by_test_id("variable-secret").click()
    page.get_by_test_id("variable-value").fill(value)
    page.get_by_test_id("variable-save").click()
    expect(page.get_by_test_id(f"variable-{name}")).to_be_visible()


def variables(admin_api: Api, pid: int, env_name: str) -> dict[str, dict[str, Any]]:
    env = next(e for e in admin_api.get(f"/projects/{pid}/environments") if e["name"] == env_name)
    found = admin_api.get(f"/projects/{pid}/environments/{env['id']}/variables")
    return {v["name"]: {**v, "env_id": env["id"]} for v in found}


def revealed(admin_api: Api, pid: int, variable: dict[str, Any]) -> str:
    path = f"/projects/{pid}/environments/{variable['env_id']}/variables/{variable['id']}/reveal"
    return str(admin_api.post(path, status=200)["value"])


def test_create_an_environment_with_a_secret_and_a_plain_variable(
    page: Page, admin_api: Api
) -> None:
    pid = seed_project(admin_api, "Env shop")
    sign_in(page)
    page.goto(f"/p/{pid}/environments")
    expect(page.get_by_test_id("environments-empty")).to_be_visible()

    # An invalid name is refused next to the name field; a valid one is created.
    page.get_by_test_id("new-environment").click()
    page.get_by_test_id("environment-name").fill("q a")
    page.get_by_test_id("environment-save").click()
    expect(field_error(page, "environment-name")).to_contain_text("environment name")
    page.get_by_test_id("environment-name").fill("qa")
    page.get_by_test_id("environment-save").click()
    expect(page.get_by_test_id("environment-qa")).to_be_visible()
    expect(page.get_by_test_id("variables-panel")).to_contain_text("qa")

    add_variable(page, "API_TOKEN", SECRET, secret=True)
    add_variable(page, "BASE_URL", "https://qa.example")
    expect(page.get_by_test_id("variable-value-BASE_URL")).to_have_text("https://qa.example")
    expect(page.get_by_test_id("secret-API_TOKEN")).to_be_visible()
    saved = variables(admin_api, pid, "qa")
    assert saved["API_TOKEN"]["secret"] is True
    assert saved["BASE_URL"] == {
        **saved["BASE_URL"],
        "value": "https://qa.example",
        "secret": False,
    }
    assert revealed(admin_api, pid, saved["API_TOKEN"]) == SECRET

    # Masked in the list and absent from the page's HTML, also after a reload.
    expect(page.get_by_test_id("variable-value-API_TOKEN")).not_to_contain_text(SECRET)
    assert SECRET not in page.content()
    page.reload()
    expect(page.get_by_test_id("variable-value-BASE_URL")).to_be_visible()
    assert SECRET not in page.content()

    # The admin reveals it, and hides it again.
    page.get_by_test_id("reveal-API_TOKEN").click()
    expect(page.get_by_test_id("variable-value-API_TOKEN")).to_have_text(SECRET)
    page.get_by_test_id("reveal-API_TOKEN").click()
    expect(page.get_by_test_id("variable-value-API_TOKEN")).not_to_contain_text(SECRET)

    # Editing the secret without retyping its value keeps the value.
    page.get_by_test_id("edit-variable-API_TOKEN").click()
    expect(page.get_by_test_id("variable-value")).to_have_value("")
    expect(page.get_by_test_id("keeps-value")).to_be_visible()
    page.get_by_test_id("variable-description").fill("the API's bearer token")
    page.get_by_test_id("variable-save").click()
    expect(page.get_by_test_id("variables")).to_contain_text("the API's bearer token")
    saved = variables(admin_api, pid, "qa")
    assert saved["API_TOKEN"]["description"] == "the API's bearer token"
    assert revealed(admin_api, pid, saved["API_TOKEN"]) == SECRET

    # A duplicate or invalid variable name is refused next to the name field.
    page.get_by_test_id("add-variable").click()
    page.get_by_test_id("variable-name").fill("BASE_URL")
    page.get_by_test_id("variable-save").click()
    expect(field_error(page, "variable-name")).to_contain_text("already exists")
    page.get_by_test_id("variable-name").fill("1_BAD")
    page.get_by_test_id("variable-save").click()
    expect(field_error(page, "variable-name")).to_contain_text("not a valid variable name")
    assert set(variables(admin_api, pid, "qa")) == {"API_TOKEN", "BASE_URL"}


def test_rename_and_delete_environments(page: Page, admin_api: Api) -> None:
    pid = seed_project(admin_api, "Env rename", "dev", "qa")
    sign_in(page)
    page.goto(f"/p/{pid}/environments")
    page.get_by_test_id("rename-environment-dev").click()
    page.get_by_test_id("environment-name").fill("qa")
    page.get_by_test_id("environment-save").click()
    expect(field_error(page, "environment-name")).to_contain_text("already exists")
    page.get_by_test_id("environment-name").fill("staging")
    page.get_by_test_id("environment-save").click()
    expect(page.get_by_test_id("environment-staging")).to_be_visible()

    page.get_by_test_id("delete-environment-staging").click()
    confirm(page)
    expect(page.get_by_test_id("environment-staging")).to_have_count(0)
    names = [e["name"] for e in admin_api.get(f"/projects/{pid}/environments")]
    assert names == ["qa"]


def test_a_viewer_sees_masked_secrets_and_no_edit_actions(page: Page, admin_api: Api) -> None:
    pid = seed_project(admin_api, "Env viewer")
    env = make_environment(admin_api, pid, "prod")
    base = f"/projects/{pid}/environments/{env['id']}/variables"
    admin_api.post(base, {"name": "DB_PASSWORD", "value": SECRET, "secret": True})
    admin_api.post(base, {"name": "REGION", "value": "eu-west-1"})
    admin_api.post("/users", {"username": "vera", "password": PASSWORD})
    admin_api.post(f"/projects/{pid}/members", {"username": "vera", "role": "viewer"})

    sign_in(page, "vera", PASSWORD)
    page.goto(f"/p/{pid}/environments")
    expect(page.get_by_test_id("variable-value-REGION")).to_have_text("eu-west-1")
    expect(page.get_by_test_id("secret-DB_PASSWORD")).to_be_visible()
    expect(page.get_by_test_id("reveal-DB_PASSWORD")).to_have_count(0)
    for testid in (
        "new-environment",
        "add-variable",
        "edit-variable-REGION",
        "delete-variable-REGION",
    ):
        expect(page.get_by_test_id(testid)).to_have_count(0)
    expect(page.get_by_test_id("rename-environment-prod")).to_have_count(0)
    assert SECRET not in page.content()
