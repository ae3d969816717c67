"""Schemas shared by several routers: pages, users, the ORM-reading base."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Generic, TypeVar

from fastapi import Query
from pydantic import BaseModel, ConfigDict

T = TypeVar("T")


class Public(BaseModel):
    """Base of every response model: read from ORM objects' attributes."""

    model_config = ConfigDict(from_attributes=True)


class Page(BaseModel, Generic[T]):
    items: list[T]
    total: int
    page: int
    per_page: int


class UserPublic(Public):
    id: int
    username: str
    is_admin: bool
    is_active: bool
    created_at: datetime


class UserRef(Public):
    id: int
    username: str


PageNo = Annotated[int, Query(ge=1, description="page number, from 1")]
PerPage = Annotated[int, Query(ge=1, le=200, description="items per page")]
Order = Annotated[str | None, Query(description="column to order by; prefix with - for descending")]
