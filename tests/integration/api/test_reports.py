"""The HTML report of big and unfinished runs, over results seeded straight into the
database: every result once, failures in full, escaped, made in bounded memory."""

from __future__ import annotations

import html
import re
import tracemalloc
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import update

from tests.factories import make_project
from tests.support.api import Api
from tests.support.seed import Seeder, result
from testyard.config import Settings
from testyard.db.models import Run
from testyard.reports import html as report_html

TESTS = 10_000
HOSTILE = '<script>alert("boom")</script>'


@pytest.fixture
def seeder(settings: Settings) -> Iterator[Seeder]:
    seeder = Seeder.connect(settings.resolved_database_url)
    try:
        yield seeder
    finally:
        seeder.close()


def big_run_results() -> list[dict[str, Any]]:
    """10,000 tests: every 50th fails (with traceback and output), every 100th (+1) is
    flaky (a failed attempt, then a pass), every 7th is skipped, one has a hostile name."""
    rows = []
    for n in range(TESTS):
        nodeid = f"tests/test_big.py::test_n[{n}]"
        texts = {"longrepr": "", "stdout": ""}
        if n % 50 == 0:
            texts = {"longrepr": f"Traceback of {n}\nE  assert {n} == -1", "stdout": f"out {n}"}
            rows.append(result(nodeid, "failed", message=f"AssertionError: {n}") | texts)
        elif n % 100 == 1:
            retry = {"longrepr": f"first try of {n} failed", "stdout": ""}
            rows.append(result(nodeid, "failed", final=False, message="flaked") | retry)
            rows.append(result(nodeid, "passed", attempt=2, flaky=True) | texts)
        else:
            outcome = "skipped" if n % 7 == 0 else "passed"
            rows.append(result(nodeid, outcome, duration_s=n / 1000) | texts)
    rows.append(result(f"tests/test_big.py::test_hostile[{HOSTILE}]", message=HOSTILE) | texts)
    return rows


def test_a_report_of_ten_thousand_results_lists_each_once_in_bounded_memory(
    admin: Api, seeder: Seeder
) -> None:
    pid = make_project(admin)["id"]
    admin_id = admin.get("/me")["id"]
    run_id = seeder.run(pid, big_run_results(), status="failed", triggered_by_id=admin_id)

    page = admin.expect(200, "GET", f"/runs/{run_id}/artifacts/report.html")
    rows = re.findall(r'<tr class="o-(\w+)( flaky)?" id="r\d+">', page)
    assert len(rows) == TESTS + 1
    assert sum(1 for outcome, _ in rows if outcome == "failed") == TESTS // 50
    assert sum(1 for _, flaky in rows if flaky) == TESTS // 100
    assert page.count('<details class="result o-failed" id="f') == TESTS // 50
    assert page.count('<details class="result o-failed">') == TESTS // 100, "the retried ones"
    assert "Traceback of 9950" in page and "first try of 9901 failed" in page
    assert f'<strong id="count-total">{TESTS + 1}</strong>' in page
    unescaped = html.unescape(page)
    assert all(f"test_n[{n}]<" in unescaped for n in range(TESTS))
    assert "<script" not in page and "&lt;script&gt;alert(" in page

    # Memory: a fifth of the run needs as much at its peak as the whole of it.
    small_id = seeder.run(pid, big_run_results()[: TESTS // 5], status="failed")
    sessions = admin.client.app.state.sessions  # type: ignore[attr-defined]
    small, small_peak = measured(report_html.render(sessions, small_id))
    size, peak = measured(report_html.render(sessions, run_id))
    assert size == len(page.encode()) and size > 4 * small
    assert peak < 1.5 * small_peak, f"{size} bytes held {peak} at the peak, {small}: {small_peak}"


def measured(chunks: Iterator[bytes]) -> tuple[int, int]:
    """How many bytes the chunks hold, and the peak of memory allocated meanwhile."""
    tracemalloc.start()
    try:
        size = sum(len(chunk) for chunk in chunks)
        return size, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_a_running_run_reports_its_results_so_far(admin: Api, seeder: Seeder) -> None:
    pid = make_project(admin)["id"]
    rows = [result("tests/test_a.py::test_done"), result("tests/test_a.py::test_broke", "failed")]
    run_id = seeder.run(pid, rows, status="running", wall_s=None)
    with seeder.engine.begin() as conn:
        conn.execute(update(Run).where(Run.id == run_id).values(finished_at=None))
    listed = admin.get(f"/runs/{run_id}")["artifacts"]
    assert [a["name"] for a in listed] == ["report.html"]
    page = admin.expect(200, "GET", f"/runs/{run_id}/artifacts/report.html")
    assert "This run is still running" in page
    assert "tests/test_a.py::test_done" in page and "tests/test_a.py::test_broke" in page
    assert '<strong id="count-total">2</strong>' in page
    assert '<dd id="trigger">a removed account, through the API</dd>' in page
