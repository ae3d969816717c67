"""What a run report shows, read from the database.

The head (the run, its counts, its snapshot) is read in one transaction, which also
notes the run's latest result id: every list of results is cut there, so the counts
and the lists agree even while a running run adds results. The lists are read page
by page (keyset on the result id), each page in its own short transaction: on SQLite
every transaction holds the write lock, and a report of 10,000 results must not keep
the run's own driver from storing the next one. Every text is masked again with the
run's secret values (the pytest plugin masked them already; a report is a download).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session, sessionmaker

from testyard.db.engine import transaction
from testyard.db.models import Plan, Project, Run, RunResult
from testyard.execution.ingest import final_counts
from testyard.execution.process import Masker

PAGE = 500
FAILED = ("failed", "error")
#: In the order the summary shows them.
OUTCOMES = ("passed", "failed", "error", "skipped", "xfailed", "xpassed", "pending")
TEXTS = ("message", "longrepr", "stdout", "stderr", "log")


@dataclass(frozen=True)
class Head:
    """Everything above the results: the run, who and what started it, its counts."""

    run_id: int
    title: str
    project: str
    plan: str | None
    source: str
    triggered_by: str | None
    environment: str | None
    status: str
    settings: dict[str, Any]
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    wall_s: float | None
    collected: int | None
    exit_code: int | None
    error: str | None
    rerun_of: int | None
    failed_only: bool
    counts: dict[str, int]
    #: The results the report lists are those with an id up to this one.
    last_result_id: int
    snapshot: dict[str, Any] = field(repr=False)

    @property
    def running(self) -> bool:
        return self.status in ("queued", "running")


@dataclass(frozen=True)
class Row:
    """One result as a report shows it; texts masked."""

    id: int
    nodeid: str
    outcome: str
    attempt: int
    final: bool
    flaky: bool
    worker: str
    duration_s: float
    message: str = ""
    longrepr: str = ""
    stdout: str = ""
    stderr: str = ""
    log: str = ""


class RunReport:
    """One run's report data: ``head``, then the result lists as iterators (each read
    lazily, page by page, when the template reaches it)."""

    def __init__(self, sessions: sessionmaker[Session], run_id: int) -> None:
        self.sessions = sessions
        with transaction(sessions) as session:
            self.head = read_head(session, run_id)
        self.mask = Masker(list(self.head.snapshot.get("secrets", {}).values()))

    def failures(self) -> Iterator[Row]:
        """The final attempts that failed or errored, with their texts."""
        where = [RunResult.final.is_(True), RunResult.outcome.in_(FAILED)]
        return self._rows(where, with_texts=True)

    def retried(self) -> Iterator[Row]:
        """Attempts that were retried (not final), with their texts."""
        return self._rows([RunResult.final.is_(False)], with_texts=True)

    def tests(self) -> Iterator[Row]:
        """Every final attempt, without texts, in the order they were reported."""
        return self._rows([RunResult.final.is_(True)], with_texts=False)

    def _rows(self, where: Sequence[ColumnElement[bool]], *, with_texts: bool) -> Iterator[Row]:
        columns = [
            RunResult.id,
            RunResult.nodeid,
            RunResult.outcome,
            RunResult.attempt,
            RunResult.final,
            RunResult.flaky,
            RunResult.worker,
            RunResult.duration_s,
        ]
        if with_texts:
            columns += [getattr(RunResult, name) for name in TEXTS]
        query = select(*columns).where(
            RunResult.run_id == self.head.run_id,
            RunResult.id <= self.head.last_result_id,
            *where,
        )
        after = 0
        while True:
            with transaction(self.sessions) as session:
                page = session.execute(
                    query.where(RunResult.id > after).order_by(RunResult.id).limit(PAGE)
                ).all()
            for found in page:
                yield self._row(found._asdict())
            if len(page) < PAGE:
                return
            after = page[-1].id

    def _row(self, values: dict[str, Any]) -> Row:
        for name in ("nodeid", "worker", *TEXTS):
            if name in values:
                values[name] = self.mask(values[name] or "")
        return Row(**values)


def read_head(session: Session, run_id: int) -> Head:
    run = session.get_one(Run, run_id)
    project = session.get_one(Project, run.project_id)
    plan = session.get(Plan, run.plan_id) if run.plan_id is not None else None
    last = session.scalar(select(func.max(RunResult.id)).where(RunResult.run_id == run_id))
    mask = Masker(list(run.snapshot.get("secrets", {}).values()))
    return Head(
        run_id=run.id,
        title=run.title,
        project=project.name,
        plan=plan.name if plan else None,
        source=run.source,
        triggered_by=run.triggered_by.username if run.triggered_by else None,
        environment=run.environment,
        status=run.status,
        settings={
            "workers": run.workers,
            "dist": run.dist,
            "retries": run.retries,
            "timeout_s": run.timeout_s,
            "test_timeout_s": run.test_timeout_s,
        },
        created_at=run.created_at,
        started_at=run.started_at,
        finished_at=run.finished_at,
        wall_s=run.wall_s,
        collected=run.collected,
        exit_code=run.exit_code,
        error=mask(run.error) if run.error else None,
        rerun_of=run.snapshot.get("rerun_of"),
        failed_only=bool(run.snapshot.get("failed_only")),
        counts=final_counts(session, run_id),
        last_result_id=last or 0,
        snapshot=run.snapshot,
    )
