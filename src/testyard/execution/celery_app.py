"""The Celery application both sides share: the server sends one ``run_shard`` message
per shard, ``testyard worker`` consumes them.

Configured for long tasks: a worker takes one message at a time (prefetch 1) and
acknowledges it only when the shard has ended (late acknowledgement), so a worker that
dies mid-shard leaves its message with the broker, which hands it to another worker
once the visibility timeout has passed. The visibility timeout must therefore exceed
the longest run (``TESTYARD_CELERY_VISIBILITY_TIMEOUT_S``).
"""

from __future__ import annotations

from collections.abc import Callable

from celery import Celery

from testyard.config import Settings

TASK = "testyard.run_shard"


def make_celery(settings: Settings, run_shard: Callable[[int, int], None] | None = None) -> Celery:
    """The app; a worker passes the function that runs a shard, the server does not."""
    app = Celery("testyard", broker=settings.broker_url, set_as_current=False)
    app.conf.update(
        task_default_queue=settings.celery_queue,
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        task_ignore_result=True,
        worker_prefetch_multiplier=1,
        worker_hijack_root_logger=False,
        worker_send_task_events=False,
        broker_connection_retry_on_startup=True,
        broker_transport_options={
            "visibility_timeout": settings.visibility_timeout_s,
            "unacked_restore_interval": settings.celery_restore_interval_s,
            "unacked_restore_throttle": 1,
        },
        task_serializer="json",
        accept_content=["json"],
    )
    if run_shard is not None:
        app.task(name=TASK, acks_late=True, reject_on_worker_lost=True)(run_shard)
    return app


def send_shard(app: Celery, run_id: int, index: int) -> None:
    app.send_task(TASK, args=[run_id, index], retry=True)
