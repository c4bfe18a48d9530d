"""The render pool: the costliest waiting job starts first; cancel and errors work as Futures do."""

from __future__ import annotations

import threading
from concurrent.futures import CancelledError

import pytest

from bot.longest_first import LongestFirst


def test_the_costliest_waiting_job_starts_first():
    pool = LongestFirst(1)
    gate, holding, started = threading.Event(), threading.Event(), []
    first = pool.submit(0, lambda: (holding.set(), gate.wait()))  # holds the only worker
    assert holding.wait(5)  # ... before the rest queue up
    jobs = [pool.submit(cost, started.append, cost) for cost in (3.0, 55.0, 6.0, 55.0, 20.0)]
    gate.set()
    for job in [first, *jobs]:
        job.result(timeout=5)
    assert started == [55.0, 55.0, 20.0, 6.0, 3.0]
    pool.shutdown()


def test_cancel_while_waiting_and_errors_reach_the_caller():
    pool = LongestFirst(1)
    gate, holding = threading.Event(), threading.Event()
    pool.submit(0, lambda: (holding.set(), gate.wait()))
    assert holding.wait(5)
    never, ran = pool.submit(1, lambda: ran.append(1)), []
    assert never.cancel()
    failing = pool.submit(0, lambda: 1 / 0)
    gate.set()
    with pytest.raises(ZeroDivisionError):
        failing.result(timeout=5)
    with pytest.raises(CancelledError):
        never.result(timeout=5)
    pool.shutdown()
    assert ran == []
    with pytest.raises(RuntimeError, match="shut down"):
        pool.submit(1, print)


def test_waiting_jobs_of_one_key_run_as_one_batch_costliest_first():
    batches = []

    def batch(items):
        batches.append(list(items))
        return [ValueError(item) if item == "bad" else item.upper() for item in items]

    pool = LongestFirst(1, batch=batch, max_batch=3, max_batch_cost=100.0)
    gate, holding = threading.Event(), threading.Event()
    pool.submit(0, lambda: (holding.set(), gate.wait()))
    assert holding.wait(5)
    jobs = {name: pool.submit_batchable(cost, key, name) for name, cost, key in [
        ("a", 10.0, "x"), ("b", 50.0, "x"), ("c", 30.0, "y"), ("d", 40.0, "x"), ("bad", 20.0, "x"),
        ("e", 5.0, "x")]}
    alone = pool.submit(45.0, str.upper, "z")
    gate.set()
    assert jobs["b"].result(timeout=5) == "B" and alone.result(timeout=5) == "Z"
    with pytest.raises(ValueError):
        jobs["bad"].result(timeout=5)
    assert all(jobs[name].result(timeout=5) == name.upper() for name in "acde")
    pool.shutdown()
    # b (50) leads: d (40) joins; bad (20) would pass the cost cap (110), so it waits; a (10)
    # fills the third place. Then the alone job, then c (its own key), then bad with e.
    assert batches == [["b", "d", "a"], ["c"], ["bad", "e"]]
