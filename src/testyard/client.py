"""The command line's client of a running testyard server (``TESTYARD_URL``,
``TESTYARD_TOKEN``): thin calls over the HTTP API, errors as ``ClientError``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx2 as httpx

API = "/api/v1"


class ClientError(RuntimeError):
    pass


class Client:
    def __init__(self, url: str, token: str | None, timeout: float = 30.0) -> None:
        if not token:
            raise ClientError("set TESTYARD_TOKEN (an API token from /me/tokens) or pass --token")
        self.url = url.rstrip("/")
        self.token = token
        self.http = httpx.Client(
            base_url=url.rstrip("/") + API,
            headers={"Authorization": f"Bearer {token}"},
            timeout=timeout,
        )

    def call(self, method: str, path: str, **kwargs: Any) -> Any:
        try:
            response = self.http.request(method, path, **kwargs)
        except httpx.TransportError as exc:
            raise ClientError(f"cannot reach {self.http.base_url}: {exc}") from exc
        if response.status_code >= 400:
            try:
                message = response.json().get("message", response.text)
            except ValueError:
                message = response.text
            raise ClientError(f"{method} {path}: {response.status_code} {message}")
        return response.json() if response.content else None

    def download(self, path: str, target: Path, **params: Any) -> int:
        """Stream a download to ``target``; answers its size in bytes."""
        size = 0
        with self.http.stream("GET", path, params=params) as response:
            if response.status_code >= 400:
                response.read()
                raise ClientError(f"GET {path}: {response.status_code} "
                                  f"{response.json().get('message', response.text)}")  # fmt: skip
            with target.open("wb") as out:
                for chunk in response.iter_bytes():
                    out.write(chunk)
                    size += len(chunk)
        return size

    def websocket_url(self, path: str) -> str:
        """``ws_url`` from the API (relative to the server) as an absolute URL."""
        return self.url.replace("http", "ws", 1) + path

    def project_id(self, project: str) -> int:
        """A project given by id or by name."""
        if project.isdigit():
            return int(self.call("GET", f"/projects/{project}")["id"])
        page = 1
        while True:
            found = self.call("GET", "/projects", params={"page": page, "per_page": 200})
            for item in found["items"]:
                if item["name"] == project:
                    return int(item["id"])
            if page * 200 >= found["total"]:
                raise ClientError(f"no project named {project!r}")
            page += 1

    def plan_id(self, pid: int, name: str) -> int:
        found = self.call("GET", f"/projects/{pid}/plans", params={"name": name, "per_page": 200})
        for item in found["items"]:
            if item["name"] == name:
                return int(item["id"])
        raise ClientError(f"no plan named {name!r}")
