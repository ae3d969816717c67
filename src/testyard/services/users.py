"""Accounts, password hashing (argon2) and bearer tokens (stored as SHA-256)."""

from __future__ import annotations

import hashlib
import logging
import re
import secrets
from datetime import UTC, datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from testyard.db.models import ApiToken, User
from testyard.services.errors import Conflict, Invalid, NotFound, Unauthorized, not_found

log = logging.getLogger(__name__)

_hasher = PasswordHasher()
USERNAME = re.compile(r"^[A-Za-z0-9_.@-]{1,64}$")
MIN_PASSWORD = 8
TOKEN_PREFIX = "ty_"


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def check_password(user: User, password: str) -> bool:
    try:
        return _hasher.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def _validate(username: str, password: str) -> None:
    if not USERNAME.match(username):
        raise Invalid("username must be 1-64 letters, digits or . _ @ -", field="username")
    _validate_password(password)


def _validate_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise Invalid(f"password must have at least {MIN_PASSWORD} characters", field="password")
    if len(password) > 1024:
        raise Invalid("password is too long", field="password")


def create_user(session: Session, username: str, password: str, *, is_admin: bool = False) -> User:
    _validate(username, password)
    if session.scalar(select(User.id).where(User.username == username)):
        raise Conflict(f"user {username!r} already exists", field="username")
    user = User(username=username, password_hash=hash_password(password), is_admin=is_admin)
    session.add(user)
    session.flush()
    return user


def get_user(session: Session, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise not_found("user", user_id)
    return user


def find_user(session: Session, username: str) -> User:
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise NotFound(f"user {username!r} not found", field="username")
    return user


def update_user(
    session: Session,
    user: User,
    *,
    password: str | None = None,
    is_admin: bool | None = None,
    is_active: bool | None = None,
) -> User:
    if password is not None:
        set_password(session, user, password)
    if is_admin is not None:
        user.is_admin = is_admin
    if is_active is not None:
        user.is_active = is_active
        if not is_active:
            revoke_all_tokens(session, user)
    session.flush()
    return user


def set_password(session: Session, user: User, password: str) -> None:
    _validate_password(password)
    user.password_hash = hash_password(password)
    # A new password ends every login session, but keeps named API tokens for CI.
    for token in session.scalars(
        select(ApiToken).where(ApiToken.user_id == user.id, ApiToken.kind == "session")
    ):
        session.delete(token)


def revoke_all_tokens(session: Session, user: User) -> None:
    for token in session.scalars(select(ApiToken).where(ApiToken.user_id == user.id)):
        session.delete(token)


def ensure_first_admin(session: Session, password: str | None) -> str | None:
    """Create ``admin`` when there are no users yet; return the password if generated."""
    if session.scalar(select(func.count()).select_from(User)):
        return None
    generated = None
    if not password:
        password = generated = secrets.token_urlsafe(12)
    create_user(session, "admin", password, is_admin=True)
    return generated


def authenticate(session: Session, username: str, password: str) -> User | None:
    """The active user with this password, or None (in the same time either way)."""
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        # Hash anyway so the response time does not tell which usernames exist.
        hash_password(password)
        return None
    if not user.is_active or not check_password(user, password):
        return None
    return user


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token(
    session: Session, user: User, *, kind: str, name: str = "", ttl: timedelta | None = None
) -> tuple[ApiToken, str]:
    """Create a token; the plain value is returned once and never stored."""
    plain = TOKEN_PREFIX + secrets.token_urlsafe(32)
    expires = datetime.now(UTC) + ttl if ttl else None
    token = ApiToken(
        user_id=user.id,
        kind=kind,
        name=name,
        token_hash=_digest(plain),
        prefix=plain[:8],
        expires_at=expires,
    )
    session.add(token)
    session.flush()
    return token, plain


def resolve_token(session: Session, plain: str) -> User:
    token = session.scalar(select(ApiToken).where(ApiToken.token_hash == _digest(plain)))
    now = datetime.now(UTC)
    if token is None or (token.expires_at is not None and token.expires_at <= now):
        raise Unauthorized("invalid or expired token")
    if not token.user.is_active:
        raise Unauthorized("account disabled")
    # Only touch the row once a minute: every request must not become a write.
    if token.last_used_at is None or now - token.last_used_at > timedelta(minutes=1):
        token.last_used_at = now
    return token.user


def list_tokens(session: Session, user: User) -> list[ApiToken]:
    return list(
        session.scalars(
            select(ApiToken)
            .where(ApiToken.user_id == user.id, ApiToken.kind == "api")
            .order_by(ApiToken.id)
        )
    )


def revoke_token(session: Session, user: User, token_id: int) -> None:
    token = session.get(ApiToken, token_id)
    if token is None or token.user_id != user.id or token.kind != "api":
        raise not_found("token", token_id)
    session.delete(token)


def list_users(session: Session) -> list[User]:
    return list(session.scalars(select(User).order_by(User.id)))


def delete_user(session: Session, user: User) -> None:
    session.delete(user)
