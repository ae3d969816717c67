"""Secrets at rest: variable values, the secrets a run froze, channel secrets.

Values are sealed with Fernet (AES-128-CBC with HMAC-SHA256, from ``cryptography``)
under the server's key: derived from ``TESTYARD_SECRET_KEY`` when set, else generated
once into the data directory (``secret.key``, mode 0600). Several servers on one
database must share the key: set ``TESTYARD_SECRET_KEY`` on each.

Sealing happens in the column types below, so no service handles ciphertext. Sealed
text starts with ``ty1:``; text without it was stored before encryption and is read
as it is (migration 0010 sealed what was stored before).
"""

from __future__ import annotations

import base64
import logging
import os
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy import JSON, Text
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

from testyard.config import Settings

log = logging.getLogger(__name__)
PREFIX = "ty1:"
KEY_FILE = "secret.key"
_fernet: Fernet | None = None


class WrongSecretKey(RuntimeError):
    """A value was sealed under another key than this server's."""


def configure(settings: Settings) -> None:
    """Use this server's key from now on (called on start by every entry point)."""
    global _fernet
    _fernet = Fernet(server_key(settings))


def server_key(settings: Settings) -> bytes:
    if settings.secret_key:
        derived = HKDF(
            algorithm=hashes.SHA256(), length=32, salt=None, info=b"testyard secrets v1"
        ).derive(settings.secret_key.encode())
        return base64.urlsafe_b64encode(derived)
    return _key_file(settings.ensure_data_dir() / KEY_FILE)


def _key_file(path: Path) -> bytes:
    """The generated key, created once with mode 0600 (never readable by others)."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        if path.stat().st_mode & 0o077:
            log.warning("%s is readable by other users: chmod 600 it", path)
        return path.read_bytes().strip()
    with os.fdopen(fd, "wb") as out:
        key = Fernet.generate_key()
        out.write(key)
    log.info("generated the key for secrets at rest in %s", path)
    return key


def _box() -> Fernet:
    if _fernet is None:
        configure(Settings())
    assert _fernet is not None
    return _fernet


def seal(plain: str) -> str:
    return PREFIX + _box().encrypt(plain.encode()).decode()


def unseal(text: str) -> str:
    if not text.startswith(PREFIX):
        return text
    try:
        return _box().decrypt(text[len(PREFIX) :].encode()).decode()
    except InvalidToken:
        raise WrongSecretKey(
            "a secret was sealed under another key: give every server the same "
            "TESTYARD_SECRET_KEY (or the same data directory's secret.key)"
        ) from None


class SealedText(TypeDecorator[str]):
    """Text stored sealed, read in the clear."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: str | None, dialect: Dialect) -> str | None:
        return None if value is None else seal(value)

    def process_result_value(self, value: str | None, dialect: Dialect) -> str | None:
        return None if value is None else unseal(value)


class SealedSecretsJSON(TypeDecorator[dict[str, Any]]):
    """A JSON object whose ``"secrets"`` member (name → value) is stored sealed: a run's
    snapshot keeps the code in the clear and the secret values it ran with sealed."""

    impl = JSON
    cache_ok = True

    def process_bind_param(
        self, value: dict[str, Any] | None, dialect: Dialect
    ) -> dict[str, Any] | None:
        if not value or not value.get("secrets"):
            return value
        return {**value, "secrets": {k: seal(v) for k, v in value["secrets"].items()}}

    def process_result_value(
        self, value: dict[str, Any] | None, dialect: Dialect
    ) -> dict[str, Any] | None:
        if not value or not value.get("secrets"):
            return value
        return {**value, "secrets": {k: unseal(v) for k, v in value["secrets"].items()}}
