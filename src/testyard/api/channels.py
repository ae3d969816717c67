"""Notification channels: manage them, send a test message, and see every delivery and
attempt (per channel, and per run)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from fastapi import APIRouter, BackgroundTasks, Request, status
from pydantic import BaseModel, Field

from testyard.api.deps import CurrentUser, ProjectEditor, ProjectRunner, ProjectViewer, SessionDep
from testyard.api.runs import RunViewer
from testyard.api.schemas import Page, PageNo, PerPage, Public
from testyard.db.models import Channel
from testyard.notifications.factory import mask_url
from testyard.notifications.message import Message
from testyard.services import channels
from testyard.services.channels import DeliveryView

router = APIRouter(tags=["notifications"])
PREFIX = "/projects/{pid}/channels"

Kind = Literal["webhook", "slack", "dingtalk", "feishu", "wecom", "email"]
CONFIG_HELP = (
    "what the kind needs besides url and secret: nothing for chat kinds; for email "
    "host, port, security (starttls, tls or none), username, sender, recipients, "
    "verify_tls, ca_pem"
)
SECRET_HELP = (
    "write-only: the signing secret (webhook, dingtalk, feishu) or the SMTP password (email)"
)


class ChannelCreate(BaseModel):
    name: str = Field(max_length=100)
    kind: Kind
    url: str = Field(default="", max_length=2000, description="the webhook URL (chat kinds)")
    secret: str = Field(default="", max_length=4096, description=SECRET_HELP)
    config: dict[str, Any] = Field(default_factory=dict, description=CONFIG_HELP)
    enabled: bool = True


class ChannelUpdate(BaseModel):
    name: str | None = Field(default=None, max_length=100)
    kind: Kind | None = None
    url: str | None = Field(default=None, max_length=2000, description="omit to keep")
    secret: str | None = Field(
        default=None, max_length=4096, description=f"{SECRET_HELP}; omit to keep, '' clears"
    )
    config: dict[str, Any] | None = Field(default=None, description=CONFIG_HELP)
    enabled: bool | None = None


class ChannelPublic(BaseModel):
    id: int
    name: str
    kind: str
    url: str = Field(description="query values, a Slack hook's token and passwords masked")
    secret_set: bool
    config: dict[str, Any]
    enabled: bool
    created_at: datetime
    updated_at: datetime


class AttemptPublic(Public):
    id: int
    at: datetime
    status_code: int | None = Field(description="HTTP status, or SMTP reply code")
    error: str = Field(description="empty when the attempt succeeded")
    duration_ms: int


class DeliveryPublic(BaseModel):
    id: int
    channel_id: int
    channel_name: str
    channel_kind: str
    run_id: int | None = Field(description="null for a test message")
    event: Literal["run.finished", "test"]
    title: str
    status: Literal["pending", "sent", "failed"]
    attempt_count: int
    next_attempt_at: datetime | None = Field(description="when a pending one is tried next")
    created_at: datetime
    finished_at: datetime | None
    attempts: list[AttemptPublic] = Field(description="oldest first")


def _public(channel: Channel) -> ChannelPublic:
    return ChannelPublic(
        id=channel.id,
        name=channel.name,
        kind=channel.kind,
        url=mask_url(channel.kind, channel.url),
        secret_set=bool(channel.secret),
        config=dict(channel.config or {}),
        enabled=channel.enabled,
        created_at=channel.created_at,
        updated_at=channel.updated_at,
    )


def _delivery(view: DeliveryView) -> DeliveryPublic:
    delivery = view.delivery
    return DeliveryPublic(
        id=delivery.id,
        channel_id=view.channel.id,
        channel_name=view.channel.name,
        channel_kind=view.channel.kind,
        run_id=delivery.run_id,
        event="test" if delivery.run_id is None else "run.finished",
        title=Message.of(delivery.payload, "", delivery.id).title,
        status=delivery.status,
        attempt_count=delivery.attempts,
        next_attempt_at=delivery.next_attempt_at if delivery.status == "pending" else None,
        created_at=delivery.created_at,
        finished_at=delivery.finished_at,
        attempts=[AttemptPublic.model_validate(a) for a in view.attempts],
    )


def _wake(request: Request) -> None:
    notifier = getattr(request.app.state, "notifier", None)
    if notifier is not None:
        notifier.wake()


@router.get(PREFIX)
def list_channels(
    project: ProjectViewer, session: SessionDep, page: PageNo = 1, per_page: PerPage = 50
) -> Page[ChannelPublic]:
    """The project's notification channels (secrets never shown)."""
    found = channels.list_channels(session, project, page=page, per_page=per_page)
    return Page.of(found, _public)


@router.post(PREFIX, status_code=status.HTTP_201_CREATED)
def create_channel(
    body: ChannelCreate, project: ProjectEditor, session: SessionDep
) -> ChannelPublic:
    """Add a channel: a webhook, Slack, DingTalk, Feishu, WeCom or e-mail."""
    return _public(channels.create_channel(session, project, body.model_dump()))


@router.get(PREFIX + "/{chid}")
def get_channel(chid: int, project: ProjectViewer, session: SessionDep) -> ChannelPublic:
    """One channel."""
    return _public(channels.get_channel(session, project, chid))


@router.patch(PREFIX + "/{chid}")
def update_channel(
    chid: int, body: ChannelUpdate, project: ProjectEditor, session: SessionDep
) -> ChannelPublic:
    """Change a channel; a secret left out is kept."""
    channel = channels.get_channel(session, project, chid)
    fields = body.model_dump(exclude_unset=True, exclude_none=True)
    return _public(channels.update_channel(session, channel, fields))


@router.delete(PREFIX + "/{chid}", status_code=status.HTTP_204_NO_CONTENT)
def delete_channel(chid: int, project: ProjectEditor, session: SessionDep) -> None:
    """Delete a channel with its deliveries; plans stop notifying it."""
    channels.delete_channel(session, channels.get_channel(session, project, chid))


@router.post(PREFIX + "/{chid}/test", status_code=status.HTTP_202_ACCEPTED)
def send_test(
    chid: int,
    project: ProjectRunner,
    user: CurrentUser,
    session: SessionDep,
    request: Request,
    background: BackgroundTasks,
) -> DeliveryPublic:
    """Queue a test message to the channel; follow it in the channel's deliveries."""
    channel = channels.get_channel(session, project, chid)
    delivery = channels.queue_test(session, channel, user)
    background.add_task(_wake, request)  # after the commit
    return _delivery(DeliveryView(delivery, channel, []))


@router.get(PREFIX + "/{chid}/deliveries")
def list_deliveries(
    chid: int,
    project: ProjectViewer,
    session: SessionDep,
    page: PageNo = 1,
    per_page: PerPage = 50,
    status: Literal["pending", "sent", "failed"] | None = None,
) -> Page[DeliveryPublic]:
    """The channel's deliveries, newest first, each with its attempts."""
    channel = channels.get_channel(session, project, chid)
    found = channels.channel_deliveries(
        session, channel, page=page, per_page=per_page, status=status
    )
    return Page.of(found, _delivery)


@router.get("/runs/{rid}/notifications")
def run_notifications(
    run: RunViewer, session: SessionDep, page: PageNo = 1, per_page: PerPage = 50
) -> Page[DeliveryPublic]:
    """The notifications the run made, one per channel, each with its attempts."""
    return Page.of(channels.run_deliveries(session, run, page=page, per_page=per_page), _delivery)
