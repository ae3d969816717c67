"""Scale-out in the browser: a server with the celery executor (its own PostgreSQL and
Redis), a run that says on its page that it waits for a worker, then a real
``testyard worker``: the Workers page lists it live, and the run finishes with its
shard on that worker."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import ADMIN_PASSWORD, sign_in, webui_dir
from tests.e2e.ui import seed_project, table_row
from tests.factories import make_case
from tests.support.api import Api
from tests.support.postgres import PostgresServer
from tests.support.redis import RedisServer
from tests.support.server import ServerProcess
from tests.support.workers import FAST, WorkerProcess, wait_until

SECRET_KEY = "e2e-workers-key"
# Long enough that the Workers page (asked every 5 s) sees the shard running.
CODE = """
import time


def test_one():
    assert 1 + 1 == 2


def test_two():
    time.sleep(8)
    assert "yard" in "testyard"
"""


@pytest.fixture(scope="module")
def backing(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """A PostgreSQL database and a Redis the server and its workers share."""
    postgres = PostgresServer().start()
    redis_server = RedisServer().start()
    try:
        yield {
            "TESTYARD_DATABASE_URL": postgres.create_database("testyard_e2e_workers"),
            "TESTYARD_REDIS_URL": redis_server.url,
            "TESTYARD_SECRET_KEY": SECRET_KEY,
        }
    finally:
        redis_server.stop()
        postgres.cleanup()


@pytest.fixture(scope="module")
def server(
    tmp_path_factory: pytest.TempPathFactory, backing: dict[str, str]
) -> Iterator[ServerProcess]:
    """This module's server: the celery executor, short heartbeats."""
    data = tmp_path_factory.mktemp("e2e-workers-data")
    process = ServerProcess(
        data,
        data / "server.log",
        TESTYARD_ADMIN_PASSWORD=ADMIN_PASSWORD,
        TESTYARD_WEBUI_DIR=str(webui_dir()),
        TESTYARD_EXECUTOR="celery",
        **FAST,
        **backing,
    ).start()
    yield process
    process.stop()


@pytest.fixture(scope="module")
def project(admin_api: Api) -> dict[str, Any]:
    pid = seed_project(admin_api, "Scale-out")
    case = make_case(admin_api, pid, name="arithmetic", path="tests/test_arithmetic.py", code=CODE)
    return {"id": pid, "case": case["id"]}


@pytest.fixture
def start_worker(
    tmp_path: Path, backing: dict[str, str], admin_api: Api
) -> Iterator[Callable[[], WorkerProcess]]:
    """Starts one real worker with 3 slots, and waits until the server lists it live."""
    started: list[WorkerProcess] = []

    def start() -> WorkerProcess:
        process = WorkerProcess("e2e-alpha", tmp_path / "workers", slots=3, **backing).start()
        started.append(process)
        wait_until(
            lambda: any(
                w["name"] == "e2e-alpha" and w["live"] for w in admin_api.get("/workers")["workers"]
            ),
            timeout=60,
            what=f"the worker to report:\n{process.output()}",
        )
        return process

    yield start
    for process in started:
        process.stop()


def start(api: Api, project: dict[str, Any]) -> int:
    body = {"case_ids": [project["case"]], "workers": 0, "source": "manual"}
    return int(api.post(f"/projects/{project['id']}/runs", body, status=202)["id"])


def test_a_run_without_a_live_worker_says_it_waits(
    page: Page, admin_api: Api, project: dict[str, Any]
) -> None:
    sign_in(page)
    run_id = start(admin_api, project)
    page.goto(f"/p/{project['id']}/runs/{run_id}")
    banner = page.get_by_test_id("run-waiting")
    expect(banner).to_be_visible(timeout=30_000)
    expect(page.get_by_test_id("run-waiting-message")).to_contain_text("no live testyard worker")
    expect(page.get_by_test_id("run-status")).to_have_attribute("data-status", "running")
    # The Shards tab says nothing was split yet; the Workers page warns that none lives.
    page.get_by_role("tab", name="Shards").click()
    expect(page.get_by_test_id("run-shards")).to_contain_text("No shard yet")
    page.get_by_test_id("nav-workers").click()
    expect(page).to_have_url("/workers")
    expect(page.get_by_test_id("nav-workers")).to_have_class(re.compile("is-active"))
    expect(page.get_by_test_id("workers-none-live")).to_be_visible()
    expect(page.get_by_test_id("workers-live")).to_have_text("0 live")
    admin_api.post(f"/runs/{run_id}/cancel", None, status=200)


def test_a_worker_that_starts_is_listed_live_and_runs_the_waiting_run(
    page: Page, admin_api: Api, project: dict[str, Any], start_worker: Callable[[], WorkerProcess]
) -> None:
    sign_in(page)
    run_id = start(admin_api, project)
    page.goto(f"/p/{project['id']}/runs/{run_id}")
    expect(page.get_by_test_id("run-waiting")).to_be_visible(timeout=30_000)

    start_worker()
    page.get_by_test_id("nav-workers").click()
    row = table_row(page, "workers-table", "e2e-alpha")
    expect(row.get_by_test_id("worker-live")).to_have_attribute("data-live", "true")
    expect(row.get_by_test_id("worker-slots")).to_have_text("3")
    # "now", "3 seconds ago": a heartbeat every 0.5 s, the page asks every 5 s
    expect(row.get_by_test_id("worker-heartbeat")).to_have_text(
        re.compile(r"^(now|\d+ seconds? ago)$")
    )
    expect(page.get_by_test_id("workers-none-live")).to_have_count(0)
    expect(page.get_by_test_id("workers-live")).to_have_text("1 live")

    # It runs the run that waited: its shard links to the run's page.
    shard = row.get_by_test_id("worker-shard")
    expect(shard).to_have_text(f"run #{run_id} · shard 1", timeout=20_000)
    shard.click()
    expect(page).to_have_url(f"/p/{project['id']}/runs/{run_id}")
    # It ends passed, its shard on that worker.
    status = page.get_by_test_id("run-status")
    expect(status).to_have_attribute("data-status", "passed", timeout=90_000)
    expect(page.get_by_test_id("run-waiting")).to_have_count(0)
    page.get_by_role("tab", name="Shards").click()
    shards = page.get_by_test_id("run-shards")
    expect(shards.get_by_test_id("shard-worker")).to_have_text(["e2e-alpha"])
    expect(shards.get_by_test_id("shard-status")).to_have_attribute("data-status", "done")
    expect(shards.get_by_test_id("shard-outcome")).to_have_attribute("data-status", "passed")
    expect(shards.get_by_test_id("shard-ran-again")).to_have_count(0)
    run = admin_api.get(f"/runs/{run_id}")
    assert run["status"] == "passed", run
    assert [s["worker"] for s in run["shards"]] == ["e2e-alpha"]
