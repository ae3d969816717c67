"""Taking in an existing pytest project (or a testyard export) as a new project.

conftest.py files at any depth and the modules the root conftest registers with
``pytest_plugins`` become fixture modules at their paths; ``test_*.py``/``*_test.py``
become cases; ``requirements*.txt`` the project's requirements (less the pins
testyard adds to its exports); ``testyard_vars.json`` an environment, its secrets as
variables that still need a value. Everything else is listed as not imported, with
the reason — never dropped silently.
"""

from __future__ import annotations

import configparser
import json
import tomllib
from dataclasses import dataclass, field
from pathlib import PurePosixPath

from sqlalchemy import select
from sqlalchemy.orm import Session

from testyard.db.models import Project, User
from testyard.execution.pyenvs import BASE_PACKAGES, parse_requirements
from testyard.services import cases, environments, fixtures, projects
from testyard.services.code_analysis import CodeSyntaxError, check_compiles, find_plugin_imports
from testyard.services.errors import ServiceError
from testyard.services.paths import PathError, is_conftest, is_test_module, validate_relative_path
from testyard.workspace import layout
from testyard.workspace.export import HELPERS_FILE

GENERATED = {HELPERS_FILE, "README.md"}
NEEDS_VALUE = "imported without its value: set it"


@dataclass
class Skipped:
    path: str
    reason: str


@dataclass
class ImportPlan:
    fixtures: dict[str, str] = field(default_factory=dict)
    cases: dict[str, str] = field(default_factory=dict)
    requirements: list[str] = field(default_factory=list)
    environment: str | None = None
    variables: dict[str, str] = field(default_factory=dict)
    secrets: list[str] = field(default_factory=list)
    pytest_options: dict[str, str] = field(default_factory=dict)
    skipped: list[Skipped] = field(default_factory=list)


def plan_import(files: dict[str, str]) -> ImportPlan:
    plan = ImportPlan()
    option_files: dict[str, str] = {}
    root_conftest = layout.strip_block(files.get("conftest.py", ""))
    plugins = {
        name.replace(".", "/") + ".py"
        for name in find_plugin_imports(files.get("conftest.py", "")) if name != "testyard"
    } if "conftest.py" in files else set()  # fmt: skip
    for path, text in sorted(files.items()):
        name = PurePosixPath(path).name
        if path == "conftest.py":
            text = root_conftest
        if is_conftest(path) or path in plugins:
            _take(plan, plan.fixtures, path, text, "fixture")
        elif is_test_module(path):
            _take(plan, plan.cases, path, text, "case")
        elif name.startswith("requirements") and name.endswith(".txt"):
            _requirements(plan, path, text)
        elif path == layout.VARS_FILE:
            _variables(plan, text)
        elif path in GENERATED:
            continue  # testyard's own files in its exports
        elif path in OPTION_FILES:
            option_files[path] = text
        else:
            plan.skipped.append(Skipped(path, "neither a test module nor a conftest or plugin"))
    for path in OPTION_FILES:  # pytest's own order: the first with a section wins
        if path in option_files and _options(plan, path, option_files[path]):
            break
    return plan


#: Where pytest reads its options, and the section it reads (pytest's own order).
OPTION_FILES = {"pytest.ini": "pytest", "pyproject.toml": "tool.pytest.ini_options",
                "tox.ini": "pytest", "setup.cfg": "tool:pytest"}  # fmt: skip
#: Options testyard sets itself for every run.
IGNORED_OPTIONS = {"junit_family"}


def _options(plan: ImportPlan, path: str, text: str) -> bool:
    """Take the file's pytest options; False when it has no pytest section."""
    try:
        found = _read_options(path, text)
    except (configparser.Error, tomllib.TOMLDecodeError) as exc:
        plan.skipped.append(Skipped(path, f"could not read its pytest options: {exc}"))
        return False
    plan.pytest_options = {k: v for k, v in found.items() if k not in IGNORED_OPTIONS}
    return bool(found)


def _read_options(path: str, text: str) -> dict[str, str]:
    if path == "pyproject.toml":
        table = tomllib.loads(text).get("tool", {}).get("pytest", {}).get("ini_options", {})
        return {k: "\n".join(map(str, v)) if isinstance(v, list) else _toml_text(v)
                for k, v in table.items()}  # fmt: skip
    parser = configparser.ConfigParser(interpolation=None)
    parser.read_string(text)
    section = OPTION_FILES[path]
    if not parser.has_section(section):
        return {}
    return {k: v.strip() for k, v in parser.items(section)}


def _toml_text(value: object) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


def _take(plan: ImportPlan, into: dict[str, str], path: str, text: str, kind: str) -> None:
    try:
        validate_relative_path(path, kind=kind)  # type: ignore[arg-type]
        check_compiles(text, path)
    except (PathError, CodeSyntaxError) as exc:
        plan.skipped.append(Skipped(path, str(exc)))
        return
    if path == "conftest.py" and not text.strip():
        return  # only testyard's own block was there
    into[path] = text


def _requirements(plan: ImportPlan, path: str, text: str) -> None:
    try:
        lines = parse_requirements(text)
    except ValueError as exc:
        plan.skipped.append(Skipped(path, str(exc)))
        return
    pinned = {name.lower() for name in BASE_PACKAGES}
    for line in lines:
        name = line.split("=")[0].split("<")[0].split(">")[0].split("[")[0].strip().lower()
        if name not in pinned and line not in plan.requirements:
            plan.requirements.append(line)


def _variables(plan: ImportPlan, text: str) -> None:
    try:
        data = json.loads(text)
        plan.environment = str(data.get("environment") or "imported")
        plan.variables = {str(k): str(v) for k, v in data.get("variables", {}).items()}
        plan.secrets = [str(s) for s in data.get("secrets", [])]
    except (ValueError, AttributeError):
        plan.skipped.append(Skipped(layout.VARS_FILE, "not the JSON testyard writes"))


def import_project(session: Session, user: User, plan: ImportPlan, name: str) -> Project:
    """Create the project from ``plan`` in the caller's transaction (all or nothing)."""
    project = projects.create_project(session, user, {
        "name": _free_name(session, name), "requirements": "\n".join(plan.requirements),
        "pytest_options": plan.pytest_options,
    })  # fmt: skip
    for path, code in plan.fixtures.items():
        fixtures.create_fixture_module(session, project, user, {
            "name": path.replace("/", "."), "path": path, "code": code,
        })  # fmt: skip
    for path, code in plan.cases.items():
        stem = PurePosixPath(path).stem
        name = path.replace("/", ".") if _clash(stem, plan) else stem
        cases.create_case(session, project, user, {"name": name,
                                                   "path": path, "code": code})  # fmt: skip
    if plan.environment:
        _environment(session, project, plan)
    return project


def _environment(session: Session, project: Project, plan: ImportPlan) -> None:
    try:
        env = environments.create_environment(session, project, {"name": plan.environment})
    except ServiceError:
        env = environments.create_environment(session, project, {"name": "imported"})
    for var_name, value in plan.variables.items():
        environments.create_variable(session, env, {"name": var_name, "value": value})
    for var_name in plan.secrets:
        environments.create_variable(session, env, {
            "name": var_name, "value": "", "secret": True, "description": NEEDS_VALUE,
        })  # fmt: skip


def _clash(stem: str, plan: ImportPlan) -> bool:
    return sum(PurePosixPath(p).stem == stem for p in plan.cases) > 1


def _free_name(session: Session, name: str) -> str:
    base = name.strip()[:90] or "imported"
    taken = set(session.scalars(select(Project.name).where(Project.name.startswith(base))))
    if base not in taken:
        return base
    return next(f"{base} ({n})" for n in range(2, 10_000) if f"{base} ({n})" not in taken)
