"""Hostile input at scale: schemathesis generates thousands of requests from
/openapi.json against a real server, authenticated as an admin, and finds no server
error and no answer that breaks the schema. `make soak` runs it longer, unseeded."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx2 as httpx

from tests.support.server import ServerProcess

PASSWORD = "fuzz-admin-password"
EXAMPLES = os.environ.get("TESTYARD_FUZZ_EXAMPLES", "10")
SEED = os.environ.get("TESTYARD_FUZZ_SEED", "1")  # "random" in make soak


def test_generated_requests_find_no_server_error_and_no_schema_break(tmp_path: Path) -> None:
    server = ServerProcess(tmp_path, tmp_path / "server.log", TESTYARD_ADMIN_PASSWORD=PASSWORD)
    server.start()
    try:
        login = httpx.post(
            f"{server.url}/api/v1/auth/login", json={"username": "admin", "password": PASSWORD}
        )
        token = login.json()["token"]
        seed = [] if SEED == "random" else ["--seed", SEED]
        command = [
            sys.executable, "-m", "schemathesis.cli", "run", f"{server.url}/openapi.json",
            "-H", f"Authorization: Bearer {token}",
            "--checks", "not_a_server_error,response_schema_conformance",
            "--max-examples", EXAMPLES, *seed,
            # The fuzzer must not lock itself out: its own password and account stay.
            "--exclude-path", "/api/v1/me/password",
            "--exclude-path-regex", r".*/users/\{user_id\}$",
        ]  # fmt: skip
        done = subprocess.run(command, capture_output=True, text=True, timeout=900)
        report = done.stdout[-20_000:] + done.stderr[-5_000:]
        assert done.returncode == 0, report
        assert " passed" in report and "failed" not in report.split("SUMMARY")[-1], report
    finally:
        server.stop()
    assert "Traceback" not in (tmp_path / "server.log").read_text()
