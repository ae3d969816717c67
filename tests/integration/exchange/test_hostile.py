"""Hostile archives get a clear 400 or 413 and leave nothing behind."""

from __future__ import annotations

import io
import stat
import zipfile
from collections.abc import Callable

import pytest

from tests.support.api import Api

GOOD = "def test_ok():\n    pass\n"


def archive(build: Callable[[zipfile.ZipFile], None], compression: int = zipfile.ZIP_DEFLATED
            ) -> bytes:  # fmt: skip
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as zf:
        build(zf)
    return buffer.getvalue()


def symlink(zf: zipfile.ZipFile) -> None:
    entry = zipfile.ZipInfo("tests/test_link.py")
    entry.external_attr = (stat.S_IFLNK | 0o777) << 16
    zf.writestr(entry, "/etc/passwd")


def duplicate(zf: zipfile.ZipFile) -> None:
    zf.writestr("tests/test_a.py", GOOD)
    with pytest.warns(UserWarning):
        zf.writestr("tests/test_a.py", GOOD)


def many(zf: zipfile.ZipFile) -> None:
    for n in range(10_001):
        zf.writestr(f"d/f{n}.txt", "")


def huge(zf: zipfile.ZipFile) -> None:
    # 101 MB of text compresses far more than 100 times: the size rule answers first.
    zf.writestr("tests/big.txt", "x" * (101 * 1024 * 1024))


def bomb(zf: zipfile.ZipFile) -> None:
    zf.writestr("tests/test_bomb.py", "# " + "a" * 5_000_000 + "\n")


HOSTILE = {
    "absolute path": (lambda zf: zf.writestr("/etc/test_x.py", GOOD), 400, "absolute"),
    "dot-dot entry": (lambda zf: zf.writestr("tests/../../test_x.py", GOOD), 400, "'..'"),
    "symbolic link": (symlink, 400, "symbolic link"),
    "too many entries": (many, 400, "more than 10000 entries"),
    "too big unpacked": (huge, 413, "more than 100 MB"),
    "compression bomb": (bomb, 400, "compressed more than 100 times"),
    "not utf-8": (lambda zf: zf.writestr("tests/test_x.py", b"\xff\xfe bad"), 400, "UTF-8"),
    "duplicate names": (duplicate, 400, "duplicate"),
    "not a zip": (None, 400, "not a zip"),
}


@pytest.mark.parametrize("case", list(HOSTILE))
def test_hostile_archive_is_refused_and_nothing_is_written(admin: Api, case: str) -> None:
    build, status, words = HOSTILE[case]
    data = b"this is not a zip" if build is None else archive(build)
    before = admin.get("/projects")["total"]
    response = admin.client.post(
        "/api/v1/projects/import",
        files={"file": ("evil.zip", data, "application/zip")},
        headers={"Authorization": f"Bearer {admin.token}"},
    )
    assert response.status_code == status, response.text
    assert words in response.json()["message"]
    assert admin.get("/projects")["total"] == before


def test_what_cannot_be_imported_is_listed(admin: Api) -> None:
    def project(zf: zipfile.ZipFile) -> None:
        zf.writestr("repo/tests/test_ok.py", GOOD)
        zf.writestr("repo/tests/test_broken.py", "def test_x(:\n")
        zf.writestr("repo/tests/helpers.py", "VALUE = 1\n")
        zf.writestr(
            "repo/pyproject.toml",
            "[tool.pytest.ini_options]\nxfail_strict = true\n"
            'markers = ["slow: takes long", "api: talks to the API"]\n',
        )
        zf.writestr("repo/requirements-dev.txt", "requests==2.32.3\npytest==8.0.0\n")

    response = admin.client.post(
        "/api/v1/projects/import",
        files={"file": ("legacy.zip", archive(project), "application/zip")},
        headers={"Authorization": f"Bearer {admin.token}"},
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["name"] == "legacy" and body["cases"] == 1
    reasons = {item["path"]: item["reason"] for item in body["not_imported"]}
    assert set(reasons) == {"tests/test_broken.py", "tests/helpers.py"}
    assert "line 1" in reasons["tests/test_broken.py"]
    project_row = admin.get(f"/projects/{body['id']}")
    assert project_row["requirements"] == "requests==2.32.3"
    assert project_row["pytest_options"] == {
        "xfail_strict": "true",
        "markers": "slow: takes long\napi: talks to the API",
    }
