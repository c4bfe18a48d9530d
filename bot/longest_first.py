"""A pool of worker threads that shares its workers fairly and starts the costliest job first.

    pool = LongestFirst(workers=3, name="render", short_cost=2.0)
    future = pool.submit(cost, fn, *args, owner="session-1")   # cancel() works while it waits
    pool.shutdown()

Audio renders queue up when many tunes finish at once. Their costs differ tenfold (a 6 s polka
against a 55 s air with its repeats), and first-come order can leave the longest render to
start last, alone on one core while the other idles. Starting the longest waiting render first
(the classic longest-processing-time rule) packs the work so that everyone's audio is ready at
about the same time.

Longest-first alone let a flood of long renders jump the queue every time (a composing user
waited 91 s for 0.9 s of work), so two rules come before it:

* an owner (a browser session, an API caller) holds at most its share of the workers:
  `workers // owners with work`, at least one; among waiting jobs, the owner running fewest
  goes first;
* with `short_cost` set, the last worker only takes jobs costing at most that: however many
  long jobs wait, a short one (a tune just written, a PDF) never waits behind them for a slot.
"""

from __future__ import annotations

import itertools
import threading
from collections import Counter
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Callable


@dataclass(order=True)
class _Job:
    sort_key: tuple  # (-cost, order): the costliest first, ties by arrival
    future: Future = field(compare=False)
    fn: Callable = field(compare=False)
    args: tuple = field(compare=False)
    cost: float = field(compare=False)
    owner: object = field(compare=False)


class LongestFirst:
    """Worker threads taking, of the jobs their owners' shares allow, the one of largest cost."""

    def __init__(self, workers: int, name: str = "worker", short_cost: float | None = None):
        if workers < 1:
            raise ValueError(f"workers must be at least 1, got {workers}")
        self._cond = threading.Condition()
        self._waiting: list[_Job] = []  # a short list (the page's queue is bounded): scanned, not heaped
        self._running: Counter = Counter()  # owner -> jobs running now
        self._order = itertools.count()
        self._closed = False
        self._workers, self._name = workers, name
        # A worker kept for short jobs needs another to take the long ones.
        self.short_cost = short_cost if workers > 1 else None
        self._threads: list[threading.Thread] = []  # started with the first job

    def submit(self, cost: float, fn: Callable, *args, owner=None) -> Future:
        """Queue fn(*args); its Future. A larger cost starts sooner, within `owner`'s share
        (None: a job of its own, sharing with no one)."""
        future: Future = Future()
        owner = object() if owner is None else owner
        with self._cond:
            if self._closed:
                raise RuntimeError("the pool is shut down")
            self._waiting.append(_Job((-cost, next(self._order)), future, fn, args, cost, owner))
            if not self._threads:
                self._threads = [threading.Thread(target=self._work, args=(i,), name=f"{self._name}_{i}", daemon=True)
                                 for i in range(self._workers)]
                for thread in self._threads:
                    thread.start()
            self._cond.notify_all()
        return future

    def _share(self) -> int:
        """Workers one owner may hold now: an equal split among the owners with work."""
        owners = {job.owner for job in self._waiting} | {o for o, n in self._running.items() if n}
        return max(1, self._workers // max(1, len(owners)))

    def _pick(self, worker: int) -> _Job | None:
        """The next job for `worker`, or None when none it may take is waiting."""
        short_only = self.short_cost is not None and worker == self._workers - 1
        share = self._share()
        allowed = [job for job in self._waiting
                   if self._running[job.owner] < share and (not short_only or job.cost <= self.short_cost)]
        if not allowed:
            return None
        job = min(allowed, key=lambda j: (self._running[j.owner], j.sort_key))
        self._waiting.remove(job)
        return job

    def _work(self, worker: int) -> None:
        while True:
            with self._cond:
                while True:
                    job = self._pick(worker)
                    if job is not None or (self._closed and not self._waiting):
                        break
                    self._cond.wait()
                if job is None:
                    return
                self._running[job.owner] += 1
            try:
                if job.future.set_running_or_notify_cancel():
                    try:
                        job.future.set_result(job.fn(*job.args))
                    except BaseException as err:  # the caller reads it from the Future
                        job.future.set_exception(err)
            finally:
                with self._cond:
                    self._running[job.owner] -= 1
                    if not self._running[job.owner]:
                        del self._running[job.owner]
                    self._cond.notify_all()  # a share or a short slot may have opened

    def shutdown(self, wait: bool = True) -> None:
        """Take no new jobs; the workers finish the waiting ones and end."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()
        if wait:
            for thread in list(self._threads):
                thread.join()
