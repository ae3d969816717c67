"""The on-disk shape of a testyard project: what a run executes and what an export
holds. Cases and fixture modules land at their paths; testyard adds a block to the root
``conftest.py`` registering its helpers and the plugin-style fixture modules, a
``pytest.ini`` and ``testyard_vars.json`` with the environment's variables."""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from testyard.services.code_analysis import find_plugin_imports
from testyard.services.paths import is_conftest, validate_relative_path

HELPERS_MODULE = "testyard"
VARS_FILE = "testyard_vars.json"
BLOCK_START = "# --- testyard: shared fixture modules and helpers (generated) ---"
BLOCK_END = "# --- end of testyard block ---"


@dataclass
class SourceFile:
    path: str
    code: str
    kind: str  # "case" or "fixture"


@dataclass
class ProjectFiles:
    """What a workspace is written from: sources, variables and pytest options."""

    sources: list[SourceFile]
    variables: dict[str, str] = field(default_factory=dict)
    secret_names: list[str] = field(default_factory=list)
    ini_options: dict[str, str] = field(default_factory=dict)
    environment: str | None = None


def plugin_modules(sources: Iterable[SourceFile]) -> list[str]:
    """Dotted names of fixture modules that are not conftest files: pytest sees them
    only when registered through ``pytest_plugins``."""
    return [
        str(PurePosixPath(s.path).with_suffix("")).replace("/", ".")
        for s in sources
        if s.kind == "fixture" and not is_conftest(s.path)
    ]


def root_conftest(user_code: str | None, plugins: list[str]) -> str:
    """The root conftest: the user's own (unchanged, so line numbers hold) followed by
    testyard's block, which keeps the user's own ``pytest_plugins`` entries."""
    own = find_plugin_imports(user_code) if user_code else []
    names = list(dict.fromkeys([*own, HELPERS_MODULE, *plugins]))
    block = f"{BLOCK_START}\npytest_plugins = {names!r}\n{BLOCK_END}\n"
    if not user_code:
        return block
    return user_code.rstrip("\n") + "\n\n\n" + block


def strip_block(code: str) -> str:
    """A root conftest without testyard's block, which always comes last."""
    start = code.find(BLOCK_START)
    if start < 0:
        return code
    own = code[:start].rstrip("\n")
    return own + "\n" if own.strip() else ""


def pytest_ini(options: dict[str, str]) -> str:
    """The project's ini options; a value of several lines is written indented."""
    lines = ["[pytest]", "# written by testyard"]
    for key, value in sorted(options.items()):
        if "\n" in value:
            lines.append(f"{key} =")
            lines += [f"    {line}" for line in value.splitlines() if line.strip()]
        else:
            lines.append(f"{key} = {value}")
    return "\n".join(lines) + "\n"


def vars_json(
    variables: dict[str, str], secret_names: list[str], environment: str | None = None
) -> str:
    """Plain values are written; secrets only by name (their values come from OS
    environment variables of the same names at test time)."""
    body = {"environment": environment, "variables": dict(sorted(variables.items())),
            "secrets": sorted(secret_names)}  # fmt: skip
    return json.dumps(body, indent=2, ensure_ascii=False) + "\n"


def render(files: ProjectFiles) -> dict[str, str]:
    """Every file of the project: relative path -> text."""
    out: dict[str, str] = {}
    for source in files.sources:
        out[validate_relative_path(source.path, kind=source.kind)] = source.code  # type: ignore[arg-type]
    out["conftest.py"] = root_conftest(out.get("conftest.py"), plugin_modules(files.sources))
    out["pytest.ini"] = pytest_ini(files.ini_options)
    out[VARS_FILE] = vars_json(files.variables, files.secret_names, files.environment)
    return out


def write(root: Path, rendered: dict[str, str]) -> None:
    """Write ``rendered`` under ``root`` (paths were validated: no escaping it)."""
    for relative, text in rendered.items():
        target = root / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
