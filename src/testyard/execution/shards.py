"""A run split into shards for Celery workers: how it is split (longest-first bin
packing of case files by recorded duration), how a worker claims a shard, and how the
shards' outcomes make the run's.

A shard's state lives in ``run_shards``: ``pending`` (created, its message not yet
sent), ``queued`` (sent), ``running`` (claimed by a worker, which keeps
``heartbeat_at`` fresh) and ``done``. A message delivered again (its worker died)
finds the shard ``running`` with a stale heartbeat and runs it once more; results the
first delivery stored are kept and not stored twice.
"""

from __future__ import annotations

import heapq
import statistics
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from testyard.db.models import Run, RunEvent, RunResult, RunShard
from testyard.services import runs, workers
from testyard.services.errors import not_found

PENDING, QUEUED, RUNNING, DONE = "pending", "queued", "running", "done"
#: A shard that ran no test at all (pytest exit code 5): neutral for the run.
EMPTY = "empty"
STOPPED = ("cancelled", "timed_out", "interrupted")


#: A running shard writes its heartbeat about once a second (the driver's status
#: check), whatever the workers' heartbeat interval: it counts as abandoned only after
#: this long without one, so a busy machine's slower beat is not taken for a death.
SHARD_STALE_MIN_S = 5.0


def shard_stale_after(heartbeat_s: float) -> timedelta:
    return timedelta(seconds=max(heartbeat_s * 3, SHARD_STALE_MIN_S))


def worker_prefix(index: int) -> str:
    """Stored in ``run_results.worker`` before the xdist worker id: which shard ran it."""
    return f"s{index}:"


@dataclass(frozen=True)
class ShardPlan:
    paths: list[str]
    nodeids: list[str] | None
    expected_s: float


def pack(weights: dict[str, float], bins: int) -> list[list[str]]:
    """Longest first into the least loaded bin (LPT); a bin per item at most, none
    empty; each bin keeps its items in the given order."""
    bins = max(1, min(bins, len(weights)))
    order = {name: position for position, name in enumerate(weights)}
    loads: list[tuple[float, int]] = [(0.0, b) for b in range(bins)]
    chosen: list[list[str]] = [[] for _ in range(bins)]
    for name in sorted(weights, key=lambda n: (-weights[n], order[n])):
        load, b = heapq.heappop(loads)
        chosen[b].append(name)
        heapq.heappush(loads, (load + weights[name], b))
    return [sorted(names, key=order.__getitem__) for names in chosen]


def file_weights(paths: list[str], durations: dict[str, float]) -> dict[str, float]:
    """Each case file's expected seconds: the sum of its tests' last durations; a file
    with none recorded counts as the median file (1 s when nothing is known)."""
    known: dict[str, float] = {}
    for nodeid, seconds in durations.items():
        path = nodeid.split("::", 1)[0]
        known[path] = known.get(path, 0.0) + seconds
    recorded = [known[p] for p in paths if p in known]
    default = statistics.median(recorded) if recorded else 1.0
    return {path: known.get(path, default) for path in paths}


def plan_shards(
    paths: list[str], nodeids: list[str] | None, durations: dict[str, float], workers: int
) -> list[ShardPlan]:
    """Split a run over ``workers`` machines; a re-run of some node ids keeps each
    node id with its file's shard."""
    if nodeids is not None:
        wanted = set(nodeids)
        durations = {n: s for n, s in durations.items() if n in wanted}
        paths = list(dict.fromkeys(n.split("::", 1)[0] for n in nodeids))
    weights = file_weights(paths, durations)
    plans = []
    for group in pack(weights, workers):
        members = set(group)
        chosen = None
        if nodeids is not None:
            chosen = [n for n in nodeids if n.split("::", 1)[0] in members]
        plans.append(ShardPlan(group, chosen, sum(weights[p] for p in group)))
    return plans


def create_shards(session: Session, run: Run, plans: list[ShardPlan]) -> list[RunShard]:
    shards = [
        RunShard(
            run_id=run.id,
            index=index,
            paths=plan.paths,
            nodeids=plan.nodeids,
            expected_s=plan.expected_s,
            status=PENDING,
        )
        for index, plan in enumerate(plans, start=1)
    ]
    session.add_all(shards)
    session.flush()
    return shards


def shards_of(session: Session, run_id: int) -> list[RunShard]:
    return list(
        session.scalars(select(RunShard).where(RunShard.run_id == run_id).order_by(RunShard.index))
    )


def lock_run(session: Session, run_id: int) -> str:
    """Lock the run row first, always (claims and ends of a run's shards take their
    turns; the same order everywhere, so no deadlock); answers its status.

    ``FOR NO KEY UPDATE`` on PostgreSQL, the lock an UPDATE of the row takes: a plain
    ``FOR UPDATE`` also waits for the key-share locks that inserting results (whose
    foreign key names the run) holds, and deadlocks with a shard that is storing its
    results and then numbering their events."""
    status = session.scalars(
        select(Run.status).where(Run.id == run_id).with_for_update(key_share=True)
    ).one_or_none()
    if status is None:
        raise not_found("run", run_id)
    return status


def _locked_shard(session: Session, run_id: int, index: int) -> RunShard | None:
    return session.scalars(
        select(RunShard)
        .where(RunShard.run_id == run_id, RunShard.index == index)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one_or_none()


@dataclass(frozen=True)
class Claim:
    """A shard this worker now runs: its files, and the node ids whose final result a
    previous delivery already stored (not stored again)."""

    paths: list[str]
    nodeids: list[str] | None
    delivery: int
    done_nodeids: frozenset[str]


def claim(
    session: Session, run_id: int, index: int, worker: str, stale_after: timedelta
) -> Claim | str:
    """Take the shard for ``worker``; or say why not: ``done`` (nothing to do) or
    ``busy`` (a live worker runs it; ask again later)."""
    status = lock_run(session, run_id)
    shard = _locked_shard(session, run_id, index)
    if shard is None or shard.status == DONE:
        return DONE
    now = datetime.now(UTC)
    if status in runs.FINISHED:
        _close(shard, now, outcome="cancelled", error=None)
        return DONE
    if shard.status == RUNNING and shard.heartbeat_at and now - shard.heartbeat_at < stale_after:
        return BUSY
    again = shard.deliveries > 0
    shard.status, shard.worker, shard.deliveries = RUNNING, worker, shard.deliveries + 1
    shard.started_at = shard.heartbeat_at = now
    if not again:
        return Claim(shard.paths, shard.nodeids, shard.deliveries, frozenset())
    return Claim(shard.paths, shard.nodeids, shard.deliveries, _restart(session, run_id, index))


BUSY = "busy"


def _restart(session: Session, run_id: int, index: int) -> frozenset[str]:
    """Before a shard runs again: keep its final results, drop the earlier attempts
    of tests that had not finished (they run again from attempt 1)."""
    mine = (RunResult.run_id == run_id, RunResult.worker.startswith(worker_prefix(index)))
    done = frozenset(session.scalars(select(RunResult.nodeid).where(*mine, RunResult.final)))
    session.execute(
        delete(RunResult).where(*mine, RunResult.final.is_(False), RunResult.nodeid.not_in(done))
    )
    return done


def heartbeat(session: Session, run_id: int, index: int, worker: str) -> str:
    """Keep the claim fresh; answers the run's status (a finished run stops the shard)."""
    shard = session.scalars(
        select(RunShard).where(RunShard.run_id == run_id, RunShard.index == index)
    ).one()
    if shard.worker == worker and shard.status == RUNNING:
        shard.heartbeat_at = datetime.now(UTC)
    return session.scalars(select(Run.status).where(Run.id == run_id)).one()


def _close(shard: RunShard, now: datetime, **fields: Any) -> None:
    shard.status, shard.finished_at = DONE, now
    for key, value in fields.items():
        setattr(shard, key, value)


def finish(session: Session, run_id: int, index: int, worker: str, **fields: Any) -> bool:
    """Record the shard's end; answers whether every shard of the run has ended now
    (the caller then finishes the run, in the same transaction). The run row is
    locked first, so two shards ending together cannot both miss it."""
    lock_run(session, run_id)
    shard = _locked_shard(session, run_id, index)
    if shard is None or shard.status == DONE or shard.worker != worker:
        return False  # another delivery took it over meanwhile
    _close(shard, datetime.now(UTC), **fields)
    session.flush()
    left = session.scalar(
        select(func.count()).where(RunShard.run_id == run_id, RunShard.status != DONE)
    )
    return left == 0


def combine(shards: list[RunShard]) -> tuple[str, str | None]:
    """The run's status from its shards': a stop wins, then an error, then a failure;
    shards that ran no test are neutral, but a run of only those ran nothing."""
    for shard in shards:
        if shard.outcome in STOPPED:
            return shard.outcome, None
    errors = [f"shard {s.index}: {s.error or 'error'}" for s in shards if s.outcome == "error"]
    if errors:
        return "error", "\n\n".join(errors)
    if any(s.outcome == "failed" for s in shards):
        return "failed", None
    if all(s.outcome == EMPTY for s in shards):
        return "error", "pytest exited with code 5: no tests were collected"
    return "passed", None


def notice(message: str, level: str = "info") -> dict[str, Any]:
    """A stored event the run page shows as a banner (waiting for workers, a shard
    delivered again)."""
    return {"event": "notice", "level": level, "message": message}


NO_WORKER = "no live testyard worker: the run waits for one (start one with `testyard worker`)"


def waiting_reason(session: Session, run: Run, heartbeat_s: float) -> str | None:
    """Why a running celery run makes no progress now, if it waits for a worker."""
    if run.executor != "celery" or run.status != runs.RUNNING:
        return None
    if workers.live_workers(session, heartbeat_s):
        return None
    unfinished = session.scalar(
        select(func.count()).where(RunShard.run_id == run.id, RunShard.status != DONE)
    )
    has_shards = session.scalar(select(func.count()).where(RunShard.run_id == run.id))
    return NO_WORKER if unfinished or not has_shards else None


def notices_of(session: Session, run_id: int) -> list[dict[str, Any]]:
    rows = session.scalars(
        select(RunEvent.payload)
        .where(RunEvent.run_id == run_id, RunEvent.kind == "notice")
        .order_by(RunEvent.seq)
    )
    return [dict(row) for row in rows]
