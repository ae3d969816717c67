"""What notifications say and hide: the message text from a run's facts, masked URLs,
redacted errors, and cuts that respect the vendors' limits."""

from __future__ import annotations

from typing import Any

from testyard.notifications.factory import mask_url
from testyard.notifications.message import Message, counts_text, duration_text
from testyard.notifications.sender import ChannelSettings, redact
from testyard.notifications.wecom import fit

FACTS: dict[str, Any] = {
    "event": "run.finished",
    "project": {"id": 3, "name": "shop"},
    "plan": {"id": 5, "name": "nightly"},
    "run": {
        "id": 42,
        "title": "nightly",
        "status": "failed",
        "environment": "qa",
        "source": "schedule",
        "triggered_by": None,
        "wall_s": 83.4,
        "error": None,
        "counts": {"passed": 8, "failed": 2, "skipped": 1, "total": 11, "flaky": 1},
    },
    "failures": [
        {"nodeid": f"tests/test_a.py::test_{i}", "outcome": "failed", "message": f"assert {i} == 0"}
        for i in range(5)
    ],
    "failures_total": 7,
    "path": "/p/3/runs/42",
}


def test_a_failed_run_reads_as_a_summary_with_its_first_failures() -> None:
    message = Message.of(FACTS, "https://testyard.example/", 9)
    assert message.link == "https://testyard.example/p/3/runs/42"
    assert message.title == "testyard: nightly failed (shop)"
    text = message.text()
    for line in (
        "Environment: qa",
        "Status: failed",
        "Triggered by: schedule",
        "Tests: 11 tests: 8 passed, 2 failed, 1 skipped (1 flaky)",
        "Wall time: 1 min 23 s",
        "- tests/test_a.py::test_4: assert 4 == 0",
        "… and 2 more",
        "Open in testyard: https://testyard.example/p/3/runs/42",
    ):
        assert line in text.splitlines(), line
    assert "[Open in testyard](https://testyard.example/p/3/runs/42)" in message.markdown()
    assert "<code>tests/test_a.py::test_0</code>: assert 0 == 0" in message.html()


def test_html_is_escaped() -> None:
    facts = {
        **FACTS,
        "failures": [
            {"nodeid": "t.py::x", "outcome": "error", "message": "<script>alert(1)</script>"}
        ],
    }
    html = Message.of(facts, "http://h", 1).html()
    assert "<script>" not in html and "&lt;script&gt;" in html


def test_counts_and_durations() -> None:
    assert counts_text({}) == "0 tests"
    assert counts_text({"passed": 3, "total": 3}) == "3 tests: 3 passed"
    assert duration_text(None) == "-" and duration_text(4.25) == "4.2 s"
    assert duration_text(3725) == "1 h 2 min 5 s"


def test_tokens_in_urls_are_masked() -> None:
    assert mask_url("dingtalk", "https://oapi.dingtalk.com/robot/send?access_token=abc") == (
        "https://oapi.dingtalk.com/robot/send?access_token=***"
    )
    assert mask_url("wecom", "https://q.example/send?key=k&debug=1") == (
        "https://q.example/send?key=***&debug=***"
    )
    assert mask_url("slack", "https://hooks.slack.com/services/T1/B2/tok") == (
        "https://hooks.slack.com/services/T1/B2/***"
    )
    assert mask_url("webhook", "https://u:pw@h.example:8443/x") == "https://u:***@h.example:8443/x"
    assert mask_url("webhook", "https://h.example/hook") == "https://h.example/hook"


def test_errors_never_carry_the_secret_or_the_url() -> None:
    channel = ChannelSettings("dingtalk", "https://d.example/send?access_token=tok123", "SECxyz")
    text = redact("failed https://d.example/send?access_token=tok123 tok123 with SECxyz", channel)
    assert "tok123" not in text and "SECxyz" not in text


def test_wecom_content_is_cut_at_4096_bytes_whole_characters() -> None:
    cut = fit("测" * 2000)
    assert len(cut.encode()) <= 4096 and cut.endswith("…")
    assert fit("short") == "short"
