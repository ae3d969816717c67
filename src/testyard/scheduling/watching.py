"""The job of every active watch of a staged plan: one polling tick."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from sqlalchemy.exc import IntegrityError

from testyard.db.engine import transaction
from testyard.db.models import PlanWatch
from testyard.scheduling import fires
from testyard.services import watches

log = logging.getLogger(__name__)


def watch_tick(watch_id: int, run_times: list[datetime] | None = None) -> None:
    """Advance the watch; when it has ended, remove its own job."""
    context = fires.current()
    if context is None:
        return
    try:
        with transaction(context.sessions) as session:
            run_id = watches.tick(session, watch_id, datetime.now(UTC))
            watch = session.get(PlanWatch, watch_id)
            ended = watch is None or watch.status != watches.ACTIVE
    except IntegrityError:
        return  # another scheduler ticked this watch at the same moment
    if run_id is not None:
        context.on_run_created(run_id)
    if ended and context.remove_job is not None:
        context.remove_job(f"watch-{watch_id}")
