"""The scheduler service: APScheduler with its SQLAlchemy job store in testyard's own
database, kept in line with the plans, active only in the process holding the leader
lock. ``TESTYARD_SCHEDULE_SYNC_S`` sets how often plans changed by another process are
looked for; ``TESTYARD_LEADER_RETRY_S`` how often a standby tries to become leader;
``TESTYARD_MISFIRE_GRACE_S`` how late a fire may still run."""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from apscheduler.executors.base import BaseExecutor
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker

from testyard.config import Settings
from testyard.db.engine import transaction
from testyard.db.models import Plan, PlanWatch
from testyard.scheduling import fires
from testyard.scheduling.leader import LeaderLock, leader_lock
from testyard.scheduling.triggers import TriggerError, TriggerSpec, build_trigger, zone
from testyard.services import watches

log = logging.getLogger(__name__)

FIRE_JOB = "testyard.scheduling.fires:fire_plan"
RETENTION_JOB = "testyard.scheduling.retention:retention_job"
WATCH_JOB = "testyard.scheduling.watching:watch_tick"


class BatchingExecutor(BaseExecutor):  # type: ignore[misc]
    """Runs the due jobs on one thread, a burst at a time: the fires of all the plans
    due together go to ``fires.fire_batch`` (one transaction), other jobs (watch ticks,
    retention) are called one by one. Every job is handed all its due fire times:
    APScheduler's own ``run_job`` calls the function once per time without saying
    which, and with ``coalesce`` drops the earlier ones unrecorded; testyard records
    each. A single thread because several only contend (the GIL, SQLite's one
    writer)."""

    def __init__(
        self, burst_s: float = 0.02, max_batch: int = 500, max_wait_s: float = 0.5
    ) -> None:
        super().__init__()
        self.burst_s = burst_s
        self.max_wait_s = max_wait_s
        self.max_batch = max_batch
        self._queue: queue.SimpleQueue[tuple[Any, list[Any]] | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None

    def start(self, scheduler: Any, alias: str) -> None:
        super().start(scheduler, alias)
        self._thread = threading.Thread(target=self._work, name="scheduler-fires", daemon=True)
        self._thread.start()

    def shutdown(self, wait: bool = True) -> None:
        self._queue.put(None)  # after the jobs already submitted
        if wait and self._thread is not None:
            self._thread.join()

    def _do_submit_job(self, job: Any, run_times: list[Any]) -> None:
        self._queue.put((job, list(run_times)))

    def _work(self) -> None:
        while True:
            first = self._queue.get()
            if first is None:
                return
            # Collect the burst: APScheduler's loop hands over the jobs due together one
            # by one (a job store DELETE each); wait while they keep coming.
            batch = [first]
            stop = False
            deadline = time.monotonic() + self.max_wait_s
            while len(batch) < self.max_batch:
                wait = min(self.burst_s, deadline - time.monotonic())
                try:
                    item = self._queue.get(timeout=wait) if wait > 0 else self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is None:
                    stop = True
                    break
                batch.append(item)
            self._run_batch(batch)
            if stop:
                return

    def _run_batch(self, batch: list[tuple[Any, list[Any]]]) -> None:
        plan_fires = [(job, times) for job, times in batch if job.func_ref == FIRE_JOB]
        others = [(job, times) for job, times in batch if job.func_ref != FIRE_JOB]
        if plan_fires:
            try:
                context = fires.current()
                if context is None:
                    log.warning("%d plans fired with no scheduler context; ignored",
                                len(plan_fires))  # fmt: skip
                else:
                    items = [(job.args[0], sorted(times)) for job, times in plan_fires]
                    fires.fire_batch(context, items, datetime.now(UTC))
            except Exception as exc:
                for job, _ in plan_fires:
                    self._run_job_error(job.id, exc, exc.__traceback__)
            else:
                for job, _ in plan_fires:
                    self._run_job_success(job.id, [])
        for job, times in others:
            try:
                job.func(*job.args, run_times=list(times), **job.kwargs)
            except Exception as exc:
                self._run_job_error(job.id, exc, exc.__traceback__)
            else:
                self._run_job_success(job.id, [])


def job_id(plan_id: int) -> str:
    return f"plan-{plan_id}"


def plan_spec(plan: Plan) -> TriggerSpec:
    return TriggerSpec(plan.trigger_kind, plan.trigger_expression, plan.trigger_seconds,
                       plan.trigger_at, plan.trigger_timezone)  # fmt: skip


def scheduled(plan: Plan) -> bool:
    return plan.enabled and plan.trigger_kind != "none" and plan.mode == "normal"


class SchedulerService:
    def __init__(
        self,
        settings: Settings,
        engine: Engine,
        sessions: sessionmaker[Session],
        on_run_created: Callable[[int], None] = lambda _run_id: None,
    ) -> None:
        self.settings = settings
        self.engine = engine
        self.sessions = sessions
        self.on_run_created = on_run_created
        self.lock: LeaderLock = leader_lock(engine, settings.data_dir.resolve())
        self.scheduler: BackgroundScheduler | None = None
        self._fingerprint: tuple[Any, ...] | None = None
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def is_leader(self) -> bool:
        return self.scheduler is not None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="scheduler", daemon=True)
        self._thread.start()

    def wake(self) -> None:
        """Plans changed in this process: reconcile now."""
        self._fingerprint = None
        self._wake.set()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(15)
        self._resign()

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.run_once()
            except Exception:  # a database hiccup must not end the scheduler
                log.exception("scheduler tick failed; retrying")
            wait = self.settings.schedule_sync_s if self.is_leader else self.settings.leader_retry_s
            self._wake.wait(wait)
            self._wake.clear()

    def run_once(self) -> None:
        """Become leader if possible, stay leader while the lock holds, keep jobs in
        line with the plans."""
        if not self.is_leader:
            if not self.lock.acquire():
                return
            self._lead()
        elif not self.lock.held():
            log.warning("scheduler lost its leader lock; standing by")
            self._resign()
            return
        self.sync()

    def _lead(self) -> None:
        grace = timedelta(seconds=self.settings.misfire_grace_s)
        fires.install(fires.FireContext(
            self.sessions, grace, self.on_run_created, self.settings, self._remove_job
        ))  # fmt: skip
        scheduler = BackgroundScheduler(
            jobstores={"default": SQLAlchemyJobStore(engine=self.engine)},
            executors={"default": BatchingExecutor()},
            job_defaults={"coalesce": False, "misfire_grace_time": None, "max_instances": 1},
            timezone=zone(None),
        )
        scheduler.start()
        self.scheduler = scheduler
        self._fingerprint = None
        self._add_retention()
        log.info("this process is the scheduler leader")

    def _remove_job(self, jid: str) -> None:
        if self.scheduler is not None and self.scheduler.get_job(jid) is not None:
            self.scheduler.remove_job(jid)

    def _resign(self) -> None:
        if self.scheduler is not None:
            self.scheduler.shutdown(wait=False)
            self.scheduler = None
            fires.install(None)
        self.lock.release()

    def _add_retention(self) -> None:
        assert self.scheduler is not None
        trigger = build_trigger(TriggerSpec("cron", self.settings.retention_cron))
        self.scheduler.add_job(RETENTION_JOB, trigger, id="retention", replace_existing=True,
                               max_instances=1, coalesce=True, misfire_grace_time=3600)  # fmt: skip

    def sync(self) -> None:
        """Make the job store match the plans (cheaply skipped when no plan changed).

        Plans are read in a transaction that ends before the job store is touched: the
        job store writes on its own connection, which on SQLite would wait for ours.
        """
        assert self.scheduler is not None
        with transaction(self.sessions) as session:
            fingerprint = (
                *session.execute(select(func.count(Plan.id), func.max(Plan.updated_at))).one(),
                *session.execute(
                    select(func.count(PlanWatch.id), func.max(PlanWatch.id)).where(
                        PlanWatch.status == watches.ACTIVE
                    )
                ).one(),
            )
            if fingerprint == self._fingerprint:
                return
            wanted = {
                job_id(p.id): (p.id, plan_spec(p), p.updated_at.isoformat())
                for p in session.scalars(select(Plan))
                if scheduled(p)
            }
            watching = {f"watch-{wid}": period for wid, period in watches.active_watches(session)}
        for job in self.scheduler.get_jobs():
            stale_plan = job.id.startswith("plan-") and job.id not in wanted
            if stale_plan or (job.id.startswith("watch-") and job.id not in watching):
                job.remove()
        for jid, (plan_id, spec, signature) in wanted.items():
            self._ensure_job(jid, plan_id, spec, signature)
        for jid, period in watching.items():
            if self.scheduler.get_job(jid) is None:
                self.scheduler.add_job(
                    WATCH_JOB, "interval", seconds=period, args=(int(jid[6:]),), id=jid,
                    next_run_time=datetime.now(UTC), coalesce=True,
                )  # fmt: skip
        self._fingerprint = fingerprint

    def _ensure_job(self, jid: str, plan_id: int, spec: TriggerSpec, signature: str) -> None:
        """Add the plan's job, or replace it when the plan changed since (its name
        holds the plan's ``updated_at``); an unchanged job keeps its next fire time."""
        assert self.scheduler is not None
        existing = self.scheduler.get_job(jid)
        if existing is not None and existing.name == signature:
            return
        try:
            trigger = build_trigger(spec)
        except TriggerError:
            return  # a one-off date already past: fired (or missed) before
        if existing is not None:
            existing.remove()
        if trigger is not None:
            self.scheduler.add_job(FIRE_JOB, trigger, args=(plan_id,), id=jid, name=signature)
