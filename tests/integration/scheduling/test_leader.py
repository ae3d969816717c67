"""Three scheduler processes on one PostgreSQL: each fire happens exactly once, and
killing the leader hands the schedule over."""

from __future__ import annotations

import itertools
import signal
import subprocess
import time
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import text
from starlette.testclient import TestClient

from tests.conftest import ADMIN_PASSWORD
from tests.factories import make_case, make_plan, make_project
from tests.integration.scheduling.conftest import scheduling_settings
from tests.support.api import Api, login
from tests.support.server import TESTYARD, cli_env
from testyard.api.app import create_app
from testyard.db.engine import make_engine


@pytest.mark.parametrize("db_backend", ["postgresql"], indirect=True)
def test_three_schedulers_fire_each_time_once_and_hand_over(
    database_url: str, tmp_path: Path
) -> None:
    settings = scheduling_settings(database_url, tmp_path / "api", scheduler=False, executor="none")
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
    with schedulers(database_url, tmp_path, 3) as processes:
        leader = wait_for_leader(processes)
        # A plan made by another process (this API app) is scheduled within 2 s.
        with TestClient(create_app(settings, migrate=False)) as client:
            api = Api(client, login(client, "admin", ADMIN_PASSWORD))
            made = time.time()
            later = make_plan(
                api,
                project["id"],
                case_ids=[case["id"]],
                enabled=True,
                trigger={"kind": "interval", "seconds": 1},
            )
        deadline = time.monotonic() + 10
        while not fire_times(database_url, later["id"]):
            assert time.monotonic() < deadline, "the other process's plan never fired"
            time.sleep(0.1)
        first_fire = fire_times(database_url, later["id"])[0].timestamp()
        assert first_fire - made < 3.0, "picked up within 2 s (+ its 1 s interval)"
        time.sleep(4)
        leader[0].send_signal(signal.SIGKILL)
        leader[0].wait(10)
        killed_at = time.time()
        others = [p for p in processes if p[0] is not leader[0]]
        wait_for_leader(others, timeout=30)
        time.sleep(4)
    fires = fire_times(database_url, plan["id"])
    assert len(fires) == len(set(fires)), "a fire time was acted on twice"
    run_keys = dedupe_keys(database_url, plan["id"])
    assert len(run_keys) == len(set(run_keys))
    assert any(t.timestamp() > killed_at + 1 for t in fires), "the new leader fired"
    gaps = [(b - a).total_seconds() for a, b in itertools.pairwise(fires)]
    assert all(abs(gap - 1.0) < 0.01 for gap in gaps), f"a fire time is missing: {gaps}"


Processes = list[tuple["subprocess.Popen[bytes]", Path]]


class schedulers:
    def __init__(self, database_url: str, root: Path, count: int) -> None:
        self.env = cli_env(
            root / "data",
            TESTYARD_DATABASE_URL=database_url,
            TESTYARD_LEADER_RETRY_S="0.5",
            TESTYARD_SCHEDULE_SYNC_S="0.2",
        )
        self.root = root
        self.count = count
        self.processes: Processes = []

    def __enter__(self) -> Processes:
        for n in range(self.count):
            log = self.root / f"scheduler-{n}.log"
            with log.open("w") as out:
                process = subprocess.Popen(
                    [*TESTYARD, "scheduler"], env=self.env, stdout=out, stderr=subprocess.STDOUT
                )
            self.processes.append((process, log))
        return self.processes

    def __exit__(self, *_exc: object) -> None:
        for process, _log in self.processes:
            if process.poll() is None:
                process.terminate()
        for process, _log in self.processes:
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                process.kill()


def wait_for_leader(
    processes: Processes, timeout: float = 30
) -> tuple[subprocess.Popen[bytes], Path]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for process, log in processes:
            if "scheduler leader" in log.read_text():
                return process, log
        time.sleep(0.2)
    logs = "\n".join(log.read_text()[-2000:] for _p, log in processes)
    raise AssertionError(f"no scheduler became leader:\n{logs}")


def fire_times(database_url: str, plan_id: int) -> list[datetime]:
    engine = make_engine(database_url)
    with engine.connect() as conn:
        rows = (
            conn.execute(
                text(
                    "SELECT scheduled_at FROM plan_fires WHERE plan_id = :p ORDER BY scheduled_at"
                ),
                {"p": plan_id},
            )
            .scalars()
            .all()
        )
    engine.dispose()
    return list(rows)


def dedupe_keys(database_url: str, plan_id: int) -> list[str]:
    engine = make_engine(database_url)
    with engine.connect() as conn:
        rows = (
            conn.execute(text("SELECT dedupe_key FROM runs WHERE plan_id = :p"), {"p": plan_id})
            .scalars()
            .all()
        )
    engine.dispose()
    return list(rows)
