"""testyard's settings: one class, read from ``TESTYARD_*`` environment variables."""

from __future__ import annotations

import os
from functools import cached_property
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Every knob of testyard; the environment variable is the field name in upper case
    with the ``TESTYARD_`` prefix (``data_dir`` -> ``TESTYARD_DATA_DIR``)."""

    model_config = SettingsConfigDict(env_prefix="TESTYARD_", extra="ignore")

    data_dir: Path = Path("testyard-data")
    database_url: str | None = None
    redis_url: str | None = None
    executor: str = "local"
    secret_key: str | None = None
    admin_password: str | None = None
    host: str = "127.0.0.1"
    port: int = 8000
    max_body_bytes: int = Field(default=1024 * 1024, ge=1024)
    session_token_hours: int = Field(default=24 * 7, ge=1)
    sqlite_busy_timeout_ms: int = 30_000
    log_level: str = "info"

    @cached_property
    def resolved_database_url(self) -> str:
        """The configured URL, or SQLite in the data directory (the embedded default)."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'testyard.db').resolve()}"

    def ensure_data_dir(self) -> Path:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        os.chmod(self.data_dir, 0o700)
        return self.data_dir
