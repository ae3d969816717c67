"""Runs one run: workspace, pytest subprocess, events, artifacts, final status."""

from __future__ import annotations

import contextlib
import errno
import json
import logging
import os
import select
import shutil
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from subprocess import Popen
from typing import Any, NamedTuple

from sqlalchemy import select as sql_select
from sqlalchemy.exc import SQLAlchemyError
from tenacity import (
    Retrying,
    retry_if_exception_type,
    stop_after_delay,
    stop_when_event_set,
    wait_exponential,
)

from testyard.db.engine import transaction
from testyard.db.models import RunResult
from testyard.events.store import done_message, status_message, store_events
from testyard.execution import artifacts, command, outcome
from testyard.execution.context import ExecutionContext, StopSignal
from testyard.execution.ingest import ResultSink, final_counts
from testyard.execution.process import Limits, Masker, RunAs, copy_output, kill_group, spawn, wrap
from testyard.execution.pyenvs import EnvironmentFailed, ensure_environment, parse_requirements
from testyard.execution.runtime import prepare_runtime
from testyard.services import runs
from testyard.services.results import record_latest
from testyard.workspace import layout

log = logging.getLogger(__name__)

POLL_S = 0.2
#: How long a run keeps trying to record its end when the database refuses (full
#: disk), and the longest wait between two tries.
END_RETRY_S = 15 * 60
END_RETRY_WAIT_S = 10.0
#: How SQLite and PostgreSQL say their disk is full.
DISK_FULL = ("database or disk is full", "no space left on device")
STATUS_CHECK_S = 1.0


@dataclass
class RunSpec:
    """The run as the driver needs it, read once at the start."""

    id: int
    snapshot: dict[str, Any]
    workers: str
    dist: str
    retries: int
    timeout_s: int | None
    test_timeout_s: int | None
    recorded_s: float | None
    known_tests: int
    #: Only these node ids run (a re-run of the failed ones), or all of the cases'.
    nodeids: list[str] | None
    #: The last recorded duration of each of the run's tests that has one (node id → s).
    durations: dict[str, float]
    #: Recorded CPU seconds over recorded seconds of those tests (None: none measured).
    cpu_share: float | None


def load_spec(
    ctx: ExecutionContext,
    run_id: int,
    *,
    only_paths: list[str] | None = None,
    only_nodeids: list[str] | None = None,
) -> RunSpec:
    """The run as the driver needs it; a shard (``only_paths``, and ``only_nodeids``
    for a re-run of some node ids) sees only its own case files."""
    with transaction(ctx.sessions) as session:
        run = runs.get_run(session, run_id)
        snapshot = run.snapshot
        case_ids = run.case_ids
        nodeids: list[str] | None = snapshot.get("nodeids")
        if only_paths is not None:
            kept = [c for c in snapshot["cases"] if c["path"] in set(only_paths)]
            snapshot = {**snapshot, "cases": kept}
            case_ids = [c["id"] for c in kept]
            nodeids = only_nodeids
        durations = recorded_durations(session, case_ids)
        complete = {d[0] for d in durations} >= set(case_ids)
        if nodeids is not None:
            wanted = set(nodeids)
            durations = [d for d in durations if d[1] in wanted]
            complete = {d[1] for d in durations} >= wanted
        return RunSpec(
            id=run.id,
            snapshot=snapshot,
            workers=run.workers,
            dist=run.dist,
            retries=run.retries,
            timeout_s=run.timeout_s,
            test_timeout_s=run.test_timeout_s,
            recorded_s=sum(d[2] for d in durations) if complete and durations else None,
            known_tests=len(nodeids) if nodeids is not None else max(len(durations), len(case_ids)),
            nodeids=nodeids,
            durations={d.nodeid: d.duration_s for d in durations},
            cpu_share=cpu_share(durations),
        )


def failure_message(run_id: int, exc: Exception) -> str:
    """What a run that broke inside testyard says: a full disk (the data directory's,
    where the log, the artifacts and an SQLite database go) plainly, anything else with
    its traceback logged."""
    if isinstance(exc, OSError) and exc.errno == errno.ENOSPC:
        where = exc.filename or "the run's log or artifacts"
        log.error("run %s: no space left on device writing %s", run_id, where)
        return f"no space left on device writing {where}: free some space and run again"
    if isinstance(exc, SQLAlchemyError) and any(s in str(exc).lower() for s in DISK_FULL):
        log.error("run %s: no space left on device for the database", run_id)
        return "no space left on device writing the database: free some space and run again"
    log.exception("run %s failed inside testyard", run_id)
    return f"testyard could not run this: {exc}"


class Recorded(NamedTuple):
    """The latest final result of one test, as far as scheduling cares."""

    case_id: int
    nodeid: str
    duration_s: float
    cpu_s: float | None


def recorded_durations(session: Any, case_ids: list[int]) -> list[Recorded]:
    """The last recorded duration (and CPU time) of each test of these cases."""
    if not case_ids:
        return []
    rows = session.execute(
        sql_select(RunResult.case_id, RunResult.nodeid, RunResult.duration_s, RunResult.cpu_s)
        .where(RunResult.case_id.in_(case_ids), RunResult.final.is_(True))
        .order_by(RunResult.id.desc())
        .limit(20_000)
    ).all()
    latest: dict[str, Recorded] = {}
    for row in rows:
        latest.setdefault(row.nodeid, Recorded(*row))
    return list(latest.values())


def cpu_share(recorded: list[Recorded]) -> float | None:
    """CPU seconds over wall seconds of the tests whose CPU time was measured: well
    under 1 when they mostly wait (sleep, I/O)."""
    measured = [r for r in recorded if r.cpu_s is not None]
    wall = sum(r.duration_s for r in measured)
    if not measured or wall <= 0:
        return None
    return sum(r.cpu_s or 0.0 for r in measured) / wall


class LineBuffer:
    """Console lines between two live ``log`` events (filled by the output thread)."""

    MAX_LINES = 500

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._lines: list[str] = []

    def add(self, line: str) -> None:
        with self._lock:
            if len(self._lines) < self.MAX_LINES:  # a flood is in the log file, not live
                self._lines.append(line.rstrip("\n"))

    def take(self) -> list[str]:
        with self._lock:
            lines, self._lines = self._lines, []
        return lines


class RunDriver:
    """Executes one claimed (``running``) run to its end; always leaves it finished."""

    def __init__(self, ctx: ExecutionContext, run_id: int, stop: StopSignal) -> None:
        self.ctx = ctx
        self.settings = ctx.settings
        self.run_id = run_id
        self.stop = stop
        self.workspace: Path | None = None
        self.process: Popen[bytes] | None = None
        self.stopped: str | None = None
        self.sink: ResultSink | None = None
        self.log_lines = LineBuffer()
        #: The cores ``workers: auto`` counts (a worker's ``--slots``; else this machine's).
        self.cpus: int | None = None

    def execute(self) -> None:
        try:
            self._execute()
        except Exception as exc:  # the run must end, whatever broke
            if self.process is not None:
                kill_group(self.process)  # no test goes on unwatched
                self.process.wait()
            self._remove_workspace()
            self._end_eventually("error", error=failure_message(self.run_id, exc))
        finally:
            self._remove_workspace()

    def _end_eventually(self, status: str, **fields: Any) -> None:
        """End the run even if the database cannot take it right now (its disk is
        full, it restarts): retried with backoff for `END_RETRY_S`, or until the server
        stops (on its next start the run is then ``interrupted``)."""
        retrying = Retrying(
            retry=retry_if_exception_type((SQLAlchemyError, OSError)),
            wait=wait_exponential(multiplier=0.5, max=END_RETRY_WAIT_S),
            stop=stop_after_delay(END_RETRY_S) | stop_when_event_set(self.stop.event),
            before_sleep=lambda state: log.warning(
                "run %s: cannot record its end yet, retrying: %s",
                self.run_id,
                state.outcome.exception() if state.outcome else "",
            ),
            reraise=True,
        )
        try:
            retrying(self._end, status, **fields)
        except Exception:
            log.exception("run %s: its end could not be recorded", self.run_id)

    def _remove_workspace(self) -> None:
        """Before the run ends: whoever sees it finished sees its workspace gone."""
        if self.workspace is not None:
            shutil.rmtree(self.workspace, ignore_errors=True)
            self.workspace = None

    def _load_spec(self) -> RunSpec:
        return load_spec(self.ctx, self.run_id)

    def _execute(self) -> None:
        spec = self._load_spec()
        work = self.settings.resolved_work_dir
        try:
            requirements = parse_requirements(spec.snapshot.get("requirements", ""))
            python = ensure_environment(work / "envs", requirements, self.settings.run_python)
        except (EnvironmentFailed, ValueError) as exc:
            self._end("error", error=str(exc))
            return
        self.workspace = self._write_workspace(spec, work)
        masker = Masker(list(spec.snapshot.get("secrets", {}).values()))
        process, sink, log_path = self._start(spec, python, prepare_runtime(work), masker)
        exit_code = process.returncode
        self._save_artifacts(spec, masker)
        self._remove_workspace()
        self._finish(spec, exit_code, sink, log_path, masker)

    def _write_workspace(self, spec: RunSpec, work: Path) -> Path:
        root = work / "workspaces"
        root.mkdir(parents=True, exist_ok=True)
        os.chmod(root, 0o711)
        workspace = Path(tempfile.mkdtemp(prefix=f"run-{spec.id}-", dir=root))
        snap = spec.snapshot
        sources = [layout.SourceFile(f["path"], f["code"], "fixture") for f in snap["fixtures"]]
        sources += [layout.SourceFile(c["path"], c["code"], "case") for c in snap["cases"]]
        files = layout.ProjectFiles(
            sources=sources,
            variables=snap.get("variables", {}),
            secret_names=list(snap.get("secrets", {})),
            ini_options=snap.get("pytest_options", {}),
        )
        layout.write(workspace, layout.render(files))
        for extra in (".home", ".tmp", ".testyard"):
            (workspace / extra).mkdir()
        run_as = self._run_as()
        if run_as is not None:
            for path in [workspace, *workspace.rglob("*")]:
                os.chown(path, run_as.uid, run_as.gid)
        return workspace

    def _run_as(self) -> RunAs | None:
        name = self.settings.run_as_user
        return RunAs.named(name) if name else None

    def _start(
        self, spec: RunSpec, python: Path, runtime: Path, masker: Masker
    ) -> tuple[Popen[bytes], ResultSink, Path]:
        assert self.workspace is not None
        workers = command.resolve_workers(
            spec.workers,
            tests=spec.known_tests,
            recorded_s=spec.recorded_s,
            cpus=self.cpus,
            cpu_share=spec.cpu_share,
        )
        plan = command.Plan(
            workers=workers,
            dist=command.resolve_dist(spec.dist, workers, has_durations=bool(spec.durations)),
            retries=spec.retries,
            test_timeout_s=spec.test_timeout_s or self.settings.test_timeout_s,
        )
        read_fd, write_fd = os.pipe()
        paths = [c["path"] for c in spec.snapshot["cases"]]
        order = self.workspace / ".testyard" / "order.json"
        order.write_text(json.dumps(paths))
        nodeids_path = allure_dir = durations_path = None
        if plan.dist == command.DURATION:
            durations_path = self.workspace / ".testyard" / "durations.json"
            durations_path.write_text(json.dumps(spec.durations))
        if spec.snapshot.get("allure"):
            allure_dir = self.workspace / artifacts.ALLURE_SOURCE
        if spec.nodeids is not None:
            nodeids_path = self.workspace / ".testyard" / "nodeids.txt"
            nodeids_path.write_text(command.nodeids_file(spec.nodeids), encoding="utf-8")
        argv = command.pytest_argv(
            python,
            plan,
            events_path=f"/dev/fd/{write_fd}",
            junit_path=self.workspace / artifacts.JUNIT_SOURCE,
            order_path=order,
            paths=paths,
            nodeids_path=nodeids_path,
            allure_dir=allure_dir,
            durations_path=durations_path,
        )
        limits = Limits.of(self.settings)
        env = command.clean_environment(
            workspace=self.workspace,
            runtime=runtime,
            python=python,
            secrets=spec.snapshot.get("secrets", {}),
        )
        launch = self.ctx.forkservers.launch(python, runtime) if self.ctx.forkservers else None
        if launch is not None:
            argv = command.forked(argv, launch.client, xdist=plan.workers > 0)
            env.update(launch.environment())
        try:
            process = spawn(
                wrap(argv, limits, self._run_as()),
                cwd=self.workspace,
                env=env,
                pass_fds=(write_fd,),
            )
        finally:
            os.close(write_fd)
        self.process = process
        case_paths = {c["path"]: c["id"] for c in spec.snapshot["cases"]}
        sink = self._make_sink(spec, case_paths)
        self.sink = sink
        log_path = self._artifacts() / "log.txt"
        with log_path.open("w", encoding="utf-8") as log_file:
            assert process.stdout is not None
            output = threading.Thread(
                target=copy_output,
                args=(process.stdout, log_file),
                kwargs={
                    "cap": self.settings.output_cap_bytes,
                    "mask": masker,
                    "on_line": self.log_lines.add,
                },
                name=f"run-{spec.id}-output",
                daemon=True,
            )
            output.start()
            try:
                self._pump_events(read_fd, sink, process, spec)
            except BaseException:
                kill_group(process)  # its output then ends, and the copy with it
                raise
            finally:
                output.join()
                process.stdout.close()
        return process, sink, log_path

    def _make_sink(self, spec: RunSpec, case_paths: dict[str, int]) -> ResultSink:
        return ResultSink(self.ctx.sessions, spec.id, case_paths, self.ctx.events)

    def _pump_events(
        self, read_fd: int, sink: ResultSink, process: Popen[bytes], spec: RunSpec
    ) -> None:
        """Feed events to the sink until the process ends, enforcing stop and timeout."""
        timeout = spec.timeout_s or self.settings.run_timeout_s
        deadline = time.monotonic() + timeout
        next_check = time.monotonic() + STATUS_CHECK_S
        buffer = b""
        open_pipe = True
        try:
            while open_pipe or process.poll() is None:
                if open_pipe:
                    ready, _, _ = select.select([read_fd], [], [], POLL_S)
                    if ready:
                        chunk = os.read(read_fd, 256 * 1024)
                        open_pipe = bool(chunk)
                        buffer += chunk
                        *lines, buffer = buffer.split(b"\n")
                        for line in lines:
                            if line.strip():
                                sink.feed_line(line)
                else:
                    with contextlib.suppress(subprocess.TimeoutExpired):
                        process.wait(POLL_S)
                if not open_pipe or not select.select([read_fd], [], [], 0)[0]:
                    sink.idle()
                self._publish_log(sink.last_seq)
                now = time.monotonic()
                if self.stopped is None and now >= deadline:
                    self._kill(process, "timed_out")
                    self._store_and_publish([{"event": "timeout", "timeout_s": timeout}])
                elif self.stopped is None and (self.stop.is_set() or now >= next_check):
                    next_check = now + STATUS_CHECK_S
                    if self.stop.is_set() or self._cancelled_elsewhere():
                        self._kill(process, self.stop.reason if self.stop.is_set() else "cancelled")
                    else:
                        self._alive()
        finally:
            os.close(read_fd)
            sink.flush()
        process.wait()

    def _kill(self, process: Popen[bytes], reason: str) -> None:
        self.stopped = reason
        kill_group(process)

    def _cancelled_elsewhere(self) -> bool:
        """A cancel made by another server process shows only in the database."""
        with transaction(self.ctx.sessions) as session:
            return runs.get_run(session, self.run_id).status == "cancelled"

    def _alive(self) -> None:
        """Called about once a second while the tests run (a shard's heartbeat)."""

    def _artifacts(self) -> Path:
        directory = self.settings.artifacts_dir / str(self.run_id)
        directory.mkdir(parents=True, exist_ok=True)
        return directory

    def _save_artifacts(self, spec: RunSpec, masker: Masker) -> None:
        """junit.xml, and the Allure results when the project asks for them: kept
        whatever the outcome (a stopped run's partial results help too)."""
        assert self.workspace is not None
        artifacts.save_junit(self.workspace, self._artifacts() / "junit.xml", masker)
        if spec.snapshot.get("allure"):
            artifacts.save_allure(self.workspace, self._artifacts() / "allure.zip", masker)

    def _finish(
        self,
        spec: RunSpec,
        exit_code: int,
        sink: ResultSink,
        log_path: Path,
        masker: Masker,
    ) -> None:
        with transaction(self.ctx.sessions) as session:
            counts = final_counts(session, spec.id)
        status, error = outcome.decide(
            exit_code=exit_code,
            stopped=self.stopped,
            counts=counts,
            collect_errors=[masker(e.get("longrepr", "")) for e in sink.collect_errors],
            output_tail=outcome.tail(log_path),
            session_finished=sink.finish is not None,
        )
        self._end(status, error=error, counts=counts, exit_code=exit_code, collected=sink.collected)

    def _publish_log(self, seq: int) -> None:
        lines = self.log_lines.take()
        if lines:
            self.ctx.events.publish(self.run_id, [{"event": "log", "seq": seq, "lines": lines}])

    def _store_and_publish(self, messages: list[dict[str, Any]]) -> None:
        with transaction(self.ctx.sessions) as session:
            stored = store_events(session, self.run_id, messages)
        self.ctx.events.publish(self.run_id, stored)

    def _end(self, status: str, **fields: Any) -> None:
        """Finish the run; the ``done`` event is stored by whoever made it finish (a
        cancel from the API stored its own)."""
        fields = {k: v for k, v in fields.items() if v is not None}
        if self.sink is not None:
            self._publish_log(self.sink.last_seq)
        with transaction(self.ctx.sessions) as session:
            run, changed = runs.finish_run(session, self.run_id, status, **fields)
            record_latest(session, self.run_id)
            stored = store_events(session, self.run_id, [done_message(run)]) if changed else []
            project_id, status_event = run.project_id, status_message(run)
        self.ctx.events.publish(self.run_id, stored)
        self.ctx.events.publish_status(project_id, status_event)
