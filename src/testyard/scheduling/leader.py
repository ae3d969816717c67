"""Only one scheduler is active: the process that holds the leader lock.

PostgreSQL: a session advisory lock on a connection kept open for it (the server
releases it when the holder dies). SQLite: an exclusive file lock beside the database.
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Protocol

from filelock import FileLock, Timeout
from sqlalchemy import Connection, Engine, text

#: "testyard" in ASCII: the advisory lock key of the scheduler.
LOCK_KEY = 0x7465737479617264


class LeaderLock(Protocol):
    def acquire(self) -> bool: ...
    def held(self) -> bool: ...
    def release(self) -> None: ...


class AdvisoryLock:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.connection: Connection | None = None

    def acquire(self) -> bool:
        try:
            connection = self.engine.connect()
            got = connection.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": LOCK_KEY})
            if got.scalar():
                connection.commit()
                self.connection = connection
                return True
            connection.close()
        except Exception:  # database away: not the leader now, try again later
            return False
        return False

    def held(self) -> bool:
        """Still ours? A database restart ends the session and with it the lock."""
        if self.connection is None:
            return False
        try:
            self.connection.execute(text("SELECT 1"))
            self.connection.commit()
            return True
        except Exception:
            self.release()
            return False

    def release(self) -> None:
        if self.connection is not None:
            # Invalidate first: a connection broken by a restart must be closed for
            # good, not handed back to the pool.
            with contextlib.suppress(Exception):
                self.connection.invalidate()
            with contextlib.suppress(Exception):
                self.connection.close()
            self.connection = None


class FileLeaderLock:
    def __init__(self, path: Path) -> None:
        self.lock = FileLock(str(path))

    def acquire(self) -> bool:
        try:
            self.lock.acquire(timeout=0)
            return True
        except Timeout:
            return False

    def held(self) -> bool:
        return bool(self.lock.is_locked)

    def release(self) -> None:
        self.lock.release(force=True)


def leader_lock(engine: Engine, data_dir: Path) -> LeaderLock:
    if engine.dialect.name == "postgresql":
        return AdvisoryLock(engine)
    return FileLeaderLock(data_dir / "scheduler.lock")
