"""The event reporter (`testyard.pytest_plugin.events`) in real pytest runs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from testyard.pytest_plugin import attempts, events, helpers, stream
from tests.plugin.conftest import Sandbox

OUTCOMES = """
    import logging
    import sys

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
"""

EXPECTED = {
    "test_passed": ("passed", "call", ""),
    "test_failed": ("failed", "call", "assert 1 == 2"),
    "test_setup_error": ("error", "setup", "RuntimeError: setup broke"),
    "test_teardown_error": ("error", "teardown", "RuntimeError: teardown broke"),
    "test_skipped": ("skipped", "call", "not on this platform"),
    "test_xfailed": ("xfailed", "call", "known bug"),
    "test_xpassed": ("xpassed", "call", "maybe fixed"),
    "test_strict_xfail": ("failed", "call", "[XPASS(strict)] must fail"),
    "test_pending": ("pending", "call", "job still running"),
}


@pytest.mark.parametrize("workers", ["0", "2"])
def test_every_outcome_is_one_test_event(sandbox: Sandbox, workers: str) -> None:
    sandbox.write("test_outcomes.py", OUTCOMES)
    run = sandbox.run("-n", workers)

    assert run.returncode == 1, run.output
    names = [event["event"] for event in run.events]
    assert names[:2] == ["session_start", "collected"]
    assert names[-1] == "session_finish"
    assert run.one("session_start")["workers"] == int(workers)
    assert run.one("collected")["count"] == len(EXPECTED)
    for function, (outcome, when, message) in EXPECTED.items():
        event = run.test(function)
        assert (event["outcome"], event["when"], event["message"]) == (outcome, when, message)
        assert event["attempt"] == 1
        assert event["rerun"] is False
        assert event["location"][0] == "test_outcomes.py"
        assert event["start"] <= event["stop"]
    assert run.one("session_finish")["exitstatus"] == 1
    assert run.one("session_finish")["counts"] == {
        "passed": 1,
        "failed": 2,
        "error": 2,
        "skipped": 1,
        "xfailed": 1,
        "xpassed": 1,
        "pending": 1,
    }


@pytest.mark.parametrize("workers", ["0", "2"])
def test_test_event_carries_output_and_tracebacks(sandbox: Sandbox, workers: str) -> None:
    sandbox.write("test_outcomes.py", OUTCOMES)
    run = sandbox.run("-n", workers)

    passed = run.test("test_passed")
    assert (passed["stdout"], passed["stderr"]) == ("to stdout\n", "to stderr\n")
    assert "to the log" in passed["log"]
    assert passed["longrepr"] == ""
    assert "assert 1 == 2" in run.test("test_failed")["longrepr"]
    teardown_error = run.test("test_teardown_error")
    assert teardown_error["stdout"] == "body ran\n"
    assert "RuntimeError: teardown broke" in teardown_error["longrepr"]
    assert "ValueError: the known bug" in run.test("test_xfailed")["longrepr"]
    for event in run.named("test"):
        # Not "[gw0] linux -- Python 3.11 ...": the worker is its own field.
        assert not event["longrepr"].startswith("[gw"), event["longrepr"]
        assert event["duration_s"] >= 0


def test_workers_are_named_and_each_test_reported_once(sandbox: Sandbox) -> None:
    sandbox.write("test_outcomes.py", OUTCOMES)
    run = sandbox.run("-n", "2")

    nodeids = [event["nodeid"] for event in run.named("test")]
    assert sorted(nodeids) == sorted(run.one("collected")["nodeids"])
    assert {event["worker"] for event in run.named("test")} == {"gw0", "gw1"}


def test_serial_run_reports_worker_main(sandbox: Sandbox) -> None:
    sandbox.write("test_one.py", "def test_one():\n    pass\n")
    run = sandbox.run("-n", "0")

    assert run.test("test_one")["worker"] == "main"
    assert run.one("session_start")["pid"] > 0


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


FLAKY = """
    from pathlib import Path

    def test_flaky():
        counter = Path(__file__).with_name("attempts.txt")
        attempt = int(counter.read_text()) + 1 if counter.exists() else 1
        counter.write_text(str(attempt))
        print(f"attempt {attempt}")
        assert attempt >= 3, f"fails on attempt {attempt}"

    def test_steady():
        pass
"""


@pytest.mark.parametrize("workers", ["0", "2"])
def test_reruns_are_numbered_attempts(sandbox: Sandbox, workers: str) -> None:
    sandbox.write("test_flaky.py", FLAKY)
    run = sandbox.run("--reruns", "2", "-n", workers)

    assert run.returncode == 0, run.output
    flaky = run.tests("test_flaky")
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
    # Captured output belongs to its own attempt, not to every later one.
    assert [e["stdout"] for e in flaky] == ["attempt 1\n", "attempt 2\n", "attempt 3\n"]
    assert len({e["worker"] for e in flaky}) == 1
    assert run.test("test_steady")["attempt"] == 1
    finish = run.one("session_finish")
    assert (finish["counts"], finish["reruns"]) == ({"passed": 2}, 2)


def test_rerun_of_a_setup_error_is_an_error(sandbox: Sandbox) -> None:
    sandbox.write(
        "test_setup.py",
        """
        import pytest

        @pytest.fixture
        def service():
            raise ConnectionError("service down")

        def test_needs_service(service):
            pass
        """,
    )
    run = sandbox.run("--reruns", "1")

    reported = run.tests("test_needs_service")
    assert [(e["attempt"], e["outcome"], e["rerun"], e["when"]) for e in reported] == [
        (1, "error", True, "setup"),
        (2, "error", False, "setup"),
    ]
    assert reported[0]["message"] == "ConnectionError: service down"


@pytest.mark.parametrize("workers", ["0", "2"])
def test_collection_errors_carry_the_traceback(sandbox: Sandbox, workers: str) -> None:
    sandbox.write("test_syntax.py", "def test_oops(:\n    pass\n")
    sandbox.write("api/conftest.py", "import module_that_does_not_exist\n")
    sandbox.write("api/test_api.py", "def test_api():\n    pass\n")
    sandbox.write("test_fine.py", "def test_fine():\n    pass\n")
    run = sandbox.run("-n", workers, "--continue-on-collection-errors")

    errors = {event["nodeid"]: event for event in run.named("collect_error")}
    assert set(errors) == {"test_syntax.py", "api"}, run.output
    syntax = errors["test_syntax.py"]
    assert syntax["message"].startswith("SyntaxError")
    assert "def test_oops(:" in syntax["longrepr"]
    assert "test_syntax.py" in syntax["longrepr"]
    conftest = errors["api"]
    assert conftest["message"] == "ModuleNotFoundError: No module named 'module_that_does_not_exist'"
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
    assert error["message"].startswith("JSONDecodeError: Expecting property name")
    assert "tests/conftest.py\", line 3, in <module>" in error["longrepr"]
    assert "BASE = json.loads('{broken')" in error["longrepr"]


def test_output_fields_are_capped(sandbox: Sandbox) -> None:
    sandbox.write(
        "test_loud.py",
        """
        def test_loud():
            print("x" * 1024 * 1024)
            assert False, "y" * 100_000
        """,
    )
    run = sandbox.run()

    loud = run.test("test_loud")
    printed = 1024 * 1024 + 1  # and a newline
    assert loud["stdout"] == "x" * stream.CAP_BYTES + f"\n[... truncated {printed - 65536} bytes]"
    assert len(loud["longrepr"].encode()) < stream.CAP_BYTES + 100
    assert loud["longrepr"].endswith(" bytes]")
    assert loud["outcome"] == "failed"


def test_secrets_are_masked_in_every_field(sandbox: Sandbox) -> None:
    sandbox.write(
        "test_leaky.py",
        """
        import os
        import sys

        import pytest

        @pytest.mark.parametrize("token", [os.environ["API_TOKEN"]])
        def test_leaky(token):
            print("token is", token)
            print("password is", os.environ["DB_PASSWORD"], file=sys.stderr)
            assert token == "wrong", f"bad token {token}"
        """,
    )
    secrets = {"API_TOKEN": "tok-12345", "DB_PASSWORD": "hunter2", "SHORT": "ab"}
    mask = {"TESTYARD_MASK_NAMES": "API_TOKEN, DB_PASSWORD,SHORT,UNSET_NAME"}
    run = sandbox.run(env={**secrets, **mask, "SHORT_USED": "ab"})

    text = json.dumps(run.events)
    assert "tok-12345" not in text
    assert "hunter2" not in text
    leaky = run.test("test_leaky")
    assert leaky["nodeid"] == "test_leaky.py::test_leaky[********]"
    assert leaky["stdout"] == "token is ********\n"
    assert leaky["stderr"] == "password is ********\n"
    assert "bad token ********" in leaky["message"]
    assert "tok-12345" in run.output  # pytest's own output is not ours to mask
    assert "ab" in leaky["longrepr"]  # too short to mask without garbling everything


def test_pending_prefix_is_shared() -> None:
    assert attempts.PENDING_PREFIX == helpers.PENDING_PREFIX


@pytest.mark.parametrize("module", ["events", "attempts", "stream", "helpers"])
def test_plugin_modules_import_only_pytest_and_the_standard_library(module: str) -> None:
    import ast
    import sys

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


def test_events_stream_through_an_inherited_pipe(sandbox: Sandbox) -> None:
    # How the executor reads them: --testyard-events=/dev/fd/N, N inherited.
    sandbox.write("test_one.py", "def test_one():\n    print('hi')\n")
    run = sandbox.run_piped("-n", "2")

    assert run.returncode == 0, run.output
    assert [event["event"] for event in run.events] == [
        "session_start",
        "collected",
        "test",
        "session_finish",
    ]
    assert run.test("test_one")["stdout"] == "hi\n"
