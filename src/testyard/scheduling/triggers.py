"""Plan trigger fields -> APScheduler triggers, validated before anything is saved."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger

KINDS = ("none", "cron", "interval", "date")
MAX_INTERVAL_S = 366 * 24 * 3600


class TriggerError(ValueError):
    """A trigger that cannot be scheduled; ``field`` names the offending input."""

    def __init__(self, message: str, field: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class TriggerSpec:
    kind: str = "none"
    expression: str | None = None
    seconds: int | None = None
    at: datetime | None = None
    timezone: str | None = None


def zone(name: str | None) -> tzinfo:
    """The IANA zone ``name``, or the server's local zone when not given."""
    if not name:
        local = datetime.now().astimezone().tzinfo
        return local if local is not None else UTC
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise TriggerError(f"unknown time zone {name!r}", "trigger.timezone") from None


def build_trigger(spec: TriggerSpec, *, now: datetime | None = None) -> BaseTrigger | None:
    """The APScheduler trigger for ``spec``; None for kind ``none``."""
    tz = zone(spec.timezone)
    if spec.kind == "none":
        return None
    if spec.kind == "cron":
        return _cron(spec.expression, tz)
    if spec.kind == "interval":
        if spec.seconds is None or not 1 <= spec.seconds <= MAX_INTERVAL_S:
            raise TriggerError(
                f"interval needs seconds between 1 and {MAX_INTERVAL_S}", "trigger.seconds"
            )
        return IntervalTrigger(seconds=spec.seconds, timezone=tz)
    if spec.kind == "date":
        return _date(spec.at, tz, now or datetime.now(UTC))
    raise TriggerError(f"unknown trigger kind {spec.kind!r}; one of {KINDS}", "trigger.kind")


def _cron(expression: str | None, tz: tzinfo) -> CronTrigger:
    fields = (expression or "").split()
    if len(fields) != 5:
        raise TriggerError(
            "a crontab has 5 fields: minute hour day-of-month month day-of-week "
            f"(got {len(fields)})",
            "trigger.expression",
        )
    try:
        fields[4] = crontab_weekdays(fields[4])
        return WallClockCronTrigger.from_crontab(" ".join(fields), timezone=tz)
    except ValueError as exc:
        raise TriggerError(f"invalid crontab: {exc}", "trigger.expression") from None


class WallClockCronTrigger(CronTrigger):  # type: ignore[misc]
    """A crontab on the local wall clock across daylight-saving changes: a time the
    clock skips does not fire (APScheduler would fire it an hour late), and a time the
    clock shows twice fires once, the first time."""

    def get_next_fire_time(self, previous: datetime | None, now: datetime) -> datetime | None:
        for _ in range(1000):
            fire: datetime | None = super().get_next_fire_time(previous, now)
            if fire is None or _happens_once(fire, self.timezone):
                return fire
            # In UTC: arithmetic on local times ignores fold and would go back an hour.
            previous = fire.astimezone(UTC)
            now = previous + timedelta(seconds=1)
        return None


def _happens_once(fire: datetime, tz: tzinfo) -> bool:
    local = fire.astimezone(UTC).astimezone(tz)  # normalised: fire may be a bad wall time
    if local.utcoffset() != fire.utcoffset():
        return False  # a wall time that does not exist that day
    first, second = local.replace(fold=0), local.replace(fold=1)
    return first.utcoffset() == second.utcoffset() or local.fold == 0


WEEKDAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")


def crontab_weekdays(field: str) -> str:
    """The day-of-week field with crontab's numbers (0 or 7 = Sunday, 1 = Monday) as
    names. APScheduler 3 numbers days from Monday = 0, so ``1-5`` given as is would
    mean Tuesday to Saturday; names mean the same to both."""
    if field == "*":
        return field
    days: list[int] = []
    for part in field.split(","):
        if not any(ch.isdigit() for ch in part.split("/")[0]) and part.split("/")[0] != "*":
            return field  # names (MON-FRI): APScheduler reads them as crontab does
        span, _, step_text = part.partition("/")
        step = int(step_text) if step_text.isdigit() else 1
        if step_text and not step_text.isdigit():
            raise ValueError(f"invalid step in {part!r}")
        if span == "*":
            first, last = 0, 6
        elif "-" in span:
            first, last = (int(x) for x in span.split("-", 1))
        else:
            first = last = int(span)
        if not (0 <= first <= 7 and 0 <= last <= 7) or first > last:
            raise ValueError(f"day of week {span!r} is not within 0-7")
        days += [d % 7 for d in range(first, last + 1, step)]
    return ",".join(WEEKDAYS[d] for d in sorted(set(days)))


def _date(at: datetime | None, tz: tzinfo, now: datetime) -> DateTrigger:
    if at is None:
        raise TriggerError("a one-off trigger needs 'at'", "trigger.at")
    if at.tzinfo is None:
        at = at.replace(tzinfo=tz)
    if at <= now:
        raise TriggerError(f"{at.isoformat()} is in the past", "trigger.at")
    return DateTrigger(run_date=at, timezone=tz)
