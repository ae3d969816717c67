"""Retention deletes exactly what is old: fire records past their days, finished runs
past theirs, never a plan's latest runs, and the artifacts with the runs."""

from __future__ import annotations

import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import insert, select

from tests.factories import make_case, make_plan, make_project
from tests.support.api import Api
from tests.support.server import TESTYARD, cli_env
from testyard.config import Settings
from testyard.db.engine import make_engine, make_session_factory
from testyard.db.models import PlanFire, Run, RunResult
from testyard.scheduling.retention import run_retention


def seed_run(
    session,
    project_id: int,
    plan_id: int | None,
    age_days: float,  # type: ignore[no-untyped-def]
    status: str = "passed",
) -> int:
    created = datetime.now(UTC) - timedelta(days=age_days)
    run_id = session.execute(
        insert(Run)
        .values(
            project_id=project_id,
            plan_id=plan_id,
            title="t",
            source="schedule",
            status=status,
            workers="auto",
            dist="auto",
            retries=0,
            case_ids=[],
            snapshot={},
            counts={},
            created_at=created,
            last_seq=0,
        )
        .returning(Run.id)
    ).scalar_one()
    session.execute(
        insert(RunResult).values(
            run_id=run_id, nodeid="tests/test_x.py::test_x", outcome="passed", final=True
        )
    )
    return int(run_id)


@pytest.mark.parametrize("db_backend", ["sqlite", "postgresql"], indirect=True)
def test_retention_deletes_exactly_what_is_old(admin: Api, settings: Settings) -> None:
    project = make_project(admin)
    case = make_case(admin, project["id"])
    plan = make_plan(admin, project["id"], case_ids=[case["id"]])
    engine = make_engine(settings.resolved_database_url)
    sessions = make_session_factory(engine)
    settings = settings.model_copy(update={"retention_keep_runs": 3})
    with sessions.begin() as session:
        plan_old = [seed_run(session, project["id"], plan["id"], 200 + n) for n in range(5)]
        plan_new = seed_run(session, project["id"], plan["id"], 1)
        adhoc_old = seed_run(session, project["id"], None, 100)
        adhoc_new = seed_run(session, project["id"], None, 10)
        still_running = seed_run(session, project["id"], None, 150, status="running")
        for age in (10, 3):
            session.execute(
                insert(PlanFire).values(
                    plan_id=plan["id"],
                    scheduled_at=datetime.now(UTC) - timedelta(days=age),
                    fired_at=datetime.now(UTC) - timedelta(days=age),
                    result="missed",
                )
            )
    for run_id in [*plan_old, adhoc_old]:
        (settings.artifacts_dir / str(run_id)).mkdir(parents=True)

    purged = run_retention(sessions, settings)

    with sessions() as session:
        left = set(session.scalars(select(Run.id)))
        fires = session.scalars(select(PlanFire.fired_at)).all()
        results = set(session.scalars(select(RunResult.run_id)))
    engine.dispose()
    # The plan keeps its 3 latest runs (the new one and the 2 youngest old ones).
    kept_old = sorted(plan_old)[-2:]
    assert left == {plan_new, *kept_old, adhoc_new, still_running}
    assert results == left, "results go with their runs"
    assert purged.runs == 4 and purged.fires == 1 and len(fires) == 1
    assert not (settings.artifacts_dir / str(adhoc_old)).exists()
    assert all((settings.artifacts_dir / str(r)).exists() for r in kept_old)


def test_purge_command(tmp_path: Path) -> None:
    env = cli_env(tmp_path / "data")
    bad = subprocess.run(
        [*TESTYARD, "purge", "--older-than", "soon"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert bad.returncode == 2 and "90d" in bad.stderr
    done = subprocess.run(
        [*TESTYARD, "purge", "--older-than", "30d"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert "deleted 0 runs and 0 fire records" in done.stdout
