"""Runs and results written straight into the database, in bulk, for tests and benchmarks
of what reads them (statistics, lists): more history than real runs could make in time.

Projects, cases and plans are made through the API; only runs and their results are
seeded here. Runs get the status asked for, ``passed`` by default (never seed ``queued``:
the app's dispatcher would pick them up), one minute apart, in the order they are seeded.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, insert, text
from sqlalchemy.orm import Session

from testyard.db.engine import make_engine
from testyard.db.models import Run, RunResult

#: How long before now the first seeded run starts.
AGO = timedelta(days=30)
BATCH = 5_000


def result(
    nodeid: str,
    outcome: str = "passed",
    *,
    duration_s: float = 0.1,
    case_id: int | None = None,
    message: str = "",
    worker: str = "main",
    attempt: int = 1,
    final: bool = True,
    flaky: bool = False,
) -> dict[str, Any]:
    """One result row (without its run): every column the seeder writes, so that rows
    inserted together have the same keys."""
    return {
        "nodeid": nodeid,
        "outcome": outcome,
        "duration_s": duration_s,
        "case_id": case_id,
        "message": message,
        "worker": worker,
        "attempt": attempt,
        "final": final,
        "flaky": flaky,
    }


def counts_of(rows: Iterable[dict[str, Any]]) -> dict[str, int]:
    """A run's ``counts`` as ingestion computes them: final attempts by outcome, their
    total, and how many were flaky."""
    finals = [row for row in rows if row["final"]]
    counts = dict(Counter(row["outcome"] for row in finals))
    counts["total"] = len(finals)
    counts["flaky"] = sum(1 for row in finals if row["flaky"])
    return counts


@dataclass
class Seeder:
    """Writes runs and results into one database; ``clock`` is the next run's
    ``created_at``, ``created_at`` remembers each seeded run's."""

    engine: Engine
    clock: datetime = field(default_factory=lambda: datetime.now(UTC) - AGO)
    step: timedelta = timedelta(minutes=1)
    created_at: dict[int, datetime] = field(default_factory=dict)

    @classmethod
    def connect(cls, url: str) -> Seeder:
        return cls(make_engine(url))

    def close(self) -> None:
        self.engine.dispose()

    def run_row(
        self,
        project_id: int,
        *,
        status: str = "passed",
        plan_id: int | None = None,
        counts: dict[str, int] | None = None,
        wall_s: float | None = 1.0,
        triggered_by_id: int | None = None,
    ) -> dict[str, Any]:
        created = self.clock
        self.clock += self.step
        return {
            "project_id": project_id,
            "plan_id": plan_id,
            "title": "seeded run",
            "source": "api",
            "triggered_by_id": triggered_by_id,
            "status": status,
            "workers": "auto",
            "dist": "auto",
            "timeout_s": None,
            "test_timeout_s": None,
            "created_at": created,
            "started_at": created,
            "finished_at": created + timedelta(seconds=wall_s or 0),
            "wall_s": wall_s,
            "counts": counts if counts is not None else {},
        }

    def insert_runs(self, rows: list[dict[str, Any]]) -> list[int]:
        """Insert run rows (from ``run_row``) in one statement; their ids, in order."""
        with Session(self.engine) as session, session.begin():
            ids = session.scalars(
                insert(Run).returning(Run.id, sort_by_parameter_order=True), rows
            ).all()
        self.created_at.update(zip(ids, (row["created_at"] for row in rows), strict=True))
        return list(ids)

    def insert_results(self, rows: Iterable[dict[str, Any]], batch: int = BATCH) -> int:
        """Insert result rows (each with its ``run_id``) in batches; how many."""
        count = 0
        with Session(self.engine) as session, session.begin():
            for chunk in _chunks(rows, batch):
                session.execute(insert(RunResult), chunk)
                count += len(chunk)
        return count

    def run(
        self,
        project_id: int,
        results: list[dict[str, Any]],
        *,
        status: str = "passed",
        plan_id: int | None = None,
        wall_s: float | None = 1.0,
        counts: dict[str, int] | None = None,
        triggered_by_id: int | None = None,
    ) -> int:
        """One finished run with its results (``counts`` computed from them unless
        given); its id."""
        counts = counts_of(results) if counts is None else counts
        row = self.run_row(
            project_id,
            status=status,
            plan_id=plan_id,
            counts=counts,
            wall_s=wall_s,
            triggered_by_id=triggered_by_id,
        )
        (run_id,) = self.insert_runs([row])
        self.insert_results({**r, "run_id": run_id} for r in results)
        return run_id

    def analyze(self) -> None:
        """Refresh the planner's statistics after a bulk load, as autovacuum would."""
        with self.engine.begin() as conn:
            conn.execute(text("ANALYZE"))


def _chunks(rows: Iterable[dict[str, Any]], size: int) -> Iterator[list[dict[str, Any]]]:
    chunk: list[dict[str, Any]] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


#: Failure messages of the synthetic history: numbers and addresses vary between runs.
MESSAGES = (
    "AssertionError: assert {n} == 200",
    "TimeoutError: no answer after {n}.5 s",
    "ValueError: bad state <Session object at 0x{h:x}>",
    "KeyError: 'user_{n}'",
)


@dataclass
class History:
    """What ``seed_history`` made: the runs oldest first, the big run, what each node id
    is like (``stable``, ``flaky``, ``broken``, ``skipped``), how many results."""

    run_ids: list[int]
    big_run_id: int | None
    kinds: dict[str, str]
    results: int
    plan_run_ids: list[int] = field(default_factory=list)


def seed_history(
    seeder: Seeder,
    project_id: int,
    case_ids: list[int],
    *,
    runs: int,
    tests_per_case: int,
    plan_id: int | None = None,
    big_run_tests_per_case: int = 0,
    triggered_by_id: int | None = None,
    seed: int = 1,
) -> History:
    """A realistic history: ``runs`` finished runs, each of every case's
    ``tests_per_case`` tests (every other run of ``plan_id`` when given). 82% of the
    tests always pass, 10% are flaky, 5% broken, 3% skipped (see ``_synthetic``); then,
    when ``big_run_tests_per_case``, one big run of passing tests. All started by
    ``triggered_by_id`` when given. Deterministic for a ``seed``."""
    rng = random.Random(seed)
    nodeids = [
        (f"tests/test_case_{c:03d}.py::test_{t}", case_id)
        for c, case_id in enumerate(case_ids)
        for t in range(tests_per_case)
    ]
    speed = {nodeid: rng.choice((0.01, 0.05, 0.2, 1.0, 3.0)) for nodeid, _ in nodeids}
    kind = {nodeid: _kind(rng) for nodeid, _ in nodeids}
    statuses: list[str] = []
    per_run: list[list[dict[str, Any]]] = []
    for _ in range(runs):
        rows = [
            row
            for nodeid, case_id in nodeids
            for row in _synthetic(rng, nodeid, case_id, speed[nodeid], kind[nodeid])
        ]
        per_run.append(rows)
        statuses.append("failed" if any(r["outcome"] == "failed" for r in rows) else "passed")
    run_rows = [
        seeder.run_row(
            project_id,
            status=status,
            plan_id=plan_id if plan_id is not None and i % 2 == 0 else None,
            counts=counts_of(rows),
            wall_s=round(sum(r["duration_s"] for r in rows), 3),
            triggered_by_id=triggered_by_id,
        )
        for i, (status, rows) in enumerate(zip(statuses, per_run, strict=True))
    ]
    run_ids = seeder.insert_runs(run_rows)
    total = seeder.insert_results(
        {**row, "run_id": run_id}
        for run_id, rows in zip(run_ids, per_run, strict=True)
        for row in rows
    )
    plan_run_ids = [rid for rid, row in zip(run_ids, run_rows, strict=True) if row["plan_id"]]
    big_run_id = None
    if big_run_tests_per_case:
        big = [
            result(f"tests/test_case_{c:03d}.py::test_big_{t}", case_id=case_id, duration_s=0.01)
            for c, case_id in enumerate(case_ids)
            for t in range(big_run_tests_per_case)
        ]
        big_run_id = seeder.run(project_id, big, triggered_by_id=triggered_by_id)
        total += len(big)
    return History(run_ids, big_run_id, kind, total, plan_run_ids)


def _kind(rng: random.Random) -> str:
    """What a synthetic test is like: most are stable, a few flaky, broken or skipped."""
    draw = rng.random()
    if draw < 0.82:
        return "stable"
    if draw < 0.92:
        return "flaky"
    return "broken" if draw < 0.97 else "skipped"


def _synthetic(
    rng: random.Random, nodeid: str, case_id: int, speed: float, kind: str
) -> list[dict[str, Any]]:
    """One test's result rows in one run. A flaky test fails 10% of its runs and passes
    on a retry in another 10%; a broken one always fails, its message varying in numbers
    and addresses."""
    duration = round(speed * rng.uniform(0.5, 1.5), 4)
    if kind == "skipped":
        return [result(nodeid, "skipped", case_id=case_id, duration_s=0.0)]
    draw = rng.random() if kind == "flaky" else 1.0
    if kind == "broken" or draw < 0.1:
        template = rng.choice(MESSAGES)
        message = template.format(n=rng.randrange(1000), h=rng.randrange(2**40))
        return [result(nodeid, "failed", case_id=case_id, duration_s=duration, message=message)]
    if draw < 0.2:
        failed = result(nodeid, "failed", case_id=case_id, duration_s=duration, final=False)
        failed["message"] = "AssertionError: flaky"
        passed = result(nodeid, case_id=case_id, duration_s=duration, attempt=2, flaky=True)
        return [failed, passed]
    return [result(nodeid, case_id=case_id, duration_s=duration)]
