"""One sequence being sampled (LSTM state, next-character logits, the RNG), and the driver that
answers a lone tune's reads in the caller's thread.

The composer is a coroutine: it yields an Ask whenever it reads characters and is sent the
answer (logits, state); it yields an Update for the stream. Whoever drives it answers the
Asks: `alone` one at a time, `bot.engine.BatchEngine` many tunes' steps in one batch, on one
thread, with no thread hand-off per character.
"""

from __future__ import annotations

from typing import Generator, Iterator

import numpy as np
import torch

from bot.compose.settings import Settings, Update
from bot.stepper import Ask, State, Stepper, answer

Reads = Generator[Ask, tuple[torch.Tensor, State], None]
Coroutine = Generator["Ask | Update", "tuple[torch.Tensor, State] | None", None]
Snapshot = tuple[State, np.ndarray]


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
        self.state = stepper.zero(1)
        self.logits = np.zeros(len(vocab), dtype=np.float32)

    def feed(self, text: str) -> Reads:
        """Read fixed text (`yield from` it): asks for the step, or the prime of several characters."""
        if not text:
            return
        ids = [self.index[c] for c in text]
        self.steps += len(ids)
        logits, self.state = yield Ask(ids, self.state)
        self.logits = logits.reshape(-1).numpy()

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
        """Go back to a snapshot."""
        self.state, self.logits = snap


def alone(coroutine: Coroutine, stepper: Stepper) -> Iterator[Update]:
    """Drive one tune's coroutine in the caller's thread, answering each Ask as it comes."""
    try:
        reply = None
        while True:
            try:
                item = coroutine.send(reply)
            except StopIteration:
                return
            if isinstance(item, Ask):
                reply = answer(stepper, item)
            else:
                reply = None
                yield item
    finally:
        coroutine.close()
