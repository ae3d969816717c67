"""The web UI's files: index.html for client-side routes, never for the API's paths."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from testyard.api.app import create_app
from testyard.config import Settings

INDEX = "<!doctype html><div id=app></div>"


@pytest.fixture
def built(tmp_path: Path) -> Path:
    ui = tmp_path / "ui"
    (ui / "assets").mkdir(parents=True)
    (ui / "index.html").write_text(INDEX)
    (ui / "assets" / "index-abc.js").write_text("console.log(1)")
    (ui / "assets" / "big.js").write_text("const x = 1;\n" * 1000)
    (ui / "favicon.svg").write_text("<svg/>")
    (tmp_path / "secret.txt").write_text("outside")
    return ui


@pytest.fixture
def ui_client(settings: Settings, built: Path) -> Iterator[TestClient]:
    settings.webui_dir = built
    with TestClient(create_app(settings, migrate=False)) as client:
        yield client


@pytest.mark.parametrize("path", ["/", "/login", "/p/3/runs/42", "/p/1/cases/new"])
def test_client_side_routes_get_index_html(ui_client: TestClient, path: str) -> None:
    response = ui_client.get(path)
    assert response.status_code == 200
    assert response.text == INDEX
    assert response.headers["cache-control"] == "no-cache"
    assert "script-src 'self'" in response.headers["content-security-policy"]
    assert response.headers["x-frame-options"] == "DENY"


def test_assets_and_top_level_files_are_served(ui_client: TestClient) -> None:
    asset = ui_client.get("/assets/index-abc.js")
    assert asset.text == "console.log(1)"
    assert "immutable" in asset.headers["cache-control"]
    assert ui_client.get("/favicon.svg").text == "<svg/>"
    assert ui_client.get("/assets/missing.js").status_code == 404


@pytest.mark.parametrize(
    "path", ["/api/v1/nothing-here", "/api", "/ws/unknown", "/healthz/x", "/openapi.json/x"]
)
def test_api_paths_never_fall_back_to_the_ui(ui_client: TestClient, path: str) -> None:
    response = ui_client.get(path)
    assert response.status_code == 404
    assert response.json()["error"] == "not_found"


def test_assets_travel_compressed(ui_client: TestClient) -> None:
    response = ui_client.get("/assets/big.js", headers={"Accept-Encoding": "gzip"})
    assert response.headers["content-encoding"] == "gzip"
    assert response.text == "const x = 1;\n" * 1000


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE"])
def test_unknown_api_paths_answer_404_to_every_method(ui_client: TestClient, method: str) -> None:
    response = ui_client.request(method, "/api/v1/nothing-here")
    assert response.status_code == 404
    assert response.json()["error"] == "not_found"


def test_no_file_outside_the_build_is_served(ui_client: TestClient) -> None:
    for path in ["/../secret.txt", "/%2e%2e/secret.txt", "/assets/../../secret.txt"]:
        response = ui_client.get(path)
        assert "outside" not in response.text


def test_an_unbuilt_ui_says_how_to_build_it(settings: Settings, tmp_path: Path) -> None:
    settings.webui_dir = tmp_path / "nothing"
    with TestClient(create_app(settings, migrate=False)) as client:
        response = client.get("/runs/1")
        assert response.status_code == 503
        assert "make web" in response.text
        assert client.get("/healthz").status_code == 200
