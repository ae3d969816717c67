"""Run history filters, and each user's latest result on the cases list."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests.factories import add_member, make_case, make_project, make_user, start_run, wait_for_run
from tests.support.api import Api

FLIP = (
    "from pathlib import Path\n\n"
    "def test_flip():\n"
    "    marker = Path('/tmp') / 'testyard-flip-{n}'\n"
    "    first = not marker.exists()\n"
    "    marker.touch()\n"
    "    assert first, 'fails from the second run on'\n"
)


def test_history_filters_and_latest_result_per_user(admin: Api) -> None:
    project = make_project(admin)
    pid = project["id"]
    other = make_user(admin)
    add_member(admin, pid, other, "runner")
    stamp = datetime.now(UTC).strftime("%H%M%S%f")
    case = make_case(admin, pid, code=FLIP.replace("{n}", stamp))
    first = wait_for_run(admin, start_run(admin, pid, case_ids=[case["id"]], source="manual"))
    second = wait_for_run(admin, start_run(admin, pid, case_ids=[case["id"]]))
    theirs = wait_for_run(other, start_run(other, pid, case_ids=[case["id"]], source="cli"))
    assert (first["status"], second["status"], theirs["status"]) == ("passed", "failed", "failed")

    def ids(**params: object) -> list[int]:
        return [r["id"] for r in admin.get(f"/projects/{pid}/runs", params=params)["items"]]

    assert ids() == [theirs["id"], second["id"], first["id"]], "newest first"
    assert ids(status="passed") == [first["id"]]
    assert ids(source="cli") == [theirs["id"]]
    assert ids(source="manual") == [first["id"]]
    assert ids(user_id=other.get("/me")["id"]) == [theirs["id"]]
    assert ids(case_id=case["id"]) == [theirs["id"], second["id"], first["id"]]
    future = (datetime.now(UTC) + timedelta(minutes=5)).isoformat()
    assert ids(since=future) == [] and len(ids(until=future)) == 3
    assert admin.expect(422, "GET", f"/projects/{pid}/runs", params={"status": "sleepy"})

    # Latest result: each user sees their own latest run of the case.
    mine = admin.get(f"/projects/{pid}/cases", params={"with": "latest_result"})["items"][0]
    assert mine["latest_result"]["run_id"] == second["id"]
    assert mine["latest_result"]["outcome"] == "failed"
    newcomer = make_user(admin)
    add_member(admin, pid, newcomer, "viewer")
    never_ran = newcomer.get(f"/projects/{pid}/cases", params={"with": "latest_result"})["items"]
    assert never_ran[0]["latest_result"] is None
    plain = admin.get(f"/projects/{pid}/cases")["items"][0]
    assert plain["latest_result"] is None, "only with=latest_result"
