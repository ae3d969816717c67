"""Errors a user can cause; the api maps each to its HTTP status."""

from __future__ import annotations


class ServiceError(Exception):
    """Base: ``code`` is the machine-readable name, ``field`` the input it concerns."""

    code = "error"

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class NotFound(ServiceError):
    code = "not_found"


class Conflict(ServiceError):
    code = "conflict"


class Invalid(ServiceError):
    code = "invalid"


class Forbidden(ServiceError):
    code = "forbidden"


class Unauthorized(ServiceError):
    code = "unauthorized"


def not_found(kind: str, ident: object) -> NotFound:
    return NotFound(f"{kind} {ident} not found")
