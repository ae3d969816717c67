"""Keep the order testyard asks for: a plan's cases run in the plan's order.

testyard passes pytest the directories holding a run's cases, not every file (pytest
collects each file argument from its parent again, which grows with the square of
the number of files), and gives the wanted file order with
``--testyard-order=PATH`` (a JSON list of file paths relative to the rootdir). Tests
of a file keep pytest's order; files not listed come last. Every xdist worker sorts
the same way, so they all collect the same list.
"""

from __future__ import annotations

import json

import pytest


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.getgroup("testyard").addoption(
        "--testyard-order",
        dest="testyard_order",
        metavar="PATH",
        default=None,
        help="JSON list of test file paths, in the order their tests should run",
    )


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    path = config.getoption("testyard_order")
    if not path:
        return
    with open(path, encoding="utf-8") as handle:
        wanted = {name: index for index, name in enumerate(json.load(handle))}
    last = len(wanted)

    def position(item: pytest.Item) -> int:
        return wanted.get(item.nodeid.split("::", 1)[0], last)

    items.sort(key=position)  # stable: a file's tests keep their order
