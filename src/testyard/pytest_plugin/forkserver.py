#!/usr/bin/env -S python3 -IS
"""A fork server: an interpreter that has already imported pytest and its plugins,
forking a ready child for each pytest process of a run (the controller and every
xdist worker), so none of them pays interpreter start-up and imports.

Two roles in one standard-library-only file, which testyard copies to the run's
runtime directory and runs by path (the server process must not import it as a
``testyard`` module: one imported before pytest starts could not be
assertion-rewritten); testyard itself imports it only for its constants:

``python forkserver.py serve SOCKET``
    The server, started by testyard once per run environment and user (see
    ``execution/forkservers.py``), with the limits and clean environment of a run.
``forkserver.py [python options] (-c CODE | -m MODULE) [args]``
    The client, standing in for ``python``: the run's command and xdist's
    ``popen//python=`` start it in place of the interpreter. It hands its open file
    descriptors, arguments, directory and environment to the server, which forks a
    child that takes them over. The client waits, forwards SIGINT and SIGTERM, and
    exits as the child did. When it dies (the run is cancelled: its process group
    is killed), the server kills the child's process group, so nothing outlives it.
    Without a server it runs ``$TESTYARD_FORKSERVER_PYTHON`` instead, as before.
"""

from __future__ import annotations

import contextlib
import json
import os
import selectors
import signal
import socket
import struct
import sys
import time
from typing import Any, NoReturn

ADDRESS_ENV = "TESTYARD_FORKSERVER_SOCKET"
PYTHON_ENV = "TESTYARD_FORKSERVER_PYTHON"
TIMEOUT_ENV = "TESTYARD_FORKSERVER_TIMEOUT_S"
#: How long the client waits for the server to take its connection before it starts
#: ``python`` itself (``$TESTYARD_FORKSERVER_TIMEOUT_S`` unless set).
REPLY_TIMEOUT_S = 30.0
PR_SET_PDEATHSIG = 1
PR_SET_DUMPABLE = 4
HEADER = struct.Struct("!I")
MAX_FDS = 64
MAX_REQUEST = 16 * 1024 * 1024
#: The server leaves once this long without a child (testyard starts it again).
IDLE_EXIT_S = 600.0
#: The plugins every run loads (allure-pytest only some), imported by the
#: server before it forks, as pytest would import them (see `warm_imports`).
PLUGIN_DISTRIBUTIONS = ("pytest-xdist", "pytest-timeout", "pytest-rerunfailures")
#: testyard's own test-side modules, loaded with ``-p`` by every run.
OWN_MODULES = ("testyard", "testyard.pytest_plugin")


# ---------------------------------------------------------------- the client


def client(args: list[str]) -> NoReturn:
    try:
        conn = _connect(os.environ[ADDRESS_ENV])
        reply = _Lines(conn)
        # A server that takes no request (stopped, overloaded) must not hang the run;
        # nothing is sent before it says it took the connection: descriptors queued
        # on a socket nobody reads would hold the run's pipes open.
        conn.settimeout(float(os.environ.get(TIMEOUT_ENV) or REPLY_TIMEOUT_S))
        reply.next()
        conn.settimeout(None)
        fds = _open_fds(exclude=conn.fileno())
        request = json.dumps({"args": args, "cwd": os.getcwd(), "env": dict(os.environ)})
        body = request.encode("utf-8", "surrogateescape")
        socket.send_fds(conn, [HEADER.pack(len(body)), json.dumps(fds).encode()], fds)
        conn.sendall(body)
        # The server answers the child's pid as soon as it forked, and closes without
        # one when it did not (a child of a server dying at that moment dies with it).
        child = int(reply.next()["pid"])
    except (OSError, KeyError, ValueError):
        _run_plainly(args)
    for fd in fds:  # the child holds them now: pipes end when it does
        if fd > 2:
            os.close(fd)
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda signum, _frame: _forward(child, signum))
    try:
        status = reply.next()
    except (OSError, ValueError):
        os._exit(1)
    if "signal" in status:  # die of the same signal
        with contextlib.suppress(OSError, ValueError):  # SIGKILL's cannot be set
            signal.signal(status["signal"], signal.SIG_DFL)
        os.kill(os.getpid(), status["signal"])
        os._exit(128 + status["signal"])
    os._exit(status["exit"])


def _connect(address: str) -> socket.socket:
    """Connect from the socket's directory: a socket path may not exceed 107 bytes."""
    here = os.open(".", os.O_RDONLY)
    conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        os.chdir(os.path.dirname(address) or ".")
        conn.connect(os.path.basename(address))
    except OSError:
        conn.close()
        raise
    finally:
        os.fchdir(here)
        os.close(here)
    return conn


def _run_plainly(args: list[str]) -> NoReturn:
    python = os.environ.get(PYTHON_ENV) or sys.executable
    os.execv(python, [python, *args])


def _forward(child: int, signum: int) -> None:
    with contextlib.suppress(OSError):
        os.kill(child, signum)


def _open_fds(exclude: int) -> list[int]:
    fds = []
    for name in os.listdir("/proc/self/fd"):
        fd = int(name)
        if fd == exclude:
            continue
        try:
            os.fstat(fd)
        except OSError:  # the listing's own descriptor, closed by now
            continue
        fds.append(fd)
    return sorted(fds)


class _Lines:
    """JSON lines read from a socket."""

    def __init__(self, conn: socket.socket) -> None:
        self.conn = conn
        self.buffer = b""

    def next(self) -> dict[str, Any]:
        while b"\n" not in self.buffer:
            chunk = self.conn.recv(4096)
            if not chunk:
                raise OSError("the fork server went away")
            self.buffer += chunk
        line, self.buffer = self.buffer.split(b"\n", 1)
        value: dict[str, Any] = json.loads(line)
        return value


# ---------------------------------------------------------------- the server


def serve(address: str) -> NoReturn:
    # Requests carry the runs' secrets: no process of the same user (a test of
    # another project) may read this one's memory.
    _prctl(PR_SET_DUMPABLE, 0)
    warm_imports()
    parent = os.getppid()
    os.chdir(os.path.dirname(address) or ".")
    address = os.path.basename(address)  # see `_connect`
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    if os.path.exists(address):
        os.unlink(address)
    listener.bind(address + ".new")
    listener.listen(64)
    os.rename(address + ".new", address)  # clients see it only once it listens
    selector = selectors.DefaultSelector()
    selector.register(listener, selectors.EVENT_READ, "listener")
    children: dict[int, tuple[socket.socket, int]] = {}  # pid -> (client, pidfd)
    idle_since = time.monotonic()
    while True:
        for key, _ in selector.select(timeout=1.0):
            if key.data == "listener":
                started = _accept(listener, selector, children)
                if started:
                    idle_since = time.monotonic()
            elif key.data[0] == "client":  # closed: the client is gone, so is the child
                _kill_group(key.data[1])
                selector.unregister(key.fileobj)
            else:
                _reap(key.data[1], selector, children)
                idle_since = time.monotonic()
        if os.getppid() != parent:  # testyard is gone; children die with us
            os._exit(0)
        if not children and time.monotonic() - idle_since > IDLE_EXIT_S:
            os.unlink(address)
            os._exit(0)


def warm_imports() -> None:
    """Import pytest, its built-in plugins, the plugins every run loads and testyard's
    own, so that a forked child starts with them. Whatever cannot be warmed is simply
    imported later by the child, as usual."""
    import pytest  # noqa: F401

    with contextlib.suppress(Exception):  # pytest's internals moved: runs start slower
        _warm_plugins()


def _warm_plugins() -> None:
    """Plugins are imported through pytest's assertion-rewriting hook, as pytest itself
    imports them: one imported any other way before pytest starts would draw
    "Module already imported so cannot be rewritten" (an error under ``-W error``)."""
    import importlib
    import pkgutil
    from importlib import metadata

    from _pytest.assertion import install_importhook
    from _pytest.config import _iter_rewritable_modules, get_config

    hook = install_importhook(get_config())
    modules: list[str] = []
    try:
        for name in PLUGIN_DISTRIBUTIONS:
            try:
                dist = metadata.distribution(name)
            except metadata.PackageNotFoundError:
                continue
            hook.mark_rewrite(*_iter_rewritable_modules(str(f) for f in dist.files or []))
            modules += [ep.module for ep in dist.entry_points if ep.group == "pytest11"]
        hook.mark_rewrite(*OWN_MODULES)
        package = importlib.import_module(OWN_MODULES[1])
        for module in pkgutil.iter_modules(package.__path__, f"{OWN_MODULES[1]}."):
            if not module.name.endswith(".forkserver"):
                modules.append(module.name)
        for module_name in modules:
            try:
                importlib.import_module(module_name)
            except Exception:  # the child imports it again and reports the failure
                sys.modules.pop(module_name, None)
    finally:
        sys.meta_path.remove(hook)


def _accept(
    listener: socket.socket,
    selector: selectors.BaseSelector,
    children: dict[int, tuple[socket.socket, int]],
) -> bool:
    conn, _ = listener.accept()
    conn.settimeout(10)
    try:
        conn.sendall(b'{"ready": true}\n')
    except OSError:  # the client gave up waiting
        conn.close()
        return False
    fds: list[int] = []
    try:
        header, fds, _, _ = socket.recv_fds(conn, HEADER.size + 4096, MAX_FDS)
        (size,) = HEADER.unpack(header[: HEADER.size])
        targets = json.loads(header[HEADER.size :])
        if size > MAX_REQUEST or len(targets) != len(fds):
            raise ValueError("malformed request")
        body = b""
        while len(body) < size:
            chunk = conn.recv(min(size - len(body), 1 << 20))
            if not chunk:
                raise OSError("the client went away")
            body += chunk
        request = json.loads(body.decode("utf-8", "surrogateescape"))
    except (OSError, ValueError):
        for fd in fds:
            os.close(fd)
        conn.close()
        return False
    try:
        pid = os.fork()
    except OSError:  # out of processes or memory: the client starts python itself
        pid = -1
    if pid == 0:
        _child(request, dict(zip(fds, targets, strict=True)))
    for fd in fds:
        os.close(fd)
    del request  # the run's secrets: not kept here longer than needed
    if pid < 0:
        conn.close()
        return False
    pidfd = os.pidfd_open(pid)
    children[pid] = (conn, pidfd)
    with contextlib.suppress(OSError):  # a client gone already: seen as closed below
        conn.sendall(json.dumps({"pid": pid}).encode() + b"\n")
    selector.register(conn, selectors.EVENT_READ, ("client", pid))
    selector.register(pidfd, selectors.EVENT_READ, ("child", pid))
    return True


def _kill_group(pid: int) -> None:
    with contextlib.suppress(OSError):
        os.killpg(pid, signal.SIGKILL)


def _reap(
    pid: int,
    selector: selectors.BaseSelector,
    children: dict[int, tuple[socket.socket, int]],
) -> None:
    conn, pidfd = children.pop(pid)
    code = os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])  # -N: killed by signal N
    reply = {"signal": -code} if code < 0 else {"exit": code}
    selector.unregister(pidfd)
    os.close(pidfd)
    with contextlib.suppress(KeyError):  # unless the client already left
        selector.unregister(conn)
    with contextlib.suppress(OSError):
        conn.sendall(json.dumps(reply).encode() + b"\n")
    conn.close()


# ---------------------------------------------------------------- the child


def _child(request: dict[str, Any], fds: dict[int, int]) -> NoReturn:
    """In the forked child: become the process the client stands for, then exit."""
    code = 1
    try:
        os.setsid()
        _prctl(PR_SET_PDEATHSIG, signal.SIGKILL)  # dies with the server
        _prctl(PR_SET_DUMPABLE, 1)  # a test's process like any other
        _take_fds(fds)
        os.chdir(request["cwd"])
        os.environ.clear()
        os.environ.update(request["env"])
        _reset_interpreter()
        code = _run(request["args"])
    except SystemExit as exc:
        code = _exit_code(exc)
    except BaseException:
        import traceback

        traceback.print_exc()
    try:
        import atexit

        atexit._run_exitfuncs()
        sys.stdout.flush()
        sys.stderr.flush()
    finally:
        os._exit(code)


def _prctl(option: int, value: int) -> None:
    import ctypes

    ctypes.CDLL(None, use_errno=True).prctl(option, value, 0, 0, 0)


def _take_fds(fds: dict[int, int]) -> None:
    """Put each received descriptor at the number it had in the client and close
    every other one (the server's socket, other clients' connections)."""
    import fcntl

    high = max([*fds.values(), *fds.keys(), 2]) + 1
    moved = {fcntl.fcntl(fd, fcntl.F_DUPFD, high): target for fd, target in fds.items()}
    for fd in fds:
        os.close(fd)
    for fd, target in moved.items():
        os.dup2(fd, target)
        os.close(fd)
    keep = set(fds.values())
    for name in os.listdir("/proc/self/fd"):
        fd = int(name)
        if fd not in keep:
            with contextlib.suppress(OSError):
                os.close(fd)


def _reset_interpreter() -> None:
    import io
    import tempfile

    tempfile.tempdir = None  # from the child's TMPDIR, not the server's
    sys.dont_write_bytecode = bool(os.environ.get("PYTHONDONTWRITEBYTECODE"))
    encoding = os.environ.get("PYTHONIOENCODING", "utf-8")
    sys.stdin = io.TextIOWrapper(io.FileIO(0, "r", closefd=False), encoding=encoding)
    for fd, name in ((1, "stdout"), (2, "stderr")):
        raw = io.FileIO(fd, "w", closefd=False)
        stream = io.TextIOWrapper(
            raw, encoding=encoding, errors="backslashreplace", write_through=True
        )
        setattr(sys, name, stream)
    for name in ("stdin", "stdout", "stderr"):
        setattr(sys, f"__{name}__", getattr(sys, name))
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


def _run(args: list[str]) -> int:
    """Run ``args`` as ``python`` would (``-c CODE`` or ``-m MODULE``)."""
    import runpy
    import types

    while args and args[0].startswith("-") and args[0] not in ("-c", "-m"):
        args = args[1:]  # -u, -B, ...: the server already runs that way
    if len(args) < 2:
        raise SystemExit(f"forkserver: cannot run {args!r}")
    if args[0] == "-c":
        sys.argv = ["-c", *args[2:]]
        sys.path[0] = ""
        main = types.ModuleType("__main__")
        sys.modules["__main__"] = main
        exec(compile(args[1], "<string>", "exec"), main.__dict__)
    else:
        sys.argv = [args[1], *args[2:]]
        sys.path[0] = os.getcwd()
        runpy.run_module(args[1], run_name="__main__", alter_sys=True)
    return 0


def _exit_code(exc: SystemExit) -> int:
    if exc.code is None:
        return 0
    if isinstance(exc.code, int):
        return exc.code
    print(exc.code, file=sys.stderr)
    return 1


if __name__ == "__main__":
    if sys.argv[1:2] == ["serve"]:
        serve(sys.argv[2])
    client(sys.argv[1:])
