"""A thin client over the API for tests: a user's token on every request."""

from __future__ import annotations

from typing import Any

import httpx2 as httpx
from starlette.testclient import TestClient

PREFIX = "/api/v1"
PASSWORD = "correct-horse-1"


class Api:
    """Calls ``/api/v1`` as one user; ``expect`` asserts the status and gives the JSON."""

    def __init__(self, client: TestClient, token: str | None) -> None:
        self.client = client
        self.token = token

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        headers = dict(kwargs.pop("headers", {}) or {})
        if self.token:
            headers.setdefault("Authorization", f"Bearer {self.token}")
        url = path if path.startswith("/ws") or path == "/healthz" else PREFIX + path
        return self.client.request(method, url, headers=headers, **kwargs)

    def expect(self, status: int, method: str, path: str, **kwargs: Any) -> Any:
        response = self.request(method, path, **kwargs)
        assert response.status_code == status, (
            f"{method} {path}: expected {status}, got {response.status_code}: {response.text}"
        )
        if not response.content:
            return None
        if response.headers.get("content-type", "").startswith("application/json"):
            return response.json()
        return response.text

    def get(self, path: str, **kw: Any) -> Any:
        return self.expect(200, "GET", path, **kw)

    def post(self, path: str, json: Any = None, status: int = 201) -> Any:
        return self.expect(status, "POST", path, json=json)

    def patch(self, path: str, json: Any, status: int = 200) -> Any:
        return self.expect(status, "PATCH", path, json=json)

    def put(self, path: str, json: Any, status: int = 200) -> Any:
        return self.expect(status, "PUT", path, json=json)

    def delete(self, path: str, status: int = 204) -> Any:
        return self.expect(status, "DELETE", path)

    def as_user(self, token: str | None) -> Api:
        return Api(self.client, token)


def login(client: TestClient, username: str, password: str = PASSWORD) -> str:
    response = client.post(
        f"{PREFIX}/auth/login", json={"username": username, "password": password}
    )
    assert response.status_code == 200, response.text
    return str(response.json()["token"])
