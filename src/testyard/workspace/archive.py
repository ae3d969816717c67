"""Reading an uploaded zip (or a directory) safely, before anything is written.

Refused with a clear error, and nothing written: absolute paths, ``..`` entries,
symbolic links, more than ``MAX_ENTRIES`` entries, more than ``MAX_UNPACKED`` bytes
unpacked (413), an entry compressed more than ``MAX_RATIO`` times, source or text
files that are not UTF-8, and duplicate names.
"""

from __future__ import annotations

import io
import stat
import zipfile
from pathlib import Path, PurePosixPath

from testyard.services.errors import BadRequest, TooLarge

MAX_ENTRIES = 10_000
MAX_UNPACKED = 100 * 1024 * 1024
MAX_RATIO = 100
TEXT_SUFFIXES = (".py", ".txt", ".ini", ".cfg", ".toml", ".json", ".md")
SKIPPED_DIRS = {".git", ".venv", "venv", "__pycache__", "node_modules", ".pytest_cache",
                ".mypy_cache", ".ruff_cache", ".tox"}  # fmt: skip


class ArchiveError(BadRequest):
    code = "bad_archive"


class ArchiveTooLarge(TooLarge):
    pass


def read_zip(data: bytes) -> dict[str, str]:
    """Every text file of the archive: path -> text (other files by name, empty)."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        raise ArchiveError("not a zip archive", field="file") from None
    entries = [e for e in archive.infolist() if not e.is_dir()]
    if len(archive.infolist()) > MAX_ENTRIES:
        raise ArchiveError(f"more than {MAX_ENTRIES} entries", field="file")
    if sum(e.file_size for e in entries) > MAX_UNPACKED:
        raise ArchiveTooLarge(f"more than {MAX_UNPACKED // 2**20} MB unpacked", field="file")
    names = [_safe_name(e) for e in entries]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise ArchiveError(f"duplicate entries: {duplicates[:5]}", field="file")
    files = {}
    for entry, name in zip(entries, names, strict=True):
        if entry.compress_size and entry.file_size / entry.compress_size > MAX_RATIO:
            raise ArchiveError(f"{name}: compressed more than {MAX_RATIO} times", field="file")
        files[name] = _text(name, archive.read(entry)) if name.endswith(TEXT_SUFFIXES) else ""
    return strip_common_folder(files)


def _safe_name(entry: zipfile.ZipInfo) -> str:
    name = entry.filename
    if stat.S_ISLNK(entry.external_attr >> 16):
        raise ArchiveError(f"{name}: symbolic links are not allowed", field="file")
    if "\\" in name or name.startswith("/") or (len(name) > 1 and name[1] == ":"):
        raise ArchiveError(f"{name}: absolute paths are not allowed", field="file")
    parts = PurePosixPath(name).parts
    if ".." in parts:
        raise ArchiveError(f"{name}: '..' is not allowed in a path", field="file")
    return "/".join(p for p in parts if p != ".")


def _text(name: str, raw: bytes) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ArchiveError(f"{name}: not UTF-8 text", field="file") from None


def strip_common_folder(files: dict[str, str]) -> dict[str, str]:
    """``project/tests/...`` -> ``tests/...`` when everything sits in one folder."""
    tops = {name.split("/", 1)[0] for name in files}
    if len(tops) == 1 and all("/" in name for name in files):
        top = tops.pop()
        return {name[len(top) + 1 :]: text for name, text in files.items()}
    return files


def read_directory(root: Path) -> dict[str, str]:
    """The same for a directory on disk (the CLI's ``testyard import DIR``)."""
    files: dict[str, str] = {}
    for path in sorted(root.rglob("*")):
        relative = path.relative_to(root)
        if any(part in SKIPPED_DIRS or part.startswith(".") for part in relative.parts[:-1]):
            continue
        if path.is_symlink() or not path.is_file():
            continue
        if len(files) >= MAX_ENTRIES:
            raise ArchiveError(f"more than {MAX_ENTRIES} files", field="path")
        name = relative.as_posix()
        files[name] = _text(name, path.read_bytes()) if name.endswith(TEXT_SUFFIXES) else ""
    return files


def zip_directory(root: Path) -> bytes:
    """A directory as a zip (what the CLI uploads), skipping caches and environments."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name in read_directory(root):
            archive.write(root / name, name)
    return buffer.getvalue()
