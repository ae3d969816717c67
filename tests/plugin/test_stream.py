"""Masking and capping (`testyard.pytest_plugin.stream`), on their own."""

from __future__ import annotations

import json
from pathlib import Path

from testyard.pytest_plugin.stream import CAP_BYTES, EventStream, cap, mask, secrets_from_env


def test_secrets_come_from_the_named_variables_longest_first() -> None:
    environ = {
        "TESTYARD_MASK_NAMES": " TOKEN ,PART,,EMPTY,SHORT,ABSENT",
        "TOKEN": "abc-secret-xyz",
        "PART": "secret",
        "EMPTY": "",
        "SHORT": "ab",
    }
    assert secrets_from_env(environ) == ["abc-secret-xyz", "secret"]
    assert secrets_from_env({"TOKEN": "abc-secret-xyz"}) == []


def test_mask_reaches_nested_strings_only() -> None:
    event = {"a": "x secret y", "b": ["secret", 3, None], "c": {"d": ("a secret",)}}
    assert mask(event, ["secret"]) == {
        "a": "x ******** y",
        "b": ["********", 3, None],
        "c": {"d": ["a ********"]},
    }


def test_cap_counts_bytes_and_never_splits_a_character() -> None:
    assert cap("é" * 10, limit=20) == "é" * 10
    capped = cap("é" * 10, limit=5)  # 20 bytes; byte 5 is inside the third "é"
    assert capped == "éé\n[... truncated 15 bytes]"
    assert CAP_BYTES == 64 * 1024


def test_stream_masks_before_it_caps(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    secret = "s3cr3t-value"
    stream = EventStream(str(path), [secret])
    # The cut would fall inside the secret if it were still there.
    stream.emit("test", stdout="x" * (CAP_BYTES - 4) + secret, message=secret)
    stream.close()

    [event] = [json.loads(line) for line in path.read_text().splitlines()]
    assert event["event"] == "test"
    assert isinstance(event["ts"], float)
    assert "s3cr" not in event["stdout"]
    assert event["message"] == "********"
