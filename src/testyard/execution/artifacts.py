"""The files a run keeps beyond its results: junit.xml and the Allure results, copied
out of the workspace with every secret value masked.

The workspace belongs to the test process (with a run-as user, that user owns it), so
nothing in it is trusted: every path is opened from the workspace downwards without
following symbolic links, and only regular files are read. A test cannot make the
server copy a file of its own (its database, its key) into a download that way.
"""

from __future__ import annotations

import json
import logging
import os
import stat
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from xml.sax.saxutils import escape

from testyard.execution.process import MASK, Masker

log = logging.getLogger(__name__)

#: Where pytest writes them, relative to the workspace.
JUNIT_SOURCE = ".testyard/junit.xml"
ALLURE_SOURCE = ".testyard/allure"
#: At most this much of junit.xml, and of the Allure results in all (files past it are
#: left out of the zip and listed in it).
MAX_BYTES = 200 * 1024 * 1024
SKIPPED_NOTE = "testyard-left-out.txt"

NOFOLLOW = os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC


def xml_text(secret: str) -> str:
    return escape(secret)


def xml_attribute(secret: str) -> str:
    """As ElementTree writes an attribute value (junit's ``message=``)."""
    return escape(secret, {'"': "&quot;", "\n": "&#10;", "\r": "&#13;", "\t": "&#09;"})


def json_string(secret: str) -> str:
    return json.dumps(secret, ensure_ascii=False)[1:-1]


def json_ascii(secret: str) -> str:
    return json.dumps(secret)[1:-1]


@contextmanager
def _open_dir(workspace: Path, relative: str) -> Iterator[int]:
    """A descriptor of the directory ``relative`` inside ``workspace``, reached without
    following links (OSError when a component is a link or missing)."""
    fd = os.open(workspace, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        for part in Path(relative).parts:
            inner = os.open(part, os.O_RDONLY | os.O_DIRECTORY | NOFOLLOW, dir_fd=fd)
            os.close(fd)
            fd = inner
        yield fd
    finally:
        os.close(fd)


def _read_regular(name: str, dir_fd: int, limit: int) -> bytes | None:
    """The file's bytes if it is a regular file (not a link) of at most ``limit``."""
    try:
        fd = os.open(name, NOFOLLOW, dir_fd=dir_fd)
    except OSError:
        return None
    with os.fdopen(fd, "rb") as file:
        info = os.fstat(file.fileno())
        if not stat.S_ISREG(info.st_mode) or info.st_size > limit:
            return None
        return file.read(limit + 1)[:limit]


def save_junit(workspace: Path, target: Path, masker: Masker) -> Path | None:
    """Copy pytest's junit.xml to ``target``, masked (also where XML escaped a secret)."""
    relative = Path(JUNIT_SOURCE)
    try:
        with _open_dir(workspace, str(relative.parent)) as folder:
            data = _read_regular(relative.name, folder, MAX_BYTES)
    except OSError:
        return None
    if data is None:
        return None
    masked = masker.with_forms(xml_text, xml_attribute)
    target.write_text(masked(data.decode("utf-8", errors="replace")), encoding="utf-8")
    return target


def save_allure(workspace: Path, target: Path, masker: Masker) -> Path | None:
    """Zip the Allure results folder into ``target`` (written aside, then renamed, so a
    listed zip is always whole). None when the run wrote no results."""
    try:
        with _open_dir(workspace, ALLURE_SOURCE) as folder:
            files = list(_allure_files(folder))
    except OSError:
        return None
    if not files:
        return None
    partial = target.with_name(f".{target.name}.part")
    masked_json = masker.with_forms(json_string, json_ascii)
    with zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files:
            if data is None:
                continue
            text_masker = masked_json if name.endswith(".json") else masker
            archive.writestr(name, _masked(data, text_masker, masker))
        left_out = [name for name, data in files if data is None]
        if left_out:
            note = f"Left out (over {MAX_BYTES} bytes in all, or not a regular file):\n"
            archive.writestr(SKIPPED_NOTE, note + "".join(f"{n}\n" for n in left_out))
    partial.replace(target)
    return target


def _allure_files(folder: int) -> Iterator[tuple[str, bytes | None]]:
    """(relative name, bytes or None when left out), walking without following links."""
    budget = MAX_BYTES
    for dirpath, _dirs, names, dir_fd in os.fwalk(".", dir_fd=folder, follow_symlinks=False):
        for name in sorted(names):
            relative = os.path.normpath(os.path.join(dirpath, name))
            data = _read_regular(name, dir_fd, budget)
            if data is not None:
                budget -= len(data)
            yield relative, data


def _masked(data: bytes, text: Masker, plain: Masker) -> bytes:
    """Text (UTF-8) masked as text; anything else masked byte for byte."""
    try:
        return text(data.decode("utf-8")).encode("utf-8")
    except UnicodeDecodeError:
        for secret in plain.secrets:
            data = data.replace(secret.encode("utf-8"), MASK.encode())
        return data
