"""Login, the current user, their password and their long-lived API tokens."""

from __future__ import annotations

from datetime import datetime, timedelta

from fastapi import APIRouter, Request, status
from pydantic import BaseModel, Field

from testyard.api.deps import CurrentUser, SessionDep, SettingsDep
from testyard.api.schemas import Public, UserPublic
from testyard.db.engine import transaction
from testyard.services import login_throttle, users
from testyard.services.errors import Invalid, Unauthorized

router = APIRouter(tags=["auth"])


class Login(BaseModel):
    username: str = Field(max_length=64)
    password: str = Field(max_length=1024)


class LoginAnswer(BaseModel):
    token: str
    expires_at: datetime | None
    user: UserPublic


class PasswordChange(BaseModel):
    current_password: str = Field(max_length=1024)
    new_password: str = Field(max_length=1024)


class TokenCreate(BaseModel):
    name: str = Field(min_length=1, max_length=100)
    expires_in_days: int | None = Field(default=None, ge=1, le=3650)


class TokenPublic(Public):
    id: int
    name: str
    prefix: str
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None


class TokenCreated(TokenPublic):
    token: str = Field(description="shown once; only its hash is stored")


@router.post(
    "/auth/login",
    responses={429: {"description": "too many failed logins; see Retry-After"}},
)
def login(body: Login, request: Request, settings: SettingsDep) -> LoginAnswer:
    """Exchange a username and password for a bearer token (throttled after failures)."""
    limits = login_throttle.Limits(
        per_user=settings.login_max_failures,
        per_address=settings.login_max_failures_per_address,
        lockout=timedelta(seconds=settings.login_lockout_s),
    )
    address = request.client.host if request.client else "unknown"
    attempt = login_throttle.keys(body.username, address, limits)
    sessions = request.app.state.sessions
    # Own transactions, not the request's: the failure must be counted although the
    # answer is an error (and SQLite allows one writer, so never two at once).
    with transaction(sessions) as session:
        login_throttle.check(session, attempt)
        user = users.authenticate(session, body.username, body.password)
        if user is not None:
            login_throttle.clear_user(session, attempt)
            ttl = timedelta(hours=settings.session_token_hours)
            token, plain = users.issue_token(session, user, kind="session", ttl=ttl)
            return LoginAnswer(
                token=plain, expires_at=token.expires_at, user=UserPublic.model_validate(user)
            )
    with transaction(sessions) as session:
        login_throttle.record_failure(session, attempt, limits)
    raise Unauthorized("wrong username or password")


@router.get("/me")
def me(user: CurrentUser) -> UserPublic:
    """The user the token belongs to."""
    return UserPublic.model_validate(user)


@router.put("/me/password", status_code=status.HTTP_204_NO_CONTENT)
def change_password(body: PasswordChange, user: CurrentUser, session: SessionDep) -> None:
    """Change your own password; every login session ends, this one too (sign in
    again with the new password); API tokens stay."""
    if not users.check_password(user, body.current_password):
        raise Invalid("current password is wrong", field="current_password")
    users.set_password(session, user, body.new_password)


@router.get("/me/tokens")
def list_tokens(user: CurrentUser, session: SessionDep) -> list[TokenPublic]:
    """Your API tokens (their values are never shown again)."""
    return [TokenPublic.model_validate(t) for t in users.list_tokens(session, user)]


@router.post("/me/tokens", status_code=status.HTTP_201_CREATED)
def create_token(body: TokenCreate, user: CurrentUser, session: SessionDep) -> TokenCreated:
    """Create a long-lived API token, e.g. for CI; its value is shown only here."""
    ttl = timedelta(days=body.expires_in_days) if body.expires_in_days else None
    token, plain = users.issue_token(session, user, kind="api", name=body.name, ttl=ttl)
    return TokenCreated(**TokenPublic.model_validate(token).model_dump(), token=plain)


@router.delete("/me/tokens/{token_id}", status_code=status.HTTP_204_NO_CONTENT)
def revoke_token(token_id: int, user: CurrentUser, session: SessionDep) -> None:
    """Revoke one of your API tokens."""
    users.revoke_token(session, user, token_id)
