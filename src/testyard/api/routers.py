"""Every router, registered in one place."""

from __future__ import annotations

from fastapi import APIRouter, Depends, FastAPI, Request

from testyard.api import (
    auth,
    cases,
    channels,
    environments,
    exchange,
    fixture_plans,
    fixtures,
    health,
    plans,
    projects,
    runs,
    stats,
    users,
    watches,
    workers,
    ws,
)
from testyard.services.errors import NotFound, possible_id

API_PREFIX = "/api/v1"


def ids_in_range(request: Request) -> None:
    """An id past what the database can hold is simply not found (not a server error)."""
    for name, value in request.path_params.items():
        if name.endswith("id") and value.lstrip("-").isdecimal() and not possible_id(int(value)):
            raise NotFound(f"{name} {value} not found")


def register(app: FastAPI) -> None:
    api = APIRouter(prefix=API_PREFIX, dependencies=[Depends(ids_in_range)])
    for module in (
        auth,
        users,
        exchange,
        projects,
        environments,
        fixtures,
        fixture_plans,
        cases,
        plans,
        runs,
        stats,
        watches,
        channels,
        workers,
    ):
        api.include_router(module.router)
    app.include_router(api)
    app.include_router(health.router)
    app.include_router(ws.router)
