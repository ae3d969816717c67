"""Triggers: crontab semantics (weekdays, daylight saving), validation, previews."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest

from testyard.scheduling.preview import describe, next_fire_times
from testyard.scheduling.triggers import (
    TriggerError,
    TriggerSpec,
    build_trigger,
    crontab_weekdays,
)


@pytest.mark.parametrize(
    ("field", "names"),
    [
        ("1-5", "mon,tue,wed,thu,fri"),
        ("0", "sun"),
        ("7", "sun"),
        ("5-7", "sun,fri,sat"),
        ("*/2", "sun,tue,thu,sat"),
        ("MON-FRI", "MON-FRI"),
        ("*", "*"),
    ],
)
def test_crontab_weekday_numbers_mean_what_crontab_means(field: str, names: str) -> None:
    assert crontab_weekdays(field) == names


def test_weekdays_fire_monday_to_friday_in_the_plans_zone() -> None:
    now = datetime(2026, 11, 22, 12, tzinfo=UTC)  # a Sunday
    times = next_fire_times(
        TriggerSpec("cron", "0 2 * * 1-5", timezone="Asia/Shanghai"), 5, now=now
    )
    assert [t.strftime("%a %H:%M %z") for t in times] == [
        f"{day} 02:00 +0800" for day in ("Mon", "Tue", "Wed", "Thu", "Fri")
    ]
    assert describe(TriggerSpec("cron", "0 2 * * 1-5")) == "At 02:00 AM, Monday through Friday"


def test_a_skipped_local_time_does_not_fire() -> None:
    spec = TriggerSpec("cron", "30 2 * * *", timezone="America/New_York")
    times = next_fire_times(spec, 2, now=datetime(2027, 3, 13, 12, tzinfo=UTC))
    assert [t.date().isoformat() for t in times] == ["2027-03-15", "2027-03-16"]


def test_a_repeated_local_time_fires_once() -> None:
    spec = TriggerSpec("cron", "30 1 * * *", timezone="America/New_York")
    times = next_fire_times(spec, 2, now=datetime(2026, 10, 31, 12, tzinfo=UTC))
    assert [t.date().isoformat() for t in times] == ["2026-11-01", "2026-11-02"]


@pytest.mark.parametrize(
    ("spec", "field"),
    [
        (TriggerSpec("cron", "61 * * * *"), "trigger.expression"),
        (TriggerSpec("cron", "* * *"), "trigger.expression"),
        (TriggerSpec("cron", "* * * * 8"), "trigger.expression"),
        (TriggerSpec("interval", seconds=0), "trigger.seconds"),
        (TriggerSpec("date", at=datetime.now(UTC) - timedelta(minutes=1)), "trigger.at"),
        (TriggerSpec("cron", "* * * * *", timezone="Mars/Olympus"), "trigger.timezone"),
    ],
)
def test_invalid_triggers_are_refused_naming_the_field(spec: TriggerSpec, field: str) -> None:
    with pytest.raises(TriggerError) as refused:
        build_trigger(spec)
    assert refused.value.field == field


def test_interval_preview() -> None:
    times = next_fire_times(TriggerSpec("interval", seconds=90), 3)
    assert [(b - a).total_seconds() for a, b in itertools.pairwise(times)] == [90, 90]
    assert times[0] > datetime.now(UTC)
    assert describe(TriggerSpec("interval", seconds=7200)) == "Every 2 hours"
