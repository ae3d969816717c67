"""How a run ends, decided from pytest's exit code and what was received."""

from __future__ import annotations

from pathlib import Path

TAIL_BYTES = 8 * 1024

EXIT_MEANING = {
    2: "pytest was interrupted",
    3: "pytest hit an internal error",
    4: "pytest could not start (usage error, or a conftest or fixture module failed to import)",
    5: "no tests were collected",
}


def decide(
    *,
    exit_code: int,
    stopped: str | None,
    counts: dict[str, int],
    collect_errors: list[str],
    output_tail: str,
    session_finished: bool = True,
) -> tuple[str, str | None]:
    """The final status and, for ``error``, a message with the real traceback."""
    if stopped is not None:
        return stopped, None
    if collect_errors:
        return "error", "collection failed:\n" + "\n\n".join(collect_errors)
    if exit_code == 0 and counts.get("total", 0) > 0:
        return "passed", None
    if exit_code == 1 and counts.get("total", 0) > 0:
        return "failed", None
    meaning = f"pytest exited with code {exit_code}: " + EXIT_MEANING.get(exit_code, "unknown")
    if exit_code < 0:
        meaning = f"pytest was killed by signal {-exit_code}"
    if not session_finished:
        meaning = f"the test process ended abruptly before finishing the session ({meaning})"
    return "error", f"{meaning}\n\n{output_tail}".strip()


def tail(path: Path, size: int = TAIL_BYTES) -> str:
    """The end of the console log, for error messages."""
    try:
        with path.open("rb") as handle:
            handle.seek(0, 2)
            handle.seek(max(0, handle.tell() - size))
            return handle.read().decode("utf-8", errors="replace")
    except OSError:
        return ""
