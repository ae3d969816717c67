"""Login, tokens and the current user."""

from __future__ import annotations

import pytest

from tests.factories import make_user
from tests.support.api import PASSWORD, Api, login


def test_first_admin_is_created_with_the_configured_password(admin: Api) -> None:
    me = admin.get("/me")
    assert me["username"] == "admin"
    assert me["is_admin"] is True


def test_wrong_password_is_401_with_a_clear_error(anonymous: Api) -> None:
    body = anonymous.expect(
        401, "POST", "/auth/login", json={"username": "admin", "password": "nope-nope"}
    )
    assert body["error"] == "unauthorized"
    assert "wrong username or password" in body["message"]


def test_unknown_user_gets_the_same_answer_as_a_wrong_password(anonymous: Api) -> None:
    body = anonymous.expect(
        401, "POST", "/auth/login", json={"username": "ghost", "password": "whatever1"}
    )
    assert body["message"] == "wrong username or password"


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer ty_not-a-token"}, {"Authorization": "Basic YWRtaW46eA=="}],
)
def test_every_route_but_health_and_login_needs_a_token(anonymous: Api, headers: dict) -> None:
    for method, path in [
        ("GET", "/me"),
        ("GET", "/projects"),
        ("GET", "/users"),
        ("POST", "/projects"),
        ("GET", "/projects/1/cases"),
    ]:
        response = anonymous.request(method, path, headers=headers, json={})
        assert response.status_code == 401, (method, path, response.text)
        assert response.json()["error"] == "unauthorized"
    assert anonymous.request("GET", "/healthz").json() == {"status": "ok"}


def test_api_token_is_shown_once_and_works_until_revoked(admin: Api) -> None:
    created = admin.post("/me/tokens", {"name": "ci"})
    assert created["token"].startswith("ty_")
    listed = admin.get("/me/tokens")
    assert [t["name"] for t in listed] == ["ci"]
    assert "token" not in listed[0]
    ci = admin.as_user(created["token"])
    assert ci.get("/me")["username"] == "admin"
    admin.delete(f"/me/tokens/{created['id']}")
    assert ci.request("GET", "/me").status_code == 401


def test_tokens_and_passwords_are_stored_hashed(admin: Api, client, settings) -> None:  # type: ignore[no-untyped-def]
    from sqlalchemy import text

    from testyard.db.engine import make_engine

    token = admin.post("/me/tokens", {"name": "ci"})["token"]
    engine = make_engine(settings.resolved_database_url)
    with engine.connect() as conn:
        hashes = [row[0] for row in conn.execute(text("SELECT token_hash FROM api_tokens"))]
        password_hash = conn.execute(text("SELECT password_hash FROM users")).scalar_one()
    engine.dispose()
    assert token not in hashes and all(len(h) == 64 for h in hashes)
    assert password_hash.startswith("$argon2")


def test_changing_password_ends_login_sessions_but_keeps_api_tokens(admin: Api) -> None:
    user = make_user(admin, "carol")
    ci = user.as_user(user.post("/me/tokens", {"name": "ci"})["token"])
    user.expect(
        422,
        "PUT",
        "/me/password",
        json={"current_password": "wrong-one-1", "new_password": "brand-new-pw"},
    )
    user.put(
        "/me/password", {"current_password": PASSWORD, "new_password": "brand-new-pw"}, status=204
    )
    assert user.request("GET", "/me").status_code == 401
    assert ci.get("/me")["username"] == "carol"
    assert login(admin.client, "carol", "brand-new-pw")


def test_disabled_user_cannot_log_in_or_use_tokens(admin: Api) -> None:
    user = make_user(admin, "dave")
    uid = user.get("/me")["id"]
    admin.patch(f"/users/{uid}", {"is_active": False})
    assert user.request("GET", "/me").status_code == 401
    response = admin.client.post(
        "/api/v1/auth/login", json={"username": "dave", "password": PASSWORD}
    )
    assert response.status_code == 401


def test_short_password_and_duplicate_username(admin: Api) -> None:
    body = admin.expect(422, "POST", "/users", json={"username": "eve", "password": "short"})
    assert body["field"] == "password"
    make_user(admin, "eve")
    body = admin.expect(409, "POST", "/users", json={"username": "eve", "password": PASSWORD})
    assert body["field"] == "username"
