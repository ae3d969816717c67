"""Security headers on every kind of response, and CORS closed: another origin's page
cannot read the API with a user's browser."""

from __future__ import annotations

import pytest

from tests.support.api import Api
from testyard.api.headers import SECURITY_HEADERS


def assert_secured(headers: dict[str, str] | object) -> None:
    for name, value in SECURITY_HEADERS.items():
        assert headers[name] == value, name  # type: ignore[index]


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/healthz", 200),
        ("GET", "/projects", 200),
        ("GET", "/projects/999999", 404),
        ("POST", "/projects", 422),
        ("GET", "/openapi.json", 200),
        ("GET", "/docs", 200),
        ("GET", "/p/1/runs", None),  # the web UI (built or not)
    ],
)
def test_every_response_carries_the_security_headers(
    admin: Api, method: str, path: str, status: int | None
) -> None:
    body = {"json": {}} if method == "POST" else {}
    if path.startswith(("/openapi.json", "/docs", "/p/")):  # outside /api/v1
        response = admin.client.request(method, path, **body)
    else:
        response = admin.request(method, path, **body)
    if status is not None:
        assert response.status_code == status
    assert_secured(response.headers)


def test_an_unauthenticated_answer_is_secured_too(anonymous: Api) -> None:
    response = anonymous.request("GET", "/projects")
    assert response.status_code == 401
    assert_secured(response.headers)


def test_cors_is_closed_to_other_origins(admin: Api) -> None:
    evil = {"Origin": "https://evil.example"}
    preflight = admin.request(
        "OPTIONS",
        "/projects",
        headers={**evil, "Access-Control-Request-Method": "POST"},
    )
    assert "access-control-allow-origin" not in preflight.headers
    answer = admin.request("GET", "/projects", headers=evil)
    assert answer.status_code == 200
    assert "access-control-allow-origin" not in answer.headers
    assert "access-control-allow-credentials" not in answer.headers
