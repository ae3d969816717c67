"""testyard's settings: one class, read from ``TESTYARD_*`` environment variables."""

from __future__ import annotations

import os
import sys
import tempfile
from functools import cached_property
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Every knob of testyard; the environment variable is the field name in upper case
    with the ``TESTYARD_`` prefix (``data_dir`` -> ``TESTYARD_DATA_DIR``)."""

    model_config = SettingsConfigDict(env_prefix="TESTYARD_", extra="ignore")

    data_dir: Path = Path("testyard-data")
    database_url: str | None = None
    redis_url: str | None = None
    #: local: runs execute in this process; celery: on `testyard worker` processes;
    #: none: this process only answers the API.
    executor: Literal["local", "celery", "none"] = "local"
    secret_key: str | None = None
    admin_password: str | None = None
    host: str = "127.0.0.1"
    port: int = 8000
    max_body_bytes: int = Field(default=1024 * 1024, ge=1024)
    #: API requests served at once (api/concurrency.py); more wait their turn.
    max_concurrent_requests: int = Field(default=16, ge=1, le=35)
    session_token_hours: int = Field(default=24 * 7, ge=1)
    # Login throttling: see services/login_throttle.py.
    login_max_failures: int = Field(default=5, ge=1)
    login_max_failures_per_address: int = Field(default=50, ge=1)
    login_lockout_s: int = Field(default=15 * 60, ge=1)
    sqlite_busy_timeout_ms: int = 30_000
    #: Live events one run-stream socket may hold unsent; past it the socket catches up
    #: from the store instead (api/ws.py), so a slow client never grows memory.
    ws_queue_limit: int = Field(default=1000, ge=10)
    #: A run-stream client that takes no batch of events for this long is closed with
    #: 1013 (it reconnects with ``?after=SEQ``).
    ws_send_timeout_s: float = Field(default=30.0, gt=0)
    log_level: str = "info"

    # The command line as a client of a running server (`testyard run`).
    url: str = "http://127.0.0.1:8000"
    token: str | None = None

    # Scheduling: see docs/architecture.md, "Schedules".
    scheduler: bool = True
    misfire_grace_s: int = Field(default=300, ge=0)
    schedule_sync_s: float = Field(default=1.0, gt=0)
    leader_retry_s: float = Field(default=10.0, gt=0)
    retention_cron: str = "0 0 * * 1"
    retention_fires_days: int = Field(default=7, ge=1)
    retention_runs_days: int = Field(default=90, ge=1)
    retention_keep_runs: int = Field(default=50, ge=0)

    # Execution: see docs/architecture.md, "Running a run".
    max_concurrent_runs: int = Field(default_factory=lambda: os.cpu_count() or 1, ge=1)
    work_dir: Path | None = None
    #: The built web UI; the one inside the package unless set (a UI developer's build).
    webui_dir: Path | None = None
    run_as_user: str | None = None
    #: The interpreter run environments are built from; with a run-as user it must be
    #: usable by that user (e.g. /usr/bin/python3), not one under root's home.
    run_python: Path = Path(sys.executable)
    run_memory_mb: int = Field(default=4096, ge=64)
    run_cpu_s: int = Field(default=3600, ge=1)
    run_open_files: int = Field(default=4096, ge=64)
    output_cap_bytes: int = Field(default=10 * 1024 * 1024, ge=1024)
    test_timeout_s: int = Field(default=300, ge=1)
    run_timeout_s: int = Field(default=6 * 3600, ge=1)
    dispatch_interval_s: float = Field(default=0.5, gt=0)
    #: Fork each run's pytest processes from a warm interpreter that has pytest and the
    #: plugins imported (execution/forkservers.py), instead of starting each afresh.
    fork_server: bool = True

    # Scale-out (TESTYARD_EXECUTOR=celery): see docs/architecture.md, "Celery workers".
    #: The Celery broker; TESTYARD_REDIS_URL unless set.
    celery_broker_url: str | None = None
    celery_queue: str = "testyard"
    #: How long a shard's message may stay unacknowledged before the broker hands it
    #: to another worker: must exceed the longest run (run_timeout_s + 10 min unless set).
    celery_visibility_timeout_s: int | None = Field(default=None, ge=1)
    #: How often a worker looks for messages whose worker died (visibility timeout passed).
    celery_restore_interval_s: float = Field(default=10.0, gt=0)
    #: Workers and their shards report every this many seconds; three missed reports
    #: and they count as gone. Use the same value on the server and the workers.
    worker_heartbeat_s: float = Field(default=5.0, gt=0)

    # Notifications: see docs/architecture.md, "Notifications".
    #: Where users reach this server: the links in notifications start with it.
    public_url: str = "http://127.0.0.1:8000"
    #: Whether this process sends notifications (any number of processes may).
    notify_send: bool = True
    notify_interval_s: float = Field(default=1.0, gt=0)
    notify_timeout_s: float = Field(default=10.0, gt=0)
    notify_retry_s: float = Field(default=30.0, gt=0)
    notify_retry_max_s: float = Field(default=3600.0, gt=0)
    notify_max_attempts: int = Field(default=8, ge=1)
    notify_concurrency: int = Field(default=4, ge=1)

    @cached_property
    def resolved_database_url(self) -> str:
        """The configured URL, or SQLite in the data directory (the embedded default)."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'testyard.db').resolve()}"

    @cached_property
    def resolved_work_dir(self) -> Path:
        """Workspaces and cached Python environments: outside the data directory, so a
        run-as user can use them without reading testyard's own data."""
        if self.work_dir is not None:
            return self.work_dir.resolve()
        return Path(tempfile.gettempdir()) / f"testyard-work-{os.getuid()}"

    @property
    def broker_url(self) -> str:
        url = self.celery_broker_url or self.redis_url
        if not url:
            raise ValueError(
                "the celery executor needs a broker: set TESTYARD_REDIS_URL "
                "(or TESTYARD_CELERY_BROKER_URL)"
            )
        return url

    @property
    def visibility_timeout_s(self) -> int:
        return self.celery_visibility_timeout_s or self.run_timeout_s + 600

    @property
    def artifacts_dir(self) -> Path:
        return self.data_dir.resolve() / "artifacts"

    def ensure_data_dir(self) -> Path:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        os.chmod(self.data_dir, 0o700)
        return self.data_dir
