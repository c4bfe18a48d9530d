"""The fused LSTM step on both compute paths: the model's own numbers, and the same row in any batch.

Both precisions are built here on any machine. The bfloat16 step's products run anywhere
(emulated where the CPU lacks bfloat16); its priming needs native bfloat16, so where the CPU
has none the test checks instead that bfloat16 is refused with a clear error.
"""

from __future__ import annotations

import pytest
import torch

from bot import checkpoint
from bot.compute import ComputeError, ComputePath, cpu_bfloat16, inference_path
from bot.generate import Settings, generate
from bot.stepper import Stepper

NATIVE = cpu_bfloat16()[0]
# Per path: the path, and how close its logits come to nn.LSTM's float32 ones.
PATHS = {
    "float32": (ComputePath("cpu", torch.float32, "test"), 1e-3),
    "bfloat16": (ComputePath("cpu", torch.bfloat16, "test"), 0.15),  # bfloat16 weights: close, not equal
}


@pytest.fixture(scope="module")
def shipped():
    return checkpoint.load()


@pytest.fixture(params=list(PATHS))
def stepper(request, shipped):
    path, tolerance = PATHS[request.param]
    stepper = Stepper(shipped.model, path)
    stepper.tolerance = tolerance
    return stepper


def test_steps_give_the_models_logits_on_each_path(stepper, shipped):
    ids = shipped.encode("M:6/8\nL:1/8\nR:jig\nK:D\nA|d2e fed|")
    with torch.no_grad():
        expected, _ = shipped.model(torch.tensor([ids]))
    state = stepper.zero(1)
    for i, token in enumerate(ids):
        logits, state = stepper.step(torch.tensor([token]), state)
        assert torch.allclose(logits[0], expected[0, i], atol=stepper.tolerance), i
    assert state.h.dtype == stepper.dtype and state.c.dtype == torch.float32


def test_priming_matches_stepping_or_bfloat16_is_refused_where_not_native(stepper, shipped):
    ids = shipped.encode("M:4/4\nL:1/8\nK:G\n|:GABc dedB|")
    if stepper.dtype == torch.bfloat16 and not NATIVE:
        with pytest.raises(ComputeError, match="cannot run it"):
            inference_path("bfloat16")
        return
    state = stepper.zero(1)
    for token in ids:
        stepped, state = stepper.step(torch.tensor([token]), state)
    primed, primed_state = stepper.prime(ids)
    assert torch.allclose(primed, stepped[0], atol=2 * stepper.tolerance)
    assert primed_state.h.dtype == stepper.dtype


@pytest.mark.parametrize("batch", [2, 3, 5, 8, 13, 16, 17, 32])
def test_a_row_gives_the_same_bits_alone_or_in_any_batch(stepper, batch):
    torch.manual_seed(batch)
    state = stepper.zero(batch)
    state.h.normal_(0, 0.5)
    state.c.normal_(0, 0.5)
    tokens = torch.randint(0, stepper.vocab_size, (batch,))
    together, after = stepper.step(tokens, state)
    for row in range(batch):
        alone, alone_after = stepper.step(tokens[row : row + 1], state.row(row))
        assert torch.equal(alone[0], together[row]), row
        assert torch.equal(alone_after.h[:, 0], after.h[:, row]) and torch.equal(alone_after.c[:, 0], after.c[:, row])


def test_a_model_trained_in_bfloat16_samples_in_float32(shipped):
    # The shipped weights were trained under bfloat16 autocast; the float32 path writes a
    # whole, well-formed tune from them (the other direction: tests/test_train.py).
    from bot import stepper as stepper_module

    model = checkpoint.load().model  # a fresh object: its own Stepper, on the forced path
    stepper_module._CACHE[model] = Stepper(model, PATHS["float32"][0])
    loaded = checkpoint.Loaded(model=model, vocab=shipped.vocab, card=shipped.card)
    tune = generate("a reel in G", Settings(seed=3, bars=8), loaded)
    assert tune.done and tune.abc.rstrip().endswith(("|]", "||", ":|", "|"))
    assert "K:G" in tune.abc and tune.bars >= 8
