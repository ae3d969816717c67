"""The event stream: one JSON object per line, secrets masked, big text fields capped.

`EventStream.emit` is the only way an event leaves the pytest process. Every string in
an event first has the values of the environment variables named in
``TESTYARD_MASK_NAMES`` replaced by ``********``; then the text fields listed in
`CAPPED_FIELDS` are cut to `CAP_BYTES` (masking first, so a cut never leaks part of a
secret).
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import time
from collections.abc import Mapping
from typing import Any

MASK_NAMES_ENV = "TESTYARD_MASK_NAMES"
MASK = "********"
MIN_SECRET_LENGTH = 3
CAP_BYTES = 64 * 1024
CAPPED_FIELDS = ("longrepr", "stdout", "stderr", "log")


def secrets_from_env(environ: Mapping[str, str]) -> list[str]:
    """The values to mask: those of the variables named in ``TESTYARD_MASK_NAMES``.

    Empty values and values shorter than three characters are left alone (masking
    "1" would garble every number). Longest first, so a secret containing another
    one is masked whole.
    """
    names = (name.strip() for name in environ.get(MASK_NAMES_ENV, "").split(","))
    values = {environ.get(name, "") for name in names if name}
    return sorted((v for v in values if len(v) >= MIN_SECRET_LENGTH), key=len, reverse=True)


def mask(value: Any, secrets: list[str]) -> Any:
    """Return `value` with every secret replaced in all strings, however deeply nested."""
    if isinstance(value, str):
        for secret in secrets:
            if secret in value:
                value = value.replace(secret, MASK)
        return value
    if isinstance(value, dict):
        return {key: mask(item, secrets) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [mask(item, secrets) for item in value]
    return value


def cap(text: str, limit: int = CAP_BYTES) -> str:
    """Keep the first `limit` bytes (UTF-8) of `text`, and say how many were dropped."""
    data = text.encode("utf-8", "replace")
    if len(data) <= limit:
        return text
    kept = data[:limit].decode("utf-8", "ignore")
    return f"{kept}\n[... truncated {len(data) - limit} bytes]"


class EventStream:
    """Appends events to a file or an inherited pipe (``/dev/fd/N``), one line each.

    A write error (the reader went away) stops the stream with one line on stderr
    instead of failing the test run.
    """

    def __init__(self, path: str, secrets: list[str]) -> None:
        self._secrets = secrets
        self._file = _open(path)
        self._broken = False

    def emit(self, event: str, **fields: Any) -> None:
        if self._broken:
            return
        record = mask({"event": event, "ts": time.time(), **fields}, self._secrets)
        for name in CAPPED_FIELDS:
            if isinstance(record.get(name), str):
                record[name] = cap(record[name])
        line = json.dumps(record, default=str)
        try:
            self._file.write(line + "\n")
            self._file.flush()
        except OSError as exc:
            self._broken = True
            print(f"testyard: event stream closed, no more events: {exc}", file=sys.stderr)

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self._file.close()


def _open(path: str) -> Any:
    # An inherited pipe is used through a duplicate of its descriptor: reopening
    # /dev/fd/N goes through the pipe's permissions, which a process that dropped
    # to another user no longer has.
    if path.startswith("/dev/fd/") and path[8:].isdigit():
        return os.fdopen(os.dup(int(path[8:])), "a", buffering=1, encoding="utf-8")
    return open(path, "a", buffering=1, encoding="utf-8")


def open_stream(path: str) -> EventStream:
    return EventStream(path, secrets_from_env(os.environ))
