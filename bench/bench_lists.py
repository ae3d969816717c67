"""List and statistics endpoints over 100,000 stored results, against the bare queries.

In one invocation, on this machine:

1. A fresh SQLite database (and a fresh PostgreSQL database on the server at
   ``TESTYARD_BENCH_POSTGRES_URL`` when it is set; the database is created and dropped
   again, so the URL's user needs CREATEDB) gets one project with 50 cases of 4 tests and a
   plan of them, through the API; then, straight through SQLAlchemy (``tests/support/
   seed.py``), 450 finished runs of all 200 tests (every other one of the plan; 82% of
   the tests always pass, 10% are flaky, 5% broken with messages that vary in numbers and
   addresses, 3% skipped) and, newest, one big run of 10,000 tests: ~100,000 results.
2. The app runs in-process (``TestClient(create_app(Settings(...)))``) and each list
   endpoint is requested ``REQUESTS`` times (after ``WARMUP``): run history, the results
   of the big run, cases with ``with=latest_result``, each statistic with the default
   window (``last=20``) and with the widest (``last=500``), a case's history, a plan's
   trend. p50 and p95 of the latency seen by the client.
3. Baseline: the same service calls (the queries the route runs, nothing of HTTP, auth
   or JSON) through a session of the app's own engine, alternating with the requests so
   that machine load weighs on both alike.

Prints the table with testyard/baseline at p50 and p95 and the target (p95 <= 50 ms), and
writes it to ``bench/RESULTS.md`` between ``<!-- bench_lists -->`` markers, keeping the
file's other sections. Run: ``.venv/bin/python bench/bench_lists.py``.
"""

from __future__ import annotations

import os
import platform
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import make_url, select, text
from sqlalchemy.orm import Session, sessionmaker
from starlette.testclient import TestClient

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
sys.path.insert(0, str(ROOT))  # the seeding helper lives with the tests

from results_md import write_section  # noqa: E402
from tests.support.seed import Seeder, seed_history  # noqa: E402

from testyard.api.app import create_app  # noqa: E402
from testyard.config import Settings  # noqa: E402
from testyard.db.engine import make_engine, make_session_factory  # noqa: E402
from testyard.db.models import Project, Run, User  # noqa: E402
from testyard.services import cases, pages, results, stats  # noqa: E402

CASES = 50
TESTS_PER_CASE = 4
RUNS = 450
BIG_RUN_TESTS_PER_CASE = 200
REQUESTS = 50
WARMUP = 3
TARGET_P95_MS = 50.0
PASSWORD = "bench-admin-password-1"
PREFIX = "/api/v1"
POSTGRES_ENV = "TESTYARD_BENCH_POSTGRES_URL"

RESULTS = BENCH_DIR / "RESULTS.md"
COMMAND = ".venv/bin/python bench/bench_lists.py"


@dataclass
class Endpoint:
    name: str
    path: str
    params: dict[str, Any]
    baseline: Callable[[Session], object]


@dataclass
class Figures:
    name: str
    p50_ms: float
    p95_ms: float
    base_p50_ms: float
    base_p95_ms: float


@dataclass
class Seeded:
    project_id: int
    case_id: int
    plan_id: int
    big_run_id: int
    user_id: int
    results: int


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def seed(client: TestClient, url: str) -> tuple[Seeded, str]:
    """Project, cases and plan through the API; runs and results in bulk."""
    token = client.post(
        f"{PREFIX}/auth/login", json={"username": "admin", "password": PASSWORD}
    ).json()["token"]
    headers = {"Authorization": f"Bearer {token}"}

    def post(path: str, body: dict[str, Any]) -> dict[str, Any]:
        response = client.post(PREFIX + path, json=body, headers=headers)
        assert response.status_code == 201, response.text
        answer: dict[str, Any] = response.json()
        return answer

    user_id = client.get(f"{PREFIX}/me", headers=headers).json()["id"]
    pid = post("/projects", {"name": "bench"})["id"]
    code = "".join(f"def test_{t}():\n    pass\n\n\n" for t in range(TESTS_PER_CASE))
    case_ids = [
        post(f"/projects/{pid}/cases", {"name": f"case {c:03d}", "code": code})["id"]
        for c in range(CASES)
    ]
    plid = post(f"/projects/{pid}/plans", {"name": "nightly", "case_ids": case_ids})["id"]
    seeder = Seeder.connect(url)
    try:
        started = time.perf_counter()
        history = seed_history(
            seeder,
            pid,
            case_ids,
            runs=RUNS,
            tests_per_case=TESTS_PER_CASE,
            plan_id=plid,
            big_run_tests_per_case=BIG_RUN_TESTS_PER_CASE,
            triggered_by_id=user_id,
        )
        record_latest_of_every_run(url, pid)
        seeder.analyze()
        print(f"  seeded {history.results} results in {time.perf_counter() - started:.1f} s")
    finally:
        seeder.close()
    assert history.big_run_id is not None
    seeded = Seeded(pid, case_ids[0], plid, history.big_run_id, user_id, history.results)
    return seeded, token


def record_latest_of_every_run(url: str, project_id: int) -> None:
    """What the driver does as each run ends: keep each user's latest result per case."""
    engine = make_engine(url)
    sessions = make_session_factory(engine)
    with sessions.begin() as session:
        run_ids = session.scalars(
            select(Run.id).where(Run.project_id == project_id).order_by(Run.id)
        ).all()
    for run_id in run_ids:
        with sessions.begin() as session:
            results.record_latest(session, run_id)
    engine.dispose()


def endpoints(s: Seeded) -> list[Endpoint]:
    pid = s.project_id

    def project(session: Session) -> Project:
        found = session.get(Project, pid)
        assert found is not None
        return found

    def runs_page(session: Session) -> object:
        return pages.paginate(session, results.run_filters(pid, {}), page=1, per_page=50)

    def big_run(session: Session) -> object:
        return results.list_results(session, s.big_run_id, page=1, per_page=200)

    def cases_latest(session: Session) -> object:
        user = session.get(User, s.user_id)
        assert user is not None
        found = cases.list_cases(session, project(session), page=1, per_page=50)
        return results.latest_results(session, user, [c.id for c in found.items])

    def statistic(function: Any, last: int, **kw: Any) -> Callable[[Session], object]:
        def call(session: Session) -> object:
            return function(session, stats.window(session, pid, last), page=1, **kw)

        return call

    endpoints = [
        Endpoint("runs history (page of 50)", f"/projects/{pid}/runs", {}, runs_page),
        Endpoint(
            "results of a big run (page of 200)", f"/runs/{s.big_run_id}/results", {}, big_run
        ),
        Endpoint(
            "cases, with=latest_result (page of 50)",
            f"/projects/{pid}/cases",
            {"with": "latest_result"},
            cases_latest,
        ),
    ]
    for last in (stats.DEFAULT_LAST, stats.MAX_LAST):
        endpoints += [
            Endpoint(
                f"stats/flaky last={last}",
                f"/projects/{pid}/stats/flaky",
                {"last": last},
                statistic(stats.flaky_tests, last, per_page=50),
            ),
            Endpoint(
                f"stats/slowest last={last}",
                f"/projects/{pid}/stats/slowest",
                {"last": last},
                statistic(stats.slowest_tests, last, per_page=20),
            ),
            Endpoint(
                f"stats/failures last={last}",
                f"/projects/{pid}/stats/failures",
                {"last": last},
                statistic(stats.failure_groups, last, per_page=50),
            ),
        ]
    endpoints += [
        Endpoint(
            "cases/{cid}/history last=20",
            f"/projects/{pid}/cases/{s.case_id}/history",
            {},
            lambda session: stats.case_history(session, pid, s.case_id, stats.DEFAULT_LAST),
        ),
        Endpoint(
            "plans/{plid}/trend last=20",
            f"/projects/{pid}/plans/{s.plan_id}/trend",
            {},
            lambda session: stats.plan_trend(session, pid, s.plan_id, stats.DEFAULT_LAST),
        ),
    ]
    return endpoints


def measure(
    client: TestClient, sessions: sessionmaker[Session], token: str, endpoint: Endpoint
) -> Figures:
    """Requests and baseline calls alternate; the warm-up rounds are not counted."""
    headers = {"Authorization": f"Bearer {token}"}
    served: list[float] = []
    direct: list[float] = []
    for i in range(WARMUP + REQUESTS):
        started = time.perf_counter()
        response = client.get(PREFIX + endpoint.path, params=endpoint.params, headers=headers)
        middle = time.perf_counter()
        with sessions() as session, session.begin():
            endpoint.baseline(session)
        ended = time.perf_counter()
        assert response.status_code == 200, (endpoint.name, response.text)
        if i >= WARMUP:
            served.append((middle - started) * 1000)
            direct.append((ended - middle) * 1000)
    return Figures(
        endpoint.name,
        statistics.median(served),
        percentile(served, 0.95),
        statistics.median(direct),
        percentile(direct, 0.95),
    )


def bench(backend: str, url: str | None, root: Path) -> tuple[list[Figures], int]:
    print(f"{backend}:", flush=True)
    settings = Settings(
        data_dir=root / backend / "data",
        work_dir=root / backend / "work",
        database_url=url,
        admin_password=PASSWORD,
        scheduler=False,  # nothing in the background but the idle dispatcher
    )
    with TestClient(create_app(settings)) as client:
        seeded, token = seed(client, settings.resolved_database_url)
        sessions = client.app.state.sessions  # type: ignore[attr-defined]
        figures = []
        for endpoint in endpoints(seeded):
            figures.append(measure(client, sessions, token, endpoint))
            f = figures[-1]
            print(f"  {f.name:42} p50 {f.p50_ms:7.2f} ms  p95 {f.p95_ms:7.2f} ms", flush=True)
    return figures, seeded.results


@contextmanager
def fresh_postgres(server_url: str) -> Iterator[str]:
    """A new database on the server at ``server_url``, dropped afterwards."""
    name = f"testyard_bench_{uuid.uuid4().hex[:10]}"
    admin = make_engine(server_url).execution_options(isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(server_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def table(figures: list[Figures]) -> str:
    lines = [
        "| endpoint | testyard p50 ms | testyard p95 ms | baseline p50 ms | baseline p95 ms "
        "| p50 ratio | p95 ratio | p95 <= 50 ms |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for f in figures:
        met = "met" if f.p95_ms <= TARGET_P95_MS else "MISSED"
        lines.append(
            f"| {f.name} | {f.p50_ms:.1f} | {f.p95_ms:.1f} | {f.base_p50_ms:.1f} "
            f"| {f.base_p95_ms:.1f} | {f.p50_ms / f.base_p50_ms:.1f} "
            f"| {f.p95_ms / f.base_p95_ms:.1f} | {met} |"
        )
    return "\n".join(lines) + "\n"


def report(runs: list[tuple[str, list[Figures], int]], postgres: bool) -> str:
    parts = []
    for backend, figures, count in runs:
        parts.append(
            f"### {backend}: {count:,} results\n\n{REQUESTS} requests per endpoint after "
            f"{WARMUP} warm-up ones; the baseline is the same service call on a session of "
            f"the app's engine, without HTTP, auth or JSON (ratio: testyard/baseline).\n\n"
            + table(figures)
        )
    if not postgres:
        parts.append(f"SQLite only: set `{POSTGRES_ENV}` to measure PostgreSQL too.\n")
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    parts.append(
        f"`{COMMAND}` on {when}: {os.cpu_count()} CPUs, load average "
        f"{os.getloadavg()[0]:.1f} at the end, Python {platform.python_version()}, "
        f"{platform.platform()}.\n"
    )
    return "\n".join(parts)


def write_results(body: str) -> None:
    write_section("bench_lists", "List endpoints over 100,000 results (bench_lists.py)", body)


def main() -> None:
    postgres_url = os.environ.get(POSTGRES_ENV)
    measured: list[tuple[str, list[Figures], int]] = []
    with tempfile.TemporaryDirectory(prefix="testyard-bench-lists-") as tmp:
        root = Path(tmp)
        figures, count = bench("SQLite", None, root)
        measured.append(("SQLite", figures, count))
        if postgres_url:
            with fresh_postgres(postgres_url) as url:
                figures, count = bench("PostgreSQL", url, root)
                measured.append(("PostgreSQL", figures, count))
        else:
            print(f"SQLite only: set {POSTGRES_ENV} to measure PostgreSQL too")
    body = report(measured, postgres=bool(postgres_url))
    print()
    print(body)
    write_results(body)
    print(f"written to {RESULTS}")


if __name__ == "__main__":
    main()
