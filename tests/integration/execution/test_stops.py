"""Runs that must be stopped: hanging tests, run timeouts, cancel, floods, crashes."""

from __future__ import annotations

import time

from tests.factories import make_case, make_project, results_of, run_code, start_run, wait_for_run
from tests.support.api import Api

HANG = "import time\n\ndef test_quick():\n    pass\n\ndef test_hang():\n    time.sleep(600)\n"


def test_a_test_past_the_per_test_timeout_fails_and_the_run_goes_on(admin: Api) -> None:
    project = make_project(admin)
    code = HANG + "\ndef test_after():\n    pass\n"
    run = run_code(admin, project["id"], code, test_timeout_s=1)
    assert run["status"] == "failed"
    results = {k.split("::")[1]: v for k, v in results_of(admin, run["id"]).items()}
    assert results["test_hang"]["outcome"] == "failed"
    assert "Timeout" in results["test_hang"]["longrepr"]
    assert results["test_after"]["outcome"] == "passed"


def test_a_run_past_its_timeout_ends_timed_out_keeping_results(admin: Api) -> None:
    project = make_project(admin)
    started = time.monotonic()
    run = run_code(admin, project["id"], HANG, timeout_s=3)
    assert run["status"] == "timed_out"
    assert time.monotonic() - started < 30
    results = results_of(admin, run["id"])
    assert [r["outcome"] for k, r in results.items() if k.endswith("test_quick")] == ["passed"]


def test_cancel_stops_a_running_run_at_once_and_keeps_results(admin: Api) -> None:
    project = make_project(admin)
    case = make_case(admin, project["id"], code=HANG)
    run_id = start_run(admin, project["id"], case_ids=[case["id"]])
    deadline = time.monotonic() + 30
    while not results_of(admin, run_id) and time.monotonic() < deadline:
        time.sleep(0.1)
    cancelled = admin.post(f"/runs/{run_id}/cancel", status=200)
    assert cancelled["status"] == "cancelled"
    run = wait_for_run(admin, run_id)
    assert run["status"] == "cancelled"
    assert run["counts"]["passed"] == 1
    assert admin.expect(409, "POST", f"/runs/{run_id}/cancel")["error"] == "invalid_transition"


def test_cancel_a_queued_run(admin: Api, client) -> None:  # type: ignore[no-untyped-def]
    project = make_project(admin)
    hang = make_case(admin, project["id"], code=HANG)
    blockers = [start_run(admin, project["id"], case_ids=[hang["id"]]) for _ in range(2)]
    for blocker in blockers:
        wait_for_run(admin, blocker, until={"running"})
    queued = start_run(admin, project["id"], case_ids=[hang["id"]])
    assert admin.get(f"/runs/{queued}")["status"] == "queued"
    assert admin.post(f"/runs/{queued}/cancel", status=200)["status"] == "cancelled"
    for blocker in blockers:
        admin.post(f"/runs/{blocker}/cancel", status=200)
    assert wait_for_run(admin, queued)["started_at"] is None


def test_a_flood_of_output_is_cut_and_the_run_goes_on(admin: Api, settings) -> None:  # type: ignore[no-untyped-def]
    project = make_project(admin)
    code = (
        "import sys\n\n"
        "def test_flood():\n"
        "    chunk = 'x' * 1023 + '\\n'\n"
        "    for _ in range(100 * 1024):\n"
        "        sys.stdout.write(chunk)\n"
        "    assert False, 'shown with its 100 MB of captured output'\n\n"
        "def test_after():\n"
        "    pass\n"
    )
    run = run_code(admin, project["id"], code)
    assert run["status"] == "failed", run
    results = {k.split("::")[1]: v for k, v in results_of(admin, run["id"]).items()}
    assert results["test_after"]["outcome"] == "passed"
    assert len(results["test_flood"]["stdout"]) < 70 * 1024
    log = settings.artifacts_dir / str(run["id"]) / "log.txt"
    assert log.stat().st_size < settings.output_cap_bytes + 4096
    assert "output past" in log.read_text()


def test_os_exit_inside_a_test_ends_the_run_in_error_keeping_earlier_results(
    admin: Api,
) -> None:
    project = make_project(admin)
    code = "import os\n\ndef test_first():\n    pass\n\ndef test_exit():\n    os._exit(3)\n"
    run = run_code(admin, project["id"], code, workers=0)
    assert run["status"] == "error"
    assert "ended abruptly" in run["error"] and "code 3" in run["error"]
    results = results_of(admin, run["id"])
    assert [r["outcome"] for k, r in results.items() if k.endswith("test_first")] == ["passed"]


def test_os_exit_under_xdist_fails_that_test_and_the_others_run(admin: Api) -> None:
    project = make_project(admin)
    code = "import os\n\ndef test_exit():\n    os._exit(3)\n\ndef test_other():\n    pass\n"
    run = run_code(admin, project["id"], code, workers=2)
    assert run["status"] == "failed"
    results = {k.split("::")[1]: v for k, v in results_of(admin, run["id"]).items()}
    assert results["test_other"]["outcome"] == "passed"
    assert results["test_exit"]["outcome"] in ("failed", "error")
