"""Logging setup: tokens never reach a log line.

WebSocket clients may pass their bearer token as ``?token=``, which the server's
access and connection logs would print with the path.
"""

from __future__ import annotations

import logging
import re

TOKEN_IN_TEXT = re.compile(r"(token=)[^&\s\"']+", re.IGNORECASE)
SERVER_LOGGERS = ("uvicorn", "uvicorn.access", "uvicorn.error", "testyard")


class RedactTokens(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = TOKEN_IN_TEXT.sub(r"\1[redacted]", message)
        if redacted != message:
            record.msg, record.args = redacted, ()
        return True


def redact_tokens() -> None:
    """Add the filter to the server's loggers and their handlers."""
    redact = RedactTokens()
    for name in SERVER_LOGGERS:
        logger = logging.getLogger(name)
        logger.addFilter(redact)
        for handler in logger.handlers:
            handler.addFilter(redact)
