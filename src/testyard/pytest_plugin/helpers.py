"""testyard's test-side helpers: the `env_vars` fixture, `pending()` and `once_per_run`.

A pytest plugin, loaded with ``-p testyard.pytest_plugin.helpers``, or copied alone as
a top-level module (``testyard_helpers.py``, or ``testyard.py``) into a run's or an
exported project's rootdir and registered by the root conftest with ``pytest_plugins =
["testyard_helpers"]`` (or ``-p testyard``). So it is self-contained: pytest and the
standard library only, no relative imports.

- ``env_vars``: a session fixture, the chosen environment's variables, read from
  ``testyard_vars.json`` in the rootdir; secret values come from the OS environment.
- ``pending(reason)``: ends the current test as "not ready yet" (a staged polling step
  that should be tried again later); reported by testyard as outcome ``pending``.
- ``@once_per_run``: a session fixture computed once per pytest run, even with
  ``-n N``, and torn down once, after every worker is done with it.
"""

from __future__ import annotations

import contextlib
import inspect
import json
import os
import re
import sys
import tempfile
import time
import warnings
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any, NoReturn, overload

import pytest

if sys.platform == "win32":  # pragma: no cover - testyard runs tests on POSIX
    import msvcrt
else:
    import fcntl

__all__ = [
    "PENDING_PREFIX",
    "VARS_FILE",
    "EnvVars",
    "OncePerRunError",
    "OncePerRunWarning",
    "env_vars",
    "load_env_vars",
    "once_per_run",
    "pending",
]

#: A skip whose reason starts with this is reported as ``pending``, not ``skipped``.
PENDING_PREFIX = "[testyard:pending] "
VARS_FILE = "testyard_vars.json"
#: How long the worker that computed a `once_per_run` value waits for the others.
WAIT_TIMEOUT_ENV = "TESTYARD_ONCE_PER_RUN_TIMEOUT"
DEFAULT_WAIT_TIMEOUT_S = 600.0
POLL_S = 0.05


def pending(reason: str) -> NoReturn:
    """End the current test as pending: the thing it waits for is not ready yet.

    A skip with `PENDING_PREFIX` before the reason; testyard's reporter turns it into
    outcome ``pending`` (plain pytest shows it as a skip). Call it from a test or a
    fixture, e.g. ``if job["state"] != "done": pending(f"job is {job['state']}")``.
    """
    pytest.skip(PENDING_PREFIX + reason)


# --- env_vars ---------------------------------------------------------------------


class EnvVars(Mapping[str, str]):
    """The environment's variables, read-only: ``env_vars.BASE_URL``, ``env_vars["X"]``.

    A declared secret that is not set in the OS environment is absent; asking for it
    says so. The repr lists names only, never values.
    """

    __slots__ = ("_missing_secrets", "_values")
    _values: dict[str, str]
    _missing_secrets: frozenset[str]

    def __init__(self, values: Mapping[str, str], missing_secrets: frozenset[str]) -> None:
        object.__setattr__(self, "_values", dict(values))
        object.__setattr__(self, "_missing_secrets", missing_secrets)

    def __getitem__(self, name: str) -> str:
        try:
            return self._values[name]
        except KeyError:
            raise KeyError(self._missing(name)) from None

    def __getattr__(self, name: str) -> str:
        if name.startswith("_"):
            raise AttributeError(name)
        try:
            return self._values[name]
        except KeyError:
            raise AttributeError(self._missing(name)) from None

    def __setattr__(self, name: str, value: object) -> NoReturn:
        raise AttributeError(f"env_vars is read-only (cannot set {name!r})")

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def __repr__(self) -> str:
        return f"EnvVars({sorted(self._values)})"

    def _missing(self, name: str) -> str:
        if name in self._missing_secrets:
            return f"secret {name!r} is declared but not set in the environment (export {name})"
        available = ", ".join(sorted(self._values)) or "none"
        return f"no variable {name!r} in env_vars ({VARS_FILE}); available: {available}"


def load_env_vars(rootpath: Path, environ: Mapping[str, str] = os.environ) -> EnvVars:
    """Read ``{"variables": {NAME: value}, "secrets": [NAME, ...]}`` from the rootdir.

    No file means no variables. Secret values are taken from `environ`.
    """
    path = rootpath / VARS_FILE
    data: dict[str, Any] = json.loads(path.read_text("utf-8")) if path.is_file() else {}
    values = {str(name): str(value) for name, value in data.get("variables", {}).items()}
    secrets = [str(name) for name in data.get("secrets", [])]
    values.update({name: environ[name] for name in secrets if name in environ})
    return EnvVars(values, frozenset(name for name in secrets if name not in environ))


@pytest.fixture(scope="session")
def env_vars(pytestconfig: pytest.Config) -> EnvVars:
    """The chosen environment's variables (``testyard_vars.json`` + secrets from env)."""
    return load_env_vars(pytestconfig.rootpath)


# --- once_per_run -----------------------------------------------------------------


class OncePerRunError(RuntimeError):
    """The worker that computed a `once_per_run` value failed; raised in the others."""


class OncePerRunWarning(pytest.PytestWarning):
    """The computing worker gave up waiting for the others before its teardown."""


@overload
def once_per_run(func: Callable[..., Any], /) -> Callable[..., Any]: ...
@overload
def once_per_run(
    func: None = None, /, *, name: str | None = None
) -> Callable[[Callable[..., Any]], Callable[..., Any]]: ...
def once_per_run(
    func: Callable[..., Any] | None = None, /, *, name: str | None = None
) -> Callable[..., Any]:
    """Turn a (generator) function into a session fixture computed once per run.

    With pytest-xdist the first worker that needs it computes it under a file lock in
    the run's shared temporary directory and writes the value as JSON; every other
    worker reads that file (so the value must be JSON-serialisable, and is JSON
    round-tripped without xdist too). The code after ``yield`` runs once, in the
    computing worker, after every worker of the run has finished its tests. If the
    function raises, the other workers raise `OncePerRunError` with the same message.
    The function may request other fixtures by parameter name, as any fixture.
    Needs this module loaded as a plugin (it marks each worker as finished).

    Use as ``@once_per_run`` or ``@once_per_run(name="api_user")``.
    """

    def decorate(fn: Callable[..., Any]) -> Callable[..., Any]:
        return _make_fixture(fn, name or fn.__name__)

    return decorate if func is None else decorate(func)


def _make_fixture(fn: Callable[..., Any], name: str) -> Callable[..., Any]:
    signature = inspect.signature(fn)
    variadic = (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)
    if any(param.kind in variadic for param in signature.parameters.values()):
        raise TypeError(f"once_per_run {name!r}: request fixtures by name, not *args/**kwargs")
    wants_request = "request" in signature.parameters
    parameters = list(signature.parameters.values())
    if not wants_request:
        parameters.append(inspect.Parameter("request", inspect.Parameter.KEYWORD_ONLY))

    def fixture(**kwargs: Any) -> Iterator[Any]:
        request: pytest.FixtureRequest = (
            kwargs["request"] if wants_request else kwargs.pop("request")
        )
        yield from _provide(fn, kwargs, name, request.config)

    # Not functools.wraps: pytest would follow __wrapped__ and see a non-generator.
    fixture.__name__ = fn.__name__
    fixture.__qualname__ = fn.__qualname__
    fixture.__module__ = fn.__module__
    fixture.__doc__ = fn.__doc__
    fixture.__signature__ = signature.replace(parameters=parameters)  # type: ignore[attr-defined]
    return pytest.fixture(scope="session", name=name)(fixture)


def _provide(
    fn: Callable[..., Any], kwargs: dict[str, Any], name: str, config: pytest.Config
) -> Iterator[Any]:
    """The fixture's body: compute or read the value, yield it, maybe tear down."""
    worker = _xdist_worker(config)
    if worker is None:
        generator, record, error = _compute(fn, kwargs, name, "main")
        yield _unpack(record, error, name)
        _finish(generator, name)
        return
    _require_plugin(config)
    directory = _shared_dir(config)
    stem = re.sub(r"[^\w.-]", "_", name)
    with _exclusive_lock(directory / f"{stem}.lock"):
        result = directory / f"{stem}.json"
        if result.exists():
            generator, record, error = None, json.loads(result.read_text("utf-8")), None
        else:
            generator, record, error = _compute(fn, kwargs, name, worker)
            tmp = result.with_suffix(f".{worker}.tmp")
            tmp.write_text(json.dumps(record), "utf-8")
            os.replace(tmp, result)
    yield _unpack(record, error, name)
    _mark_worker_done(directory, worker)
    if generator is not None:
        _stop_test_timeout(config)
        _wait_for_workers(directory, worker, _xdist_worker_count(config), name)
        _finish(generator, name)


def _compute(
    fn: Callable[..., Any], kwargs: dict[str, Any], name: str, worker: str
) -> tuple[Iterator[Any] | None, dict[str, Any], BaseException | None]:
    """Run the setup; return (generator to finish, JSON record, exception to raise)."""
    generator: Iterator[Any] | None = None
    try:
        if inspect.isgeneratorfunction(fn):
            generator = fn(**kwargs)
            value = next(generator, _NO_VALUE)
            if value is _NO_VALUE:
                raise ValueError(f"once_per_run fixture {name!r} did not yield a value")
        else:
            value = fn(**kwargs)
    except pytest.skip.Exception as exc:
        return None, {"worker": worker, "skip": exc.msg}, exc
    except Exception as exc:
        return None, {"worker": worker, "error": _describe(exc)}, exc
    try:
        return generator, json.loads(json.dumps({"worker": worker, "value": value})), None
    except (TypeError, ValueError) as exc:
        _finish(generator, name)
        error = TypeError(f"once_per_run fixture {name!r} returned a non-JSON value: {exc}")
        return None, {"worker": worker, "error": _describe(error)}, error


_NO_VALUE = object()


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"


def _unpack(record: dict[str, Any], error: BaseException | None, name: str) -> Any:
    if error is not None:
        raise error
    if "skip" in record:
        pytest.skip(record["skip"])
    if "error" in record:
        raise OncePerRunError(
            f"once_per_run fixture {name!r} failed in worker {record['worker']}: {record['error']}"
        )
    return record["value"]


def _finish(generator: Iterator[Any] | None, name: str) -> None:
    """Run the code after the generator's ``yield``."""
    if generator is not None and next(generator, _NO_VALUE) is not _NO_VALUE:
        raise RuntimeError(f"once_per_run fixture {name!r} yielded more than once")


def _xdist_worker(config: pytest.Config) -> str | None:
    """This process's xdist worker id ("gw0"), None outside an xdist worker."""
    workerinput = getattr(config, "workerinput", None)
    return None if workerinput is None else str(workerinput["workerid"])


def _xdist_worker_count(config: pytest.Config) -> int:
    return int(getattr(config, "workerinput", {}).get("workercount", 1))


def _require_plugin(config: pytest.Config) -> None:
    names = (__name__, "testyard_helpers", "testyard.pytest_plugin.helpers")
    if not any(config.pluginmanager.has_plugin(plugin) for plugin in names):
        raise RuntimeError(
            f"once_per_run under pytest-xdist needs {__name__!r} loaded as a plugin: "
            f"pytest_plugins = [{__name__!r}] in the root conftest.py, or -p {__name__}"
        )


def _shared_dir(config: pytest.Config) -> Path:
    """A directory shared by all workers of this run, and only by them.

    xdist gives each worker ``--basetemp=<controller's basetemp>/popen-gwN``; the
    parent is the controller's fresh temporary directory for this run.
    """
    basetemp = getattr(config.option, "basetemp", None)
    if basetemp:
        base = Path(basetemp).parent
    else:  # the tmpdir plugin is disabled: fall back to the run's unique id
        run = os.environ.get("PYTEST_XDIST_TESTRUNUID", "run")
        base = Path(tempfile.gettempdir()) / f"testyard-{run}"
    directory = base / "testyard-once"
    directory.mkdir(parents=True, exist_ok=True)
    return directory


@contextlib.contextmanager
def _exclusive_lock(path: Path) -> Iterator[None]:
    """Hold an exclusive lock on `path` (released when the file is closed)."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        if sys.platform == "win32":  # pragma: no cover
            while True:
                try:
                    msvcrt.locking(fd, msvcrt.LK_LOCK, 1)
                    break
                except OSError:  # LK_LOCK gives up after 10 s: keep waiting
                    continue
        else:
            fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def _mark_worker_done(directory: Path, worker: str) -> None:
    """Record that `worker` runs no more tests.

    Written at the first `once_per_run` teardown of a worker (session teardown has
    begun) and at its session finish (for workers that used none), always before the
    worker waits for anyone: two workers that each computed a value never wait on
    each other.
    """
    (directory / f"done-{worker}").touch()


def _stop_test_timeout(config: pytest.Config) -> None:
    """Stop pytest-timeout's timer for the test whose teardown is now waiting.

    Session fixtures are torn down in the teardown of a worker's last test, so the
    wait for the other workers would count against that test's ``--timeout`` (and the
    timeout would cut the teardown short). Uses pytest-timeout's own hook, if loaded.
    """
    item = config.stash.get(_last_item_key, None)
    cancel = getattr(config.hook, "pytest_timeout_cancel_timer", None)
    if item is not None and cancel is not None:
        cancel(item=item)


def _wait_for_workers(directory: Path, worker: str, count: int, name: str) -> None:
    timeout = float(os.environ.get(WAIT_TIMEOUT_ENV, DEFAULT_WAIT_TIMEOUT_S))
    deadline = time.monotonic() + timeout
    while True:
        done = {path.name.removeprefix("done-") for path in directory.glob("done-*")}
        if len(done | {worker}) >= count:
            return
        if time.monotonic() >= deadline:
            warnings.warn(
                OncePerRunWarning(
                    f"once_per_run fixture {name!r}: {len(done)} of {count} workers "
                    f"finished after {timeout:.0f} s; tearing it down anyway"
                ),
                stacklevel=1,
            )
            return
        time.sleep(POLL_S)


_last_item_key = pytest.StashKey[pytest.Item]()


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None) -> None:
    """Remember the worker's last test: its teardown tears down session fixtures."""
    if nextitem is None:
        item.config.stash[_last_item_key] = item


@pytest.hookimpl(tryfirst=True)
def pytest_sessionfinish(session: pytest.Session) -> None:
    """Mark this xdist worker finished, so `once_per_run` teardowns stop waiting."""
    worker = _xdist_worker(session.config)
    if worker is not None:
        _mark_worker_done(_shared_dir(session.config), worker)
