"""``testyard run --follow``: a live progress bar until the run ends, then failures."""

from __future__ import annotations

import time
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from testyard.client import Client

FINISHED = {"passed", "failed", "error", "cancelled", "timed_out", "interrupted"}
POLL_S = 0.5


def follow(client: Client, run_id: int, console: Console) -> dict[str, Any]:
    """Show progress until the run ends; return the finished run."""
    columns = (
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("[green]{task.fields[passed]} passed [red]{task.fields[failed]} failed"),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console, transient=False) as progress:
        task = progress.add_task("queued", total=None, passed=0, failed=0)
        while True:
            run = client.call("GET", f"/runs/{run_id}")
            done = _done_counts(client, run_id) if run["status"] != "queued" else {}
            progress.update(
                task,
                description=run["status"],
                total=run.get("collected"),
                completed=sum(done.values()),
                passed=done.get("passed", 0),
                failed=done.get("failed", 0) + done.get("error", 0),
            )
            if run["status"] in FINISHED:
                return dict(run)
            time.sleep(POLL_S)


def _done_counts(client: Client, run_id: int) -> dict[str, int]:
    counts: dict[str, int] = {}
    for outcome in ("passed", "failed", "error", "skipped", "xfailed", "xpassed"):
        page = client.call(
            "GET", f"/runs/{run_id}/results", params={"outcome": outcome, "per_page": 1}
        )
        counts[outcome] = int(page["total"])
    return counts


def print_summary(client: Client, run: dict[str, Any], console: Console) -> None:
    failures = client.call(
        "GET", f"/runs/{run['id']}/results", params={"outcome": "failed", "per_page": 1000}
    )["items"]
    failures += client.call(
        "GET", f"/runs/{run['id']}/results", params={"outcome": "error", "per_page": 1000}
    )["items"]
    for result in failures:
        console.rule(style="red")
        console.print(
            f"{result['outcome'].upper()} {result['nodeid']}",
            markup=False,
            highlight=False,
            soft_wrap=True,
        )
        console.print(
            result["longrepr"] or result["message"], markup=False, highlight=False, soft_wrap=True
        )
    if run.get("error"):
        console.rule("[red]run error")
        console.print(run["error"], markup=False, highlight=False)
    counts = {k: v for k, v in (run.get("counts") or {}).items() if v and k != "total"}
    summary = ", ".join(f"{n} {k}" for k, n in counts.items()) or "no results"
    console.print(f"run {run['id']} {run['status']}: {summary} in {run.get('wall_s') or 0:.1f} s")
