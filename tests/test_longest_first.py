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
