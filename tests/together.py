"""Tunes written at once through one BatchEngine, for the tests that compare them with the same
tunes written alone (tests/test_stepper.py, tests/test_step_worker.py)."""

from __future__ import annotations

import threading

from bot import checkpoint
from bot import stepper as stepper_module
from bot.compute import ComputePath
from bot.engine import BatchEngine
from bot.generate import Settings, generate
from bot.stepper import Stepper


def loaded_on(shipped: checkpoint.Loaded, path: ComputePath) -> tuple[checkpoint.Loaded, Stepper]:
    """The shipped weights as a fresh model object whose Stepper (the one generate takes) is on `path`."""
    model = checkpoint.load().model
    stepper = stepper_module._CACHE[model] = Stepper(model, path)
    return checkpoint.Loaded(model=model, vocab=shipped.vocab, card=shipped.card), stepper


def write_together(loaded, stepper, cases: list[tuple[str, int]], bars: int) -> tuple[list[str], BatchEngine]:
    """(the ABC of each (prompt, seed) case, the engine): all written at once by one BatchEngine,
    each from its own thread; the engine's steps really were shared (a batch held more than one row)."""
    together: list[str | None] = [None] * len(cases)
    with BatchEngine(stepper) as engine:
        def write(i: int) -> None:
            text, seed = cases[i]
            together[i] = generate(text, Settings(seed=seed, bars=bars), loaded, engine=engine).abc

        threads = [threading.Thread(target=write, args=(i,)) for i in range(len(cases))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert engine.rows > engine.steps  # steps really were shared
    return together, engine
