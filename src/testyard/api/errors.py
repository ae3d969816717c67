"""Every error a user can cause answers ``{"error", "message", "field"}`` with its status."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException

from testyard.services.errors import (
    BadRequest,
    Conflict,
    Forbidden,
    Invalid,
    NotFound,
    ServiceError,
    TooLarge,
    TooManyRequests,
    Unauthorized,
)
from testyard.services.sources import SourceSyntaxError

log = logging.getLogger(__name__)

STATUS: dict[type[ServiceError], int] = {
    BadRequest: 400,
    TooLarge: 413,
    NotFound: 404,
    Conflict: 409,
    Invalid: 422,
    Forbidden: 403,
    Unauthorized: 401,
    TooManyRequests: 429,
}

HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    422: "invalid",
    429: "too_many_requests",
    503: "unavailable",
    507: "insufficient_storage",
}


def error_body(code: str, message: str, field: str | None = None, **extra: Any) -> dict[str, Any]:
    return {"error": code, "message": message, "field": field, **extra}


def _status(exc: ServiceError) -> int:
    for kind in type(exc).__mro__:
        if kind in STATUS:
            return STATUS[kind]
    return 400


async def service_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ServiceError)
    extra: dict[str, Any] = {}
    if isinstance(exc, SourceSyntaxError):
        extra = {"line": exc.line, "column": exc.column}
    headers = {"WWW-Authenticate": "Bearer"} if isinstance(exc, Unauthorized) else None
    if isinstance(exc, TooManyRequests):
        headers = {"Retry-After": str(exc.retry_after_s)}
    return JSONResponse(
        error_body(exc.code, exc.message, exc.field, **extra), _status(exc), headers=headers
    )


async def validation_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = exc.errors()
    first = errors[0] if errors else {"loc": (), "msg": "invalid request"}
    loc = list(first.get("loc", ()))
    if loc and loc[0] in ("body", "query", "path", "header", "cookie"):
        loc = loc[1:]  # where the input came from; a field may itself be named "path"
    field = ".".join(str(part) for part in loc) or None
    message = f"{field}: {first['msg']}" if field else str(first["msg"])
    details = [
        {"field": ".".join(str(p) for p in e.get("loc", ())[1:]), "message": e["msg"]}
        for e in errors
    ]
    return JSONResponse(error_body("invalid", message, field, details=details), 422)


async def http_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    code = HTTP_CODES.get(exc.status_code, "error")
    message = exc.detail if isinstance(exc.detail, str) else code
    if exc.status_code == 413:
        message = "request body is too large"
    return JSONResponse(error_body(code, message), exc.status_code, headers=exc.headers)


async def integrity_error(_request: Request, _exc: Exception) -> JSONResponse:
    # Two concurrent requests raced past the service's own uniqueness check.
    return JSONResponse(error_body("conflict", "conflicts with a concurrent change"), 409)


async def database_error(_request: Request, exc: Exception) -> JSONResponse:
    """The database could not do its part: a full disk, a server gone for a moment, or
    no free connection in time. Each can be retried; none is the user's mistake."""
    if isinstance(exc, OperationalError) and disk_full(exc):
        log.error("the database's disk is full")
        message = "the database's disk is full: free some space, then retry"
        return JSONResponse(error_body("insufficient_storage", message), 507)
    log.warning("database unavailable: %s", type(getattr(exc, "orig", exc)).__name__)
    return JSONResponse(
        error_body("unavailable", "the database is unavailable; retry shortly"),
        503,
        headers={"Retry-After": "2"},
    )


def disk_full(exc: OperationalError) -> bool:
    text = str(exc.orig)
    # PostgreSQL's SQLSTATE 53100 is disk_full; SQLite says so in words.
    return getattr(exc.orig, "sqlstate", None) == "53100" or any(
        words in text for words in ("disk is full", "No space left on device")
    )


def install(app: FastAPI) -> None:
    app.add_exception_handler(ServiceError, service_error)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(HTTPException, http_error)
    app.add_exception_handler(IntegrityError, integrity_error)
    app.add_exception_handler(OperationalError, database_error)
    app.add_exception_handler(PoolTimeout, database_error)
