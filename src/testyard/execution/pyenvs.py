"""Python environments for runs, created with uv and cached by what they hold.

Every environment holds pytest and the plugins testyard drives (at the versions
testyard itself runs with, allure-pytest included) plus the project's requirements;
projects without requirements share one default environment, created once.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

from filelock import FileLock
from packaging.requirements import InvalidRequirement, Requirement
from uv import find_uv_bin

BASE_PACKAGES = (
    "pytest",
    "pytest-xdist",
    "pytest-timeout",
    "pytest-rerunfailures",
    "execnet",
    # Loaded only by the runs of projects that record Allure results (``--alluredir``).
    "allure-pytest",
    "allure-python-commons",
)
INSTALL_TIMEOUT_S = 900


class EnvironmentFailed(RuntimeError):
    """The installer failed; the message is its own output."""


def parse_requirements(text: str) -> list[str]:
    """Requirement lines (PEP 508), comments and blanks dropped. Options such as
    ``-e`` or ``--index-url`` are refused: a project may not redirect the installer."""
    lines = []
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        if line.startswith("-"):
            raise ValueError(f"installer options are not allowed: {line!r}")
        try:
            Requirement(line)
        except InvalidRequirement as exc:
            raise ValueError(f"invalid requirement {line!r}: {exc}") from None
        lines.append(line)
    return lines


def base_pins() -> list[str]:
    return [f"{name}=={version(name)}" for name in BASE_PACKAGES]


def environment_key(python: Path, requirements: list[str]) -> str:
    material = "\n".join([str(python), "compiled", *base_pins(), *sorted(requirements)])
    return hashlib.sha256(material.encode()).hexdigest()[:16]


def ensure_environment(
    root: Path, requirements: list[str], base_python: Path = Path(sys.executable)
) -> Path:
    """The interpreter of the environment for ``requirements``, created on first use.

    Concurrent runs needing the same environment wait on a file lock; a half-made
    environment is never used (it is built aside and renamed when complete).
    """
    key = environment_key(base_python, requirements)
    target = root / key
    python = target / "bin" / "python"
    if (target / ".ready").exists():
        return python
    root.mkdir(parents=True, exist_ok=True)
    os.chmod(root, 0o755)
    with FileLock(str(root / f"{key}.lock")):
        if (target / ".ready").exists():
            return python
        building = root / f"{key}.building"
        shutil.rmtree(building, ignore_errors=True)
        try:
            _uv("venv", "--quiet", "--relocatable", "--python", str(base_python), str(building))
            # Compiled now: the test process never writes bytecode, so an uncompiled
            # environment would compile pytest and the plugins on every run.
            _uv(
                "pip",
                "install",
                "--quiet",
                "--compile-bytecode",
                "--python",
                str(building / "bin" / "python"),
                *base_pins(),
                *requirements,
            )
        except EnvironmentFailed:
            shutil.rmtree(building, ignore_errors=True)
            raise
        (building / ".ready").touch()
        shutil.rmtree(target, ignore_errors=True)
        building.rename(target)
    return python


def _uv(*args: str) -> None:
    try:
        result = subprocess.run(
            [find_uv_bin(), *args], capture_output=True, text=True, timeout=INSTALL_TIMEOUT_S
        )
    except subprocess.TimeoutExpired:
        raise EnvironmentFailed(f"uv {args[0]} took longer than {INSTALL_TIMEOUT_S} s") from None
    if result.returncode != 0:
        output = (result.stderr or result.stdout).strip()
        raise EnvironmentFailed(f"installing the run's Python environment failed:\n{output}")
