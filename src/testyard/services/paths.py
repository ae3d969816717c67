"""Where a case or fixture module lands in a run's workspace, and what such a path may be.

Paths come from users and become files that the executor writes and pytest imports, so
the rules are strict and reject rather than repair: an odd path is refused with a message
naming the problem, never silently rewritten into another file. Beyond safety (no
escaping the workspace, no hidden files, ASCII only), every directory and module stem
must be an importable Python name, because pytest imports test modules, conftest files
and ``pytest_plugins`` modules by name.
"""

from __future__ import annotations

import keyword
import re
from fnmatch import fnmatchcase
from typing import Literal

from slugify import slugify

MAX_PATH_LENGTH = 255
MAX_SEGMENTS = 16
MAX_SLUG_LENGTH = 60
TEST_FILE_PATTERNS = ("test_*.py", "*_test.py")  # pytest's default ``python_files``

_SEGMENT = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]*")
_IMPORTABLE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_DRIVE = re.compile(r"[A-Za-z]:")
_NAME_RULE = "ASCII letters, digits and '_', not starting with a digit, not a keyword"


class PathError(ValueError):
    """A path a case or fixture module cannot have; the message says what is wrong."""


def validate_relative_path(path: str, *, kind: Literal["case", "fixture"]) -> str:
    """Return ``path`` if a case (``kind="case"``) or fixture module may live there.

    A case must be a test file pytest collects by default (``test_*.py``/``*_test.py``);
    a fixture module is a ``conftest.py`` at any depth or a plugin module whose name is
    not a test file's. The returned value equals the argument, since nothing is repaired;
    callers still write ``path = validate_relative_path(...)`` to keep that option open.
    """
    _check_shape(path)
    *directories, filename = path.split("/")
    for segment in path.split("/"):
        _check_segment(segment)
    for directory in directories:
        if not _is_importable(directory):
            raise PathError(f"directory {directory!r} must be a Python name: {_NAME_RULE}")
    _check_filename(filename, kind)
    return path


def default_case_path(name: str) -> str:
    """``tests/test_<slug>.py`` for a case called ``name``.

    Non-ASCII text is transliterated ("登录测试" -> ``test_deng_lu_ce_shi.py``); a name
    with nothing left to keep (only punctuation, emoji) gives ``tests/test_case.py``.
    Callers add a suffix such as ``_2`` to the stem when the path is taken.
    """
    slug = slugify(name, separator="_", lowercase=True, max_length=MAX_SLUG_LENGTH)
    slug = re.sub(r"[^a-z0-9]+", "_", slug).strip("_") or "case"
    return validate_relative_path(f"tests/test_{slug}.py", kind="case")


def module_dir(path: str) -> str:
    """The directory part of a validated path: ``"a/b"`` for ``a/b/c.py``, ``""`` at the root."""
    return path.rpartition("/")[0]


def is_conftest(path: str) -> bool:
    return path.rpartition("/")[2] == "conftest.py"


def _is_importable(name: str) -> bool:
    return _IMPORTABLE.fullmatch(name) is not None and not keyword.iskeyword(name)


def _check_shape(path: str) -> None:
    """Whole-path rules, checked before any segment so messages name the real problem."""
    if not path:
        raise PathError("path must not be empty")
    if len(path) > MAX_PATH_LENGTH:
        raise PathError(f"path must be at most {MAX_PATH_LENGTH} characters, not {len(path)}")
    if "\\" in path:
        raise PathError("path must use '/' as separator, not '\\'")
    if path.startswith("/"):
        raise PathError("path must be relative, not start with '/'")
    if _DRIVE.match(path):
        raise PathError("path must not start with a drive letter")
    if path.endswith("/"):
        raise PathError("path must name a file, not end with '/'")
    if "//" in path:
        raise PathError("path must not contain empty segments ('//')")
    if path.count("/") + 1 > MAX_SEGMENTS:
        raise PathError(f"path must have at most {MAX_SEGMENTS} segments")


def _check_segment(segment: str) -> None:
    if segment in (".", ".."):
        raise PathError(f"path must not contain {segment!r} segments")
    if segment.startswith("."):
        raise PathError(f"hidden names are not allowed: {segment!r} starts with '.'")
    if not _SEGMENT.fullmatch(segment):
        raise PathError(
            f"{segment!r} may contain only ASCII letters, digits, '_', '.' and '-',"
            " and must not start with '-'"
        )


def is_test_module(path: str) -> bool:
    """Whether pytest collects the file as tests (its default ``python_files``)."""
    filename = path.rsplit("/", 1)[-1]
    return any(fnmatchcase(filename, p) for p in TEST_FILE_PATTERNS)


def _check_filename(filename: str, kind: Literal["case", "fixture"]) -> None:
    if not filename.endswith(".py"):
        raise PathError(f"file name {filename!r} must end with '.py'")
    if filename == "__init__.py":
        raise PathError("'__init__.py' is neither a case nor a fixture module")
    stem = filename.removesuffix(".py")
    if not _is_importable(stem):
        raise PathError(f"module name {stem!r} must be a Python name: {_NAME_RULE}")
    is_test_file = is_test_module(filename)
    if kind == "case" and filename == "conftest.py":
        raise PathError("a case must not be named 'conftest.py'; store it as a fixture module")
    if kind == "case" and not is_test_file:
        raise PathError(f"case file name {filename!r} must match 'test_*.py' or '*_test.py'")
    if kind == "fixture" and is_test_file:
        raise PathError(f"fixture module {filename!r} would be collected as a test file; rename it")
