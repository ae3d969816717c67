"""Runs: creating one with its frozen snapshot, and every change of its status.

A run's status changes only through ``set_run_status``, which locks the row and checks
the transition: the executor, the cancel route, recovery on start and the tests all
use it, so a finished run can never be revived and a cancelled one never "passes".
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, lazyload

from testyard.db.models import Case, FixtureModule, Plan, Project, Run, RunResult, User
from testyard.events.store import done_message, run_message, store_events
from testyard.services import channels
from testyard.services import plans as plans_service
from testyard.services.cases import query_cases
from testyard.services.environments import find_environment, list_variables
from testyard.services.errors import BadRequest, Conflict, Invalid, not_found

QUEUED, RUNNING = "queued", "running"
FINISHED = frozenset({"passed", "failed", "error", "cancelled", "timed_out", "interrupted"})
TRANSITIONS: dict[str, frozenset[str]] = {
    QUEUED: frozenset({RUNNING, "cancelled", "error"}),
    RUNNING: FINISHED,
}
SOURCES = frozenset({"manual", "api", "cli", "schedule", "watch"})
#: The outcomes a "re-run failed only" runs again.
RERUN_OUTCOMES = ("failed", "error")


class InvalidTransition(Conflict):
    code = "invalid_transition"


def create_run(
    session: Session,
    project: Project,
    user: User | None,
    *,
    case_ids: list[int] | None = None,
    plan_id: int | None = None,
    tags: list[str] | None = None,
    environment: str | None = None,
    source: str = "api",
    overrides: dict[str, Any] | None = None,
    dedupe_key: str | None = None,
) -> Run:
    """Queue a run of a plan, of cases, or of the cases with ``tags``, freezing a
    snapshot of their code, the project's fixture modules and the environment's
    variables as they are now."""
    if source not in SOURCES:
        raise Invalid(f"unknown source {source!r}", field="source")
    plan = plans_service.get_plan(session, project, plan_id) if plan_id is not None else None
    cases = _select_cases(session, project, plan, case_ids, tags)
    settings = _run_settings(plan, overrides or {})
    env_name = environment or (plan.environment.name if plan and plan.environment else None)
    run = Run(
        project_id=project.id,
        plan_id=plan.id if plan else None,
        title=plan.name if plan else _title(cases),
        source=source,
        triggered_by_id=user.id if user else None,
        environment=env_name,
        status=QUEUED,
        case_ids=[c.id for c in cases],
        snapshot=snapshot(session, project, cases, env_name),
        dedupe_key=dedupe_key,
        **settings,
    )
    session.add(run)
    session.flush()
    store_events(session, run.id, [run_message(run)])
    return run


def rerun(session: Session, original: Run, user: User | None, *, failed_only: bool) -> Run:
    """Queue the original run again: its cases (as they are now), plan, environment and
    settings, started by ``user``. With ``failed_only`` the snapshot's ``nodeids`` hold
    the node ids that ended failed or error, and only those run."""
    project = session.get_one(Project, original.project_id)
    case_ids = list(original.case_ids)
    nodeids: list[str] | None = None
    if failed_only:
        case_ids, nodeids = _failed_nodeids(session, original)
    cases = _select_cases(session, project, None, case_ids, None)
    if nodeids is not None:
        nodeids = _moved_nodeids(nodeids, original, cases)
    frozen = snapshot(session, project, cases, original.environment)
    frozen["rerun_of"] = original.id
    if nodeids is not None:
        frozen.update(failed_only=True, nodeids=nodeids)
    plan = session.get(Plan, original.plan_id) if original.plan_id is not None else None
    run = Run(
        project_id=project.id,
        plan_id=plan.id if plan else None,
        title=original.title,
        source="manual",
        triggered_by_id=user.id if user else None,
        environment=original.environment,
        status=QUEUED,
        case_ids=[c.id for c in cases],
        snapshot=frozen,
        workers=original.workers,
        dist=original.dist,
        retries=original.retries,
        timeout_s=original.timeout_s,
        test_timeout_s=original.test_timeout_s,
    )
    session.add(run)
    session.flush()
    store_events(session, run.id, [run_message(run)])
    return run


def _failed_nodeids(session: Session, original: Run) -> tuple[list[int], list[str]]:
    """The cases and node ids (in the order they ran) whose final attempt failed."""
    rows = session.execute(
        select(RunResult.case_id, RunResult.nodeid)
        .where(
            RunResult.run_id == original.id,
            RunResult.final.is_(True),
            RunResult.outcome.in_(RERUN_OUTCOMES),
            RunResult.case_id.is_not(None),
        )
        .order_by(RunResult.id)
    ).all()
    if not rows:
        raise BadRequest(
            f"run {original.id} has no failed or errored tests to re-run", field="failed_only"
        )
    case_ids = list(dict.fromkeys(case_id for case_id, _ in rows if case_id is not None))
    return case_ids, list(dict.fromkeys(nodeid for _, nodeid in rows))


def _moved_nodeids(nodeids: list[str], original: Run, cases: list[Case]) -> list[str]:
    """Node ids under the cases' current paths (a case may have moved since)."""
    was = {c["path"]: c["id"] for c in original.snapshot.get("cases", [])}
    now = {c.id: c.path for c in cases}
    moved = []
    for nodeid in nodeids:
        path, sep, rest = nodeid.partition("::")
        case_id = was.get(path)
        current = now.get(case_id) if case_id is not None else None
        moved.append(f"{current}{sep}{rest}" if current else nodeid)
    return moved


def _select_cases(
    session: Session,
    project: Project,
    plan: Plan | None,
    case_ids: list[int] | None,
    tags: list[str] | None,
) -> list[Case]:
    chosen = sum(x is not None for x in (plan, case_ids, tags))
    if chosen != 1:
        raise Invalid("give exactly one of case_ids, plan_id or tags", field="case_ids")
    if plan is not None:
        case_ids = plans_service.case_ids(plan)
        if not case_ids:
            raise Invalid(f"plan {plan.name!r} has no cases", field="plan_id")
    if tags is not None:
        found: dict[int, Case] = {}
        for tag in tags:
            for case in session.scalars(query_cases(project, tag=tag)):
                found.setdefault(case.id, case)
        if not found:
            raise Invalid(f"no case has the tags {tags}", field="tags")
        return sorted(found.values(), key=lambda c: c.path)
    assert case_ids is not None
    if not case_ids:
        raise Invalid("no cases to run", field="case_ids")
    rows = {
        c.id: c
        for c in session.scalars(
            select(Case).where(Case.project_id == project.id, Case.id.in_(case_ids))
        )
    }
    missing = [cid for cid in case_ids if cid not in rows]
    if missing:
        raise Invalid(f"unknown case ids {missing}", field="case_ids")
    return [rows[cid] for cid in dict.fromkeys(case_ids)]


def _run_settings(plan: Plan | None, overrides: dict[str, Any]) -> dict[str, Any]:
    base: dict[str, Any] = {
        "workers": plan.workers if plan else "auto",
        "dist": plan.dist if plan else "auto",
        "retries": plan.retries if plan else 0,
        "timeout_s": plan.timeout_s if plan else None,
        "test_timeout_s": None,
    }
    for key, value in overrides.items():
        if key in base and value is not None:
            base[key] = str(value) if key == "workers" else value
    return base


def _title(cases: list[Case]) -> str:
    if len(cases) == 1:
        return cases[0].name
    return f"{cases[0].name} and {len(cases) - 1} more"


def snapshot(
    session: Session, project: Project, cases: list[Case], env_name: str | None
) -> dict[str, Any]:
    """Everything a run needs, frozen: later edits never change what it runs."""
    fixtures = session.scalars(
        select(FixtureModule).where(FixtureModule.project_id == project.id)
    ).all()
    variables: dict[str, str] = {}
    secrets: dict[str, str] = {}
    if env_name:
        env = find_environment(session, project, env_name)
        for var in list_variables(session, env):
            (secrets if var.secret else variables)[var.name] = var.value
    return {
        "fixtures": [{"path": f.path, "code": f.code, "name": f.name} for f in fixtures],
        "cases": [{"id": c.id, "path": c.path, "code": c.code, "name": c.name} for c in cases],
        "variables": variables,
        "secrets": secrets,
        "requirements": project.requirements,
        "pytest_options": dict(project.pytest_options or {}),
        "allure": bool(project.allure),
    }


def get_run(session: Session, run_id: int) -> Run:
    run = session.get(Run, run_id)
    if run is None:
        raise not_found("run", run_id)
    return run


def set_run_status(session: Session, run_id: int, status: str, **fields: Any) -> Run:
    """Move the run to ``status`` (row locked), setting ``fields`` with it.

    Raises InvalidTransition when the run is not in a state that allows it, e.g. a
    run cancelled while its result was being written. A run that finishes queues its
    plan's notifications here, in the same transaction (``channels.queue_for_run``).
    """
    locked = (
        select(Run)
        .where(Run.id == run_id)
        .options(lazyload(Run.triggered_by))  # no outer join: PostgreSQL cannot lock one
        .with_for_update(of=Run, key_share=True)  # FOR NO KEY UPDATE: see shards.lock_run
        .execution_options(populate_existing=True)
    )
    run = session.scalars(locked).one_or_none()
    if run is None:
        raise not_found("run", run_id)
    if status not in TRANSITIONS.get(run.status, frozenset()):
        raise InvalidTransition(f"run {run_id} is {run.status}; it cannot become {status}")
    now = datetime.now(UTC)
    run.status = status
    if status == RUNNING:
        run.started_at = now
    if status in FINISHED:
        run.finished_at = now
        if run.started_at is not None:
            run.wall_s = (now - run.started_at).total_seconds()
    for key, value in fields.items():
        setattr(run, key, value)
    session.flush()
    if status in FINISHED:
        # In this transaction: a run never finishes without its notifications queued.
        channels.queue_for_run(session, run)
    return run


def interrupt_running(session: Session) -> list[int]:
    """On start: runs left ``running`` by a stopped server end ``interrupted``; their
    received results stay. Queued runs stay queued and will run."""
    running = (Run.status == RUNNING, Run.executor == "local")  # workers' runs go on
    ids = list(session.scalars(select(Run.id).where(*running)))
    for run_id in ids:
        run = set_run_status(
            session, run_id, "interrupted", error="the server stopped during the run"
        )
        store_events(session, run_id, [done_message(run)])
    return ids


def queued_run_ids(session: Session, limit: int) -> list[int]:
    return list(
        session.scalars(select(Run.id).where(Run.status == QUEUED).order_by(Run.id).limit(limit))
    )


def finish_run(session: Session, run_id: int, status: str, **fields: Any) -> tuple[Run, bool]:
    """End a running run; if it already ended (cancelled meanwhile), keep that status
    and only record what was measured. Answers the run and whether it changed status."""
    run = get_run(session, run_id)
    if run.status in FINISHED:
        for key in ("counts", "exit_code", "collected"):
            if key in fields:
                setattr(run, key, fields[key])
        session.flush()
        return run, False
    return set_run_status(session, run_id, status, **fields), True
