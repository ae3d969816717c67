"""A plan's ``notify`` rule with real runs (real pytest subprocesses): which finished
runs notify, what the message says, and that a hanging channel never holds a run up."""

from __future__ import annotations

from typing import Any

import pytest

from tests.factories import (
    make_case,
    make_channel,
    make_environment,
    make_plan,
    make_project,
    start_run,
    wait_for_run,
)
from tests.integration.notifications.conftest import PUBLIC_URL, wait_for_delivery
from tests.support.api import Api
from tests.support.receiver import Receiver

FAILING = (
    "def test_one():\n    assert 1 == 2, 'one is not two'\n\n\n"
    "def test_two():\n    raise ValueError('boom')\n\n\n"
    "def test_fine():\n    pass\n"
)


@pytest.fixture(scope="session", params=["sqlite"])
def db_backend(request: pytest.FixtureRequest) -> str:
    """Runs are real subprocesses: one backend is enough here (claims are proved on both)."""
    return str(request.param)


class World:
    """A project with a passing and a failing case, and a channel to the receiver."""

    def __init__(self, api: Api, receiver: Receiver) -> None:
        self.api = api
        self.pid = make_project(api)["id"]
        self.passing = make_case(api, self.pid, name="passing")["id"]
        self.failing = make_case(api, self.pid, name="failing", code=FAILING)["id"]
        self.channel = make_channel(api, self.pid, url=receiver.url)

    def plan(self, when: str, *, passing: bool = True, **fields: Any) -> dict[str, Any]:
        ids = fields.pop("channel_ids", [self.channel["id"]])
        return make_plan(
            self.api,
            self.pid,
            case_ids=[self.passing if passing else self.failing],
            notify={"when": when, "channel_ids": ids},
            **fields,
        )

    def run(self, plan: dict[str, Any], *, passing: bool | None = None) -> dict[str, Any]:
        """Run the plan (switched to the passing or failing case first, if asked)."""
        if passing is not None:
            case = self.passing if passing else self.failing
            self.api.patch(f"/projects/{self.pid}/plans/{plan['id']}", {"case_ids": [case]})
        return wait_for_run(self.api, start_run(self.api, self.pid, plan_id=plan["id"]))

    def notified(self, run: dict[str, Any]) -> list[dict[str, Any]]:
        """The run's deliveries: made with the run's last status change, so final now."""
        items: list[dict[str, Any]] = self.api.get(f"/runs/{run['id']}/notifications")["items"]
        return items


@pytest.fixture
def world(admin: Api, receiver: Receiver) -> World:
    return World(admin, receiver)


def test_always_notifies_with_the_runs_facts(world: World, receiver: Receiver) -> None:
    make_environment(world.api, world.pid, "qa")
    plan = world.plan("always", environment="qa")
    run = world.run(plan)
    assert run["status"] == "passed"
    (delivery,) = world.notified(run)
    assert (delivery["run_id"], delivery["event"], delivery["channel_id"]) == (
        run["id"],
        "run.finished",
        world.channel["id"],
    )
    sent = wait_for_delivery(world.api, world.pid, world.channel["id"], delivery["id"])
    assert sent["status"] == "sent"
    body = receiver.requests[0].json()
    assert body["event"] == "run.finished"
    assert body["plan"] == {"id": plan["id"], "name": plan["name"]}
    facts = body["run"]
    assert (facts["id"], facts["status"], facts["environment"]) == (run["id"], "passed", "qa")
    assert (facts["source"], facts["triggered_by"]) == ("api", "admin")
    assert facts["counts"]["passed"] == 1 and facts["wall_s"] == run["wall_s"]
    assert body["failures"] == [] and body["failures_total"] == 0
    assert body["url"] == f"{PUBLIC_URL}/p/{world.pid}/runs/{run['id']}"
    assert "Triggered by: admin (api)" in body["text"]
    listed = world.api.get(f"/runs/{run['id']}/notifications")
    assert listed["total"] == 1 and listed["items"][0]["status"] == "sent"


def test_failure_notifies_failed_runs_with_their_first_failures(
    world: World, receiver: Receiver
) -> None:
    plan = world.plan("failure", passing=False)
    failed = world.run(plan)
    assert failed["status"] == "failed"
    (delivery,) = world.notified(failed)
    wait_for_delivery(world.api, world.pid, world.channel["id"], delivery["id"])
    body = receiver.requests[0].json()
    assert body["failures_total"] == 2
    failures = {f["nodeid"]: f for f in body["failures"]}
    path = world.api.get(f"/projects/{world.pid}/cases/{world.failing}")["path"]
    assert set(failures) == {f"{path}::test_one", f"{path}::test_two"}
    assert "one is not two" in failures[f"{path}::test_one"]["message"]
    assert "boom" in failures[f"{path}::test_two"]["message"]
    assert "First failures:" in body["text"] and f"{path}::test_two" in body["text"]
    passed = world.run(plan, passing=True)
    assert passed["status"] == "passed" and world.notified(passed) == []
    assert len(receiver.requests) == 1


def test_success_notifies_passed_runs_only(world: World) -> None:
    plan = world.plan("success")
    assert len(world.notified(world.run(plan))) == 1
    failed = world.run(plan, passing=False)
    assert failed["status"] == "failed" and world.notified(failed) == []


def test_change_notifies_when_the_status_differs_from_the_previous_run(world: World) -> None:
    plan = world.plan("change")
    sequence = [True, True, False, False, True]
    notified = [len(world.notified(world.run(plan, passing=ok))) for ok in sequence]
    # The first run is a change; then only the switches to failed and back to passed.
    assert notified == [1, 0, 1, 0, 1]


def test_only_enabled_listed_channels_are_notified(world: World, receiver: Receiver) -> None:
    off = make_channel(world.api, world.pid, url=receiver.url, enabled=False)
    other = make_channel(world.api, world.pid, url=receiver.url)
    make_channel(world.api, world.pid, url=receiver.url)  # not listed by the plan
    plan = world.plan("always", channel_ids=[world.channel["id"], off["id"], other["id"]])
    delivered = world.notified(world.run(plan))
    assert sorted(d["channel_id"] for d in delivered) == sorted([world.channel["id"], other["id"]])
    receiver.wait_for(2)


def test_runs_without_a_rule_or_a_plan_notify_no_one(world: World) -> None:
    quiet = make_plan(world.api, world.pid, case_ids=[world.passing])
    assert world.notified(world.run(quiet)) == []
    loose = wait_for_run(world.api, start_run(world.api, world.pid, case_ids=[world.failing]))
    assert loose["status"] == "failed" and world.notified(loose) == []


def test_a_hanging_channel_does_not_delay_the_run(world: World, receiver: Receiver) -> None:
    receiver.hang()
    plan = world.plan("always")
    run = world.run(plan)
    receiver.wait_for(1)  # the notification is being sent, and hangs
    assert world.api.get(f"/runs/{run['id']}")["status"] == "passed"
    (delivery,) = world.notified(run)
    assert delivery["status"] == "pending" and delivery["attempts"] == []
    receiver.release()
    assert world.notified(world.run(plan))  # the next run notifies as well
