"""Splitting a run into shards, and a run's status from its shards'."""

from __future__ import annotations

import pytest

from testyard.db.models import RunShard
from testyard.execution.shards import EMPTY, combine, file_weights, pack, plan_shards


def test_pack_puts_the_longest_first_into_the_least_loaded_bin() -> None:
    weights = {"a": 1.0, "b": 4.0, "c": 3.0, "d": 3.0, "e": 2.0, "f": 2.0}
    bins = pack(weights, 2)
    loads = sorted(sum(weights[n] for n in names) for names in bins)
    assert loads == [7.0, 8.0]  # LPT: b+e+a=7 / c+d+f=8 (round-robin would give 5 / 10)
    assert sorted(n for names in bins for n in names) == sorted(weights)


def test_pack_keeps_each_bin_in_the_given_order_and_makes_no_empty_bin() -> None:
    bins = pack({"z": 1.0, "y": 5.0, "x": 1.0}, 5)
    assert bins == [["y"], ["z"], ["x"]]
    assert pack({"a": 1.0, "b": 1.0, "c": 1.0}, 1) == [["a", "b", "c"]]


def test_file_weights_sum_their_tests_and_unknown_files_weigh_the_median() -> None:
    durations = {"a.py::t1": 1.0, "a.py::t2": 2.0, "b.py::t": 5.0, "c.py::t": 1.0}
    weights = file_weights(["a.py", "b.py", "c.py", "new.py"], durations)
    assert weights == {"a.py": 3.0, "b.py": 5.0, "c.py": 1.0, "new.py": 3.0}
    assert file_weights(["x.py", "y.py"], {}) == {"x.py": 1.0, "y.py": 1.0}


def test_a_rerun_of_some_node_ids_keeps_each_with_its_file() -> None:
    nodeids = ["a.py::t1", "b.py::t", "a.py::t2"]
    plans = plan_shards(["a.py", "b.py", "c.py"], nodeids, {"a.py::t1": 9.0}, 2)
    by_paths = {tuple(p.paths): p.nodeids for p in plans}
    assert by_paths == {("a.py",): ["a.py::t1", "a.py::t2"], ("b.py",): ["b.py::t"]}


def shard(index: int, outcome: str, error: str | None = None) -> RunShard:
    return RunShard(index=index, outcome=outcome, error=error)


@pytest.mark.parametrize(
    ("outcomes", "status"),
    [
        (["passed", "passed"], "passed"),
        (["passed", EMPTY], "passed"),
        (["failed", "passed"], "failed"),
        (["failed", "error"], "error"),
        (["error", "cancelled"], "cancelled"),
        (["passed", "timed_out"], "timed_out"),
        ([EMPTY, EMPTY], "error"),
    ],
)
def test_a_run_s_status_from_its_shards(outcomes: list[str], status: str) -> None:
    assert combine([shard(i, o, "boom") for i, o in enumerate(outcomes, 1)])[0] == status


def test_a_shard_s_error_names_the_shard() -> None:
    status, error = combine([shard(1, "passed"), shard(2, "error", "conftest broke")])
    assert status == "error" and error == "shard 2: conftest broke"
