"""One sequence being sampled (LSTM state, next-character logits, the RNG), and the driver that
answers a lone tune's reads in the caller's thread.

The composer is a coroutine: it yields an Ask whenever it reads characters and is sent the
answer (logits, state); it yields an Update for the stream. Whoever drives it answers the
Asks: `alone` one at a time, `bot.engine.BatchEngine` many tunes' steps in one batch, on one
thread, with no thread hand-off per character.

Where the step runs on the step worker (`bot.step_worker`), the answer to a one-character Ask
is a Pending: the step has started, and the composer works out its rules meanwhile. Before it
draws, it yields AWAIT (`Sequence.ready`): the engine then runs its other tunes' rules, `alone`
goes straight on; the logits are read, waiting for the worker if need be, when first used.
"""

from __future__ import annotations

from typing import Generator, Iterator

import numpy as np
import torch

from bot.compose.settings import Settings, Update
from bot.step_worker import Job, Seat
from bot.stepper import Ask, State, Stepper, answer

Reads = Generator["Ask | str", "tuple[torch.Tensor, State] | Pending | None", None]
Coroutine = Generator["Ask | Update", "tuple[torch.Tensor, State] | None", None]
Snapshot = tuple[State, np.ndarray]

AWAIT = "await"  # yielded by a composer about to read logits that may still be on the worker


class Pending:
    """The answer to a one-character Ask whose step is on the step worker: row `row` of `job`."""

    __slots__ = ("job", "row")

    def __init__(self, job: Job, row: int):
        self.job, self.row = job, row

    @property
    def done(self) -> bool:
        return self.job.done

    def result(self) -> tuple[torch.Tensor, State]:
        """(logits (V,), batch-1 state), waiting for the worker if need be."""
        return self.job.result(self.row)

    def __iter__(self):
        """Unpacks as the (logits, state) it stands for, so a reader that takes the answer at
        once (`logits, state = yield ask`) needs to know nothing of the worker."""
        return iter(self.result())


class Sequence:
    """One sequence being sampled: LSTM state, next-character logits, the RNG."""

    def __init__(self, stepper: Stepper, vocab: str, settings: Settings, seed: int):
        self.stepper = stepper
        self.vocab = vocab
        self.index = {c: i for i, c in enumerate(vocab)}
        self.settings = settings
        self.rng = np.random.default_rng(seed)
        self.inverse_temperature = np.float32(1 / settings.temperature)
        self.steps = 0  # characters fed so far, retries included
        self._state = stepper.zero(1)
        self._logits = np.zeros(len(vocab), dtype=np.float32)
        self._pending: Pending | None = None  # the step of the last character fed, on the worker

    @property
    def state(self) -> State:
        """The LSTM state after the characters fed (waiting for the worker's step if need be)."""
        if self._pending is not None:
            self._take(self._pending.result())
        return self._state

    @property
    def logits(self) -> np.ndarray:
        """The next character's logits (V,) (waiting for the worker's step if need be)."""
        if self._pending is not None:
            self._take(self._pending.result())
        return self._logits

    @logits.setter
    def logits(self, value: np.ndarray) -> None:
        """Replace the next character's logits (a test pushes a character this way)."""
        self.logits  # the step in flight is taken first, so it cannot overwrite these
        self._logits = value

    def _take(self, answer: tuple[torch.Tensor, State]) -> None:
        logits, self._state = answer
        self._logits = logits.reshape(-1).numpy()
        self._pending = None

    def feed(self, text: str) -> Reads:
        """Read fixed text (`yield from` it): asks for the step, or the prime of several characters."""
        if not text:
            return
        ids = [self.index[c] for c in text]
        self.steps += len(ids)
        reply = yield Ask(ids, self.state)
        if isinstance(reply, Pending):
            self._pending = reply  # the rules run while the worker steps
        else:
            self._take(reply)

    def ready(self) -> Reads:
        """`yield from` it before drawing: AWAIT while the last step is still on the worker."""
        if self._pending is not None and not self._pending.done:
            yield AWAIT

    def draw(self, banned: np.ndarray | None = None) -> str | None:
        """Sample the next character (temperature, top-k, never a banned one); None when all are banned."""
        z = self.logits
        if banned is not None:
            if banned.all():
                return None
            z = np.where(banned, -np.inf, z)
        k = self.settings.top_k
        if 0 < k < len(z):
            kth = np.partition(z, len(z) - k)[len(z) - k]
            z = np.where(z >= kth, z, -np.inf)
        # (V,) float32, worked in one buffer: the same operations in the same order as
        # cumsum(exp((z - max) * 1/T)), without a new array for each.
        cdf = np.subtract(z, z.max())
        np.multiply(cdf, self.inverse_temperature, out=cdf)
        np.exp(cdf, out=cdf)
        np.cumsum(cdf, out=cdf)
        choice = int(cdf.searchsorted(self.rng.random() * cdf[-1], side="right"))
        return self.vocab[min(choice, len(self.vocab) - 1)]

    def snapshot(self) -> Snapshot:
        """The state to come back to (states are never changed in place)."""
        return self.state, self.logits

    def restore(self, snap: Snapshot) -> None:
        """Go back to a snapshot (a step still on the worker is dropped: its answer is not read)."""
        self._state, self._logits = snap
        self._pending = None


def alone(coroutine: Coroutine, stepper: Stepper) -> Iterator[Update]:
    """Drive one tune's coroutine in the caller's thread, answering each Ask as it comes: its
    steps on the step worker while `bot.step_worker.Seat` holds it, else here."""
    seat = Seat(stepper, every=256)
    try:
        reply = None
        while True:
            try:
                item = coroutine.send(reply)
            except StopIteration:
                return
            if isinstance(item, Ask):
                worker = seat.current() if len(item.ids) == 1 else None
                if worker is not None:
                    reply = Pending(worker.submit(item.ids, [item.state]), 0)
                else:
                    reply = answer(stepper, item)
            elif item is AWAIT:
                reply = None  # the logits are read (waiting if need be) where the draw uses them
            else:
                reply = None
                yield item
    finally:
        coroutine.close()
        seat.release()
