"""The scheduler's own database work survives a PostgreSQL restart: it notices that its
leader lock went with the old connection, takes it again, and fires on."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from tests.conftest import ADMIN_PASSWORD
from tests.factories import make_case, make_plan, make_project
from tests.integration.scheduling.conftest import scheduling_settings
from tests.integration.scheduling.test_fires import fires_of, wait_for
from tests.support.api import Api, login
from tests.support.postgres import PostgresServer
from testyard.api.app import create_app


@pytest.mark.parametrize("db_backend", ["postgresql"], indirect=True)
def test_fires_go_on_after_a_postgres_restart(
    database_url: str, tmp_path: Path, postgres: PostgresServer
) -> None:
    settings = scheduling_settings(database_url, tmp_path / "data", executor="none")
    with TestClient(create_app(settings, migrate=False)) as client:
        api = Api(client, login(client, "admin", ADMIN_PASSWORD))
        project = make_project(api)
        case = make_case(api, project["id"])
        plan = make_plan(
            api,
            project["id"],
            case_ids=[case["id"]],
            enabled=True,
            on_overlap="queue",
            trigger={"kind": "interval", "seconds": 1},
        )
        pid, plid = project["id"], plan["id"]
        wait_for(lambda: len(fires_of(api, pid, plid)) >= 2)
        postgres.restart()
        restarted = time.time()
        wait_for(
            lambda: any(
                f["result"] == "run_created" and _epoch(f["scheduled_at"]) > restarted + 1
                for f in fires_of(api, pid, plid)
            ),
            timeout=45,
        )
        fires = fires_of(api, pid, plid)
        times = [f["scheduled_at"] for f in fires]
        assert len(times) == len(set(times))
        assert all(f["result"] in ("run_created", "skipped") for f in fires)


def _epoch(iso: str) -> float:
    from datetime import datetime

    return datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()
