"""The render pool: the costliest waiting job starts first; cancel and errors work as Futures do."""

from __future__ import annotations

import threading
import time
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


def _hold(pool, owner=None, cost=100.0):
    """A job that holds a worker until its gate opens: (gate, started event, future)."""
    gate, started = threading.Event(), threading.Event()
    future = pool.submit(cost, lambda: (started.set(), gate.wait(5)), owner=owner)
    return gate, started, future


def test_no_owner_holds_more_than_its_share_of_the_workers():
    pool = LongestFirst(2)
    order: list[str] = []
    gates = [threading.Event() for _ in range(4)]
    flood = [pool.submit(100.0, lambda i=i: (order.append(f"flood{i}"), gates[i].wait(5)), owner="flood")
             for i in range(4)]
    deadline = time.monotonic() + 5
    while len(order) < 2 and time.monotonic() < deadline:  # alone, the flood may take both workers
        time.sleep(0.01)
    assert order == ["flood0", "flood1"]
    # Once another owner has work, the next free worker goes to it, not to the flood's third job.
    other = pool.submit(1.0, lambda: order.append("composer"), owner="composer")
    gates[0].set()
    other.result(timeout=5)
    for gate in gates:
        gate.set()
    for job in flood:
        job.result(timeout=5)
    assert order.index("composer") == 2, order
    pool.shutdown()


def test_a_short_job_never_waits_behind_long_ones_for_the_kept_worker():
    pool = LongestFirst(3, short_cost=2.0)
    long = [_hold(pool, owner=f"flood{i}", cost=50.0) for i in range(5)]
    assert long[0][1].wait(5) and long[1][1].wait(5)
    assert not long[2][1].wait(0.2)  # the third worker is kept for short jobs
    ran = threading.Event()
    pool.submit(0.5, ran.set, owner="composer")
    assert ran.wait(5)  # started at once, with two long jobs running and three waiting
    for gate, _, _ in long:
        gate.set()
    pool.shutdown()
