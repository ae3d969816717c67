"""A sharded run's files: each worker keeps its shard's console log, junit.xml and
Allure results in
the database (workers may be other machines), and the server joins them into the
run's ``log.txt`` and ``junit.xml`` the first time someone asks after the run ended."""

from __future__ import annotations

import io
import os
import tempfile
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from testyard.db.models import RunFile

#: The worker's file name → the stored name's pattern and the run's joined file.
KEPT = {
    "log.txt": "log-shard-{}.txt",
    "junit.xml": "junit-shard-{}.xml",
    "allure.zip": "allure-shard-{}.zip",
}


def keep(session: Session, run_id: int, index: int, folder: Path) -> None:
    """Store the shard's files (replacing an earlier delivery's)."""
    for source, pattern in KEPT.items():
        path = folder / source
        if not path.is_file():
            continue
        name = pattern.format(index)
        session.execute(delete(RunFile).where(RunFile.run_id == run_id, RunFile.name == name))
        session.add(RunFile(run_id=run_id, name=name, data=path.read_bytes()))
    session.flush()


def materialize(session: Session, run_id: int, folder: Path) -> None:
    """Write the joined ``log.txt`` and ``junit.xml`` into the run's artifacts folder,
    once; a run with no kept files (a local run) is left alone."""
    rows = session.execute(
        select(RunFile.name, RunFile.data).where(RunFile.run_id == run_id).order_by(RunFile.name)
    ).all()
    if not rows:
        return
    folder.mkdir(parents=True, exist_ok=True)
    logs = [(name, data) for name, data in rows if name.startswith("log-")]
    junits = [data for name, data in rows if name.startswith("junit-")]
    allures = [data for name, data in rows if name.startswith("allure-")]
    if logs and not (folder / "log.txt").exists():
        _write(folder / "log.txt", _joined_logs(logs))
    if junits and not (folder / "junit.xml").exists():
        _write(folder / "junit.xml", _joined_junit(junits))
    if allures and not (folder / "allure.zip").exists():
        _write(folder / "allure.zip", _joined_zips(allures))


def _joined_logs(logs: list[tuple[str, bytes]]) -> bytes:
    parts = []
    for name, data in sorted(logs, key=lambda item: _shard_number(item[0])):
        parts.append(f"===== shard {_shard_number(name)} =====\n".encode() + data)
    return b"\n".join(parts)


def _shard_number(name: str) -> int:
    digits = "".join(ch for ch in name if ch.isdigit())
    return int(digits or 0)


def _joined_junit(documents: list[bytes]) -> bytes:
    """One ``<testsuites>`` holding every shard's suites."""
    root = ET.Element("testsuites")
    for data in documents:
        try:
            parsed = ET.fromstring(data)
        except ET.ParseError:
            continue  # a shard killed while writing it: its results are in the database
        suites = [parsed] if parsed.tag == "testsuite" else list(parsed)
        root.extend(suites)
    joined: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return joined


def _joined_zips(archives: list[bytes]) -> bytes:
    """One Allure results zip: every shard's files (Allure names them by UUID, so
    they never clash; a repeated name keeps the first)."""
    out = io.BytesIO()
    seen: set[str] = set()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as joined:
        for data in archives:
            with zipfile.ZipFile(io.BytesIO(data)) as part:
                for info in part.infolist():
                    if info.filename not in seen:
                        seen.add(info.filename)
                        joined.writestr(info, part.read(info))
    return out.getvalue()


def _write(path: Path, data: bytes) -> None:
    """Atomically: two requests materializing at once both leave a whole file."""
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    with os.fdopen(handle, "wb") as out:
        out.write(data)
    os.replace(temporary, path)
