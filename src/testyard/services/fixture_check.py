"""The quick check made when a case is saved: fixtures it requests that nothing defines.

Read from the syntax trees (the case, the conftest files on its path, the plugin-style
fixture modules) plus the fixtures pytest and its plugins provide. The fixture-plan
route runs pytest itself; this check answers at once, for the editor.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import PurePosixPath

from testyard.services.code_analysis import FixtureInfo, find_fixtures, find_requested_fixtures
from testyard.services.paths import is_conftest, module_dir


@dataclass
class Problem:
    test: str
    fixture: str
    message: str
    available: list[str] = field(default_factory=list)


def visible_fixtures(case_path: str, case_code: str, modules: list[tuple[str, str]]
                     ) -> set[str]:  # fmt: skip
    """Fixture names visible to a test module at ``case_path``: its own, those of the
    conftest files in its directory and above, and every plugin-style module's."""
    names = {f.name for f in _fixtures(case_code)}
    case_dir = PurePosixPath(module_dir(case_path))
    for path, code in modules:
        if is_conftest(path):
            conftest_dir = PurePosixPath(module_dir(path))
            if conftest_dir != case_dir and conftest_dir not in case_dir.parents:
                continue
        names |= {f.name for f in _fixtures(code)}
    return names


def missing_fixtures(case_path: str, case_code: str, modules: list[tuple[str, str]],
                     provided: set[str]) -> list[Problem]:  # fmt: skip
    try:
        requested = find_requested_fixtures(case_code)
    except Exception:  # a draft that does not parse is reported by the compile check
        return []
    available = visible_fixtures(case_path, case_code, modules) | provided
    return [
        Problem(test, name, f"fixture {name!r} not found", sorted(available))
        for test, names in requested.items()
        for name in names
        if name not in available
    ]


def _fixtures(code: str) -> list[FixtureInfo]:
    try:
        return find_fixtures(code)
    except Exception:
        return []
