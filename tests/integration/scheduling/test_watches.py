"""Staged polling: steps tried in order each period until passed, failed or too late."""

from __future__ import annotations

import time
import uuid
from typing import Any

from tests.factories import make_case, make_plan, make_project
from tests.integration.scheduling.conftest import App
from tests.integration.scheduling.test_fires import wait_for
from tests.support.api import Api

PASSING = "def test_ready():\n    pass\n"


def pending_twice() -> str:
    """A step that is not ready for its first two tries (a counter file in /tmp)."""
    counter = f"/tmp/testyard-watch-{uuid.uuid4().hex}"
    return (
        "from pathlib import Path\nimport testyard\n\n"
        "def test_arrived():\n"
        f"    counter = Path({counter!r})\n"
        "    n = int(counter.read_text()) if counter.exists() else 0\n"
        "    counter.write_text(str(n + 1))\n"
        "    if n < 2:\n"
        "        testyard.pending(f'not in system B yet (try {n + 1})')\n"
    )


def staged(api: Api, codes: list[str], deadline_s: int = 60) -> tuple[int, int]:
    project = make_project(api)
    cases = [make_case(api, project["id"], code=code) for code in codes]
    plan = make_plan(
        api,
        project["id"],
        case_ids=[c["id"] for c in cases],
        mode="staged",
        deadline_s=deadline_s,
        trigger={"kind": "interval", "seconds": 1},
    )
    return project["id"], plan["id"]


def finished(api: Api, pid: int, wid: int) -> dict[str, Any]:
    return wait_for(
        lambda: (w := api.get(f"/projects/{pid}/watches/{wid}"))["status"] != "watching" and w,
        timeout=60,
    )


def test_a_staged_plan_passes_step_by_step_waiting_for_pending(app: App) -> None:
    api = app.start()
    pid, plid = staged(api, [PASSING, pending_twice(), PASSING])
    watch = api.post(f"/projects/{pid}/plans/{plid}/watches", {}, status=202)
    assert watch["status"] == "watching"
    done = finished(api, pid, watch["id"])
    assert done["status"] == "passed", done
    assert [s["state"] for s in done["steps"]] == ["passed", "passed", "passed"]
    assert [s["attempts"] for s in done["steps"]] == [1, 3, 1]
    runs = api.get(f"/projects/{pid}/runs", params={"source": "watch"})["items"]
    assert len(runs) == 5
    pending_runs = [r for r in runs if r["counts"].get("pending")]
    assert len(pending_runs) == 2


def test_a_failing_step_ends_the_watch_failed(app: App) -> None:
    api = app.start()
    pid, plid = staged(api, [PASSING, "def test_broken():\n    assert False\n", PASSING])
    watch = api.post(f"/projects/{pid}/plans/{plid}/watches", {}, status=202)
    done = finished(api, pid, watch["id"])
    assert done["status"] == "failed"
    assert [s["state"] for s in done["steps"]] == ["passed", "failed", "waiting"]


def test_the_deadline_ends_the_watch_timed_out(app: App) -> None:
    api = app.start()
    never = "import testyard\n\ndef test_never():\n    testyard.pending('still waiting')\n"
    pid, plid = staged(api, [never], deadline_s=3)
    watch = api.post(f"/projects/{pid}/plans/{plid}/watches", {}, status=202)
    done = finished(api, pid, watch["id"])
    assert done["status"] == "timed_out"
    assert done["steps"][0]["attempts"] >= 2
    time.sleep(2)  # its job is gone: no more tries
    attempts = api.get(f"/projects/{pid}/watches/{watch['id']}")["steps"][0]["attempts"]
    assert attempts == done["steps"][0]["attempts"]


def test_only_staged_plans_with_an_interval_can_be_watched(app: App) -> None:
    api = app.start()
    project = make_project(api)
    case = make_case(api, project["id"])
    plan = make_plan(api, project["id"], case_ids=[case["id"]])
    body = api.expect(422, "POST", f"/projects/{project['id']}/plans/{plan['id']}/watches", json={})
    assert body["field"] == "mode"
