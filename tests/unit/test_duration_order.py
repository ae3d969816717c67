"""The order the duration scheduler hands tests out in (the scheduler itself runs
under real xdist in tests/integration/execution/test_duration.py)."""

from __future__ import annotations

from testyard.pytest_plugin.duration import estimates, longest_first


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
