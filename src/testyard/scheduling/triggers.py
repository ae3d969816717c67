"""Plan trigger fields -> APScheduler triggers, validated before anything is saved."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
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
        return CronTrigger.from_crontab(" ".join(fields), timezone=tz)
    except ValueError as exc:
        raise TriggerError(f"invalid crontab: {exc}", "trigger.expression") from None


def _date(at: datetime | None, tz: tzinfo, now: datetime) -> DateTrigger:
    if at is None:
        raise TriggerError("a one-off trigger needs 'at'", "trigger.at")
    if at.tzinfo is None:
        at = at.replace(tzinfo=tz)
    if at <= now:
        raise TriggerError(f"{at.isoformat()} is in the past", "trigger.at")
    return DateTrigger(run_date=at, timezone=tz)
