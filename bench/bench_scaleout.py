"""Scale-out: the same sleep-bound suite on two testyard workers against one.

A real PostgreSQL, a real Redis and a real ``testyard serve`` with
``TESTYARD_EXECUTOR=celery`` are started in a temporary directory; the suite
(``FILES`` case files of ``TESTS_PER_FILE`` tests that each sleep ``SLEEP_S``: the
tests wait, as most end-to-end suites do, so the machine's two cores are not what
limits them) is run through the HTTP API, timed from the POST to the final status a
client polling ``GET /runs/{rid}`` sees:

Each shard runs with ``workers: 2`` (two xdist processes per machine: ``workers: auto``
would start more than the cores for sleeping tests, and one machine would then need no
second one), so a worker stands for a two-core machine.

(a) with one ``testyard worker`` live: the baseline;
(b) with two such workers live: the run is split into two shards balanced by the
    durations the first run recorded.

Each is run ``REPEATS`` times after one warm-up run (which records durations), (a)
and (b) alternating by starting and stopping the second worker; medians are reported.
Target: a / b ≥ 1.8. Writes its section of ``bench/RESULTS.md``.
Run: ``.venv/bin/python bench/bench_scaleout.py``.
"""

from __future__ import annotations

import os
import platform
import statistics
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx2 as httpx
from results_md import write_section

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # the real-service helpers live with the tests

from tests.support.postgres import PostgresServer  # noqa: E402
from tests.support.redis import RedisServer  # noqa: E402
from tests.support.server import ServerProcess  # noqa: E402
from tests.support.workers import WorkerProcess  # noqa: E402

FILES = 8
TESTS_PER_FILE = 10
SLEEP_S = 0.5
SLOTS = 2
REPEATS = 3
TARGET = 1.8
PASSWORD = "bench-admin-password-1"
SECRET = "bench-secret-key"
FINAL = {"passed", "failed", "error", "cancelled", "timed_out", "interrupted"}
COMMAND = ".venv/bin/python bench/bench_scaleout.py"


def module(n: int) -> str:
    tests = "".join(
        f"\n\ndef test_{n}_{t}():\n    time.sleep({SLEEP_S})\n" for t in range(TESTS_PER_FILE)
    )
    return f"import time{tests}"


def epoch(value: str) -> float:
    return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()


def timeline(run: dict[str, Any]) -> str:
    """Where a run's time went, as the server recorded it."""
    created, started = epoch(run["created_at"]), epoch(run["started_at"])
    parts = [f"queued {started - created:.2f} s"]
    for shard in run["shards"]:
        begin, end = epoch(shard["started_at"]), epoch(shard["finished_at"])
        parts.append(
            f"shard {shard['index']} ({len(shard['paths'])} files) starts at "
            f"+{begin - started:.2f} s, runs {end - begin:.2f} s"
        )
    parts.append(f"done at +{epoch(run['finished_at']) - started:.2f} s")
    return "; ".join(parts)


LAST: dict[str, Any] = {}


def timed_run(http: httpx.Client, pid: int, case_ids: list[int]) -> float:
    started = time.perf_counter()
    body = {"case_ids": case_ids, "workers": SLOTS}
    answer = http.post(f"/projects/{pid}/runs", json=body)
    answer.raise_for_status()
    run_id = answer.json()["id"]
    while True:
        run: dict[str, Any] = http.get(f"/runs/{run_id}").json()
        if run["status"] in FINAL:
            break
        time.sleep(0.02)
    elapsed = time.perf_counter() - started
    if run["status"] != "passed":
        raise SystemExit(f"run {run_id} ended {run['status']}: {run.get('error')}")
    LAST["run"] = run
    return elapsed


def wait_live(http: httpx.Client, count: int) -> None:
    deadline = time.monotonic() + 60
    while http.get("/workers").json()["live"] != count:
        if time.monotonic() > deadline:
            raise SystemExit(f"expected {count} live workers")
        time.sleep(0.1)


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="bench-scaleout-") as folder:
        root = Path(folder)
        postgres, redis = PostgresServer().start(), RedisServer().start()
        database = postgres.create_database("bench_scaleout")
        common = {
            "TESTYARD_DATABASE_URL": database,
            "TESTYARD_REDIS_URL": redis.url,
            "TESTYARD_SECRET_KEY": SECRET,
            "TESTYARD_WORKER_HEARTBEAT_S": "0.5",
        }
        server = ServerProcess(
            root / "data",
            root / "server.log",
            TESTYARD_EXECUTOR="celery",
            TESTYARD_ADMIN_PASSWORD=PASSWORD,
            **common,
        )
        workers = [WorkerProcess(f"w{n}", root, slots=SLOTS, **common) for n in (1, 2)]
        try:
            server.start()
            print(measure(server, workers))
        finally:
            for worker in workers:
                worker.stop()
            server.stop()
            redis.stop()
            postgres.cleanup()


def measure(server: ServerProcess, workers: list[WorkerProcess]) -> str:
    login = httpx.post(
        f"{server.url}/api/v1/auth/login", json={"username": "admin", "password": PASSWORD}
    )
    login.raise_for_status()
    http = server.client(login.json()["token"])
    http.timeout = httpx.Timeout(120)
    pid = http.post("/projects", json={"name": "scale-out"}).json()["id"]
    case_ids = [
        http.post(f"/projects/{pid}/cases", json={"name": f"sleepy {n}", "code": module(n)}).json()[
            "id"
        ]
        for n in range(FILES)
    ]
    workers[0].start()
    wait_live(http, 1)
    timed_run(http, pid, case_ids)  # warm-up: environments, durations recorded
    one: list[float] = []
    two: list[float] = []
    for _ in range(REPEATS):
        one.append(timed_run(http, pid, case_ids))
        LAST["one"] = timeline(LAST["run"])
        workers[1].start()
        wait_live(http, 2)
        two.append(timed_run(http, pid, case_ids))
        LAST["two"] = timeline(LAST["run"])
        workers[1].stop()
        wait_live(http, 1)
    return report(one, two)


def report(one: list[float], two: list[float]) -> str:
    a, b = statistics.median(one), statistics.median(two)
    ratio = a / b
    verdict = "met" if ratio >= TARGET else "MISSED"
    serial = FILES * TESTS_PER_FILE * SLEEP_S
    body = (
        f"Command: `{COMMAND}` ({platform.machine()}, {os.cpu_count()} cores, load average "
        f"{os.getloadavg()[0]:.2f} at the end). {FILES} files of {TESTS_PER_FILE} tests sleeping "
        f"{SLEEP_S} s ({serial:.0f} s serial), workers with `--slots {SLOTS}`, PostgreSQL and "
        f"Redis local; request to `done`, median of {REPEATS}.\n\n"
        "| setup | median | runs |\n| --- | --- | --- |\n"
        f"| (a) one worker | {a:.2f} s | {', '.join(f'{t:.2f}' for t in one)} |\n"
        f"| (b) two workers | {b:.2f} s | {', '.join(f'{t:.2f}' for t in two)} |\n\n"
        f"Speed-up a / b = **{ratio:.2f}** (target ≥ {TARGET}: {verdict}).\n\n"
        f"Where the last runs' time went: (a) {LAST['one']}. (b) {LAST['two']}.\n\n"
    )
    write_section("bench_scaleout", "Scale-out: two Celery workers against one", body)
    return body


if __name__ == "__main__":
    main()
