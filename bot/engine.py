"""One thread that writes every tune in progress, stepping them together in one batched LSTM step.

Each tune is a coroutine (`bot.generate`): it yields an `Ask` whenever it reads characters,
and an Update for its stream. The engine's thread answers the single-character Asks of all
tunes in one `Stepper.step` call (16 sequences cost about 2.5 times one: the weights are read
once), sends each tune its row, and runs each tune on to its next Ask. Nothing waits for a
batch to fill, and no thread hands off per character: before, each tune sampled on its own
thread and met the others in a shared step, which under one GIL cost more than the step.

    engine = BatchEngine(stepper_for(loaded.model))
    for update in compose(prompt, settings, loaded, engine=engine): ...   # from any thread
    engine.close()

Priming (an Ask of several characters: a pasted tune) runs on a thread of its own, so a long
paste never stalls the other tunes' steps. Batching changes nothing in the results: on either
compute path the Stepper's products give each row the same bits whatever the batch (bfloat16
through oneDNN; float32 through oneDNN with a lone row stepped as a pair, see `bot.stepper`),
so a seed gives the same tune alone or beside others.

While it holds the step worker (`bot.step_worker.Seat`), the batch's step runs there: each
tune is sent a Pending and runs its rules up to its draw (AWAIT) while the step runs, then all
draw once it is done. The engine holds the worker while it has steps to run and a core is
free, and gives it back when it waits with nothing to step.

A reader gets the newest Update waiting for it: Updates are cumulative (each holds the whole
tune so far), so a reader that falls behind skips stale ones rather than queueing them.
"""

from __future__ import annotations

import logging
import queue
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Generator, Iterator

import torch

from bot.compose.sequence import AWAIT, Pending
from bot.step_worker import Seat
from bot.stepper import Ask, State, Stepper

log = logging.getLogger(__name__)

_END = object()  # put on a tune's queue after its last Update


@dataclass(eq=False)
class _Tune:
    """A coroutine the engine drives, and the queue its reader takes Updates from."""

    coroutine: Generator
    out: queue.SimpleQueue = field(default_factory=queue.SimpleQueue)
    ask: Ask | None = None  # its pending single-character Ask, answered in the next batch
    priming: Future | None = None  # its pending prime, run on the priming thread
    started: bool = False
    waiting: bool = False  # stopped at AWAIT: its step is on the worker
    stopped: bool = False  # its reader went away (set by the reader's thread): drop it
    over: bool = False  # finished, failed or dropped (the engine's thread only)


class BatchEngine:
    """A thread that drives every tune coroutine given to `run`, batching their steps."""

    def __init__(self, stepper: Stepper, max_batch: int = 32):
        self.stepper = stepper
        self.max_batch = max_batch  # most sequences in one step; more wait for the next
        self._cond = threading.Condition()
        self._incoming: list[_Tune] = []
        self._wake = False  # something changed for the engine's thread: a stop or a finished prime
        self._closed = False
        self._thread: threading.Thread | None = None
        self._primer: ThreadPoolExecutor | None = None
        self._seat = Seat(stepper, every=64)  # the step worker, held while there are steps to run
        self.steps = 0  # batched steps run (for tests and benchmarks)
        self.rows = 0  # sequence-steps run

    def run(self, coroutine: Generator) -> Iterator:
        """Start driving `coroutine` now; its Updates, in order, the newest waiting each time."""
        tune = _Tune(coroutine)
        with self._cond:
            if self._closed:
                coroutine.close()
                raise RuntimeError("the batch engine is closed")
            self._incoming.append(tune)
            if self._thread is None:
                self._primer = ThreadPoolExecutor(1, thread_name_prefix="prime")
                self._thread = threading.Thread(target=self._work, name="batch-engine", daemon=True)
                self._thread.start()
            self._cond.notify_all()
        return _Reader(self, tune)

    def _stop(self, tune: _Tune) -> None:
        with self._cond:
            tune.stopped = True
            self._wake = True
            self._cond.notify_all()

    def _poke(self, _future: Future | None = None) -> None:
        with self._cond:
            self._wake = True
            self._cond.notify_all()

    # -- the engine's thread -----------------------------------------------------------------

    def _work(self) -> None:
        active: list[_Tune] = []
        try:
            while True:
                with self._cond:
                    while True:
                        active += self._incoming
                        self._incoming.clear()
                        if self._wake or any(t.ask is not None or not t.started for t in active):
                            break
                        self._seat.release()  # nothing to step: the other core is free
                        if self._closed and not active:
                            return
                        self._cond.wait()  # every tune left is priming
                    self._wake = False
                try:
                    self._round(active)
                except BaseException as err:  # a fault of the engine itself: every reader hears of it
                    log.exception("batch engine failed")
                    for tune in active:
                        if not tune.over:
                            self._finish(tune, err)
                active = [t for t in active if not t.over]
        finally:
            self._seat.release()

    def _round(self, active: list[_Tune]) -> None:
        """Start new tunes, collect finished primes, step every waiting tune once."""
        for tune in active:
            if tune.stopped:
                self._finish(tune, None)
            elif not tune.started:
                tune.started = True
                self._advance(tune, None)
            elif tune.priming is not None and tune.priming.done():
                future, tune.priming = tune.priming, None
                error = future.exception()
                if error is not None:
                    self._finish(tune, error)
                else:
                    self._advance(tune, future.result())
        batch = [t for t in active if t.ask is not None and not t.over][: self.max_batch]
        if not batch:
            return
        worker = self._seat.current()
        asks = [t.ask for t in batch]
        for tune in batch:
            tune.ask = None
        try:
            tokens = [ask.ids[0] for ask in asks]
            if worker is not None and len(batch) <= worker.max_rows:
                job = worker.submit(tokens, [ask.state for ask in asks])
            else:
                states = State.stack([ask.state for ask in asks])
                job, (logits, state) = None, self.stepper.step(torch.tensor(tokens), states)
        except Exception as err:  # handed to every tune of the batch, never lost
            for tune in batch:
                self._finish(tune, err)
            return
        self.steps += 1
        self.rows += len(batch)
        if job is None:
            for i, tune in enumerate(batch):
                self._advance(tune, (logits[i], state.row(i)))
            return
        # Every tune runs its rules while the worker steps, then each draws from its row.
        for i, tune in enumerate(batch):
            self._advance(tune, Pending(job, i))
        for tune in batch:
            if tune.waiting and not tune.over:
                tune.waiting = False
                self._advance(tune, None)

    def _advance(self, tune: _Tune, reply) -> None:
        """Send `reply` into the tune and run it to its next Ask, queueing the Updates it yields."""
        try:
            item = tune.coroutine.send(reply)
            while not isinstance(item, Ask):
                if item is AWAIT:
                    tune.waiting = True  # sent None once the batch's step is done
                    return
                tune.out.put(item)
                item = tune.coroutine.send(None)
        except StopIteration:
            self._finish(tune, None)
            return
        except Exception as err:  # the tune's own fault: its reader gets it
            self._finish(tune, err)
            return
        if len(item.ids) == 1:
            tune.ask = item
        else:
            tune.priming = self._primer.submit(self.stepper.prime, item.ids, item.state)
            tune.priming.add_done_callback(self._poke)

    def _finish(self, tune: _Tune, error: BaseException | None) -> None:
        tune.over = True
        tune.coroutine.close()
        tune.out.put(_END if error is None else error)

    # -- closing ------------------------------------------------------------------------------

    def close(self) -> None:
        """Take no new tunes; the thread ends once the tunes it has are written."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()
        if self._thread is not None:
            self._thread.join(timeout=5)
        if self._primer is not None:
            self._primer.shutdown(wait=False)

    def __enter__(self) -> BatchEngine:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class _Reader:
    """The iterator `BatchEngine.run` returns: the tune's Updates, skipping stale ones."""

    def __init__(self, engine: BatchEngine, tune: _Tune):
        self._engine = engine
        self._tune = tune
        self._held = None  # an item taken while looking for a newer Update, given next
        self._over = False

    def __iter__(self) -> _Reader:
        return self

    def __next__(self):
        if self._over:
            raise StopIteration
        item, self._held = (self._held, None) if self._held is not None else (self._tune.out.get(), None)
        while item is not _END and not isinstance(item, BaseException):
            try:
                newer = self._tune.out.get_nowait()
            except queue.Empty:
                return item
            if newer is _END or isinstance(newer, BaseException):
                self._held = newer
                return item
            item = newer
        self._over = True
        if item is _END:
            raise StopIteration
        raise item

    def close(self) -> None:
        """Stop reading: the engine drops the tune (its place in the batch frees at once)."""
        if not self._over:
            self._over = True
            self._engine._stop(self._tune)

    def __del__(self) -> None:
        try:
            self.close()  # a reader dropped without close(): the engine drops its tune
        except Exception:  # at interpreter exit the engine's lock may be gone already
            pass
