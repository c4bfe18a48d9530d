"""A pool of worker threads that always starts the costliest waiting job first.

    pool = LongestFirst(workers=3, name="render")
    future = pool.submit(cost, fn, *args)   # a concurrent.futures.Future; cancel() works while it waits
    pool.shutdown()

Audio renders queue up when many tunes finish at once. Their costs differ tenfold (a 6 s polka
against a 55 s air with its repeats), and first-come order can leave the longest render to
start last, alone on one core while the other idles. Starting the longest waiting render first
(the classic longest-processing-time rule) packs the work so that everyone's audio is ready at
about the same time: the last one is ready sooner, the shortest wait a little longer.
"""

from __future__ import annotations

import heapq
import itertools
import threading
from concurrent.futures import Future
from typing import Callable


class LongestFirst:
    """Worker threads taking the waiting job with the largest cost (ties: the earliest)."""

    def __init__(self, workers: int, name: str = "worker"):
        if workers < 1:
            raise ValueError(f"workers must be at least 1, got {workers}")
        self._cond = threading.Condition()
        self._heap: list[tuple[float, int, Future, Callable, tuple]] = []
        self._order = itertools.count()
        self._closed = False
        self._workers, self._name = workers, name
        self._threads: list[threading.Thread] = []  # started with the first job

    def submit(self, cost: float, fn: Callable, *args) -> Future:
        """Queue fn(*args); its Future. A larger cost starts sooner."""
        future: Future = Future()
        with self._cond:
            if self._closed:
                raise RuntimeError("the pool is shut down")
            heapq.heappush(self._heap, (-cost, next(self._order), future, fn, args))
            if not self._threads:
                self._threads = [threading.Thread(target=self._work, name=f"{self._name}_{i}", daemon=True)
                                 for i in range(self._workers)]
                for thread in self._threads:
                    thread.start()
            self._cond.notify()
        return future

    def _work(self) -> None:
        while True:
            with self._cond:
                while not self._heap and not self._closed:
                    self._cond.wait()
                if not self._heap:
                    return
                _, _, future, fn, args = heapq.heappop(self._heap)
            if not future.set_running_or_notify_cancel():
                continue  # cancelled while it waited
            try:
                future.set_result(fn(*args))
            except BaseException as err:  # the caller reads it from the Future
                future.set_exception(err)

    def shutdown(self, wait: bool = True) -> None:
        """Take no new jobs; the workers finish the waiting ones and end."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()
        if wait:
            for thread in list(self._threads):
                thread.join()
