"""Validation of the names users type: display names and identifiers."""

from __future__ import annotations

import keyword
import re
import unicodedata

from testyard.services.errors import Invalid

MAX_NAME = 100
IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
ENV_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}$")
#: Format characters that text needs: the zero-width joiner and non-joiner (emoji
#: sequences such as 👩‍💻, Indic and Persian scripts). Every other format character
#: (bidi overrides and isolates above all) is refused as a control character.
JOINERS = frozenset("\u200c\u200d")


def display_name(value: str, *, field: str = "name", max_length: int = MAX_NAME) -> str:
    """A human-readable name: any script, trimmed, no control characters."""
    value = value.strip()
    if not value:
        raise Invalid(f"{field} must not be empty", field=field)
    if len(value) > max_length:
        raise Invalid(f"{field} must be at most {max_length} characters", field=field)
    if any(_is_control(ch) for ch in value):
        raise Invalid(f"{field} must not contain control characters", field=field)
    if "/" in value or "\\" in value:
        raise Invalid(f"{field} must not contain slashes", field=field)
    return value


def variable_name(value: str) -> str:
    """Variables become OS environment variables and ``env_vars.NAME`` attributes."""
    if not IDENTIFIER.fullmatch(value) or keyword.iskeyword(value) or len(value) > 128:
        raise Invalid(
            f"{value[:80]!r} is not a valid variable name: use letters, digits and _, "
            "not starting with a digit",
            field="name",
        )
    return value


def environment_name(value: str) -> str:
    """Environment names travel in URLs, CLI flags and file names: keep them plain."""
    if not ENV_NAME.fullmatch(value):
        raise Invalid(
            "environment name must be 1-64 letters, digits, '.', '_' or '-'", field="name"
        )
    return value


def _is_control(ch: str) -> bool:
    return unicodedata.category(ch) in {"Cc", "Cf", "Zl", "Zp"} and ch not in JOINERS
