"""Schedule previews: a trigger not saved yet, in words and next fire times, as typed."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from tests.factories import make_plan, make_project
from tests.support.api import Api


def preview_path(pid: int, locale: str | None = None) -> str:
    query = f"?locale={locale}" if locale else ""
    return f"/projects/{pid}/plans/schedule-preview{query}"


def test_a_crontab_in_words_and_its_next_fire_times(admin: Api) -> None:
    pid = make_project(admin)["id"]
    trigger = {"kind": "cron", "expression": "0 2 * * 1-5", "timezone": "Asia/Shanghai"}

    preview = admin.post(preview_path(pid), trigger, status=200)
    assert preview["description"] == "At 02:00 AM, Monday through Friday"
    assert preview["timezone"] == "Asia/Shanghai"
    shanghai = ZoneInfo("Asia/Shanghai")
    times = [datetime.fromisoformat(t).astimezone(shanghai) for t in preview["next"]]
    assert len(times) == 5 and times == sorted(times)
    assert all((t.hour, t.minute) == (2, 0) and t.isoweekday() <= 5 for t in times)
    assert times[0] > datetime.now(UTC)

    english = admin.post(preview_path(pid, "en"), trigger, status=200)
    assert english["description"] == "At 02:00, Monday through Friday"
    chinese = admin.post(preview_path(pid, "zh"), trigger, status=200)
    assert chinese["description"] == "在 02:00, 星期一 到 星期五"
    assert chinese["next"] == preview["next"]
    assert admin.get(f"/projects/{pid}/plans")["total"] == 0  # a preview saves nothing


def test_interval_date_and_none_previews(admin: Api) -> None:
    pid = make_project(admin)["id"]
    every = admin.post(preview_path(pid), {"kind": "interval", "seconds": 7200}, status=200)
    assert every["description"] == "Every 2 hours"
    times = [datetime.fromisoformat(t) for t in every["next"]]
    assert [b - a for a, b in itertools.pairwise(times)] == [timedelta(hours=2)] * 4

    once = {"kind": "date", "at": "2099-06-01T09:30:00", "timezone": "Asia/Shanghai"}
    answer = admin.post(preview_path(pid), once, status=200)
    assert [datetime.fromisoformat(t) for t in answer["next"]] == [
        datetime(2099, 6, 1, 1, 30, tzinfo=UTC)
    ]
    nothing = admin.post(preview_path(pid), {"kind": "none"}, status=200)
    assert (nothing["description"], nothing["next"]) == ("Not scheduled", [])


def test_an_invalid_trigger_is_422_naming_its_field(admin: Api) -> None:
    pid = make_project(admin)["id"]
    past = (datetime.now(UTC) - timedelta(minutes=1)).isoformat()
    invalid = [
        ({"kind": "cron", "expression": "61 * * * *"}, "trigger.expression"),
        ({"kind": "cron", "expression": "0 2 * *"}, "trigger.expression"),
        ({"kind": "cron"}, "trigger.expression"),
        (
            {"kind": "cron", "expression": "0 3 * * *", "timezone": "Mars/Olympus"},
            "trigger.timezone",
        ),
        ({"kind": "interval", "seconds": 0}, "trigger.seconds"),
        ({"kind": "date", "at": past}, "trigger.at"),
    ]
    for trigger, field in invalid:
        body = admin.expect(422, "POST", preview_path(pid), json=trigger)
        assert (body["error"], body["field"]) == ("invalid", field), trigger
        assert body["message"]
    body = admin.expect(422, "POST", preview_path(pid), json={"kind": "hourly"})
    assert body["field"] == "kind"
    admin.expect(422, "POST", preview_path(pid, "fr"), json={"kind": "none"})


def test_a_saved_plans_schedule_in_chinese(admin: Api) -> None:
    pid = make_project(admin)["id"]
    trigger = {"kind": "cron", "expression": "30 8 * * 6,0", "timezone": "UTC"}
    plan = make_plan(admin, pid, trigger=trigger, enabled=True)
    path = f"/projects/{pid}/plans/{plan['id']}/schedule"
    assert admin.get(path)["description"] == "At 08:30 AM, only on Saturday and Sunday"
    chinese = admin.get(f"{path}?locale=zh")
    assert chinese["description"] == "在 08:30, 仅在 星期六 和 星期日"
    assert len(chinese["next"]) == 5
