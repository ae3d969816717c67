"""Every router, registered in one place."""

from __future__ import annotations

from fastapi import APIRouter, FastAPI

from testyard.api import auth, cases, environments, fixtures, health, plans, projects, users

API_PREFIX = "/api/v1"


def register(app: FastAPI) -> None:
    api = APIRouter(prefix=API_PREFIX)
    for module in (auth, users, projects, environments, fixtures, cases, plans):
        api.include_router(module.router)
    app.include_router(api)
    app.include_router(health.router)
