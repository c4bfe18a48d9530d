"""One batched LSTM step shared by concurrent tunes (several chat users on two cores).

Each `compose()` runs in its own thread and asks for one character step at a time. Stepping
16 sequences one by one reads the weights 16 times; a batched step reads them once (see
bench/generate_speed.py). The engine gathers the requests that are waiting, steps them
together in one `Stepper.step` call, and hands each thread its own logits and state.

    engine = BatchEngine(stepper_for(loaded.model))
    for update in compose(prompt, settings, loaded, engine=engine): ...   # from any thread
    engine.close()

Batching changes nothing in the results: bfloat16 products give each row the same numbers
whatever the batch, so a seed gives the same tune alone or beside others.
"""

from __future__ import annotations

import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Iterator

import torch

from bot.stepper import State, Stepper


@dataclass
class _Request:
    token: int
    state: State
    done: threading.Event = field(default_factory=threading.Event)
    logits: torch.Tensor | None = None
    error: BaseException | None = None


class BatchEngine:
    """A worker thread that steps all waiting sequences together."""

    def __init__(self, stepper: Stepper, max_batch: int = 32, gather_s: float = 0.01):
        self.stepper = stepper
        self.max_batch = max_batch  # most sequences in one step
        # Longest wait for the other active sequences to ask. 16 threads take 2-3 ms between
        # them to sample and ask again, so 2 ms splits the batch more often (bench/
        # generate_speed.py --gather-ms 2: 16 tunes 2,205 chars/s, mean batch 10.0; 10 ms:
        # 2,369 chars/s, batch 11.1; tunes end at different times, so never 16). A lone
        # sequence never waits: its own request completes the batch.
        self.gather_s = gather_s
        self._cond = threading.Condition()
        self._pending: list[_Request] = []
        self._active = 0  # sequences in a session and not away (priming)
        self._closed = False
        self._thread: threading.Thread | None = None
        self.steps = 0  # batched steps run (for tests and benchmarks)
        self.rows = 0  # sequence-steps run

    @contextmanager
    def session(self) -> Iterator[Session]:
        """One sequence's use of the engine; the worker waits for active sessions to ask."""
        with self._cond:
            if self._closed:
                raise RuntimeError("the batch engine is closed")
            self._active += 1
            if self._thread is None:
                self._thread = threading.Thread(target=self._work, name="batch-engine", daemon=True)
                self._thread.start()
        try:
            yield Session(self)
        finally:
            with self._cond:
                self._active -= 1
                self._cond.notify_all()

    def _ask(self, token: int, state: State) -> tuple[torch.Tensor, State]:
        request = _Request(token, state)
        with self._cond:
            if self._closed:
                raise RuntimeError("the batch engine is closed")
            self._pending.append(request)
            self._cond.notify_all()
        request.done.wait()
        if request.error is not None:
            raise request.error
        return request.logits, request.state

    def _away(self, delta: int) -> None:
        with self._cond:
            self._active += delta
            self._cond.notify_all()

    def _work(self) -> None:
        while True:
            with self._cond:
                while not self._pending and not self._closed:
                    self._cond.wait()
                if self._closed and not self._pending:
                    return
                # Wait a moment for the other active sequences, so they step together.
                deadline = time.monotonic() + self.gather_s
                while len(self._pending) < min(self._active, self.max_batch) and not self._closed:
                    left = deadline - time.monotonic()
                    if left <= 0:
                        break
                    self._cond.wait(left)
                batch, self._pending = self._pending[: self.max_batch], self._pending[self.max_batch :]
            try:
                tokens = torch.tensor([r.token for r in batch])
                logits, state = self.stepper.step(tokens, State.stack([r.state for r in batch]))
                for i, request in enumerate(batch):
                    request.logits, request.state = logits[i], state.row(i)
            except BaseException as err:  # handed to every waiting thread, never lost
                for request in batch:
                    request.error = err
            self.steps += 1
            self.rows += len(batch)
            for request in batch:
                request.done.set()

    def close(self) -> None:
        """Stop the worker once the waiting steps are done."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> BatchEngine:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class Session:
    """A sequence's handle: `step` one character through the shared worker."""

    def __init__(self, engine: BatchEngine):
        self.engine = engine

    def step(self, token: int, state: State) -> tuple[torch.Tensor, State]:
        """logits (V,) and the new batch-1 state after feeding `token`."""
        return self.engine._ask(token, state)

    @contextmanager
    def away(self) -> Iterator[None]:
        """Work done outside the engine (priming a prompt): others need not wait for this sequence."""
        self.engine._away(-1)
        try:
            yield
        finally:
            self.engine._away(+1)
