"""The test-side helpers (`testyard.pytest_plugin.helpers`): env_vars, pending, once_per_run."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.plugin.conftest import Sandbox
from testyard.pytest_plugin import helpers
from testyard.pytest_plugin.helpers import EnvVars, load_env_vars, once_per_run

VARS = {
    "variables": {"BASE_URL": "https://qa.example.test", "RETRIES": 3},
    "secrets": ["API_TOKEN", "UNSET_SECRET"],
}


def write_vars(directory: Path) -> None:
    (directory / helpers.VARS_FILE).write_text(json.dumps(VARS), "utf-8")


def test_env_vars_attribute_and_mapping_access(tmp_path: Path) -> None:
    write_vars(tmp_path)
    env = load_env_vars(tmp_path, {"API_TOKEN": "t0ken", "OTHER": "x"})

    assert env.BASE_URL == env["BASE_URL"] == "https://qa.example.test"
    assert env.RETRIES == "3"
    assert env.API_TOKEN == "t0ken"
    assert "BASE_URL" in env
    assert env.get("NOPE") is None
    assert dict(env) == {
        "BASE_URL": "https://qa.example.test",
        "RETRIES": "3",
        "API_TOKEN": "t0ken",
    }
    assert "OTHER" not in env  # only declared secrets come from the OS environment


def test_env_vars_unset_secret_is_absent_and_says_so(tmp_path: Path) -> None:
    write_vars(tmp_path)
    env = load_env_vars(tmp_path, {})

    assert "UNSET_SECRET" not in env
    assert "API_TOKEN" not in env
    with pytest.raises(AttributeError, match="secret 'UNSET_SECRET' is declared but not set"):
        _ = env.UNSET_SECRET


def test_env_vars_missing_name_lists_the_available_ones(tmp_path: Path) -> None:
    write_vars(tmp_path)
    env = load_env_vars(tmp_path, {"API_TOKEN": "t0ken"})

    expected = "no variable 'BASE_ULR' .*available: API_TOKEN, BASE_URL, RETRIES"
    with pytest.raises(AttributeError, match=expected):
        _ = env.BASE_ULR
    with pytest.raises(KeyError, match="no variable 'BASE_ULR'"):
        _ = env["BASE_ULR"]


def test_env_vars_is_read_only_and_hides_values(tmp_path: Path) -> None:
    write_vars(tmp_path)
    env = load_env_vars(tmp_path, {"API_TOKEN": "t0ken"})

    with pytest.raises(AttributeError, match="read-only"):
        env.BASE_URL = "https://prod.example.test"
    assert "t0ken" not in repr(env)
    assert "API_TOKEN" in repr(env)


def test_env_vars_without_a_file_is_empty(tmp_path: Path) -> None:
    env = load_env_vars(tmp_path, {"API_TOKEN": "t0ken"})
    assert env == EnvVars({}, frozenset())
    with pytest.raises(AttributeError, match="available: none"):
        _ = env.BASE_URL


def test_once_per_run_takes_fixtures_by_name_only() -> None:
    with pytest.raises(TypeError, match="request fixtures by name"):

        @once_per_run
        def greedy(*fixtures: object) -> None:
            pass


EXPORTED_CONFTEST = """
    import json
    import os
    from pathlib import Path

    from testyard_helpers import once_per_run

    pytest_plugins = ["testyard_helpers"]
    LOG = Path(__file__).with_name("log.jsonl")


    def record(what):
        with LOG.open("a") as log:
            log.write(json.dumps(what) + "\\n")


    @once_per_run
    def account(env_vars):
        record("setup")
        yield {"user": "qa-bot", "base": env_vars.BASE_URL, "roles": ("read", "write")}
        record("teardown")


    @once_per_run(name="not_json")
    def not_json_fixture():
        yield {1, 2}
"""

EXPORTED_TESTS = """
    import pytest

    from testyard_helpers import pending


    def test_env_vars(env_vars):
        assert env_vars.BASE_URL == "https://qa.example.test"
        assert env_vars["API_TOKEN"] == "t0ken-from-env"
        assert "UNSET_SECRET" not in env_vars
        with pytest.raises(AttributeError, match="available: API_TOKEN, BASE_URL, RETRIES"):
            env_vars.NOPE


    @pytest.mark.parametrize("n", [1, 2])
    def test_account(account, n):
        # JSON round-tripped as under xdist: the tuple arrives as a list.
        assert account["roles"] == ["read", "write"]
        assert account["base"] == "https://qa.example.test"


    def test_not_json(not_json):
        pass


    def test_pending():
        pending("order not shipped yet")
"""


def test_exported_helpers_file_works_alone(sandbox: Sandbox) -> None:
    # An export carries helpers.py as testyard_helpers.py, registered by the root conftest.
    shutil.copy(helpers.__file__, sandbox.path / "testyard_helpers.py")
    write_vars(sandbox.path)
    sandbox.write("conftest.py", EXPORTED_CONFTEST)
    sandbox.write("tests/test_exported.py", EXPORTED_TESTS)
    run = sandbox.run(
        plugins=("-p", "testyard.pytest_plugin.events"), env={"API_TOKEN": "t0ken-from-env"}
    )

    outcomes = {event["nodeid"].split("::")[1]: event for event in run.named("test")}
    assert {name: event["outcome"] for name, event in outcomes.items()} == {
        "test_env_vars": "passed",
        "test_account[1]": "passed",
        "test_account[2]": "passed",
        "test_not_json": "error",
        "test_pending": "pending",
    }, run.output
    assert "non-JSON value" in outcomes["test_not_json"]["message"]
    assert outcomes["test_pending"]["message"] == "order not shipped yet"
    log = (sandbox.path / "log.jsonl").read_text().splitlines()
    assert log == ['"setup"', '"teardown"']


ONCE_CONFTEST = """
    import json
    import os
    import time
    from pathlib import Path

    from testyard.pytest_plugin.helpers import once_per_run

    LOG = Path(__file__).with_name("log.jsonl")


    def record(what, **fields):
        worker = os.environ["PYTEST_XDIST_WORKER"]
        line = json.dumps({"what": what, "worker": worker, **fields}) + "\\n"
        with LOG.open("a") as log:  # O_APPEND: one line per write, in order
            log.write(line)


    @once_per_run
    def shared_account(tmp_path_factory, env_vars):
        record("setup")
        yield {"user": "qa-bot", "owner": os.environ["PYTEST_XDIST_WORKER"]}
        record("teardown")


    @once_per_run
    def broken_account():
        record("broken setup")
        raise ValueError("no account for you")
"""

ONCE_TESTS = """
    import os
    import time

    import pytest

    from conftest import record


    @pytest.mark.parametrize("n", range(8))
    def test_uses_account(shared_account, n):
        assert shared_account["user"] == "qa-bot"
        if shared_account["owner"] != os.environ["PYTEST_XDIST_WORKER"]:
            time.sleep(0.3)  # the owner finishes first: its teardown has to wait
        record("test", n=n)


    @pytest.mark.parametrize("n", range(4))
    def test_uses_broken(broken_account, n):
        pass
"""


def test_once_per_run_under_four_workers(sandbox: Sandbox) -> None:
    write_vars(sandbox.path)
    sandbox.write("conftest.py", ONCE_CONFTEST)
    sandbox.write("test_once.py", ONCE_TESTS)
    run = sandbox.run("-n", "4", env={"TESTYARD_ONCE_PER_RUN_TIMEOUT": "30"})

    log = [json.loads(line) for line in (sandbox.path / "log.jsonl").read_text().splitlines()]
    whats = [entry["what"] for entry in log]
    assert whats.count("setup") == 1, log
    assert whats.count("teardown") == 1, log
    assert whats.count("broken setup") == 1, log
    assert whats.count("test") == 8, log
    # The value was computed before, and torn down after, every test that used it.
    assert whats.index("setup") < whats.index("test")
    assert whats[-1] == "teardown", log
    [setup] = [entry for entry in log if entry["what"] == "setup"]
    [teardown] = [entry for entry in log if entry["what"] == "teardown"]
    assert teardown["worker"] == setup["worker"]

    used = run.tests("test_uses_account")
    assert {event["outcome"] for event in used} == {"passed"}, run.output
    assert len({event["worker"] for event in used}) > 1  # else this proves nothing

    [computed_by] = [entry["worker"] for entry in log if entry["what"] == "broken setup"]
    broken = run.tests("test_uses_broken")
    assert {event["outcome"] for event in broken} == {"error"}
    for event in broken:
        assert "ValueError: no account for you" in event["message"]
        if event["worker"] != computed_by:
            assert event["message"].startswith("testyard.pytest_plugin.helpers.OncePerRunError")
            assert f"failed in worker {computed_by}" in event["message"]


def test_once_per_run_teardown_wait_is_outside_the_test_timeout(sandbox: Sandbox) -> None:
    # The owner waits for the others in its last test's teardown; pytest-timeout's
    # per-test --timeout must not cut that wait, and the teardown, short.
    sandbox.write(
        "conftest.py",
        """
        import os
        from pathlib import Path

        from testyard.pytest_plugin.helpers import once_per_run

        @once_per_run
        def owner():
            yield os.environ["PYTEST_XDIST_WORKER"]
            Path(__file__).with_name("torn-down").touch()
        """,
    )
    sandbox.write(
        "test_slow.py",
        """
        import os
        import time

        import pytest

        @pytest.mark.parametrize("n", range(8))
        def test_slow_elsewhere(owner, n):
            if owner != os.environ["PYTEST_XDIST_WORKER"]:
                time.sleep(1.0)  # well under the timeout; the owner's wait is not
        """,
    )
    run = sandbox.run("-n", "2", "--timeout", "2")

    assert run.returncode == 0, run.output
    assert (sandbox.path / "torn-down").exists()
