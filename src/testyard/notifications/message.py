"""What a notification says. The facts of a finished run (or of a test message) are
gathered once, when its delivery is created, and stored as the delivery's payload; every
retry sends the same facts. ``Message`` renders them as plain text, Markdown and HTML for
the senders, which shape them the way their vendor wants."""

from __future__ import annotations

import html
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from testyard.db.models import Channel, Plan, Project, Run, RunResult, User

#: How many failures a message lists, and how much of each failure message.
FAILURES_SHOWN = 5
FAILURE_CHARS = 300
ERROR_CHARS = 500
FAILED_OUTCOMES = ("failed", "error")
OUTCOME_ORDER = ("passed", "failed", "error", "skipped", "xfailed", "xpassed", "pending")
STATUS_WORDS = {
    "passed": "passed",
    "failed": "failed",
    "error": "ended with an error",
    "timed_out": "timed out",
    "cancelled": "was cancelled",
    "interrupted": "was interrupted",
}


def facts_for_run(session: Session, run: Run) -> dict[str, Any]:
    """The facts of a finished run, as a delivery's payload (JSON)."""
    project = session.get_one(Project, run.project_id)
    plan = session.get(Plan, run.plan_id) if run.plan_id is not None else None
    user = session.get(User, run.triggered_by_id) if run.triggered_by_id is not None else None
    failed = (
        RunResult.run_id == run.id,
        RunResult.final.is_(True),
        RunResult.outcome.in_(FAILED_OUTCOMES),
    )
    first = session.execute(
        select(RunResult.nodeid, RunResult.outcome, RunResult.message)
        .where(*failed)
        .order_by(RunResult.id)
        .limit(FAILURES_SHOWN)
    ).all()
    total = session.scalar(select(func.count()).select_from(RunResult).where(*failed)) or 0
    return {
        "event": "run.finished",
        "project": {"id": project.id, "name": project.name},
        "plan": {"id": plan.id, "name": plan.name} if plan else None,
        "run": {
            "id": run.id,
            "title": run.title,
            "status": run.status,
            "environment": run.environment,
            "source": run.source,
            "triggered_by": user.username if user else None,
            "counts": dict(run.counts or {}),
            "wall_s": run.wall_s,
            "started_at": run.started_at.isoformat() if run.started_at else None,
            "finished_at": run.finished_at.isoformat() if run.finished_at else None,
            "error": _cut(run.error or "", ERROR_CHARS) or None,
        },
        "failures": [
            {"nodeid": nodeid, "outcome": outcome, "message": _cut(message, FAILURE_CHARS)}
            for nodeid, outcome, message in first
        ],
        "failures_total": int(total),
        "path": f"/p/{project.id}/runs/{run.id}",
    }


def facts_for_test(session: Session, channel: Channel, user: User | None) -> dict[str, Any]:
    """The facts of a test message: which channel, asked by whom."""
    project = session.get_one(Project, channel.project_id)
    return {
        "event": "test",
        "project": {"id": project.id, "name": project.name},
        "channel": {"id": channel.id, "name": channel.name, "kind": channel.kind},
        "requested_by": user.username if user else None,
        "path": f"/p/{project.id}/channels",
    }


def _cut(text: str, limit: int) -> str:
    """One line of at most ``limit`` characters."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


@dataclass(frozen=True)
class Message:
    """A delivery's facts ready to send: ``link`` is the public URL of the run's page."""

    facts: dict[str, Any]
    link: str
    delivery_id: int

    @classmethod
    def of(cls, payload: dict[str, Any], public_url: str, delivery_id: int) -> Message:
        return cls(payload, public_url.rstrip("/") + payload.get("path", ""), delivery_id)

    @property
    def is_test(self) -> bool:
        return bool(self.facts.get("event") == "test")

    @property
    def status(self) -> str | None:
        return None if self.is_test else str(self.facts["run"]["status"])

    @property
    def title(self) -> str:
        project = self.facts["project"]["name"]
        if self.is_test:
            return f"testyard: test message for channel {self.facts['channel']['name']}"
        run = self.facts["run"]
        name = self.facts["plan"]["name"] if self.facts.get("plan") else run["title"]
        status = STATUS_WORDS.get(run["status"], run["status"])
        return f"testyard: {name} {status} ({project})"

    def lines(self) -> list[tuple[str, str]]:
        """The summary as (label, value) pairs."""
        if self.is_test:
            channel = self.facts["channel"]
            return [
                ("Project", self.facts["project"]["name"]),
                ("Channel", f"{channel['name']} ({channel['kind']})"),
                ("Sent by", self.facts.get("requested_by") or "testyard"),
                ("Note", "if you can read this, testyard reaches this channel"),
            ]
        run = self.facts["run"]
        plan = self.facts.get("plan")
        pairs = [
            ("Project", self.facts["project"]["name"]),
            ("Plan", plan["name"] if plan else "(none)"),
            ("Environment", run.get("environment") or "(none)"),
            ("Status", run["status"]),
            ("Tests", counts_text(run.get("counts") or {})),
            ("Wall time", duration_text(run.get("wall_s"))),
            ("Triggered by", trigger_text(run.get("source"), run.get("triggered_by"))),
        ]
        if run.get("error"):
            pairs.append(("Error", run["error"]))
        return pairs

    @property
    def failures(self) -> list[dict[str, str]]:
        return list(self.facts.get("failures") or [])

    @property
    def more_failures(self) -> int:
        """Failures beyond those listed."""
        return max(0, int(self.facts.get("failures_total") or 0) - len(self.failures))

    def text(self) -> str:
        """Plain text: the e-mail body and every chat kind's fallback."""
        out = [self.title, ""]
        out += [f"{label}: {value}" for label, value in self.lines()]
        if self.failures:
            out += ["", "First failures:"]
            out += [f"- {f['nodeid']}: {f['message']}" for f in self.failures]
            if self.more_failures:
                out.append(f"… and {self.more_failures} more")
        out += ["", f"Open in testyard: {self.link}"]
        return "\n".join(out)

    def markdown(self) -> str:
        """The Markdown that DingTalk and WeCom render (a common subset; neither has escapes,
        so node ids and failure messages go in code spans, shown as they are)."""
        out = [f"### {self.title}", ""]
        out += [f"- **{label}**: {value}" for label, value in self.lines()]
        if self.failures:
            out += ["", "**First failures**", ""]
            out += [f"- `{code(f['nodeid'])}`: `{code(f['message'])}`" for f in self.failures]
            if self.more_failures:
                out.append(f"- … and {self.more_failures} more")
        out += ["", f"[Open in testyard]({self.link})"]
        return "\n".join(out)

    def html(self) -> str:
        """The HTML part of an e-mail."""
        esc = html.escape
        rows = "".join(
            f"<tr><th align='left'>{esc(label)}</th><td>{esc(value)}</td></tr>"
            for label, value in self.lines()
        )
        failures = "".join(
            f"<li><code>{esc(f['nodeid'])}</code>: {esc(f['message'])}</li>" for f in self.failures
        )
        if self.more_failures:
            failures += f"<li>… and {self.more_failures} more</li>"
        listed = f"<h3>First failures</h3><ul>{failures}</ul>" if failures else ""
        return (
            f"<html><body><h2>{esc(self.title)}</h2><table>{rows}</table>{listed}"
            f"<p><a href='{esc(self.link, quote=True)}'>Open in testyard</a></p></body></html>"
        )


def counts_text(counts: dict[str, Any]) -> str:
    """``10 tests: 8 passed, 2 failed`` (outcomes in a fixed order, zeros left out)."""
    parts = [f"{counts[k]} {k}" for k in OUTCOME_ORDER if counts.get(k)]
    total = counts.get("total", sum(int(counts.get(k) or 0) for k in OUTCOME_ORDER))
    text = f"{total} tests" + (": " + ", ".join(parts) if parts else "")
    return text + (f" ({counts['flaky']} flaky)" if counts.get("flaky") else "")


def duration_text(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, secs = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min {secs} s" if hours else f"{minutes} min {secs} s"


def trigger_text(source: str | None, user: str | None) -> str:
    """Who or what started the run: ``schedule``, ``alice (manual)``…"""
    source = source or "api"
    return f"{user} ({source})" if user else source


def code(text: str) -> str:
    """Text inside a Markdown code span (which cannot hold a backtick)."""
    return text.replace("`", "'")
