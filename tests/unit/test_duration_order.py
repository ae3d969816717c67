"""The order the duration scheduler hands tests out in, driven by hand with stand-in
workers (the same scheduler under real xdist: tests/plugin/test_duration.py)."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from testyard.pytest_plugin.duration import DurationScheduling, estimates, longest_first


def test_unknown_tests_count_as_the_median_of_the_known_ones() -> None:
    collection = ["a", "b", "c", "d"]
    assert estimates(collection, {"a": 1.0, "b": 3.0, "d": 2.0, "gone": 99.0}) == [
        1.0,
        3.0,
        2.0,
        2.0,
    ]


def test_without_any_known_duration_collection_order_is_kept() -> None:
    expected = estimates(["x", "y", "z"], {"elsewhere": 5.0})
    assert longest_first(expected) == [0, 1, 2]


def test_longest_first_and_ties_in_collection_order() -> None:
    assert longest_first([0.1, 3.0, 0.5, 3.0, 0.1]) == [1, 3, 2, 0, 4]


class Node:
    """The part of xdist's WorkerController the scheduler uses."""

    def __init__(self, name: str) -> None:
        self.gateway = SimpleNamespace(id=name)
        self.sent: list[int] = []
        self.shutting_down = False

    def send_runtest_some(self, indices: list[int]) -> None:
        self.sent += indices

    def shutdown(self) -> None:
        self.shutting_down = True


def scheduler(nodes: list[Node], collection: list[str], durations: dict[str, float]) -> Any:
    """A started scheduler; the config answers only what it reads (``-n`` as ``--tx``)."""
    config: Any = SimpleNamespace(getvalue=lambda name: [f"{len(nodes)}*popen"])
    sched = DurationScheduling(config, SimpleNamespace(durationsched=print), durations)
    for node in nodes:
        sched.add_node(node)
        sched.add_node_collection(node, collection)
    sched.schedule()
    return sched


def test_deals_the_longest_round_robin_then_one_more_per_completed_test() -> None:
    a, b = Node("gw0"), Node("gw1")
    collection = [f"t{n}" for n in range(6)]  # t5 longest, then t4, ...
    sched = scheduler([a, b], collection, {f"t{n}": float(n) for n in range(6)})
    assert (a.sent, b.sent) == ([5, 3], [4, 2])
    sched.mark_test_complete(b, 4)
    assert b.sent == [4, 2, 1] and sched.pending == [0]
    sched.mark_test_complete(a, 5)
    assert a.sent == [5, 3, 0] and not sched.pending
    sched.mark_test_complete(a, 3)
    assert a.shutting_down and not b.shutting_down


def test_a_worker_that_goes_down_returns_its_queued_tests_in_their_place() -> None:
    a, b = Node("gw0"), Node("gw1")
    collection = [f"t{n}" for n in range(7)]
    sched = scheduler([a, b], collection, {f"t{n}": float(n) for n in range(7)})
    assert (a.sent, b.sent, sched.pending) == ([6, 4], [5, 3], [2, 1, 0])
    assert sched.remove_node(a) == "t6"  # it was running t6: reported as crashed
    assert sched.pending == [4, 2, 1, 0]  # t4 goes back, ahead of the shorter ones
    sched.mark_test_complete(b, 5)
    assert b.sent == [5, 3, 4]
