"""What a trigger will do: its next fire times and a crontab in words."""

from __future__ import annotations

import calendar
import re
from datetime import UTC, datetime

from cron_descriptor import ExpressionDescriptor, Options, get_description

from testyard.scheduling.triggers import TriggerSpec, build_trigger


def next_fire_times(spec: TriggerSpec, count: int = 5, now: datetime | None = None
                    ) -> list[datetime]:  # fmt: skip
    now = now or datetime.now(UTC)
    trigger = build_trigger(spec, now=now) if spec.kind != "date" else _date(spec, now)
    if trigger is None:
        return []
    times: list[datetime] = []
    previous = None
    current = now
    while len(times) < count:
        fire = trigger.get_next_fire_time(previous, current)
        if fire is None:
            break
        times.append(fire)
        previous, current = fire, fire
    return times


def _date(spec: TriggerSpec, now: datetime):  # type: ignore[no-untyped-def]
    # A one-off date already past is shown as nothing to come, not as an error.
    if spec.at is None or (spec.at.tzinfo and spec.at <= now):
        return None
    return build_trigger(spec, now=now)


#: cron-descriptor's languages by the web UI's locale names.
CRON_LOCALES = {"en": "en_US", "zh": "zh_CN"}
# cron-descriptor takes day and month names from the process's C locale: English.
ZH_NAMES = dict(
    zip(
        [*calendar.day_name, *calendar.month_name[1:]],
        [f"星期{d}" for d in "一二三四五六日"] + [f"{m}月" for m in range(1, 13)],
        strict=True,
    )
)


def describe(spec: TriggerSpec, locale: str | None = None) -> str:
    """The trigger in words; a crontab in ``locale`` (24-hour clock) when one is given."""
    if spec.kind == "cron" and spec.expression and locale in CRON_LOCALES:
        return _cron_words(spec.expression, locale)
    if spec.kind == "cron" and spec.expression:
        return str(get_description(spec.expression))
    if spec.kind == "interval" and spec.seconds:
        return f"Every {_duration(spec.seconds)}"
    if spec.kind == "date" and spec.at:
        return f"Once, at {spec.at.isoformat()}"
    return "Not scheduled"


def _cron_words(expression: str, locale: str) -> str:
    options = Options()
    options.locale_code = CRON_LOCALES[locale]
    options.use_24hour_time_format = True
    words = str(ExpressionDescriptor(expression, options).get_description())
    if locale == "zh":
        pattern = "|".join(sorted(ZH_NAMES, key=len, reverse=True))
        words = re.sub(rf"\b({pattern})\b", lambda m: ZH_NAMES[m.group(1)], words)
    return words


def _duration(seconds: int) -> str:
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds % size == 0:
            n = seconds // size
            return f"{n} {unit}{'s' if n != 1 else ''}"
    return f"{seconds} seconds"
