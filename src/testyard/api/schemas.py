"""Schemas shared by several routers: pages, users, the ORM-reading base."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Query
from pydantic import BaseModel, ConfigDict

from testyard.services import pages

T = TypeVar("T")


class Public(BaseModel):
    """Base of every response model: read from ORM objects' attributes."""

    model_config = ConfigDict(from_attributes=True)


class Page(BaseModel, Generic[T]):
    items: list[T]
    total: int
    page: int
    per_page: int

    @classmethod
    def of(cls, found: pages.Page[Any], convert: Callable[[Any], T]) -> Page[T]:
        """A service's page, its items converted to their public shape."""
        return cls(items=[convert(item) for item in found.items], total=found.total,
                   page=found.page, per_page=found.per_page)  # fmt: skip


class UserPublic(Public):
    id: int
    username: str
    is_admin: bool
    is_active: bool
    created_at: datetime


class UserRef(Public):
    id: int
    username: str


#: A page number past any data, but whose offset still fits a 64-bit integer (SQL OFFSET).
MAX_PAGE = 1_000_000_000
PageNo = Annotated[int, Query(ge=1, le=MAX_PAGE, description="page number, from 1")]
PerPage = Annotated[int, Query(ge=1, le=200, description="items per page")]
Order = Annotated[str | None, Query(description="column to order by; prefix with - for descending")]
