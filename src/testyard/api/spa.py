"""The single-page web UI: its assets, and index.html for every client-side route.

Deep links (``/runs/42`` after a reload) get index.html; the router in the browser
takes over. Paths owned by the API (``/api``, ``/ws``, ``/docs``…) never fall back.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import FastAPI, HTTPException, Request
from fastapi.middleware.gzip import GZipMiddleware
from fastapi.responses import FileResponse, HTMLResponse, Response
from fastapi.staticfiles import StaticFiles

ALL_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
API_ROOTS = frozenset({"api", "ws", "docs", "redoc", "openapi.json", "healthz"})

# Element Plus and CodeMirror set inline styles; scripts come only from this origin.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: blob:; font-src 'self' data:; connect-src 'self'; "
    "frame-ancestors 'none'; base-uri 'self'; form-action 'self'"
)

NOT_BUILT = """<!doctype html><title>testyard</title>
<p>The web UI is not built. Run <code>make web</code> (or <code>make run</code>),
then reload. The API is at <a href="/docs">/docs</a>.</p>"""


class HashedAssets(StaticFiles):
    """The build's files carry a content hash in their names: cache them for good."""

    def file_response(self, *args: Any, **kwargs: Any) -> Response:
        response = super().file_response(*args, **kwargs)
        response.headers["Cache-Control"] = "public, max-age=31536000, immutable"
        return response


def install(app: FastAPI, static_dir: Path) -> None:
    """Serve the built UI at ``/``; register last, after every API route."""
    index = static_dir / "index.html"
    assets = static_dir / "assets"
    if assets.is_dir():
        app.mount("/assets", GZipMiddleware(HashedAssets(directory=assets)), name="assets")

    # Every method, so an unknown API path answers 404 rather than 405.
    @app.api_route("/{path:path}", methods=ALL_METHODS, include_in_schema=False)
    def spa(path: str, request: Request) -> Response:
        if request.method not in ("GET", "HEAD") or path.split("/", 1)[0] in API_ROOTS:
            raise HTTPException(status_code=404)
        candidate = (static_dir / path).resolve()
        # Top-level files the build emits (favicon…), never anything outside the folder.
        if path and candidate.parent == static_dir.resolve() and candidate.is_file():
            return FileResponse(candidate)
        if not index.is_file():
            return HTMLResponse(NOT_BUILT, status_code=503)
        headers = {"Cache-Control": "no-cache", "Content-Security-Policy": CSP}
        return FileResponse(index, headers=headers)
