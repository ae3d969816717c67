"""A project as a runnable zip: plain pytest, no testyard needed.

The zip holds what a run's workspace holds (``layout.render``) plus testyard's
test-side helpers as one file (``testyard.py``), ``requirements.txt`` and a README.
Secret values are never written: the exported tests read them from OS environment
variables of the same names. The zip is written entry by entry as it streams out,
cases read from the database in batches, so memory stays flat however big the project.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator
from datetime import UTC, datetime
from urllib.parse import quote

from slugify import slugify
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from testyard.db.models import Case, Environment, FixtureModule, Project
from testyard.execution.pyenvs import base_pins, parse_requirements
from testyard.execution.runtime import helpers_source
from testyard.services.environments import list_variables
from testyard.workspace import layout

HELPERS_FILE = "testyard.py"
README = """# A testyard project, exported for the environment `{env}`

Run it with plain pytest:

    python -m venv .venv && . .venv/bin/activate
    pip install -r requirements.txt
{secrets_lines}    pytest

`testyard_vars.json` holds the environment's variables (`env_vars.NAME` in the tests);
secret values are not in this archive: each is read from the OS environment variable of
the same name.{secret_list}
`testyard.py` holds testyard's test-side helpers (`testyard.pending`,
`testyard.once_per_run`, the `env_vars` fixture); the root `conftest.py` registers it.
"""


class _Chunks(io.RawIOBase):
    """A write-only, unseekable sink: zipfile writes streaming entries into it and the
    generator hands the bytes on."""

    def __init__(self) -> None:
        self.parts: list[bytes] = []

    def writable(self) -> bool:
        return True

    def write(self, data: bytes) -> int:  # type: ignore[override]
        self.parts.append(bytes(data))
        return len(data)

    def take(self) -> bytes:
        data, self.parts = b"".join(self.parts), []
        return data


def requirements_txt(project: Project) -> str:
    """The project's requirements, then pytest and the plugins testyard runs with."""
    own = parse_requirements(project.requirements)
    return "\n".join([*own, *base_pins()]) + "\n"


def readme(env: str, secrets: list[str]) -> str:
    lines = "".join(f"    export {name}=…\n" for name in secrets)
    listed = "".join(f"\n- `{name}`" for name in secrets)
    secret_list = f"\n\nSecrets to set:{listed}\n" if secrets else "\n"
    return README.format(env=env, secrets_lines=lines, secret_list=secret_list)


def archive_name(project: Project, env: str) -> str:
    return f"{project.name}-{env}.zip"


def content_disposition(filename: str, disposition: str = "attachment") -> str:
    """RFC 6266: an ASCII fallback and the UTF-8 name (Chinese names survive)."""
    stem, dot, suffix = filename.rpartition(".")
    fallback = f"{slugify(stem) or 'project'}{dot}{slugify(suffix)}" if dot else slugify(suffix)
    return f"{disposition}; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename)}"


def fixed_files(session: Session, project: Project, env: Environment) -> dict[str, str]:
    """Every file but the cases: the fixture modules and what testyard adds."""
    fixtures = session.scalars(
        select(FixtureModule).where(FixtureModule.project_id == project.id)
    ).all()
    variables, secrets = {}, []
    for var in list_variables(session, env):
        if var.secret:
            secrets.append(var.name)
        else:
            variables[var.name] = var.value
    files = layout.ProjectFiles(
        sources=[layout.SourceFile(f.path, f.code, "fixture") for f in fixtures],
        variables=variables,
        secret_names=secrets,
        ini_options=dict(project.pytest_options or {}),
        environment=env.name,
    )
    rendered = layout.render(files)
    rendered[HELPERS_FILE] = helpers_source()
    rendered["requirements.txt"] = requirements_txt(project)
    rendered["README.md"] = readme(env.name, sorted(secrets))
    return rendered


def stream_zip(
    sessions: sessionmaker[Session], project_id: int, env_id: int, include_cases: bool
) -> Iterator[bytes]:
    """The archive, chunk by chunk, read in its own session (the request's has ended)."""
    sink = _Chunks()
    stamp = datetime.now(UTC).timetuple()[:6]
    with sessions() as session, zipfile.ZipFile(sink, "w", zipfile.ZIP_DEFLATED) as archive:
        project = session.get_one(Project, project_id)
        env = session.get_one(Environment, env_id)
        for path, text in sorted(fixed_files(session, project, env).items()):
            archive.writestr(_entry(path, stamp), text.encode("utf-8"))
            yield sink.take()
        if include_cases:
            cases = session.scalars(
                select(Case).where(Case.project_id == project_id).order_by(Case.path)
                .execution_options(yield_per=200)
            )  # fmt: skip
            for case in cases:
                archive.writestr(_entry(case.path, stamp), case.code.encode("utf-8"))
                yield sink.take()
    yield sink.take()


def _entry(path: str, stamp: tuple[int, ...]) -> zipfile.ZipInfo:
    entry = zipfile.ZipInfo(path, stamp)  # type: ignore[arg-type]
    entry.compress_type = zipfile.ZIP_DEFLATED  # a ZipInfo alone would be stored as is
    entry.external_attr = 0o644 << 16
    return entry
