"""A run's report as one self-contained HTML file, rendered on request.

Jinja2 with autoescape: test names, messages and output are user data, so nothing is
ever inserted unescaped. The file needs nothing else to be read offline: the styles
are inline, there is no script (the outcome filter is CSS radio buttons, a failure
opens with ``<details>``), no font, no image. It carries its own Content-Security-Policy
(``CSP``) in a meta tag, so a downloaded copy opened from disk is as locked down as the
served one. It is generated as a stream, page by page from the database (see
``content``), so a run of 10,000 results costs flat memory.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from importlib.metadata import version

from jinja2 import Environment, PackageLoader, StrictUndefined
from sqlalchemy.orm import Session, sessionmaker

from testyard.reports.content import OUTCOMES, RunReport

#: The policy of the report, served as a header and written into the file itself.
CSP = "default-src 'none'; style-src 'unsafe-inline'"
NAME = "report.html"
#: How each run ``source`` reads in "Triggered by".
SOURCES = {
    "manual": "by hand",
    "api": "through the API",
    "cli": "from the command line",
    "schedule": "by the plan's schedule",
    "watch": "by a staged plan's watch",
}
#: Shown for a time or duration not known (yet).
UNKNOWN = "\N{EN DASH}"
#: Bytes per chunk handed to the response (Jinja yields many small strings).
CHUNK = 64 * 1024


def duration(seconds: float | None) -> str:
    """``0.004 s``, ``12.3 s``, ``2 min 5 s``, ``1 h 2 min``."""
    if seconds is None:
        return UNKNOWN
    if seconds < 10:
        return f"{seconds:.3f} s"
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, secs = divmod(round(seconds), 60)
    if minutes < 60:
        return f"{minutes} min {secs} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min"


def when(moment: datetime | None) -> str:
    if moment is None:
        return UNKNOWN
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def percent(part: int, whole: int) -> str:
    """A CSS width: the share of ``part`` in ``whole``."""
    return f"{100 * part / whole:.3f}%" if whole else "0%"


def _environment() -> Environment:
    env = Environment(
        loader=PackageLoader("testyard.reports", "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(duration=duration, when=when)
    env.globals.update(percent=percent, outcomes=OUTCOMES, sources=SOURCES, csp=CSP)
    return env


TEMPLATES = _environment()


def render(sessions: sessionmaker[Session], run_id: int) -> Iterator[bytes]:
    """The report of ``run_id``, as UTF-8 chunks. The run is read in ``sessions`` (the
    request's own session has ended by the time a streamed response is produced).
    A generator: nothing is read before the first chunk is asked for, so a route can
    return it while its own transaction (on SQLite, the write lock) is still open."""
    report = RunReport(sessions, run_id)
    template = TEMPLATES.get_template("report.html.j2")
    parts = template.generate(
        report=report,
        head=report.head,
        generated_at=datetime.now(UTC),
        version=version("testyard"),
    )
    yield from chunked(parts)


def chunked(parts: Iterable[str], size: int = CHUNK) -> Iterator[bytes]:
    buffer: list[str] = []
    held = 0
    for part in parts:
        buffer.append(part)
        held += len(part)
        if held >= size:
            yield "".join(buffer).encode("utf-8")
            buffer, held = [], 0
    if buffer:
        yield "".join(buffer).encode("utf-8")


def filename(project: str, run_id: int) -> str:
    """``<project>-run-<id>-report.html``: a name that says what it is once saved."""
    return f"{project}-run-{run_id}-{NAME}"
