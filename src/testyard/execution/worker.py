"""``testyard worker``: a Celery worker that runs shards of runs on this machine.

It needs the database (``TESTYARD_DATABASE_URL``) and Redis (``TESTYARD_REDIS_URL``:
the broker and the event bus) the server uses. It runs one shard at a time, with
pytest-xdist on ``--slots`` processes, and writes a heartbeat row every
``TESTYARD_WORKER_HEARTBEAT_S`` seconds that ``GET /workers`` shows.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time

from celery.signals import worker_ready

from testyard import __version__
from testyard.config import Settings
from testyard.db.engine import make_engine, make_session_factory, transaction
from testyard.events.bus import make_bus
from testyard.events.publisher import RunEvents
from testyard.events.store import store_events
from testyard.execution import shards
from testyard.execution.celery_app import make_celery
from testyard.execution.context import ExecutionContext
from testyard.execution.forkservers import fork_servers
from testyard.execution.shard_driver import ShardDriver
from testyard.execution.warmup import warm_up
from testyard.services import workers

log = logging.getLogger(__name__)


class WorkerRuntime:
    """What the shard task needs in this process: the database, the bus, who we are."""

    def __init__(self, settings: Settings, name: str, slots: int) -> None:
        self.settings = settings
        self.name = name
        self.slots = slots
        engine = make_engine(settings.resolved_database_url)
        self.sessions = make_session_factory(engine)
        self.bus = make_bus(settings.redis_url)
        self.ctx = ExecutionContext(
            settings, self.sessions, RunEvents(self.bus), fork_servers(settings)
        )
        self.current: tuple[int, int] | None = None
        self._stop = threading.Event()
        self._beat_now = threading.Event()

    def run_shard(self, run_id: int, index: int) -> None:
        claim = self._claim(run_id, index)
        if claim is None:
            return
        if claim.delivery > 1:
            message = f"shard {index} runs again on {self.name}: its earlier worker stopped"
            with transaction(self.sessions) as session:
                stored = store_events(session, run_id, [shards.notice(message, "warning")])
            self.ctx.events.publish(run_id, stored)
        self.current = (run_id, index)
        self._beat_now.set()
        try:
            driver = ShardDriver(self.ctx, run_id, index, claim, worker=self.name, slots=self.slots)
            driver.execute()
        finally:
            self.current = None
            self._beat_now.set()

    def _claim(self, run_id: int, index: int) -> shards.Claim | None:
        """Take the shard, unless it is done. While another worker's claim is fresh,
        wait for it to go stale (that worker just died: the broker handed its message
        on) or end; a claim still fresh after twice the stale time belongs to a live
        worker, and this copy of the message is dropped (the server sends the shard
        again should that worker die later: ``ShardWatch._lost``)."""
        stale = shards.shard_stale_after(self.settings.worker_heartbeat_s)
        deadline = time.monotonic() + 2 * stale.total_seconds()
        while True:
            with transaction(self.sessions) as session:
                got = shards.claim(session, run_id, index, self.name, stale)
            if isinstance(got, shards.Claim):
                return got
            if got == shards.DONE or time.monotonic() > deadline:
                log.info("run %s shard %s: %s, nothing to do", run_id, index, got)
                return None
            time.sleep(self.settings.worker_heartbeat_s)

    def heartbeat_forever(self) -> None:
        while not self._stop.is_set():
            try:
                self._beat()
            except Exception:  # the database may be restarting: beat again later
                log.warning("worker heartbeat failed", exc_info=True)
            self._beat_now.wait(self.settings.worker_heartbeat_s)
            self._beat_now.clear()

    def _beat(self, stopped: bool = False) -> None:
        with transaction(self.sessions) as session:
            workers.beat(
                session,
                self.name,
                host=socket.gethostname(),
                pid=os.getpid(),
                slots=self.slots,
                version=__version__,
                current=self.current,
                stopped=stopped,
            )

    def close(self) -> None:
        self._stop.set()
        self._beat_now.set()
        try:
            self._beat(stopped=True)
        finally:
            if self.ctx.forkservers is not None:
                self.ctx.forkservers.close()
            self.bus.close()


def run_worker(
    settings: Settings, *, name: str | None, slots: int | None, concurrency: int
) -> None:
    """Run the Celery worker until it is stopped (Ctrl-C / SIGTERM: the running shard
    finishes first)."""
    name = name or f"{socket.gethostname()}-{os.getpid()}"
    runtime = WorkerRuntime(settings, name, slots or os.cpu_count() or 1)
    warm_up(settings)
    app = make_celery(settings, runtime.run_shard)
    beats = threading.Thread(target=runtime.heartbeat_forever, name="heartbeat", daemon=True)

    def consuming(**_: object) -> None:
        """Report only once Celery consumes: a live worker takes a shard at once."""
        beats.start()

    worker_ready.connect(consuming, weak=False)

    try:
        app.worker_main(
            [
                "worker",
                f"--hostname=testyard-{name}@{socket.gethostname()}",
                "--pool=threads",
                f"--concurrency={concurrency}",
                f"--queues={settings.celery_queue}",
                f"--loglevel={settings.log_level.upper()}",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
            ]
        )
    finally:
        runtime.close()
