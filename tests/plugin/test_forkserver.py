"""The fork server and its client (``pytest_plugin/forkserver.py``), as real processes:
a server started like testyard starts it, clients standing in for ``python``."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from testyard.execution.runtime import FORKSERVER, prepare_runtime

PYTHON = Path(sys.executable)


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    socket: Path
    client: Path
    runtime: Path

    def env(self, **extra: str) -> dict[str, str]:
        return {
            "PATH": f"{PYTHON.parent}:/usr/bin:/bin",
            "PYTHONPATH": str(self.runtime),
            "TESTYARD_FORKSERVER_SOCKET": str(self.socket),
            "TESTYARD_FORKSERVER_PYTHON": str(PYTHON),
            **extra,
        }

    def run(self, *args: str, cwd: Path, **kw: object) -> subprocess.CompletedProcess[str]:
        env = self.env(**kw.pop("extra_env", {}))  # type: ignore[arg-type]
        return subprocess.run(
            [str(self.client), *args],
            cwd=cwd,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            **kw,  # type: ignore[call-overload]
        )


def start_server(runtime: Path, socket: Path, *, parent_code: str | None = None) -> Server:
    argv = [str(PYTHON), str(runtime / FORKSERVER), "serve", str(socket)]
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(runtime)}
    process = subprocess.Popen(argv, env=env, cwd=socket.parent)
    deadline = time.monotonic() + 20
    while not socket.exists():
        assert process.poll() is None and time.monotonic() < deadline, "no fork server"
        time.sleep(0.02)
    return Server(process, socket, runtime / FORKSERVER, runtime)


@pytest.fixture(scope="module")
def runtime(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return prepare_runtime(tmp_path_factory.mktemp("runtime"))


@pytest.fixture
def server(runtime: Path, tmp_path: Path) -> Iterator[Server]:
    # A short socket path: unix socket paths are limited to 107 bytes.
    started = start_server(runtime, tmp_path / "s")
    yield started
    started.process.kill()
    started.process.wait()


def gone(pid: int, within_s: float = 10.0) -> bool:
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        try:
            with open(f"/proc/{pid}/stat") as stat:
                if stat.read().split(") ", 1)[1].startswith("Z"):
                    return True  # dead, not yet reaped by a parent that is not ours
        except FileNotFoundError:
            return True
        time.sleep(0.05)
    return False


def test_a_child_takes_the_clients_directory_environment_and_descriptors(
    server: Server, tmp_path: Path
) -> None:
    read_fd, write_fd = os.pipe()
    code = textwrap.dedent(f"""
        import os, sys
        print("cwd", os.getcwd())
        print("var", os.environ["ONLY_HERE"])
        print("stdin", sys.stdin.read().strip())
        print("parent", os.getppid())
        print("warm", "_pytest.config" in sys.modules)
        os.write({write_fd}, b"through the extra descriptor")
        print("oops", file=sys.stderr)
    """)
    done = server.run(
        "-u",
        "-c",
        code,
        cwd=tmp_path,
        input="from stdin",
        pass_fds=(write_fd,),
        extra_env={"ONLY_HERE": "yes"},
    )
    os.close(write_fd)
    assert done.returncode == 0, done.stderr
    lines = dict(line.split(" ", 1) for line in done.stdout.splitlines())
    assert lines == {
        "cwd": str(tmp_path),
        "var": "yes",
        "stdin": "from stdin",
        "parent": str(server.process.pid),  # forked by the server: no interpreter start-up
        "warm": "True",
    }
    assert done.stderr == "oops\n"
    assert os.read(read_fd, 100) == b"through the extra descriptor"


def test_exit_codes_signals_and_tracebacks_come_back_to_the_client(
    server: Server, tmp_path: Path
) -> None:
    assert server.run("-c", "raise SystemExit(3)", cwd=tmp_path).returncode == 3
    killed = server.run("-c", "import os, signal; os.kill(os.getpid(), 9)", cwd=tmp_path)
    assert killed.returncode == -signal.SIGKILL
    broken = server.run("-c", "1 / 0", cwd=tmp_path)
    assert broken.returncode == 1 and "ZeroDivisionError" in broken.stderr


def test_sigterm_to_the_client_reaches_the_child(server: Server, tmp_path: Path) -> None:
    code = textwrap.dedent("""
        import signal, sys, time
        def leave(*_):
            print("asked to stop", flush=True)
            sys.exit(0)
        signal.signal(signal.SIGTERM, leave)
        print("ready", flush=True)
        time.sleep(60)
    """)
    client = subprocess.Popen(
        [str(server.client), "-c", code],
        cwd=tmp_path,
        env=server.env(),
        stdout=subprocess.PIPE,
        text=True,
    )
    with client:
        assert client.stdout is not None
        assert client.stdout.readline() == "ready\n"
        client.terminate()
        assert client.wait(10) == 0
        assert client.stdout.read() == "asked to stop\n"


def test_killing_the_client_kills_the_child_and_what_it_started(
    server: Server, tmp_path: Path
) -> None:
    code = textwrap.dedent("""
        import os, subprocess, time
        sleeper = subprocess.Popen(["sleep", "300"])
        print(os.getpid(), sleeper.pid, flush=True)
        time.sleep(300)
    """)
    client = subprocess.Popen(
        [str(server.client), "-c", code], cwd=tmp_path, env=server.env(), stdout=subprocess.PIPE
    )
    with client:
        assert client.stdout is not None
        child, grandchild = map(int, client.stdout.readline().split())
        client.kill()  # what cancelling a run does to its process group
    assert gone(child) and gone(grandchild)


def test_pytest_with_xdist_workers_forked_and_no_rewrite_warning(
    server: Server, tmp_path: Path
) -> None:
    (tmp_path / "test_where.py").write_text(
        textwrap.dedent("""
            import os, sys
            import pytest

            @pytest.mark.parametrize("n", range(4))
            def test_forked(n):
                assert os.getppid() == int(os.environ["SERVER_PID"])
                assert sys.executable.endswith("python") or "python3" in sys.executable
        """)
    )
    done = server.run(
        "-m",
        "pytest",
        "-p",
        "testyard",
        "-p",
        "testyard.pytest_plugin.forkworkers",
        "-p",
        "no:cacheprovider",
        "-n",
        "2",
        "-W",
        "error",  # "Module already imported so cannot be rewritten" would be an error
        "-q",
        cwd=tmp_path,
        extra_env={"SERVER_PID": str(server.process.pid)},
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "4 passed" in done.stdout


def test_without_a_server_the_client_starts_the_interpreter(server: Server, tmp_path: Path) -> None:
    code = "import os, sys; print(os.getpid(), 'pytest' in sys.modules)"
    client = subprocess.Popen(
        [str(server.client), "-c", code],
        cwd=tmp_path,
        env=server.env(TESTYARD_FORKSERVER_SOCKET=str(tmp_path / "nothing-here")),
        stdout=subprocess.PIPE,
        text=True,
    )
    out, _ = client.communicate(timeout=30)
    assert client.returncode == 0
    assert out.split() == [str(client.pid), "False"]  # the client became the interpreter


def test_the_server_and_its_children_leave_with_the_process_that_started_it(
    runtime: Path, tmp_path: Path
) -> None:
    socket = tmp_path / "s"
    launcher = textwrap.dedent(f"""
        import subprocess, sys, time
        server = subprocess.Popen(
            [{str(PYTHON)!r}, {str(runtime / FORKSERVER)!r}, "serve", {str(socket)!r}],
            env={{"PATH": "/usr/bin:/bin", "PYTHONPATH": {str(runtime)!r}}},
            start_new_session=True,
        )
        print(server.pid, flush=True)
        time.sleep(300)
    """)
    parent = subprocess.Popen([str(PYTHON), "-c", launcher], stdout=subprocess.PIPE)
    assert parent.stdout is not None
    server_pid = int(parent.stdout.readline())
    deadline = time.monotonic() + 20
    while not socket.exists():
        assert time.monotonic() < deadline
        time.sleep(0.02)
    server = Server(parent, socket, runtime / FORKSERVER, runtime)  # type: ignore[arg-type]
    child = subprocess.Popen(
        [
            str(server.client),
            "-c",
            "import os, time; print(os.getpid(), flush=True); time.sleep(300)",
        ],
        cwd=tmp_path,
        env=server.env(),
        stdout=subprocess.PIPE,
    )
    with parent, child:
        assert child.stdout is not None
        child_pid = int(child.stdout.readline())
        parent.kill()
    assert gone(server_pid) and gone(child_pid)


def test_a_server_that_takes_no_request_does_not_hang_the_client(
    server: Server, tmp_path: Path
) -> None:
    stuck = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    stuck.bind(str(tmp_path / "stuck"))
    stuck.listen(8)  # and never accepts: a stopped or overloaded server
    code = "import os, sys; print(os.getpid(), 'pytest' in sys.modules)"
    with stuck:
        client = subprocess.Popen(
            [str(server.client), "-c", code],
            cwd=tmp_path,
            env=server.env(
                TESTYARD_FORKSERVER_SOCKET=str(tmp_path / "stuck"),
                TESTYARD_FORKSERVER_TIMEOUT_S="1",
            ),
            stdout=subprocess.PIPE,
            text=True,
        )
        out, _ = client.communicate(timeout=30)
    assert client.returncode == 0
    assert out.split() == [str(client.pid), "False"]  # it started python itself
