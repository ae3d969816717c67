"""Duration-balanced xdist scheduling: the longest tests first, balanced as workers free up.

Loaded with ``-p testyard.pytest_plugin.duration --testyard-durations=PATH`` next to
``-n N --dist load``; PATH is a JSON object mapping node ids to seconds (the last
recorded duration of each test). Its ``pytest_xdist_make_scheduler`` then replaces
xdist's scheduler by `DurationScheduling`; without the option it leaves xdist alone.

Why: ``--dist load`` hands out tests in collection order, so long tests collected last
start last and leave the other workers idle at the end. Sending the longest known
tests first (the classic longest-processing-time rule) and giving each worker its next
test only when it finishes one keeps the end of the run short.

Imports only pytest, the standard library and xdist (it runs inside the users' pytest).
"""

from __future__ import annotations

import json
import statistics
from collections.abc import Sequence
from typing import Any

import pytest
from xdist.report import report_collection_diff
from xdist.workermanage import parse_tx_spec_config

OPTION = "--testyard-durations"
#: Items queued per worker: an xdist worker runs an item only once it holds the next
#: one (or was told to shut down), so one running and one waiting.
QUEUED = 2


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.getgroup("testyard").addoption(
        OPTION,
        dest="testyard_durations",
        metavar="PATH",
        default=None,
        help="JSON object {node id: seconds}: run the longest tests first under xdist",
    )


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> DurationScheduling | None:
    path = config.getoption("testyard_durations")
    if not path:
        return None
    with open(path, encoding="utf-8") as handle:
        durations = json.load(handle)
    return DurationScheduling(config, log, durations)


def estimates(collection: Sequence[str], durations: dict[str, float]) -> list[float]:
    """Expected seconds per collected test: its recorded duration, else the median of
    the recorded durations of this collection (all equal when none is known)."""
    known = [float(durations[n]) for n in collection if n in durations]
    fallback = statistics.median(known) if known else 0.0
    return [float(durations.get(nodeid, fallback)) for nodeid in collection]


def longest_first(expected: Sequence[float]) -> list[int]:
    """Indices by expected duration, longest first; ties keep collection order."""
    return sorted(range(len(expected)), key=lambda index: (-expected[index], index))


class DurationScheduling:
    """Longest-first, one item at a time: xdist's ``Scheduling`` protocol.

    Once every worker has collected (identical collections, as ``LoadScheduling``
    checks), the tests are ordered by expected duration, longest first. Each worker
    gets `QUEUED` items at the start, dealt round-robin so the longest tests land on
    different workers, then one more (always the longest remaining) each time it
    completes one. A worker that goes down returns its unstarted items to the pool,
    in their longest-first place; the test it was running is reported as its crash.

    Attributes:
        numnodes: workers expected to collect before scheduling starts.
        node2collection: each worker's collection (node ids).
        node2pending: indices each worker holds and has not completed, in run order.
        collection: the one collection, once scheduling started (None before).
        expected: seconds expected per index of ``collection``.
        pending: indices not yet sent to any worker, longest first.
    """

    def __init__(self, config: pytest.Config, log: Any, durations: dict[str, float]) -> None:
        self.config = config
        self.log = log.durationsched
        self.durations = durations
        self.numnodes = len(parse_tx_spec_config(config))
        self.node2collection: dict[Any, list[str]] = {}
        self.node2pending: dict[Any, list[int]] = {}
        self.collection: list[str] | None = None
        self.expected: list[float] = []
        self.pending: list[int] = []

    @property
    def nodes(self) -> list[Any]:
        return list(self.node2pending)

    @property
    def collection_is_completed(self) -> bool:
        return len(self.node2collection) >= self.numnodes

    @property
    def tests_finished(self) -> bool:
        """Nothing left to send and each worker at most on its last item (xdist
        shuts the workers down then, and they finish what they hold)."""
        if not self.collection_is_completed or self.pending:
            return False
        return all(len(pending) < QUEUED for pending in self.node2pending.values())

    @property
    def has_pending(self) -> bool:
        return bool(self.pending) or any(self.node2pending.values())

    def add_node(self, node: Any) -> None:
        """A worker is up (``DSession.worker_workerready``)."""
        assert node not in self.node2pending
        self.node2pending[node] = []

    def add_node_collection(self, node: Any, collection: Sequence[str]) -> None:
        """A worker's collection (``DSession.worker_collectionfinish``); a late
        worker whose collection differs is logged and gets nothing."""
        assert node in self.node2pending
        if self.collection is not None and list(collection) != self.collection:
            first = next(iter(self.node2collection))
            self.log(
                report_collection_diff(
                    self.collection, collection, first.gateway.id, node.gateway.id
                )
            )
            return
        self.node2collection[node] = list(collection)

    def mark_test_complete(self, node: Any, item_index: int, duration: float = 0) -> None:
        """A worker finished an item (``DSession.worker_runtest_protocol_complete``)."""
        self.node2pending[node].remove(item_index)
        self._top_up(node)

    def mark_test_pending(self, item: str) -> None:
        """Run ``item`` again (``pytest_handlecrashitem`` asked for it)."""
        assert self.collection is not None
        self._to_pool([self.collection.index(item)])
        for node in self.nodes:
            self._top_up(node)

    def remove_pending_tests_from_node(self, node: Any, indices: Sequence[int]) -> None:
        raise NotImplementedError  # only work stealing sends "steal" requests

    def remove_node(self, node: Any) -> str | None:
        """A worker finished or went down: its unstarted items go back to the pool.
        Returns the node id it was running when it crashed, else None."""
        pending = self.node2pending.pop(node)
        if not pending:
            return None
        assert self.collection is not None
        crashed = self.collection[pending.pop(0)]
        self._to_pool(pending)
        for other in self.nodes:
            self._top_up(other)
        return crashed

    def schedule(self) -> None:
        """Start (``DSession.worker_collectionfinish`` once collection is complete);
        called again when a worker joins later, it only tops every worker up."""
        assert self.collection_is_completed
        if self.collection is not None:
            for node in self.nodes:
                self._top_up(node)
            return
        if not self._same_collections():
            self.log("**Different tests collected, aborting run**")
            return
        self.collection = next(iter(self.node2collection.values()))
        self.expected = estimates(self.collection, self.durations)
        self.pending = longest_first(self.expected)
        if not self.collection:
            return
        dealt: dict[Any, list[int]] = {node: [] for node in self.nodes}
        for _ in range(QUEUED):
            for node in self.nodes:
                if self.pending:
                    dealt[node].append(self.pending.pop(0))
        for node, indices in dealt.items():
            self._send(node, indices)
        if not self.pending:
            for node in self.nodes:
                node.shutdown()

    def _top_up(self, node: Any) -> None:
        """Give ``node`` the longest remaining items until it holds `QUEUED`; with
        nothing left to give, tell it to stop after what it holds."""
        if node.shutting_down:
            return
        if not self.pending:
            node.shutdown()
            return
        missing = QUEUED - len(self.node2pending[node])
        if missing > 0:
            indices, self.pending = self.pending[:missing], self.pending[missing:]
            self._send(node, indices)

    def _send(self, node: Any, indices: list[int]) -> None:
        if indices:
            self.node2pending[node].extend(indices)
            node.send_runtest_some(indices)

    def _to_pool(self, indices: Sequence[int]) -> None:
        """Put ``indices`` back among the unsent ones, keeping longest first."""
        self.pending = sorted(
            [*self.pending, *indices], key=lambda index: (-self.expected[index], index)
        )

    def _same_collections(self) -> bool:
        """Whether every worker collected the same tests; a difference is reported as a
        collection error, as ``LoadScheduling`` does."""
        (first, reference), *others = self.node2collection.items()
        same = True
        for node, collection in others:
            message = report_collection_diff(
                reference, collection, first.gateway.id, node.gateway.id
            )
            if message:
                same = False
                self.log(message)
                report = pytest.CollectReport(
                    nodeid=node.gateway.id, outcome="failed", longrepr=message, result=[]
                )
                self.config.hook.pytest_collectreport(report=report)
        return same
