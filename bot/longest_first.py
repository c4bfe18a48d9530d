"""A pool of worker threads that always starts the costliest waiting job first, batching alike jobs.

    pool = LongestFirst(workers=3, name="render", batch=render_many, max_batch=4, max_batch_cost=300)
    future = pool.submit(cost, fn, *args)           # runs alone
    future = pool.submit_batchable(cost, key, item) # may run with other waiting items of its key
    pool.shutdown()

Audio renders queue up when many tunes finish at once. Their costs differ tenfold (a 6 s polka
against a 55 s air with its repeats), and first-come order can leave the longest render to
start last, alone on one core while the other idles. Starting the longest waiting render first
(the classic longest-processing-time rule) packs the work so that everyone's audio is ready at
about the same time: the last one is ready sooner, the shortest wait a little longer.

Jobs that wait together can also be done together: a worker that takes a batchable job takes
the next costliest waiting ones of the same key with it (up to `max_batch`, and up to
`max_batch_cost` in all) and hands them to `batch` at once, which returns one result (or
exception) per item. Every job keeps its own Future; cancel() works while it waits.
"""

from __future__ import annotations

import heapq
import itertools
import threading
from concurrent.futures import Future
from typing import Callable, Hashable

_ALONE = object()  # the key of jobs that never join a batch


class LongestFirst:
    """Worker threads taking the waiting job with the largest cost (ties: the earliest)."""

    def __init__(self, workers: int, name: str = "worker", batch: Callable[[list], list] | None = None,
                 max_batch: int = 1, max_batch_cost: float = float("inf")):
        if workers < 1 or max_batch < 1:
            raise ValueError(f"workers and max_batch must be at least 1, got {workers} and {max_batch}")
        self._cond = threading.Condition()
        # (-cost, order, future, key, fn or None, args or the batchable item)
        self._heap: list[tuple] = []
        self._order = itertools.count()
        self._closed = False
        self._workers, self._name = workers, name
        self._batch, self._max_batch, self._max_batch_cost = batch, max_batch, max_batch_cost
        self._threads: list[threading.Thread] = []  # started with the first job

    def submit(self, cost: float, fn: Callable, *args) -> Future:
        """Queue fn(*args) to run alone; its Future. A larger cost starts sooner."""
        return self._push(cost, _ALONE, fn, args)

    def submit_batchable(self, cost: float, key: Hashable, item) -> Future:
        """Queue `item` for the `batch` function, with whatever waits beside it under `key`."""
        if self._batch is None:
            raise ValueError("this pool has no batch function")
        return self._push(cost, key, None, item)

    def _push(self, cost: float, key, fn, payload) -> Future:
        future: Future = Future()
        with self._cond:
            if self._closed:
                raise RuntimeError("the pool is shut down")
            heapq.heappush(self._heap, (-cost, next(self._order), future, key, fn, payload))
            if not self._threads:
                self._threads = [threading.Thread(target=self._work, name=f"{self._name}_{i}", daemon=True)
                                 for i in range(self._workers)]
                for thread in self._threads:
                    thread.start()
            self._cond.notify()
        return future

    def waiting(self) -> int:
        """Jobs not yet started (cancelled ones included until a worker drops them)."""
        with self._cond:
            return len(self._heap)

    def _take(self) -> list[tuple]:
        """The costliest waiting job, with the batchable ones that go with it (lock held)."""
        first = heapq.heappop(self._heap)
        if first[3] is _ALONE or self._max_batch == 1:
            return [first]
        taken, kept, cost = [first], [], -first[0]
        while self._heap and len(taken) < self._max_batch:
            entry = heapq.heappop(self._heap)
            if entry[3] == first[3] and cost - entry[0] <= self._max_batch_cost:
                taken.append(entry)
                cost -= entry[0]
            else:
                kept.append(entry)
        for entry in kept:
            heapq.heappush(self._heap, entry)
        return taken

    def _work(self) -> None:
        while True:
            with self._cond:
                while not self._heap and not self._closed:
                    self._cond.wait()
                if not self._heap:
                    return
                taken = self._take()
            # Cancelled while waiting: dropped here, never run.
            taken = [entry for entry in taken if entry[2].set_running_or_notify_cancel()]
            if not taken:
                continue
            if taken[0][3] is _ALONE:
                _, _, future, _, fn, args = taken[0]
                try:
                    future.set_result(fn(*args))
                except BaseException as err:  # the caller reads it from the Future
                    future.set_exception(err)
                continue
            try:
                results = self._batch([entry[5] for entry in taken])
            except BaseException as err:  # the batch itself failed: every job hears of it
                results = [err] * len(taken)
            for entry, result in zip(taken, results):
                if isinstance(result, BaseException):
                    entry[2].set_exception(result)
                else:
                    entry[2].set_result(result)

    def shutdown(self, wait: bool = True) -> None:
        """Take no new jobs; the workers finish the waiting ones and end."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()
        if wait:
            for thread in list(self._threads):
                thread.join()
