"""Dependencies as ``Annotated`` aliases, so route signatures read like sentences."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from testyard.config import Settings
from testyard.db.models import Project, User
from testyard.services import users
from testyard.services.access import Role, require, require_admin
from testyard.services.errors import Unauthorized

bearer = HTTPBearer(auto_error=False, description="A login token or an API token")


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_session(request: Request) -> Iterator[Session]:
    """One transaction per request: committed when the route returns, rolled back
    when it raises. ``scope="function"`` commits before the response is sent."""
    with request.app.state.sessions() as session, session.begin():
        yield session


SessionDep = Annotated[Session, Depends(get_session, scope="function")]
SettingsDep = Annotated[Settings, Depends(get_settings)]


def get_current_user(
    session: SessionDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> User:
    if credentials is None:
        raise Unauthorized("missing bearer token")
    return users.resolve_token(session, credentials.credentials)


CurrentUser = Annotated[User, Depends(get_current_user)]


def get_admin(user: CurrentUser) -> User:
    require_admin(user)
    return user


AdminUser = Annotated[User, Depends(get_admin)]


def _project_with(role: Role) -> Callable[[int, CurrentUser, SessionDep], Project]:
    def dependency(pid: int, user: CurrentUser, session: SessionDep) -> Project:
        return require(session, user, pid, role)

    return dependency


ProjectViewer = Annotated[Project, Depends(_project_with(Role.viewer))]
ProjectRunner = Annotated[Project, Depends(_project_with(Role.runner))]
ProjectEditor = Annotated[Project, Depends(_project_with(Role.editor))]
ProjectOwner = Annotated[Project, Depends(_project_with(Role.owner))]


def wake_scheduler(request: Request) -> None:
    """After a commit that changed plans or watches: the scheduler (if it runs in this
    process) reconciles its jobs at once instead of at its next poll."""
    scheduler = getattr(request.app.state, "scheduler", None)
    if scheduler is not None:
        scheduler.wake()
