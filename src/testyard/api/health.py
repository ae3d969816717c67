"""Liveness, without authentication."""

from __future__ import annotations

from fastapi import APIRouter
from sqlalchemy import text

from testyard.api.deps import SessionDep

router = APIRouter(tags=["health"])


@router.get("/healthz")
def healthz(session: SessionDep) -> dict[str, str]:
    """Answer ok when the server and its database respond."""
    session.execute(text("SELECT 1"))
    return {"status": "ok"}
