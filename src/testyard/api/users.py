"""User accounts, managed by administrators."""

from __future__ import annotations

from fastapi import APIRouter, status
from pydantic import BaseModel, Field

from testyard.api.deps import AdminUser, SessionDep
from testyard.api.schemas import UserPublic
from testyard.services import users
from testyard.services.errors import Conflict

router = APIRouter(prefix="/users", tags=["users"])


class UserCreate(BaseModel):
    username: str = Field(max_length=64)
    password: str = Field(max_length=1024)
    is_admin: bool = False


class UserUpdate(BaseModel):
    password: str | None = Field(default=None, max_length=1024)
    is_admin: bool | None = None
    is_active: bool | None = None


@router.get("")
def list_users(_admin: AdminUser, session: SessionDep) -> list[UserPublic]:
    """Every account."""
    return [UserPublic.model_validate(u) for u in users.list_users(session)]


@router.post("", status_code=status.HTTP_201_CREATED)
def create_user(body: UserCreate, _admin: AdminUser, session: SessionDep) -> UserPublic:
    """Create an account."""
    user = users.create_user(session, body.username, body.password, is_admin=body.is_admin)
    return UserPublic.model_validate(user)


@router.get("/{user_id}")
def get_user(user_id: int, _admin: AdminUser, session: SessionDep) -> UserPublic:
    """One account."""
    return UserPublic.model_validate(users.get_user(session, user_id))


@router.patch("/{user_id}")
def update_user(
    user_id: int, body: UserUpdate, admin: AdminUser, session: SessionDep
) -> UserPublic:
    """Reset a password, grant or take administrator rights, disable an account."""
    user = users.get_user(session, user_id)
    if user.id == admin.id and (body.is_admin is False or body.is_active is False):
        raise Conflict("you cannot take away your own administrator access")
    users.update_user(
        session, user, password=body.password, is_admin=body.is_admin, is_active=body.is_active
    )
    return UserPublic.model_validate(user)


@router.delete("/{user_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_user(user_id: int, admin: AdminUser, session: SessionDep) -> None:
    """Delete an account (the cases it wrote stay, without an author)."""
    if user_id == admin.id:
        raise Conflict("you cannot delete yourself")
    users.delete_user(session, users.get_user(session, user_id))
