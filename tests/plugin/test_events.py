"""The event reporter (`testyard.pytest_plugin.events`) in real pytest runs."""

from __future__ import annotations

import ast
import json
import sys
from pathlib import Path

import pytest

from tests.plugin.conftest import Event, EventRun, Sandbox, make_sandbox
from testyard.pytest_plugin import attempts, events, helpers, stream

OUTCOMES = """
    import logging
    import sys
    from pathlib import Path

    import pytest

    from testyard.pytest_plugin.helpers import pending


    @pytest.fixture
    def broken_setup():
        raise RuntimeError("setup broke")


    @pytest.fixture
    def broken_teardown():
        yield
        raise RuntimeError("teardown broke")


    def test_passed():
        print("to stdout")
        print("to stderr", file=sys.stderr)
        logging.getLogger("app").warning("to the log")


    def test_failed():
        assert 1 == 2


    def test_setup_error(broken_setup):
        pass


    def test_teardown_error(broken_teardown):
        print("body ran")


    def test_skipped():
        pytest.skip("not on this platform")


    @pytest.mark.xfail(reason="known bug")
    def test_xfailed():
        raise ValueError("the known bug")


    @pytest.mark.xfail(reason="maybe fixed")
    def test_xpassed():
        pass


    @pytest.mark.xfail(reason="must fail", strict=True)
    def test_strict_xfail():
        pass


    def test_pending():
        pending("job still running")


    def test_flaky():
        counter = Path(__file__).with_name("attempts.txt")
        attempt = int(counter.read_text()) + 1 if counter.exists() else 1
        counter.write_text(str(attempt))
        print(f"attempt {attempt}")
        assert attempt >= 3, f"fails on attempt {attempt}"
"""

#: function: (outcome, when, message, attempts) of its final attempt, under --reruns 2.
EXPECTED = {
    "test_passed": ("passed", "call", "", 1),
    "test_failed": ("failed", "call", "assert 1 == 2", 3),
    "test_setup_error": ("error", "setup", "RuntimeError: setup broke", 3),
    "test_teardown_error": ("error", "teardown", "RuntimeError: teardown broke", 3),
    "test_skipped": ("skipped", "call", "not on this platform", 1),
    "test_xfailed": ("xfailed", "call", "known bug", 1),
    "test_xpassed": ("xpassed", "call", "maybe fixed", 1),
    "test_strict_xfail": ("failed", "call", "[XPASS(strict)] must fail", 3),
    "test_pending": ("pending", "call", "job still running", 1),
    "test_flaky": ("passed", "call", "", 3),
}


@pytest.fixture(scope="module", params=["serial", "xdist"])
def outcomes(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> EventRun:
    """The OUTCOMES module run once serially to a file, once with -n 2 to a pipe."""
    sandbox = make_sandbox(tmp_path_factory.mktemp(request.param))
    sandbox.write("test_outcomes.py", OUTCOMES)
    if request.param == "serial":
        return sandbox.run("--reruns", "2", "-n", "0")
    return sandbox.run_piped("--reruns", "2", "-n", "2")


def final(run: EventRun, function: str) -> Event:
    [event] = [event for event in run.tests(function) if not event["rerun"]]
    return event


def test_session_events_frame_the_run(outcomes: EventRun) -> None:
    names = [event["event"] for event in outcomes.events]
    assert names[:2] == ["session_start", "collected"], outcomes.output
    assert names[-1] == "session_finish"
    assert set(names[2:-1]) == {"test"}
    workers = 2 if "gw0" in {event["worker"] for event in outcomes.named("test")} else 0
    assert outcomes.one("session_start")["workers"] == workers
    assert outcomes.one("session_start")["pid"] > 0
    assert outcomes.one("collected")["count"] == len(EXPECTED)
    finish = outcomes.one("session_finish")
    assert finish["exitstatus"] == 1
    assert finish["counts"] == {
        "passed": 2,
        "failed": 2,
        "error": 2,
        "skipped": 1,
        "xfailed": 1,
        "xpassed": 1,
        "pending": 1,
    }
    assert finish["reruns"] == 4 * 2 + 2  # four tests always fail, test_flaky twice


def test_every_outcome(outcomes: EventRun) -> None:
    for function, (outcome, when, message, count) in EXPECTED.items():
        event = final(outcomes, function)
        assert (event["outcome"], event["when"], event["message"]) == (outcome, when, message)
        assert event["attempt"] == count
        assert event["location"][0] == "test_outcomes.py"
        assert event["start"] <= event["stop"]
        assert event["duration_s"] >= 0


def test_one_test_event_per_attempt(outcomes: EventRun) -> None:
    for function, (*_, count) in EXPECTED.items():
        reported = outcomes.tests(function)
        assert [event["attempt"] for event in reported] == list(range(1, count + 1))
        assert [event["rerun"] for event in reported] == [True] * (count - 1) + [False]
        assert len({event["worker"] for event in reported}) == 1
    assert {event["nodeid"] for event in outcomes.named("test")} == set(
        outcomes.one("collected")["nodeids"]
    )


def test_workers_are_named(outcomes: EventRun) -> None:
    workers = {event["worker"] for event in outcomes.named("test")}
    assert workers in ({"main"}, {"gw0", "gw1"})


def test_reruns_are_failed_attempts(outcomes: EventRun) -> None:
    flaky = outcomes.tests("test_flaky")
    assert [(e["attempt"], e["outcome"], e["rerun"]) for e in flaky] == [
        (1, "failed", True),
        (2, "failed", True),
        (3, "passed", False),
    ]
    assert [e["message"] for e in flaky] == [
        "AssertionError: fails on attempt 1",
        "AssertionError: fails on attempt 2",
        "",
    ]
    assert "fails on attempt 1" in flaky[0]["longrepr"]
    # Captured output belongs to its own attempt, not to every later one.
    assert [e["stdout"] for e in flaky] == ["attempt 1\n", "attempt 2\n", "attempt 3\n"]
    setup = outcomes.tests("test_setup_error")
    assert [(e["outcome"], e["when"]) for e in setup] == [("error", "setup")] * 3


def test_output_and_tracebacks(outcomes: EventRun) -> None:
    passed = final(outcomes, "test_passed")
    assert (passed["stdout"], passed["stderr"]) == ("to stdout\n", "to stderr\n")
    assert "to the log" in passed["log"]
    assert passed["longrepr"] == ""
    assert "assert 1 == 2" in final(outcomes, "test_failed")["longrepr"]
    teardown_error = final(outcomes, "test_teardown_error")
    assert teardown_error["stdout"] == "body ran\n"
    assert "RuntimeError: teardown broke" in teardown_error["longrepr"]
    assert "ValueError: the known bug" in final(outcomes, "test_xfailed")["longrepr"]
    for event in outcomes.named("test"):
        # Not "[gw0] linux -- Python 3.11 ...": the worker is its own field.
        assert not event["longrepr"].startswith("[gw"), event["longrepr"]


def test_dist_each_reports_one_event_per_test_and_worker(sandbox: Sandbox) -> None:
    sandbox.write(
        "test_each.py",
        """
        def test_a():
            pass

        def test_b():
            assert False, "b fails everywhere"
        """,
    )
    run = sandbox.run("-n", "2", "--dist", "each")

    for function, outcome in (("test_a", "passed"), ("test_b", "failed")):
        reported = run.tests(function)
        assert sorted(event["worker"] for event in reported) == ["gw0", "gw1"]
        assert {event["outcome"] for event in reported} == {outcome}
        assert {event["attempt"] for event in reported} == {1}
    assert run.one("session_finish")["counts"] == {"passed": 2, "failed": 2}


def test_test_that_kills_its_worker_is_failed(sandbox: Sandbox) -> None:
    sandbox.write(
        "test_crash.py",
        """
        import os

        def test_crash():
            os._exit(3)

        def test_after():
            pass
        """,
    )
    run = sandbox.run("-n", "1")

    crash = run.test("test_crash")
    assert (crash["outcome"], crash["when"], crash["worker"]) == ("failed", "call", "gw0")
    assert crash["message"] == "worker 'gw0' crashed while running 'test_crash.py::test_crash'"
    assert run.test("test_after")["outcome"] == "passed"  # on the replacement worker


@pytest.mark.parametrize("workers", ["0", "2"])
def test_collection_errors_carry_the_traceback(sandbox: Sandbox, workers: str) -> None:
    sandbox.write("test_syntax.py", "def test_oops(:\n    pass\n")
    sandbox.write("api/conftest.py", "import module_that_does_not_exist\n")
    sandbox.write("api/test_api.py", "def test_api():\n    pass\n")
    sandbox.write("test_fine.py", "def test_fine():\n    pass\n")
    run = sandbox.run("-n", workers, "--continue-on-collection-errors")

    # Every xdist worker collects and fails on its own; one event per failing node.
    nodeids = sorted(event["nodeid"] for event in run.named("collect_error"))
    assert nodeids == ["api", "test_syntax.py"], run.output
    errors = {event["nodeid"]: event for event in run.named("collect_error")}
    syntax = errors["test_syntax.py"]
    assert syntax["message"].startswith("SyntaxError")
    assert "def test_oops(:" in syntax["longrepr"]
    assert "test_syntax.py" in syntax["longrepr"]
    conftest = errors["api"]
    assert (
        conftest["message"] == "ModuleNotFoundError: No module named 'module_that_does_not_exist'"
    )
    assert "api/conftest.py:1" in conftest["longrepr"]
    assert run.test("test_fine")["outcome"] == "passed"
    assert run.one("session_finish")["collect_errors"] == 2


@pytest.mark.parametrize("workers", ["0", "2"])
def test_conftest_failing_at_startup_is_a_collect_error(sandbox: Sandbox, workers: str) -> None:
    # A conftest on the path of the given arguments loads before the session starts.
    sandbox.write("tests/conftest.py", "import json\n\nBASE = json.loads('{broken')\n")
    sandbox.write("tests/test_x.py", "def test_x():\n    pass\n")
    run = sandbox.run("-n", workers, "tests")

    assert run.returncode == 4, run.output
    error = run.one("collect_error")
    assert error["nodeid"] == "tests/conftest.py"
    assert error["message"].startswith("json.decoder.JSONDecodeError: Expecting property")
    assert 'tests/conftest.py", line 3, in <module>' in error["longrepr"]
    assert "BASE = json.loads('{broken')" in error["longrepr"]


def test_output_is_capped_and_secrets_masked(sandbox: Sandbox) -> None:
    sandbox.write(
        "test_loud.py",
        """
        import os
        import sys

        import pytest

        def test_loud():
            print("x" * 1024 * 1024)
            assert False, "y" * 100_000

        @pytest.mark.parametrize("token", [os.environ["API_TOKEN"]])
        def test_leaky(token):
            print("token is", token, "short is", os.environ["SHORT"])
            print("password is", os.environ["DB_PASSWORD"], file=sys.stderr)
            assert token == "wrong", f"bad token {token}"
        """,
    )
    secrets = {"API_TOKEN": "tok-12345", "DB_PASSWORD": "hunter2", "SHORT": "ab"}
    mask = {"TESTYARD_MASK_NAMES": "API_TOKEN, DB_PASSWORD,SHORT,UNSET_NAME"}
    run = sandbox.run(env={**secrets, **mask})

    loud = run.test("test_loud")
    printed = 1024 * 1024 + 1  # and a newline
    dropped = printed - stream.CAP_BYTES
    assert loud["stdout"] == "x" * stream.CAP_BYTES + f"\n[... truncated {dropped} bytes]"
    assert len(loud["longrepr"].encode()) < stream.CAP_BYTES + 100
    assert loud["longrepr"].endswith(" bytes]")

    text = json.dumps(run.events)
    assert "tok-12345" not in text
    assert "hunter2" not in text
    leaky = run.test("test_leaky")
    assert leaky["nodeid"] == "test_loud.py::test_leaky[********]"
    assert run.one("collected")["nodeids"][-1] == leaky["nodeid"]
    # "ab" is too short to mask without garbling everything else.
    assert leaky["stdout"] == "token is ******** short is ab\n"
    assert leaky["stderr"] == "password is ********\n"
    assert "bad token ********" in leaky["message"]
    assert "tok-12345" in run.output  # pytest's own terminal output is the parent's to mask


def test_pending_prefix_is_shared() -> None:
    assert attempts.PENDING_PREFIX == helpers.PENDING_PREFIX


@pytest.mark.parametrize("module", ["events", "attempts", "stream", "helpers"])
def test_plugin_modules_import_only_pytest_and_the_standard_library(module: str) -> None:
    path = Path(events.__file__).with_name(f"{module}.py")
    allowed = set(sys.stdlib_module_names) | {"pytest", "_pytest", "__future__"}
    if module != "helpers":  # helpers must work alone, as testyard_helpers.py
        allowed.add("testyard")
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        if isinstance(node, ast.Import):
            roots = {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, "no relative imports"
            roots = {(node.module or "").split(".")[0]}
        else:
            continue
        assert roots <= allowed, (module, roots)
