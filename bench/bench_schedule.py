"""500 plans due in the same second: how late are their runs, against bare inserts.

In one invocation, on this machine:

1. The app runs in-process (``TestClient(create_app(Settings(executor="none",
   scheduler=True, schedule_sync_s=0.2, ...)))``: the scheduler on, no executor, so no
   run ever starts) on a fresh SQLite data directory, and also on a fresh PostgreSQL
   database on the server at ``TESTYARD_BENCH_POSTGRES_URL`` when it is set (created and
   dropped again, so the URL's user needs CREATEDB).
2. Through the API: one project, one case, and ``PLANS`` enabled plans of that case,
   each with the same one-off trigger ``{"kind": "date", "at": T}``, T being a whole
   second ``LEAD_S`` ahead (time enough to create the plans and for the scheduler to put
   their jobs in its job store, which is checked before T).
3. Once every fire is recorded (bounded wait): the runs with source ``schedule``
   (exactly ``PLANS``), duplicate ``dedupe_key``s (none), fires with result
   ``run_created`` (exactly ``PLANS``), and per run the lag ``runs.created_at -
   plan_fires.scheduled_at`` (the run row is inserted just before its transaction
   commits), p50 / p95 / max; target p95 <= 1 s.
4. Where the time goes, from the stored times and two in-process observers that change
   nothing: APScheduler's ``EVENT_JOB_REMOVED`` (its loop deletes each one-off job from
   the job store right after handing it to the executor) and the scheduler's
   ``on_run_created`` hook (called after each fire's commit): T -> job handed over ->
   fire started (``plan_fires.fired_at``, taken when ``fire_plan`` begins in one of the
   executor's 4 threads) -> run row inserted -> committed.
5. Baseline, with the app stopped, on the same database through an engine built like
   the app's (``make_engine``): ``PLANS`` run rows like the scheduled ones inserted
   straight with SQLAlchemy, one transaction each (as each fire is its own), and all in
   one transaction. For the diagnosis, testyard's own ``fires.fire`` (the function each
   scheduled job runs) is also called ``PLANS`` times without APScheduler, serially and
   on 4 threads (the queued runs are cancelled first so that no fire is skipped as
   overlapping).

Prints the tables, with testyard (T -> last run committed) / baseline and the absolute
times, and writes them to ``bench/RESULTS.md`` between ``<!-- bench_schedule -->``
markers, keeping the file's other sections. Run: ``.venv/bin/python
bench/bench_schedule.py``.
"""

from __future__ import annotations

import math
import os
import platform
import statistics
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from apscheduler.events import EVENT_JOB_REMOVED, EVENT_JOB_SUBMITTED
from results_md import write_section
from sqlalchemy import Engine, create_engine, func, make_url, select, text, update
from sqlalchemy.orm import Session
from starlette.testclient import TestClient

from testyard.api.app import create_app
from testyard.config import Settings
from testyard.db.engine import make_engine, make_session_factory, transaction
from testyard.db.models import PlanFire, Run
from testyard.scheduling import fires

PLANS = 500
LEAD_S = 25  # T is this far ahead when the first plan is created
LEADER_TIMEOUT_S = 20.0
FIRE_TIMEOUT_S = 180.0  # after T
SETTLE_S = 1.5  # after the last fire: nothing more may appear
POLL_S = 0.5
TARGET_P95_S = 1.0
REPLAY_THREADS = 4
PASSWORD = "bench-admin-password-1"
PREFIX = "/api/v1"
POSTGRES_ENV = "TESTYARD_BENCH_POSTGRES_URL"

BENCH_DIR = Path(__file__).resolve().parent
RESULTS = BENCH_DIR / "RESULTS.md"
COMMAND = ".venv/bin/python bench/bench_schedule.py"


@dataclass
class Spread:
    p50: float
    p95: float
    max: float

    @classmethod
    def of(cls, values: list[float]) -> Spread:
        if not values:
            return cls(math.nan, math.nan, math.nan)
        return cls(statistics.median(values), percentile(values, 0.95), max(values))

    def text(self, digits: int = 2) -> str:
        return f"{self.p50:.{digits}f} / {self.p95:.{digits}f} / {self.max:.{digits}f}"


@dataclass
class Measured:
    backend: str
    create_s: float = 0.0
    jobs_ready_before_t_s: float = math.nan
    runs: int = 0
    duplicate_keys: int = 0
    fire_results: Counter[str] = field(default_factory=Counter)
    lag: Spread = field(default_factory=lambda: Spread.of([]))
    lag_commit: Spread = field(default_factory=lambda: Spread.of([]))
    last_commit_s: float = math.nan  # T -> last run committed
    phases: dict[str, Spread] = field(default_factory=dict)
    loop_done_s: float = math.nan  # T -> APScheduler's loop handed over every job
    commits_per_s: float = math.nan
    baseline_each_s: float = math.nan
    baseline_one_s: float = math.nan
    replay_serial_s: float = math.nan
    replay_threads_s: float = math.nan
    replay_results: Counter[str] = field(default_factory=Counter)

    @property
    def correct(self) -> bool:
        return (
            self.runs == PLANS
            and self.duplicate_keys == 0
            and self.fire_results.get("run_created", 0) == PLANS
            and sum(self.fire_results.values()) == PLANS
        )


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def wait_for(what: str, check: Callable[[], bool], timeout: float, every: float) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise TimeoutError(f"gave up after {timeout:.0f} s waiting for {what}")
        time.sleep(every)


def reader(url: str) -> Engine:
    """An engine for watching: no ``BEGIN IMMEDIATE`` on SQLite (the app's engine takes
    the write lock for every transaction, which would stall the scheduler's writers)."""
    return create_engine(url)


def count(engine: Engine, sql: str) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text(sql)).scalar_one())


class Observer:
    """Times taken in the scheduler's own threads; appending to a list is all it does."""

    def __init__(self) -> None:
        self.removed: list[datetime] = []
        self.submitted_batches: list[datetime] = []
        self.committed: dict[int, datetime] = {}
        self._lock = threading.Lock()

    def on_event(self, event: Any) -> None:
        if not str(getattr(event, "job_id", "")).startswith("plan-"):
            return
        now = datetime.now(UTC)
        if event.code == EVENT_JOB_REMOVED:
            self.removed.append(now)
        elif event.code == EVENT_JOB_SUBMITTED:
            self.submitted_batches.append(now)

    def hook(self, original: Callable[[int], None]) -> Callable[[int], None]:
        def on_run_created(run_id: int) -> None:
            now = datetime.now(UTC)
            with self._lock:
                self.committed[run_id] = now
            original(run_id)

        return on_run_created


def attach(app: Any, observer: Observer) -> None:
    """Wait for this process to lead, then observe its scheduler."""
    service = app.state.scheduler
    wait_for(
        "the scheduler to become leader",
        lambda: service.is_leader and fires.current() is not None,
        LEADER_TIMEOUT_S,
        0.05,
    )
    context = fires.current()
    assert context is not None
    context.on_run_created = observer.hook(context.on_run_created)
    service.scheduler.add_listener(observer.on_event, EVENT_JOB_REMOVED | EVENT_JOB_SUBMITTED)


def create_plans(client: TestClient, at: datetime) -> None:
    token = client.post(
        f"{PREFIX}/auth/login", json={"username": "admin", "password": PASSWORD}
    ).json()["token"]
    headers = {"Authorization": f"Bearer {token}"}

    def post(path: str, body: dict[str, Any]) -> dict[str, Any]:
        response = client.post(PREFIX + path, json=body, headers=headers)
        if response.status_code != 201:
            raise RuntimeError(f"POST {path}: {response.status_code} {response.text}")
        answer: dict[str, Any] = response.json()
        return answer

    pid = post("/projects", {"name": "bench"})["id"]
    cid = post(f"/projects/{pid}/cases", {"name": "one", "code": "def test_one():\n    pass\n"})[
        "id"
    ]
    trigger = {"kind": "date", "at": at.isoformat()}
    for n in range(PLANS):
        if datetime.now(UTC) >= at - timedelta(seconds=1):
            raise RuntimeError(f"only {n} plans created before T: raise LEAD_S ({LEAD_S} s)")
        post(
            f"/projects/{pid}/plans",
            {"name": f"plan {n:03d}", "case_ids": [cid], "enabled": True, "trigger": trigger},
        )


def fire_counts(session: Session, *where: Any) -> Counter[str]:
    """Fires recorded, by result."""
    query = select(PlanFire.result, func.count()).where(*where).group_by(PlanFire.result)
    return Counter({result: n for result, n in session.execute(query)})


def collect(engine: Engine, m: Measured, at: datetime, observer: Observer) -> None:
    with Session(engine) as session:
        m.runs = session.scalar(select(func.count()).where(Run.source == "schedule")) or 0
        m.duplicate_keys = len(
            session.execute(
                select(Run.dedupe_key)
                .where(Run.dedupe_key.is_not(None))
                .group_by(Run.dedupe_key)
                .having(func.count() > 1)
            ).all()
        )
        m.fire_results = fire_counts(session)
        rows = session.execute(
            select(PlanFire.scheduled_at, PlanFire.fired_at, Run.id, Run.created_at).join(
                Run, Run.id == PlanFire.run_id
            )
        ).all()
    assert all(r.scheduled_at == at for r in rows), "a fire with another scheduled time"

    def secs(a: datetime, b: datetime) -> float:
        return (b - a).total_seconds()

    m.lag = Spread.of([secs(r.scheduled_at, r.created_at) for r in rows])
    committed = [(r, observer.committed[r.id]) for r in rows if r.id in observer.committed]
    m.lag_commit = Spread.of([secs(r.scheduled_at, c) for r, c in committed])
    ends = [c for _, c in committed] or [r.created_at for r in rows]
    if ends:
        m.last_commit_s = secs(at, max(ends))
        span = secs(min(ends), max(ends))
        m.commits_per_s = len(ends) / span if span > 0 else math.nan
    removed = sorted(observer.removed)
    m.phases = {
        "T -> job handed to the executor (APScheduler's loop: due jobs read, "
        "one DELETE transaction per job)": Spread.of([secs(at, t) for t in removed]),
        "T -> fire started (`fired_at`: loop + waiting for one of 4 threads)": Spread.of(
            [secs(r.scheduled_at, r.fired_at) for r in rows]
        ),
        "fire started -> run row inserted (`created_at`)": Spread.of(
            [secs(r.fired_at, r.created_at) for r in rows]
        ),
        "run row inserted -> committed (`on_run_created`)": Spread.of(
            [secs(r.created_at, c) for r, c in committed]
        ),
    }
    if removed:
        m.loop_done_s = secs(at, removed[-1])


def scheduled_runs(m: Measured, settings: Settings) -> datetime:
    observer = Observer()
    app = create_app(settings)
    url = settings.resolved_database_url
    with TestClient(app) as client:
        watch = reader(url)
        try:
            attach(app, observer)
            at = datetime.fromtimestamp(math.ceil(time.time() + LEAD_S), UTC)
            started = time.perf_counter()
            create_plans(client, at)
            m.create_s = time.perf_counter() - started
            print(f"  {PLANS} plans created in {m.create_s:.1f} s; T = {at:%H:%M:%S}", flush=True)
            plan_jobs = "SELECT count(*) FROM apscheduler_jobs WHERE id LIKE 'plan-%'"
            wait_for(
                f"{PLANS} jobs in the job store before T",
                lambda: count(watch, plan_jobs) >= PLANS,
                max(0.0, (at - datetime.now(UTC)).total_seconds() - 0.2),
                0.1,
            )
            m.jobs_ready_before_t_s = (at - datetime.now(UTC)).total_seconds()
            print(f"  jobs in the store {m.jobs_ready_before_t_s:.1f} s before T", flush=True)
            fires_sql = "SELECT count(*) FROM plan_fires"
            timeout = (at - datetime.now(UTC)).total_seconds() + FIRE_TIMEOUT_S
            wait_for("every fire to be recorded", lambda: count(watch, fires_sql) >= PLANS,
                     timeout, POLL_S)  # fmt: skip
            time.sleep(SETTLE_S)
            if len(observer.committed) < PLANS:
                time.sleep(SETTLE_S)  # the last hooks run just after their commits
            collect(watch, m, at, observer)
        finally:
            watch.dispose()
    return at


def row_like(run: Run) -> dict[str, Any]:
    skip = {"id", "dedupe_key", "created_at", "source"}
    return {c.key: getattr(run, c.key) for c in Run.__table__.columns if c.key not in skip}


def baselines(m: Measured, url: str, settings: Settings) -> None:
    """Run rows straight through SQLAlchemy, then testyard's fire function alone."""
    engine = make_engine(url, sqlite_busy_timeout_ms=settings.sqlite_busy_timeout_ms)
    sessions = make_session_factory(engine)
    try:
        with sessions() as session:
            template = session.scalars(select(Run).where(Run.source == "schedule").limit(1)).one()
            plan_ids = list(
                session.scalars(select(PlanFire.plan_id).order_by(PlanFire.plan_id).limit(PLANS))
            )
            fields = row_like(template)
        started = time.perf_counter()
        for _ in range(PLANS):
            with transaction(sessions) as session:
                session.add(Run(source="api", **fields))
        m.baseline_each_s = time.perf_counter() - started
        started = time.perf_counter()
        with transaction(sessions) as session:
            session.add_all(Run(source="api", **fields) for _ in range(PLANS))
        m.baseline_one_s = time.perf_counter() - started

        context = fires.FireContext(
            sessions, timedelta(seconds=settings.misfire_grace_s), lambda _id: None, settings
        )

        def replay(threads: int) -> float:
            with transaction(sessions) as session:  # nothing still going: no fire skipped
                session.execute(
                    update(Run).where(Run.status == "queued").values(status="cancelled")
                )
            due = datetime.now(UTC)

            def one(plan_id: int) -> None:
                fires.fire(context, plan_id, [due], datetime.now(UTC))

            started = time.perf_counter()
            if threads == 1:
                for plan_id in plan_ids:
                    one(plan_id)
            else:
                with ThreadPoolExecutor(threads) as pool:
                    list(pool.map(one, plan_ids))
            elapsed = time.perf_counter() - started
            with sessions() as session:
                m.replay_results.update(fire_counts(session, PlanFire.scheduled_at == due))
            return elapsed

        m.replay_serial_s = replay(1)
        m.replay_threads_s = replay(REPLAY_THREADS)
    finally:
        engine.dispose()


def bench(backend: str, url: str | None, root: Path) -> Measured:
    print(f"{backend}:", flush=True)
    settings = Settings(
        executor="none",
        scheduler=True,
        schedule_sync_s=0.2,
        data_dir=root / backend / "data",
        work_dir=root / backend / "work",
        database_url=url,
        admin_password=PASSWORD,
    )
    m = Measured(backend)
    scheduled_runs(m, settings)
    print(
        f"  runs {m.runs}, duplicate keys {m.duplicate_keys}, fires {dict(m.fire_results)}; "
        f"lag p50/p95/max {m.lag.text()} s; last commit {m.last_commit_s:.2f} s after T",
        flush=True,
    )
    baselines(m, settings.resolved_database_url, settings)
    print(
        f"  baseline {m.baseline_each_s:.2f} s (one transaction each), {m.baseline_one_s:.2f} s "
        f"(one for all); fire() serial {m.replay_serial_s:.2f} s, on {REPLAY_THREADS} threads "
        f"{m.replay_threads_s:.2f} s",
        flush=True,
    )
    return m


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


def row(label: str, values: list[str]) -> str:
    return f"| {label} | " + " | ".join(values) + " |"


def reading(m: Measured) -> str:
    """The figures in words (computed, so they never go stale)."""
    serial_ms = m.replay_serial_s / PLANS * 1000
    verdict = "met" if m.lag.p95 <= TARGET_P95_S else "missed"
    return (
        f"- {m.backend}: target {verdict} (p95 {m.lag.p95:.2f} s). One fire costs "
        f"{serial_ms:.1f} ms on its own (`fires.fire` serially) against "
        f"{m.baseline_each_s / PLANS * 1000:.1f} ms for a bare run row in its own transaction; "
        f"{REPLAY_THREADS} threads take {m.replay_threads_s / m.replay_serial_s:.2f}x the serial "
        f"time. APScheduler's loop finished handing out the jobs {m.loop_done_s:.2f} s after "
        f"T; the last run committed {m.last_commit_s:.2f} s after T "
        f"({m.commits_per_s:.0f} fires/s)."
    )


def fire_results(m: Measured) -> str:
    others = ", ".join(f"{k} {v}" for k, v in m.fire_results.items() if k != "run_created")
    return f"{m.fire_results.get('run_created', 0)}; {others or 'none'}"


def report(measured: list[Measured], postgres: bool, load_start: float) -> str:
    head = row("measurement", [m.backend for m in measured])
    rule = "| --- |" + " ---: |" * len(measured)

    def each(get: Callable[[Measured], str]) -> list[str]:
        return [get(m) for m in measured]

    def ratio(part: float, whole: float) -> str:
        return f"{part / whole:.1f}x" if whole > 0 else "n/a"

    results = [
        head,
        rule,
        row(
            "runs with source `schedule` (must be 500)",
            each(lambda m: f"{m.runs} {'ok' if m.runs == PLANS else 'WRONG'}"),
        ),
        row("duplicate `dedupe_key`s (must be 0)", each(lambda m: str(m.duplicate_keys))),
        row(
            "`plan_fires` with result `run_created` (must be 500; others)",
            each(fire_results),
        ),
        row(
            "**lag T -> run row (`runs.created_at - plan_fires.scheduled_at`), p50 / p95 / max s**",
            each(lambda m: f"**{m.lag.text()}**"),
        ),
        row(
            f"target p95 <= {TARGET_P95_S:.0f} s",
            each(lambda m: "met" if m.lag.p95 <= TARGET_P95_S else "MISSED"),
        ),
        row("lag T -> committed, p50 / p95 / max s", each(lambda m: m.lag_commit.text())),
    ]
    times = [
        head,
        rule,
        row("testyard: T -> last run committed", each(lambda m: f"{m.last_commit_s:.2f}")),
        row(
            f"baseline: {PLANS} run rows, one transaction each",
            each(lambda m: f"{m.baseline_each_s:.2f}"),
        ),
        row(
            "**testyard / baseline (one transaction each)**",
            each(lambda m: f"**{ratio(m.last_commit_s, m.baseline_each_s)}**"),
        ),
        row(
            f"baseline: {PLANS} run rows in one transaction",
            each(lambda m: f"{m.baseline_one_s:.3f}"),
        ),
        row(
            "testyard / baseline (one transaction)",
            each(lambda m: ratio(m.last_commit_s, m.baseline_one_s)),
        ),
        row(
            f"diagnosis: testyard's `fires.fire` x {PLANS}, serially, no APScheduler",
            each(lambda m: f"{m.replay_serial_s:.2f}"),
        ),
        row(
            f"diagnosis: the same on {REPLAY_THREADS} threads, no APScheduler",
            each(lambda m: f"{m.replay_threads_s:.2f}"),
        ),
    ]
    phases = [head, rule]
    for name in measured[0].phases:
        phases.append(row(name, each(lambda m, n=name: m.phases[n].text())))  # type: ignore[misc]
    phases += [
        row(
            "T -> APScheduler's loop done with the last job, s",
            each(lambda m: f"{m.loop_done_s:.2f}"),
        ),
        row("commits per second while firing", each(lambda m: f"{m.commits_per_s:.0f}")),
        row(
            f"creating the {PLANS} plans through the API, s",
            each(lambda m: f"{m.create_s:.1f}"),
        ),
        row(
            "all jobs in the job store before T, s",
            each(lambda m: f"{m.jobs_ready_before_t_s:.1f}"),
        ),
    ]
    parts = [
        f'{PLANS} enabled plans of one case, each `{{"kind": "date", "at": T}}` with the '
        'same T, created through the API of an in-process app (`executor="none"`, so no run '
        "starts; `schedule_sync_s=0.2`) on a fresh database.\n",
        "\n".join(results) + "\n",
        "Times in seconds. testyard = T -> the last of the 500 runs committed; the baselines "
        "insert 500 rows like those runs straight through SQLAlchemy on the same database and "
        "engine settings, with the app stopped. The diagnosis rows call the function each "
        "scheduled job runs, with the queued runs cancelled first so none is skipped as "
        "overlapping (their fires: "
        + "; ".join(
            f"{m.backend} " + ", ".join(f"{k} {v}" for k, v in m.replay_results.items())
            for m in measured
        )
        + ").\n",
        "\n".join(times) + "\n",
        "Where the time goes (p50 / p95 / max s, from T or per fire):\n",
        "\n".join(phases) + "\n",
        "\n".join(reading(m) for m in measured) + "\n",
    ]
    if not postgres:
        parts.append(f"SQLite only: set `{POSTGRES_ENV}` to measure PostgreSQL too.\n")
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    command = f"{POSTGRES_ENV}=<server> {COMMAND}" if postgres else COMMAND
    parts.append(
        f"`{command}` on {when}: {os.cpu_count()} CPUs, load average {load_start:.1f} at the "
        f"start and {os.getloadavg()[0]:.1f} at the end, Python {platform.python_version()}, "
        f"{platform.platform()}.\n"
    )
    return "\n".join(parts)


def write_results(body: str) -> None:
    write_section("bench_schedule", f"{PLANS} plans due at once (bench_schedule.py)", body)


def main() -> int:
    load_start = os.getloadavg()[0]
    postgres_url = os.environ.get(POSTGRES_ENV)
    measured: list[Measured] = []
    with tempfile.TemporaryDirectory(prefix="testyard-bench-schedule-") as tmp:
        root = Path(tmp)
        measured.append(bench("SQLite", None, root))
        if postgres_url:
            with fresh_postgres(postgres_url) as url:
                measured.append(bench("PostgreSQL", url, root))
        else:
            print(f"SQLite only: set {POSTGRES_ENV} to measure PostgreSQL too")
    body = report(measured, postgres=bool(postgres_url), load_start=load_start)
    print()
    print(body)
    write_results(body)
    print(f"written to {RESULTS}")
    return 0 if all(m.correct for m in measured) else 1


if __name__ == "__main__":
    sys.exit(main())
