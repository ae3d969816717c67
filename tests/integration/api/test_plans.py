"""Plans: every field of the plan body, triggers validated before saving, ordered cases."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from tests.factories import make_case, make_environment, make_plan, make_project
from tests.support.api import Api

FUTURE = "2099-01-02T03:04:05+02:00"
NO_TRIGGER = {"kind": "none", "expression": None, "seconds": None, "at": None, "timezone": None}


def plans_path(pid: int) -> str:
    return f"/projects/{pid}/plans"


def project_with_cases(api: Api, count: int) -> tuple[int, list[int]]:
    pid = make_project(api)["id"]
    return pid, [make_case(api, pid)["id"] for _ in range(count)]


def full_body(case_ids: list[int]) -> dict[str, Any]:
    return {
        "name": "Nightly regression",
        "description": "everything, every night",
        "case_ids": case_ids,
        "environment": "qa",
        "workers": 4,
        "dist": "loadfile",
        "retries": 2,
        "timeout_s": 600,
        "mode": "normal",
        "deadline_s": 3600,
        "on_overlap": "queue",
        "trigger": {
            **NO_TRIGGER,
            "kind": "cron",
            "expression": "30 2 * * 1-5",
            "timezone": "Europe/Berlin",
        },
        "enabled": True,
        "notify": {"when": "change", "channel_ids": []},
    }


def without_times(plan: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in plan.items() if k not in ("id", "created_at", "updated_at")}


def test_plan_crud_with_every_field(admin: Api) -> None:
    pid, (a, b, c) = project_with_cases(admin, 3)
    make_environment(admin, pid, "qa")
    make_environment(admin, pid, "prod")
    body = full_body([c, a, b])

    created = admin.post(plans_path(pid), body)
    assert without_times(created) == body
    plid = created["id"]
    assert admin.get(f"{plans_path(pid)}/{plid}") == created
    assert admin.get(plans_path(pid))["items"] == [created]

    changes: list[dict[str, Any]] = [
        {"workers": "auto", "dist": "duration", "environment": "prod"},
        {"workers": 0, "retries": 0, "timeout_s": None, "deadline_s": None},
        {"mode": "staged", "trigger": {"kind": "interval", "seconds": 300}},
        {"mode": "normal", "on_overlap": "skip", "enabled": False},
        {"notify": {"when": "always", "channel_ids": []}, "description": ""},
        {"name": "Nightly", "case_ids": [b], "environment": None},
        {"trigger": {"kind": "none"}},
    ]
    expected = dict(created)
    for change in changes:
        updated = admin.patch(f"{plans_path(pid)}/{plid}", change)
        if "trigger" in change:  # a trigger is replaced as a whole
            change = {**change, "trigger": {**NO_TRIGGER, **change["trigger"]}}
        expected = {**expected, **change, "updated_at": updated["updated_at"]}
        assert updated == expected, change
    assert admin.get(f"{plans_path(pid)}/{plid}") == expected

    admin.delete(f"{plans_path(pid)}/{plid}")
    assert admin.expect(404, "GET", f"{plans_path(pid)}/{plid}")["error"] == "not_found"
    assert admin.get(plans_path(pid))["total"] == 0
    # The cases stay; only the plan is gone.
    assert admin.get(f"/projects/{pid}/cases")["total"] == 3


def test_defaults_and_date_trigger(admin: Api) -> None:
    pid = make_project(admin)["id"]
    plan = admin.post(plans_path(pid), {"name": "Smoke"})
    assert without_times(plan) == {
        "name": "Smoke",
        "description": "",
        "case_ids": [],
        "environment": None,
        "workers": "auto",
        "dist": "auto",
        "retries": 0,
        "timeout_s": None,
        "mode": "normal",
        "deadline_s": None,
        "on_overlap": "skip",
        "trigger": NO_TRIGGER,
        "enabled": False,
        "notify": {"when": "failure", "channel_ids": []},
    }

    once = {"kind": "date", "at": FUTURE, "timezone": "Asia/Shanghai"}
    updated = admin.patch(f"{plans_path(pid)}/{plan['id']}", {"trigger": once})
    stored = admin.get(f"{plans_path(pid)}/{plan['id']}")["trigger"]
    for trigger in (updated["trigger"], stored):
        assert (trigger["kind"], trigger["timezone"]) == ("date", "Asia/Shanghai")
        assert datetime.fromisoformat(trigger["at"]) == datetime.fromisoformat(FUTURE)

    # A time without an offset is a time in the trigger's zone.
    naive = {"kind": "date", "at": "2099-06-01T09:30:00", "timezone": "Asia/Shanghai"}
    updated = admin.patch(f"{plans_path(pid)}/{plan['id']}", {"trigger": naive})
    stored = admin.get(f"{plans_path(pid)}/{plan['id']}")["trigger"]
    for trigger in (updated["trigger"], stored):
        at = datetime.fromisoformat(trigger["at"])
        assert at == datetime(2099, 6, 1, 1, 30, tzinfo=UTC), trigger

    # A crontab keeps its meaning with extra spaces; it is stored normalised.
    cron = {"kind": "cron", "expression": " 0   3 * * 1-5 "}
    saved = admin.patch(f"{plans_path(pid)}/{plan['id']}", {"trigger": cron})["trigger"]
    assert saved == {**NO_TRIGGER, "kind": "cron", "expression": "0 3 * * 1-5"}


def test_duplicate_name_is_409_and_name_filter(admin: Api) -> None:
    pid = make_project(admin)["id"]
    nightly = make_plan(admin, pid, name="Nightly regression")
    make_plan(admin, pid, name="Smoke")
    make_plan(admin, pid, name="nightly smoke 100%")

    body = admin.expect(409, "POST", plans_path(pid), json={"name": "Smoke"})
    assert body["error"] == "conflict" and body["field"] == "name"
    body = admin.expect(409, "PATCH", f"{plans_path(pid)}/{nightly['id']}", json={"name": "Smoke"})
    assert body["field"] == "name"
    assert admin.get(f"{plans_path(pid)}/{nightly['id']}") == nightly
    assert admin.get(plans_path(pid))["total"] == 3

    def named(query: str) -> list[str]:
        return [p["name"] for p in admin.get(f"{plans_path(pid)}?{query}")["items"]]

    assert named("name=nightly") == ["Nightly regression", "nightly smoke 100%"]
    assert named("name=SMOKE") == ["Smoke", "nightly smoke 100%"]
    assert named("name=100%25") == ["nightly smoke 100%"]
    assert named("name=y_s") == []  # '_' is literal
    assert named("name=zzz") == []
    assert named("order=-name&per_page=2") == ["nightly smoke 100%", "Smoke"]
    other = make_project(admin)["id"]
    assert make_plan(admin, other, name="Smoke")["name"] == "Smoke"


def test_invalid_trigger_is_422_and_nothing_is_saved(admin: Api) -> None:
    pid = make_project(admin)["id"]
    past = (datetime.now(UTC) - timedelta(minutes=1)).isoformat()
    invalid = [
        ({"kind": "cron", "expression": "61 * * * *"}, "trigger.expression"),
        ({"kind": "cron", "expression": "* * *"}, "trigger.expression"),
        ({"kind": "cron", "expression": "not a cron"}, "trigger.expression"),
        ({"kind": "cron", "expression": "* * * * * *"}, "trigger.expression"),
        ({"kind": "cron", "expression": "0 25 * * *"}, "trigger.expression"),
        ({"kind": "cron"}, "trigger.expression"),
        (
            {"kind": "cron", "expression": "0 3 * * *", "timezone": "Mars/Olympus"},
            "trigger.timezone",
        ),
        ({"kind": "none", "timezone": "../../etc/passwd"}, "trigger.timezone"),
        ({"kind": "date", "at": past}, "trigger.at"),
        ({"kind": "date", "at": "2001-01-01T00:00:00"}, "trigger.at"),
        ({"kind": "date"}, "trigger.at"),
        ({"kind": "interval", "seconds": 0}, "trigger.seconds"),
        ({"kind": "interval", "seconds": -5}, "trigger.seconds"),
        ({"kind": "interval"}, "trigger.seconds"),
        ({"kind": "hourly"}, "trigger.kind"),
    ]
    for trigger, field in invalid:
        body = admin.expect(422, "POST", plans_path(pid), json={"name": "P", "trigger": trigger})
        assert body["error"] == "invalid" and body["field"] == field, trigger
    assert admin.get(plans_path(pid))["total"] == 0

    cron = {**NO_TRIGGER, "kind": "cron", "expression": "0 3 * * *", "timezone": "UTC"}
    plan = make_plan(admin, pid, name="Nightly", trigger=cron, enabled=True)
    for trigger, field in invalid:
        body = admin.expect(
            422,
            "PATCH",
            f"{plans_path(pid)}/{plan['id']}",
            json={"name": "Renamed", "enabled": False, "trigger": trigger},
        )
        assert body["field"] == field, trigger
    assert admin.get(f"{plans_path(pid)}/{plan['id']}") == plan
    assert plan["trigger"] == cron


def test_invalid_settings_are_422_and_nothing_is_saved(admin: Api) -> None:
    pid, (a, b) = project_with_cases(admin, 2)
    make_environment(admin, pid, "qa")
    foreign = make_case(admin, make_project(admin)["id"])["id"]
    invalid: list[tuple[dict[str, Any], str]] = [
        ({"environment": "nope"}, "environment"),
        ({"environment": "QA"}, "environment"),
        ({"case_ids": [a, 999999]}, "case_ids"),
        ({"case_ids": [a, b, a]}, "case_ids"),
        ({"case_ids": [foreign]}, "case_ids"),
        ({"dist": "fast"}, "dist"),
        ({"workers": -1}, "workers"),
        ({"workers": "many"}, "workers"),
        ({"workers": 257}, "workers"),
        ({"workers": True}, "workers"),
        ({"workers": "4"}, "workers"),
        ({"retries": -1}, "retries"),
        ({"retries": 11}, "retries"),
        ({"timeout_s": 0}, "timeout_s"),
        ({"deadline_s": 0}, "deadline_s"),
        ({"mode": "turbo"}, "mode"),
        ({"on_overlap": "kill"}, "on_overlap"),
        ({"notify": {"when": "sometimes"}}, "notify.when"),
        ({"notify": {"when": "always", "channel_ids": [999999]}}, "notify.channel_ids"),
        (
            {"mode": "staged", "trigger": {"kind": "cron", "expression": "* * * * *"}},
            "trigger.kind",
        ),
        ({"name": ""}, "name"),
        ({"name": "   "}, "name"),
        ({"name": "a/b"}, "name"),
    ]
    for fields, field in invalid:
        body = admin.expect(422, "POST", plans_path(pid), json={"name": "P", **fields})
        assert body["error"] == "invalid", fields
        assert body["field"].split(".")[0] == field.split(".")[0], (fields, body)
        if "." in field:
            assert body["field"] == field, (fields, body)
    assert admin.get(plans_path(pid))["total"] == 0

    plan = make_plan(admin, pid, name="Kept", case_ids=[b, a], environment="qa", workers=2)
    for fields, field in invalid:
        body = admin.expect(422, "PATCH", f"{plans_path(pid)}/{plan['id']}", json=fields)
        assert body["field"].split(".")[0] == field.split(".")[0], (fields, body)
    assert admin.get(f"{plans_path(pid)}/{plan['id']}") == plan


def test_add_reorder_and_remove_cases(admin: Api) -> None:
    pid, (a, b, c, d, e) = project_with_cases(admin, 5)
    plan = make_plan(admin, pid, case_ids=[c, a])
    path = f"{plans_path(pid)}/{plan['id']}"
    assert plan["case_ids"] == [c, a]

    assert admin.post(f"{path}/cases", {"case_ids": [e]}, status=200)["case_ids"] == [c, a, e]
    added = admin.post(f"{path}/cases", {"case_ids": [d, b], "position": 1}, status=200)
    assert added["case_ids"] == [c, d, b, a, e]
    first = admin.post(f"{path}/cases", {"case_ids": [], "position": 0}, status=422)
    assert first["field"] == "case_ids"
    assert admin.get(path)["case_ids"] == [c, d, b, a, e]

    for wrong in ([a, b, c, d], [a, b, c, d, e, e], [a, b, c, d, 999999], []):
        body = admin.expect(422, "PUT", f"{path}/cases", json={"case_ids": wrong})
        assert body["field"] == "case_ids", wrong
    assert admin.get(path)["case_ids"] == [c, d, b, a, e]
    assert admin.put(f"{path}/cases", {"case_ids": [e, d, c, b, a]})["case_ids"] == [e, d, c, b, a]

    for bad in ([a], [999999], [e, e]):
        body = admin.expect(422, "POST", f"{path}/cases", json={"case_ids": bad})
        assert body["field"] == "case_ids", bad
    assert admin.delete(f"{path}/cases/{c}", status=200)["case_ids"] == [e, d, b, a]
    body = admin.expect(404, "DELETE", f"{path}/cases/{c}")
    assert body["error"] == "not_found"
    assert admin.expect(404, "DELETE", f"{path}/cases/999999")["error"] == "not_found"
    assert admin.get(path)["case_ids"] == [e, d, b, a]
    assert admin.get(f"/projects/{pid}/cases/{c}")["id"] == c  # the case itself stays

    # Replacing the list through the plan body keeps the order given.
    assert admin.patch(path, {"case_ids": [b, e]})["case_ids"] == [b, e]
    assert admin.post(f"{path}/cases", {"case_ids": [a], "position": 99}, status=200)[
        "case_ids"
    ] == [b, e, a]
    assert admin.get(path)["case_ids"] == [b, e, a]


def test_deleting_an_environment_leaves_plans_without_one(admin: Api) -> None:
    pid = make_project(admin)["id"]
    qa = make_environment(admin, pid, "qa")
    prod = make_environment(admin, pid, "prod")
    on_qa = make_plan(admin, pid, environment="qa")
    on_prod = make_plan(admin, pid, environment="prod")

    admin.delete(f"/projects/{pid}/environments/{qa['id']}")
    assert admin.get(f"{plans_path(pid)}/{on_qa['id']}")["environment"] is None
    assert admin.get(f"{plans_path(pid)}/{on_prod['id']}")["environment"] == "prod"
    # Renaming an environment follows through to the plan, which refers to it by id.
    admin.patch(f"/projects/{pid}/environments/{prod['id']}", {"name": "production"})
    assert admin.get(f"{plans_path(pid)}/{on_prod['id']}")["environment"] == "production"
    # A new environment with the old name is not silently re-attached.
    make_environment(admin, pid, "qa")
    assert admin.get(f"{plans_path(pid)}/{on_qa['id']}")["environment"] is None


def test_unknown_plan_is_404(admin: Api) -> None:
    pid, (a,) = project_with_cases(admin, 1)
    other = make_project(admin)["id"]
    foreign = make_plan(admin, other)
    for plid in (999999, foreign["id"]):
        for method, suffix, json in [
            ("GET", "", None),
            ("PATCH", "", {"name": "x"}),
            ("DELETE", "", None),
            ("POST", "/cases", {"case_ids": [a]}),
            ("PUT", "/cases", {"case_ids": []}),
            ("DELETE", f"/cases/{a}", None),
        ]:
            body = admin.expect(404, method, f"{plans_path(pid)}/{plid}{suffix}", json=json)
            assert body["error"] == "not_found", (method, suffix, plid)
    assert admin.get(f"{plans_path(other)}/{foreign['id']}") == foreign
