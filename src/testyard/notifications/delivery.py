"""The delivery service: sends pending notifications, each outside any transaction with
``TESTYARD_NOTIFY_TIMEOUT_S`` per attempt, and retries a failed one after
``TESTYARD_NOTIFY_RETRY_S`` seconds, doubled after each failure (at most
``TESTYARD_NOTIFY_RETRY_MAX_S``), until ``TESTYARD_NOTIFY_MAX_ATTEMPTS`` have failed and
it ends ``failed``. It looks for due deliveries every ``TESTYARD_NOTIFY_INTERVAL_S``
seconds (and at once when woken) and sends up to ``TESTYARD_NOTIFY_CONCURRENCY`` at a
time, so a hanging channel holds one slot, never the runs or the other channels.
``TESTYARD_NOTIFY_SEND=false`` keeps a process from sending.

Claiming pushes a delivery's ``next_attempt_at`` past the longest an attempt can take, in
a short transaction (``FOR UPDATE SKIP LOCKED`` on PostgreSQL; SQLite's writers take
turns), so two processes never send one delivery at once; if the sender dies mid-send,
the delivery is due again when that time has passed."""

from __future__ import annotations

import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from testyard.config import Settings
from testyard.db.engine import transaction
from testyard.db.models import Channel, Delivery, DeliveryAttempt
from testyard.loops import PollingLoop
from testyard.notifications.factory import make_sender
from testyard.notifications.message import Message
from testyard.notifications.sender import ChannelSettings, SendError

log = logging.getLogger(__name__)

PENDING, SENT, FAILED = "pending", "sent", "failed"
ERROR_CHARS = 2000


@dataclass(frozen=True)
class Policy:
    """How deliveries are sent, from the settings."""

    public_url: str
    timeout_s: float
    retry_s: float
    retry_max_s: float
    max_attempts: int

    @classmethod
    def of(cls, settings: Settings) -> Policy:
        return cls(
            settings.public_url,
            settings.notify_timeout_s,
            settings.notify_retry_s,
            settings.notify_retry_max_s,
            settings.notify_max_attempts,
        )

    @property
    def lease(self) -> timedelta:
        """Longer than an attempt can take (SMTP waits up to the timeout per step)."""
        return timedelta(seconds=self.timeout_s * 6 + 30)

    def backoff(self, failed_attempts: int) -> timedelta:
        seconds = self.retry_s * 2 ** max(0, failed_attempts - 1)
        return timedelta(seconds=min(seconds, self.retry_max_s))


@dataclass(frozen=True)
class Attempted:
    status_code: int | None
    error: str
    duration_ms: int

    @property
    def ok(self) -> bool:
        return not self.error


def claim_due(sessions: sessionmaker[Session], limit: int, lease: timedelta) -> list[int]:
    """Take up to ``limit`` due deliveries, oldest due first, for this process."""
    now = datetime.now(UTC)
    with transaction(sessions) as session:
        ids = list(
            session.scalars(
                select(Delivery.id)
                .where(Delivery.status == PENDING, Delivery.next_attempt_at <= now)
                .order_by(Delivery.next_attempt_at, Delivery.id)
                .limit(limit)
                .with_for_update(skip_locked=True)
            )
        )
        if ids:
            session.execute(
                update(Delivery).where(Delivery.id.in_(ids)).values(next_attempt_at=now + lease)
            )
    return ids


def deliver(sessions: sessionmaker[Session], delivery_id: int, policy: Policy) -> str | None:
    """One attempt at a claimed delivery; answers its status afterwards (None when it
    is gone or no longer pending)."""
    loaded = _load(sessions, delivery_id, policy.public_url)
    if loaded is None:
        return None
    channel, name, message = loaded
    attempted = attempt(channel, message, policy.timeout_s)
    status = _record(sessions, delivery_id, attempted, policy)
    if attempted.ok:
        log.info("notification %s to channel %r sent", delivery_id, name)
    else:
        log.warning(
            "notification %s to channel %r failed (%s): %s",
            delivery_id,
            name,
            status,
            attempted.error,
        )
    return status


def deliver_due(sessions: sessionmaker[Session], policy: Policy, limit: int = 100) -> list[int]:
    """Claim the due deliveries and attempt each, one after the other (for tests and
    for ``run_once`` without threads)."""
    ids = claim_due(sessions, limit, policy.lease)
    for delivery_id in ids:
        deliver(sessions, delivery_id, policy)
    return ids


def attempt(channel: ChannelSettings, message: Message, timeout: float) -> Attempted:
    """Send once, outside any transaction; never raises."""
    started = time.monotonic()
    code: int | None = None
    error = ""
    try:
        code = make_sender(channel, timeout).send(message)
    except SendError as exc:
        code, error = exc.status_code, str(exc) or type(exc).__name__
    except Exception as exc:  # a sender's bug fails this delivery, not the service
        log.exception("sending a %s notification failed unexpectedly", channel.kind)
        error = f"internal error ({type(exc).__name__}); see the server log"
    duration_ms = round((time.monotonic() - started) * 1000)
    return Attempted(code, error[:ERROR_CHARS], duration_ms)


def _load(
    sessions: sessionmaker[Session], delivery_id: int, public_url: str
) -> tuple[ChannelSettings, str, Message] | None:
    with transaction(sessions) as session:
        row = session.execute(
            select(Delivery, Channel)
            .join(Channel, Channel.id == Delivery.channel_id)
            .where(Delivery.id == delivery_id)
        ).one_or_none()
        if row is None or row[0].status != PENDING:
            return None
        delivery, channel = row
        settings = ChannelSettings(channel.kind, channel.url, channel.secret, dict(channel.config))
        return settings, channel.name, Message.of(delivery.payload, public_url, delivery.id)


def _record(
    sessions: sessionmaker[Session], delivery_id: int, attempted: Attempted, policy: Policy
) -> str | None:
    now = datetime.now(UTC)
    with transaction(sessions) as session:
        delivery = session.scalar(
            select(Delivery).where(Delivery.id == delivery_id).with_for_update()
        )
        if delivery is None:  # its channel was deleted meanwhile
            return None
        session.add(
            DeliveryAttempt(
                delivery_id=delivery_id,
                at=now,
                status_code=attempted.status_code,
                error=attempted.error,
                duration_ms=attempted.duration_ms,
            )
        )
        delivery.attempts += 1
        if attempted.ok or delivery.attempts >= policy.max_attempts:
            delivery.status = SENT if attempted.ok else FAILED
            delivery.finished_at, delivery.next_attempt_at = now, None
        else:
            delivery.next_attempt_at = now + policy.backoff(delivery.attempts)
        return delivery.status


class DeliveryService(PollingLoop):
    """Claims due deliveries while it has free slots and sends each on a pool thread."""

    thread_name = "notifications"
    failure = "looking for notifications to send failed"

    def __init__(self, sessions: sessionmaker[Session], settings: Settings) -> None:
        super().__init__(settings.notify_interval_s)
        self.sessions = sessions
        self.policy = Policy.of(settings)
        self.slots = settings.notify_concurrency
        self._pool = ThreadPoolExecutor(self.slots, thread_name_prefix="notify")
        self._busy: set[int] = set()
        self._lock = threading.Lock()

    def stop(self) -> None:
        """Stop claiming; wait for the attempts under way (each ends by its timeout)."""
        super().stop()
        self._pool.shutdown(wait=True, cancel_futures=True)

    def run_once(self) -> list[int]:
        with self._lock:
            free = self.slots - len(self._busy)
        if free <= 0:
            return []
        ids = claim_due(self.sessions, free, self.policy.lease)
        for delivery_id in ids:
            with self._lock:
                self._busy.add(delivery_id)
            self._pool.submit(self._send, delivery_id)
        return ids

    def _send(self, delivery_id: int) -> None:
        try:
            deliver(self.sessions, delivery_id, self.policy)
        except Exception:  # the database went away: the claim expires and it is retried
            log.exception("recording notification %s failed", delivery_id)
        finally:
            with self._lock:
                self._busy.discard(delivery_id)
            self._wake.set()  # a slot is free
