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


class BadRequest(ServiceError):
    """Input that is not what the route takes at all (a broken or hostile upload)."""

    code = "bad_request"


class TooLarge(ServiceError):
    code = "too_large"


class Forbidden(ServiceError):
    code = "forbidden"


class Unauthorized(ServiceError):
    code = "unauthorized"


class TooManyRequests(ServiceError):
    """Slow down: ``retry_after_s`` says for how long."""

    code = "too_many_requests"

    def __init__(self, message: str, *, retry_after_s: int) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


def not_found(kind: str, ident: object) -> NotFound:
    return NotFound(f"{kind} {ident} not found")


#: Ids are 32-bit integers on PostgreSQL: a larger one cannot exist, and would make the
#: driver fail instead of finding nothing.
MAX_ID = 2**31 - 1


def possible_id(ident: int) -> bool:
    """Whether a row could have this id. Ids in a path are checked by the api's router;
    services check ids that come in a body (a plan's ``case_ids``) before querying."""
    return 0 < ident <= MAX_ID
