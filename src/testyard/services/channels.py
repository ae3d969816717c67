"""Notification channels of a project, the deliveries made to them, and the rules that
decide which finished runs notify which channels.

A plan's ``notify`` is ``{when, channel_ids}``: when one of its runs finishes,
``queue_for_run`` (called by ``runs.set_run_status`` in the transaction that finishes
the run) creates one pending delivery per enabled channel if ``when`` matches; the
delivery service sends them later. A channel's secret is write-only."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Select, select, update
from sqlalchemy.orm import Session

from testyard.db.models import Channel, Delivery, DeliveryAttempt, Plan, Project, Run, User
from testyard.notifications import factory
from testyard.notifications.message import facts_for_run, facts_for_test
from testyard.notifications.sender import ChannelError, ChannelSettings
from testyard.services import names
from testyard.services.errors import Conflict, Invalid, not_found, possible_id
from testyard.services.pages import Page, paginate

MAX_SECRET = 4096

log = logging.getLogger(__name__)


@dataclass
class DeliveryView:
    """A delivery with its channel and every attempt, as the API lists them."""

    delivery: Delivery
    channel: Channel
    attempts: list[DeliveryAttempt]


def list_channels(
    session: Session, project: Project, *, page: int = 1, per_page: int = 50
) -> Page[Channel]:
    query = select(Channel).where(Channel.project_id == project.id).order_by(Channel.id)
    return paginate(session, query, page=page, per_page=per_page)


def get_channel(session: Session, project: Project, channel_id: int) -> Channel:
    channel = session.get(Channel, channel_id)
    if channel is None or channel.project_id != project.id:
        raise not_found("channel", channel_id)
    return channel


def create_channel(session: Session, project: Project, fields: dict[str, Any]) -> Channel:
    channel = Channel(project_id=project.id, enabled=True)
    _apply(session, project, channel, fields)
    session.add(channel)
    session.flush()
    return channel


def update_channel(session: Session, channel: Channel, fields: dict[str, Any]) -> Channel:
    """Change what ``fields`` holds. A ``secret`` left out keeps the stored one (``""``
    clears it); a ``url`` equal to the masked one the API showed keeps the stored URL."""
    project = session.get_one(Project, channel.project_id)
    if fields.get("url") is not None and fields["url"] == factory.mask_url(
        fields.get("kind") or channel.kind, channel.url
    ):
        fields = {key: value for key, value in fields.items() if key != "url"}
    _apply(session, project, channel, fields)
    session.flush()
    return channel


def delete_channel(session: Session, channel: Channel) -> None:
    """Delete the channel (its deliveries go with it) and drop it from plans' notify."""
    plans = session.scalars(select(Plan).where(Plan.project_id == channel.project_id)).all()
    for plan in plans:
        ids = list((plan.notify or {}).get("channel_ids") or [])
        if channel.id in ids:
            notify = {**plan.notify, "channel_ids": [i for i in ids if i != channel.id]}
            # A clean-up, not an edit: the plan keeps its updated_at (and its schedule).
            session.execute(
                update(Plan)
                .where(Plan.id == plan.id)
                .values(notify=notify, updated_at=Plan.updated_at)
            )
    session.delete(channel)
    session.flush()


def _apply(session: Session, project: Project, channel: Channel, fields: dict[str, Any]) -> None:
    """Validate the channel as it will be, then write: nothing half-saved on an error."""
    name = channel.name
    if "name" in fields or channel.id is None:
        name = names.display_name(fields.get("name") or "")
        other = session.scalar(
            select(Channel.id).where(Channel.project_id == project.id, Channel.name == name)
        )
        if other is not None and other != channel.id:
            raise Conflict(f"a channel named {name!r} already exists", field="name")
    secret = fields["secret"] if fields.get("secret") is not None else (channel.secret or "")
    if len(secret) > MAX_SECRET:
        raise Invalid(f"the secret must be at most {MAX_SECRET} characters", field="secret")
    kind = fields.get("kind") or channel.kind or ""
    config = fields.get("config")
    if config is None:  # kept, unless the kind changes: another kind's settings do not fit
        config = dict(channel.config or {}) if kind == channel.kind else {}
    url = fields["url"] if fields.get("url") is not None else channel.url or ""
    wanted = ChannelSettings(kind=kind, url=url.strip(), secret=secret, config=config)
    try:
        checked = factory.check(wanted)
    except ChannelError as exc:
        raise Invalid(str(exc), field=exc.field) from None
    channel.name, channel.kind, channel.url = name, wanted.kind, wanted.url
    channel.secret, channel.config = wanted.secret, checked
    if fields.get("enabled") is not None:
        channel.enabled = bool(fields["enabled"])


def check_channel_ids(session: Session, project: Project, channel_ids: list[int]) -> None:
    """A plan's ``notify.channel_ids`` must be channels of its own project."""
    if len(set(channel_ids)) != len(channel_ids):
        raise Invalid("a channel appears twice", field="notify.channel_ids")
    possible = [cid for cid in channel_ids if possible_id(cid)]
    found = set(
        session.scalars(
            select(Channel.id).where(Channel.project_id == project.id, Channel.id.in_(possible))
        )
    )
    missing = [cid for cid in channel_ids if cid not in found]
    if missing:
        raise Invalid(f"unknown notification channels {missing}", field="notify.channel_ids")


def queue_test(session: Session, channel: Channel, user: User | None) -> Delivery:
    """A test message to the channel (no run), sent like any other delivery."""
    delivery = _pending(channel.id, None, facts_for_test(session, channel, user))
    session.add(delivery)
    session.flush()
    return delivery


def queue_for_run(session: Session, run: Run) -> list[Delivery]:
    """The deliveries a just-finished run makes, by its plan's ``notify`` rule. In a
    savepoint: whatever goes wrong here is logged and never fails the run's own change."""
    plan = session.get(Plan, run.plan_id) if run.plan_id is not None else None
    notify = (plan.notify if plan else None) or {}
    if not notify.get("channel_ids"):
        return []
    try:
        with session.begin_nested():
            return _queue(session, run, notify)
    except Exception:
        log.exception("could not queue the notifications of run %s", run.id)
        return []


def _queue(session: Session, run: Run, notify: dict[str, Any]) -> list[Delivery]:
    channel_ids = list(notify["channel_ids"])
    if not _matches(session, run, notify.get("when") or "failure"):
        return []
    channels = session.scalars(
        select(Channel.id).where(
            Channel.project_id == run.project_id,
            Channel.id.in_(channel_ids),
            Channel.enabled.is_(True),
        )
    ).all()
    if not channels:
        return []
    payload = facts_for_run(session, run)
    deliveries = [_pending(channel_id, run.id, payload) for channel_id in channels]
    session.add_all(deliveries)
    session.flush()
    return deliveries


def _matches(session: Session, run: Run, when: str) -> bool:
    """``always``; ``failure``: not passed; ``success``: passed; ``change``: a status
    other than the plan's previous finished run's (a plan's first run is a change)."""
    if when == "always":
        return True
    if when in ("failure", "success"):
        return (run.status == "passed") == (when == "success")
    previous = session.scalar(
        select(Run.status)
        .where(Run.plan_id == run.plan_id, Run.id != run.id, Run.finished_at.is_not(None))
        .order_by(Run.finished_at.desc(), Run.id.desc())
        .limit(1)
    )
    return previous != run.status


def _pending(channel_id: int, run_id: int | None, payload: dict[str, Any]) -> Delivery:
    return Delivery(
        channel_id=channel_id,
        run_id=run_id,
        status="pending",
        attempts=0,
        next_attempt_at=datetime.now(UTC),
        payload=payload,
    )


def channel_deliveries(
    session: Session,
    channel: Channel,
    *,
    page: int = 1,
    per_page: int = 50,
    status: str | None = None,
) -> Page[DeliveryView]:
    """The channel's deliveries, newest first, each with its attempts."""
    query = select(Delivery).where(Delivery.channel_id == channel.id)
    if status:
        query = query.where(Delivery.status == status)
    found = paginate(session, query.order_by(Delivery.id.desc()), page=page, per_page=per_page)
    return _views(session, found, {channel.id: channel})


def run_deliveries(
    session: Session, run: Run, *, page: int = 1, per_page: int = 50
) -> Page[DeliveryView]:
    """The run's deliveries, one per notified channel, each with its attempts."""
    query: Select[Any] = select(Delivery).where(Delivery.run_id == run.id)
    found = paginate(session, query.order_by(Delivery.id), page=page, per_page=per_page)
    channel_ids = {d.channel_id for d in found.items}
    channels = session.scalars(select(Channel).where(Channel.id.in_(channel_ids))).all()
    return _views(session, found, {c.id: c for c in channels})


def _views(
    session: Session, found: Page[Delivery], channels: dict[int, Channel]
) -> Page[DeliveryView]:
    ids = [d.id for d in found.items]
    attempts: dict[int, list[DeliveryAttempt]] = {i: [] for i in ids}
    rows = session.scalars(
        select(DeliveryAttempt)
        .where(DeliveryAttempt.delivery_id.in_(ids))
        .order_by(DeliveryAttempt.id)
    )
    for row in rows:
        attempts[row.delivery_id].append(row)
    views = [DeliveryView(d, channels[d.channel_id], attempts[d.id]) for d in found.items]
    return Page(items=views, total=found.total, page=found.page, per_page=found.per_page)
