"""``testyard run --follow``: a live progress bar until the run ends, then failures."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from websockets.exceptions import ConnectionClosedError
from websockets.sync.client import connect

from testyard.client import Client, ClientError
from testyard.events.store import STORED


def follow(client: Client, run_id: int, ws_url: str, console: Console) -> dict[str, Any]:
    """Show live progress from the run's WebSocket until ``done``; return the run."""
    columns = (
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("[green]{task.fields[passed]} passed [red]{task.fields[failed]} failed"),
        TimeElapsedColumn(),
    )
    counts: dict[str, int] = {}
    with Progress(*columns, console=console) as progress:
        task = progress.add_task("queued", total=None, passed=0, failed=0)
        for message in _events(client.websocket_url(ws_url), client.token):
            kind = message.get("event")
            if kind == "run":
                run = message["run"]
                progress.update(task, description=run["status"], total=run.get("collected"))
            elif kind == "test" and message.get("final"):
                counts[message["outcome"]] = counts.get(message["outcome"], 0) + 1
            elif kind == "done":
                progress.update(task, description=message["status"])
            progress.update(
                task,
                completed=sum(counts.values()),
                passed=counts.get("passed", 0),
                failed=counts.get("failed", 0) + counts.get("error", 0),
            )
            if kind == "done":
                break
    return dict(client.call("GET", f"/runs/{run_id}"))


def _events(url: str, token: str, retries: int = 5) -> Iterator[dict[str, Any]]:
    """The run's events; a dropped connection resumes after the last stored seq."""
    after = 0
    for _attempt in range(retries):
        try:
            with connect(f"{url}?after={after}&token={token}", open_timeout=10) as socket:
                for raw in socket:
                    message = json.loads(raw)
                    if message.get("event") in STORED:
                        after = message["seq"]
                    yield message
                return
        except (OSError, ConnectionClosedError):
            time.sleep(1)
    raise ClientError("lost the connection to the run's live events")


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
