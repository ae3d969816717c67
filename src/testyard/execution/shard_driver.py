"""Runs one shard of a run on a Celery worker: the run driver, narrowed to the shard's
case files, with results tagged by shard, a heartbeat on the shard, its log and
junit.xml kept in the database, and the run finished by whichever shard ends last."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Any

from sqlalchemy import func, select, update

from testyard.db.engine import transaction
from testyard.db.models import Run, RunResult, RunShard
from testyard.events.store import done_message, run_message, status_message, store_events
from testyard.execution import outcome, shard_files, shards
from testyard.execution.context import ExecutionContext, StopSignal
from testyard.execution.driver import RunDriver, RunSpec, load_spec
from testyard.execution.ingest import ResultSink, final_counts
from testyard.execution.process import Masker
from testyard.services import runs
from testyard.services.results import record_latest


class ShardSink(ResultSink):
    """A shard's results: the worker column says which shard ran them, and tests a
    previous delivery of the shard already finished are not stored again."""

    def __init__(self, *args: Any, index: int, done: frozenset[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.index = index
        self.done = done

    def on_test(self, event: dict[str, Any]) -> None:
        if str(event.get("nodeid")) not in self.done:
            super().on_test(event)

    def _row(self, event: dict[str, Any]) -> dict[str, Any]:
        row = super()._row(event)
        row["worker"] = f"{shards.worker_prefix(self.index)}{row['worker']}"[:32]
        return row

    def on_collected(self, event: dict[str, Any]) -> None:
        """The run's ``collected`` is the sum over its shards."""
        self.collected = int(event.get("count", 0))
        with transaction(self.sessions) as session:
            shards.lock_run(session, self.run_id)  # shards collecting at once sum in turn
            session.execute(
                update(RunShard)
                .where(RunShard.run_id == self.run_id, RunShard.index == self.index)
                .values(collected=self.collected)
            )
            total = session.scalar(
                select(func.sum(RunShard.collected)).where(RunShard.run_id == self.run_id)
            )
            run = session.get_one(Run, self.run_id)
            run.collected = int(total or 0)
            stored = store_events(session, self.run_id, [run_message(run)])
        self._published(stored)


class ShardDriver(RunDriver):
    """Executes a claimed shard to its end; the run ends with its last shard."""

    def __init__(
        self,
        ctx: ExecutionContext,
        run_id: int,
        index: int,
        claim: shards.Claim,
        *,
        worker: str,
        slots: int,
    ) -> None:
        super().__init__(ctx, run_id, StopSignal())
        self.index = index
        self.claim = claim
        self.worker = worker
        self.cpus = slots
        self.files = Path(tempfile.mkdtemp(prefix=f"testyard-shard-{run_id}-{index}-"))

    def execute(self) -> None:
        try:
            super().execute()
        finally:
            shutil.rmtree(self.files, ignore_errors=True)

    def _load_spec(self) -> RunSpec:
        return load_spec(
            self.ctx, self.run_id, only_paths=self.claim.paths, only_nodeids=self.claim.nodeids
        )

    def _make_sink(self, spec: RunSpec, case_paths: dict[str, int]) -> ResultSink:
        return ShardSink(
            self.ctx.sessions,
            spec.id,
            case_paths,
            self.ctx.events,
            index=self.index,
            done=self.claim.done_nodeids,
        )

    def _cancelled_elsewhere(self) -> bool:
        """Heartbeat, and stop when the run has ended (cancelled, timed out)."""
        with transaction(self.ctx.sessions) as session:
            status = shards.heartbeat(session, self.run_id, self.index, self.worker)
        return status in runs.FINISHED

    def _artifacts(self) -> Path:
        return self.files

    def _finish(
        self, spec: RunSpec, exit_code: int, sink: ResultSink, log_path: Path, masker: Masker
    ) -> None:
        with transaction(self.ctx.sessions) as session:
            total = session.scalar(
                select(func.count()).where(
                    RunResult.run_id == spec.id,
                    RunResult.final.is_(True),
                    RunResult.worker.startswith(shards.worker_prefix(self.index)),
                )
            )
        collect_errors = [masker(e.get("longrepr", "")) for e in sink.collect_errors]
        status, error = outcome.decide(
            exit_code=exit_code,
            stopped=self.stopped,
            counts={"total": int(total or 0)},
            collect_errors=collect_errors,
            output_tail=outcome.tail(log_path),
            session_finished=sink.finish is not None,
        )
        if status == "error" and exit_code == 5 and not collect_errors:
            status, error = shards.EMPTY, None
        self._end(status, error=error, exit_code=exit_code, collected=sink.collected)

    def _end(self, status: str, **fields: Any) -> None:
        """End the shard; when it is the run's last, end the run with the combined
        outcome, its files, notifications and ``done`` event in the same transaction."""
        if self.sink is not None:
            self._publish_log(self.sink.last_seq)
        stored: list[dict[str, Any]] = []
        with transaction(self.ctx.sessions) as session:
            shard_files.keep(session, self.run_id, self.index, self.files)
            last = shards.finish(
                session,
                self.run_id,
                self.index,
                self.worker,
                outcome=status,
                error=fields.get("error"),
                exit_code=fields.get("exit_code"),
            )
            if not last:
                return
            run, changed = self._finish_run(session)
            if changed:
                stored = store_events(session, self.run_id, [done_message(run)])
            project_id, status_event = run.project_id, status_message(run)
        self.ctx.events.publish(self.run_id, stored)
        self.ctx.events.publish_status(project_id, status_event)

    def _finish_run(self, session: Any) -> tuple[Run, bool]:
        every = shards.shards_of(session, self.run_id)
        status, error = shards.combine(every)
        codes = [s.exit_code for s in every if s.exit_code is not None]
        fields: dict[str, Any] = {"counts": final_counts(session, self.run_id)}
        if codes:
            fields["exit_code"] = max(codes, key=abs)
        fields["collected"] = sum(s.collected or 0 for s in every)
        if error is not None:
            fields["error"] = error
        run, changed = runs.finish_run(session, self.run_id, status, **fields)
        record_latest(session, self.run_id)
        return run, changed
