"""RESULTS.md: one section per benchmark, between ``<!-- name -->`` markers."""

from __future__ import annotations

import re
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"


def write_section(name: str, title: str, body: str) -> None:
    """Replace the benchmark's section (or add it), keeping every other one."""
    start, end = f"<!-- {name} -->", f"<!-- /{name} -->"
    section = f"{start}\n## {title}\n\n{body}{end}\n"
    text = RESULTS.read_text(encoding="utf-8") if RESULTS.exists() else "# Benchmark results\n"
    pattern = re.compile(re.escape(start) + ".*?" + re.escape(end) + "\n?", re.S)
    if pattern.search(text):
        text = pattern.sub(lambda _: section, text, count=1)
    else:
        text = text.rstrip("\n") + "\n\n" + section
    RESULTS.write_text(text, encoding="utf-8")
