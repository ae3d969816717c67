"""Login throttling: after repeated wrong passwords, a username from one address (and,
more leniently, an address as a whole) must wait before it may try again.

Counts live in the database so every server process behind a load balancer sees them.
A key counts failures within one lockout period (``TESTYARD_LOGIN_LOCKOUT_S``); once it
reaches its limit (``TESTYARD_LOGIN_MAX_FAILURES``, ``…_PER_ADDRESS``) it is locked for
that period. A successful login clears the username's key, not the address's.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from math import ceil

from sqlalchemy import delete
from sqlalchemy.orm import Session

from testyard.db.models import LoginFailure, utcnow
from testyard.services.errors import TooManyRequests


@dataclass(frozen=True)
class Limits:
    per_user: int
    per_address: int
    lockout: timedelta


def keys(username: str, address: str, limits: Limits) -> dict[str, int]:
    """The throttle keys of one attempt, each with its failure limit."""
    return {
        f"user:{username.lower()}|{address}": limits.per_user,
        f"addr:{address}": limits.per_address,
    }


def check(session: Session, attempt: dict[str, int], now: datetime | None = None) -> None:
    """Refuse the attempt while any of its keys is locked."""
    now = now or utcnow()
    waits = [
        (row.locked_until - now).total_seconds()
        for key in attempt
        if (row := session.get(LoginFailure, key)) and row.locked_until and row.locked_until > now
    ]
    if waits:
        wait = ceil(max(waits))
        raise TooManyRequests(f"too many failed logins: try again in {wait} s", retry_after_s=wait)


def record_failure(
    session: Session, attempt: dict[str, int], limits: Limits, now: datetime | None = None
) -> None:
    """Count a failed attempt; lock each key that reached its limit."""
    now = now or utcnow()
    for key, limit in attempt.items():
        row = session.get(LoginFailure, key, with_for_update=True)
        if row is None:
            row = LoginFailure(key=key, failures=0, first_at=now)
            session.add(row)
        elif row.first_at + limits.lockout <= now:  # an old streak: start counting again
            row.failures, row.first_at, row.locked_until = 0, now, None
        row.failures += 1
        if row.failures >= limit:
            row.locked_until = now + limits.lockout
    session.flush()


def clear_user(session: Session, attempt: dict[str, int]) -> None:
    """After a successful login: the username's streak is over."""
    user_keys = [key for key in attempt if key.startswith("user:")]
    session.execute(delete(LoginFailure).where(LoginFailure.key.in_(user_keys)))
