"""The batch engine on its own: hand-made coroutines, so each rule is checked exactly.

A tune coroutine yields an Ask to read characters (answered with logits and a state) and any
other value as output for its reader (tests/test_generate.py checks real tunes through it).
"""

from __future__ import annotations

import itertools
import threading
from typing import Iterable

import pytest
import torch

from bot.engine import BatchEngine
from bot.model import CharLSTM, ModelConfig
from bot.stepper import Ask, Stepper, answer


@pytest.fixture(scope="module")
def stepper() -> Stepper:
    torch.manual_seed(0)
    model = CharLSTM(ModelConfig(vocab_size=12, embedding=8, hidden=16, layers=2, dropout=0.0)).eval()
    return Stepper(model)


def reader(stepper: Stepper, ids: Iterable[list[int]], closed: threading.Event | None = None):
    """Reads each id list in turn and outputs (step number, logits) after each answer."""
    state = stepper.zero(1)
    try:
        for n, chunk in enumerate(ids):
            logits, state = yield Ask(chunk, state)
            yield (n, logits)
    finally:
        if closed is not None:
            closed.set()


def test_every_answer_equals_the_answer_alone(stepper):
    """Steps batched across tunes, and primes on the priming thread, answer as one tune alone."""
    plans = [[[1], [2, 3, 4], [5], [6]], [[7], [8], [9, 10], [11]], [[3], [3], [3], [3]]]
    with BatchEngine(stepper) as engine:
        readers = [engine.run(reader(stepper, plan)) for plan in plans]
        got = [list(r) for r in readers]
        assert engine.rows > engine.steps  # some steps were shared
    for plan, outputs in zip(plans, got):
        state = stepper.zero(1)
        expected = []
        for chunk in plan:
            logits, state = answer(stepper, Ask(chunk, state))
            expected.append(logits.reshape(-1))
        # A reader may skip stale outputs, never the last, and never goes back.
        numbers = [n for n, _ in outputs]
        assert numbers == sorted(set(numbers)) and numbers[-1] == len(plan) - 1
        for n, logits in outputs:
            assert torch.equal(logits.reshape(-1), expected[n])


def test_a_reader_behind_gets_the_newest_output(stepper):
    done = threading.Event()

    def outputs_only():
        try:
            for n in range(5):
                yield n
        finally:
            done.set()

    with BatchEngine(stepper) as engine:
        stream = engine.run(outputs_only())
        assert done.wait(5)
        assert list(stream) == [4]  # the stale 0-3 are skipped; the last is never lost


def test_closing_a_reader_drops_its_tune_and_others_go_on(stepper):
    closed = threading.Event()
    with BatchEngine(stepper) as engine:
        endless = engine.run(reader(stepper, itertools.repeat([1]), closed))
        other = engine.run(reader(stepper, [[2]] * 50))
        next(endless)
        endless.close()
        assert closed.wait(5)  # the engine closed the coroutine: its place in the batch is free
        assert len(list(other)) >= 1
        with pytest.raises(StopIteration):
            next(endless)


def test_a_failing_tune_fails_alone(stepper):
    def broken():
        yield Ask([1], stepper.zero(1))
        raise ValueError("this tune broke")

    with BatchEngine(stepper) as engine:
        bad = engine.run(broken())
        good = engine.run(reader(stepper, [[2], [3]]))
        with pytest.raises(ValueError, match="this tune broke"):
            list(bad)
        assert [n for n, _ in good][-1] == 1


def test_a_closed_engine_refuses_new_tunes(stepper):
    engine = BatchEngine(stepper)
    engine.close()
    with pytest.raises(RuntimeError, match="closed"):
        engine.run(reader(stepper, [[1]]))
