"""Pagination and ordering of list queries: ``{items, total, page, per_page}``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from testyard.services.errors import Invalid

T = TypeVar("T")

MAX_PER_PAGE = 200


@dataclass
class Page(Generic[T]):
    items: list[T]
    total: int
    page: int
    per_page: int


def paginate(
    session: Session,
    query: Select[Any],
    *,
    page: int,
    per_page: int,
    max_per_page: int = MAX_PER_PAGE,
) -> Page[Any]:
    """Run ``query`` for one page, with the total count of the unpaginated query."""
    if page < 1:
        raise Invalid("page starts at 1", field="page")
    if not 1 <= per_page <= max_per_page:
        raise Invalid(f"per_page must be between 1 and {max_per_page}", field="per_page")
    total = session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    rows = session.scalars(query.limit(per_page).offset((page - 1) * per_page)).unique().all()
    return Page(items=list(rows), total=total or 0, page=page, per_page=per_page)


def order_by(query: Select[Any], model: Any, order: str | None, allowed: set[str]) -> Select[Any]:
    """Apply ``order`` (a column name, ``-`` prefix for descending) if it is allowed."""
    if not order:
        return query.order_by(model.id)
    name = order.removeprefix("-")
    if name not in allowed:
        raise Invalid(f"cannot order by {name!r}; one of {sorted(allowed)}", field="order")
    column = getattr(model, name)
    return query.order_by(column.desc() if order.startswith("-") else column.asc(), model.id)
