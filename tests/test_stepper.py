"""The fused LSTM step on both compute paths: the model's own numbers, and the same row in any batch.

Both precisions are built here on any machine. The bfloat16 step's products run anywhere
(emulated where the CPU lacks bfloat16); its priming needs oneDNN's bfloat16 LSTM, so where
the CPU has none the test checks that bfloat16 is refused with a clear error, and checks the
priming with the LSTM's bfloat16 reading emulated in float32 (EmulatedBfloat16LSTM, itself
compared with oneDNN's where the CPU has it).
"""

from __future__ import annotations

import pytest
import torch

from bot import checkpoint
from bot.compute import ComputeError, ComputePath, cpu_bfloat16, inference_path, w8a8_available
from bot.generate import Settings, generate
from bot.stepper import Stepper
from together import loaded_on, write_together

NATIVE = cpu_bfloat16()[0]
# Per path: the path, and how close its logits come to nn.LSTM's float32 ones.
PATHS = {
    "float32": (ComputePath("cpu", torch.float32, "test"), 1e-3),
    "bfloat16": (ComputePath("cpu", torch.bfloat16, "test"), 0.15),  # bfloat16 weights: close, not equal
    # int8 weights, bfloat16 inputs; priming in bfloat16 where native, else float32 (as inference_path("int8")).
    "int8": (ComputePath("cpu", torch.bfloat16 if NATIVE else torch.float32, "test", weights="int8"), 0.15),
    # 4-bit weights (a scale and zero per 32): further from the float logits than int8's (on
    # the jig below, at most 0.51 against int8's 0.07); held-out bits/char +0.0023 (test below).
    "int4": (ComputePath("cpu", torch.bfloat16 if NATIVE else torch.float32, "test", weights="int4"), 0.75),
}
# int8 weights times int8 inputs, only where the CPU has AVX-512 VNNI (elsewhere the test below
# checks that it is refused): on the jig below at most 0.07 from the float logits, as int8's.
W8A8 = w8a8_available()[0]
if W8A8:
    PATHS["w8a8"] = (ComputePath("cpu", torch.bfloat16 if NATIVE else torch.float32, "test", weights="w8a8"), 0.15)
QUANTIZED = ["int8", "int4"] + (["w8a8"] if W8A8 else [])


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


class EmulatedBfloat16LSTM(torch.nn.Module):
    """nn.LSTM as oneDNN runs it under bfloat16 autocast, in float32 arithmetic that runs on any CPU:
    the inputs, the recurrent h and the weights rounded to bfloat16 before each product, the sums
    and the cell state c in float32, each output h rounded to bfloat16. Takes and returns what
    nn.LSTM does (batch first): x (B, T, E), (h0, c0) (layers, B, H)."""

    def __init__(self, lstm: torch.nn.LSTM):
        super().__init__()
        self.lstm = lstm

    def forward(self, x, state):
        def bf16(t: torch.Tensor) -> torch.Tensor:
            return t.to(torch.bfloat16).float()

        h0, c0 = state
        hs, cs = [], []
        with torch.autocast("cpu", enabled=False):  # prime's own autocast must not reach oneDNN's LSTM
            for layer in range(self.lstm.num_layers):
                w_ih, w_hh, b_ih, b_hh = (bf16(getattr(self.lstm, f"{name}_l{layer}")) if name.startswith("w")
                                          else getattr(self.lstm, f"{name}_l{layer}").float()
                                          for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"))
                h, c = bf16(h0[layer]), c0[layer].float()
                outs = []
                for t in range(x.shape[1]):
                    i, f, g, o = (bf16(x[:, t]) @ w_ih.T + h @ w_hh.T + b_ih + b_hh).chunk(4, 1)
                    c = f.sigmoid() * c + i.sigmoid() * g.tanh()
                    h = bf16(o.sigmoid() * c.tanh())
                    outs.append(h)
                x = torch.stack(outs, 1)
                hs.append(h)
                cs.append(c)
        return x.to(torch.bfloat16), (torch.stack(hs).to(torch.bfloat16), torch.stack(cs))


def test_the_emulated_bfloat16_lstm_is_onednns_where_the_cpu_runs_it(shipped):
    # The emulation stands in for oneDNN's bfloat16 LSTM on CPUs without it (below). Where the
    # CPU has it, the two are compared; elsewhere, the emulation against float32 nn.LSTM.
    x = shipped.model.embed(torch.tensor([shipped.encode("M:6/8\nK:D\nA|d2e fed|")]))
    zeros = (torch.zeros(2, 1, 512), torch.zeros(2, 1, 512))
    with torch.no_grad():
        emulated, (h, c) = EmulatedBfloat16LSTM(shipped.model.lstm)(x, zeros)
        if NATIVE:
            with torch.autocast("cpu", dtype=torch.bfloat16):
                real, (real_h, real_c) = shipped.model.lstm(x, zeros)
            tolerance = 0.05  # same inputs, same rounding points; the sums' order differs
        else:
            real, (real_h, real_c) = shipped.model.lstm(x, zeros)
            tolerance = 0.1  # float32 against bfloat16
    assert emulated.dtype == torch.bfloat16 and c.dtype == torch.float32
    assert torch.allclose(emulated.float(), real.float(), atol=tolerance)
    # oneDNN hands c back in bfloat16: up to 9 here, so compared within bfloat16's relative step.
    assert torch.allclose(c, real_c.float(), atol=tolerance, rtol=2**-7)


def test_priming_matches_stepping_on_each_path(stepper, shipped, monkeypatch):
    ids = shipped.encode("M:4/4\nL:1/8\nK:G\n|:GABc dedB|")
    if stepper.dtype == torch.bfloat16 and not NATIVE:
        # This CPU cannot run bfloat16 priming (oneDNN has no bfloat16 LSTM here), and the app
        # refuses the path; the rest of prime (the bfloat16 output layer, the state handed to
        # the steps) is still checked, with the LSTM's reading emulated.
        with pytest.raises(ComputeError, match="cannot run it"):
            inference_path("bfloat16")
        monkeypatch.setattr(shipped.model, "lstm", EmulatedBfloat16LSTM(shipped.model.lstm))
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


@pytest.mark.parametrize("weights", QUANTIZED)
def test_quantized_rows_are_the_same_alone_or_in_a_batch_of_1_to_16(shipped, weights):
    # Weight-only int8 or int4, and w8a8's inputs on a fixed scale: nothing is scaled per batch,
    # so a row's logits and state, over several steps, are the same bits alone as in any batch
    # (a seed's tune is the same beside others).
    stepper = Stepper(shipped.model, PATHS[weights][0])
    assert stepper.path.weights == weights
    torch.manual_seed(0)
    tokens = torch.randint(0, stepper.vocab_size, (3, 16))  # 3 steps of 16 rows
    for batch in range(1, 17):
        together = stepper.zero(batch)
        alone = [stepper.zero(1) for _ in range(batch)]
        for t in range(3):
            logits, together = stepper.step(tokens[t, :batch], together)
            for row in range(batch):
                one, alone[row] = stepper.step(tokens[t, row : row + 1], alone[row])
                assert torch.equal(one[0], logits[row]), (batch, t, row)
        for row in range(batch):
            assert torch.equal(alone[row].h[:, 0], together.h[:, row]), (batch, row)
            assert torch.equal(alone[row].c[:, 0], together.c[:, row]), (batch, row)


@pytest.mark.parametrize("weights", QUANTIZED)
def test_quantized_paths_write_the_same_tune_from_a_seed_alone_or_in_the_batch_engine(shipped, weights):
    loaded, stepper = loaded_on(shipped, PATHS[weights][0])  # its own Stepper, on a quantized path
    cases = [("a jig in G", 1), ("a reel in D", 2), ("a waltz in A", 3)]
    alone = [generate(text, Settings(seed=seed, bars=4), loaded).abc for text, seed in cases]
    together, _ = write_together(loaded, stepper, cases, bars=4)
    assert together == alone


def test_quantized_paths_keep_held_out_bits_per_char_within_0_01_of_float32(shipped):
    # The first 4,096 held-out characters through each path's own step (bench/path_quality.py
    # scores all 82,747). nn.LSTM's float32 score is the independent reference the float32 step
    # must itself match.
    from bench.path_quality import held_out_ids, score_steps
    from bot.evaluate import score

    ids = held_out_ids(shipped, 4096)
    reference = score(shipped.model, ids)["bits_per_char"]
    float32 = score_steps(Stepper(shipped.model, PATHS["float32"][0]), ids)
    assert abs(float32 - reference) < 1e-3
    for weights in QUANTIZED:
        got = score_steps(Stepper(shipped.model, PATHS[weights][0]), ids)
        assert abs(got - float32) <= 0.01, (weights, got, float32)
        assert got != float32 or weights == "int8"  # 4 bits, or int8 inputs, really are not the float step
    assert 0.5 < float32 < 3  # the slice really is music the model knows (a flat guess is ~6.4)


def test_int8_weights_round_each_row_to_its_own_step_and_the_product_uses_them():
    from bot.step_maths import int8_product
    from bot.stepper import Int8Weight

    # Rows of 16 (the product's block: `INT8_BLOCK`), with some large values to set each row's scale.
    w = torch.zeros(3, 16)
    w[:, :4] = torch.tensor([[0.5, -1.0, 0.25, 0.0], [3.0, 1.5, -0.75, 0.1], [1e-3, 0.0, 0.0, -2e-3]])
    w[:2, 4:] = torch.linspace(-0.9, 0.9, 12)
    q = Int8Weight.of(w)
    assert q.q.dtype == torch.int8 and q.scale.dtype == torch.bfloat16
    top = torch.tensor([1.0, 3.0, 2e-3])  # each row's largest magnitude
    scale = q.scale.float()
    assert torch.all(scale >= top / 127) and torch.all(scale <= top / 127 * 1.02)  # per row, not one for all
    assert torch.all(q.q.abs() <= 127)
    assert torch.all((q.q.float() * scale[:, None] - w).abs() <= scale[:, None] / 2 + 1e-9)
    # The product is x times the dequantized rows (float64 here), up to its bfloat16 output.
    x = torch.linspace(-2, 2, 32).view(2, 16)
    expected = x.double() @ (q.q.double() * scale.double()[:, None]).T
    got = int8_product(x.to(torch.bfloat16), q.q, q.scale)
    assert got.dtype == torch.bfloat16  # widened to float32 by the bias it is added to
    assert torch.allclose(got.double(), expected, rtol=2**-7, atol=1e-6)


def test_int4_weights_hold_each_group_in_16_steps_and_the_product_uses_them():
    from bot.step_maths import int4_product
    from bot.stepper import INT4_GROUP, Int4Weight

    torch.manual_seed(1)
    # 20 rows (padded to 32 for the kernel) of 2 groups each; one group spans a far wider range.
    w = torch.randn(20, 2 * INT4_GROUP) * 0.1
    w[3, :INT4_GROUP] *= 40
    q = Int4Weight.of(w)
    assert q.rows == 20 and q.scales.dtype == torch.bfloat16 and q.scales.shape == (2, 32, 2)
    scale, zero = q.scales[..., 0].float().T, q.scales[..., 1].float().T  # (32 rows, 2 groups)
    low = w.view(20, 2, INT4_GROUP).amin(-1)
    high = w.view(20, 2, INT4_GROUP).amax(-1)
    # Each group's own scale: its range in 15 steps (bfloat16 rounds it by at most 2**-8).
    assert torch.allclose(scale[:20], (high - low) / 15, rtol=2**-8)
    assert scale[3, 0] > 20 * scale[3, 1]  # the wide group did not widen its neighbour's steps
    # The product, against x @ w.T in float64 from the original weights: each weight is off by
    # at most half its group's step (plus the rounding of scale and zero), so each output by at
    # most that times the |x| it meets.
    x = torch.linspace(-1, 1, 3 * 2 * INT4_GROUP).view(3, 2 * INT4_GROUP)
    expected = x.double() @ w.double().T
    got = int4_product(x.to(torch.bfloat16), q.packed, q.scales)[:, : q.rows]
    assert got.shape == (3, 20) and got.dtype == torch.bfloat16
    step = scale[:20].repeat_interleave(INT4_GROUP, 1).double()  # (20, K): each weight's step
    zero_error = zero[:20].abs().repeat_interleave(INT4_GROUP, 1).double() * 2**-8
    bound = x.double().abs() @ (step * 0.6 + zero_error).T
    assert torch.all((got.double() - expected).abs() <= bound + expected.abs() * 2**-7 + 1e-3)
    assert not torch.allclose(got.double(), expected, atol=1e-4)  # it really is 4 bits, not the float product


def test_w8a8_rounds_each_weight_row_and_each_input_to_a_fixed_step_and_the_product_uses_them():
    if not W8A8:
        # Without AVX-512 VNNI (or under the AVX2 cap) the path is refused with the reason.
        with pytest.raises(ComputeError, match="w8a8.*cannot run it"):
            inference_path("w8a8")
        return
    from bot.step_maths import W8A8Step
    from bot.stepper import W8A8Weight

    torch.manual_seed(2)
    w = torch.randn(24, 40) * 0.2
    w[5] *= 30  # one row far wider: its step must not widen the others'
    q = W8A8Weight.of(w)
    assert (q.rows, q.cols) == (24, 40) and q.nbytes == 24 * 40 + 12 * 24
    packed, _bias = q.packed.unpack()
    scale = packed.q_per_channel_scales().float()
    assert torch.allclose(scale, w.abs().amax(1) / 127) and scale[5] > 10 * scale[:5].max()
    assert packed.int_repr().abs().max() <= 127
    # The product, against float64 from the rounded weights and the inputs rounded to 1/127:
    # an h is inside (-1, 1), so that fixed step loses nothing at the ends.
    x = torch.rand(3, 40) * 2 - 1
    x[0, :3] = torch.tensor([-1.0, 0.999, 0.0])
    weights = packed.int_repr().double() * scale.double()[:, None]
    expected = torch.round(x.double() * 127) / 127 @ weights.T
    step = W8A8Step(2, torch.zeros(1, 8), [q.packed, q.packed], [torch.zeros(8)], torch.zeros(24), 24)
    got = step.product(x, 0)
    assert got.dtype == torch.float32 and got.shape == (3, 24)
    assert torch.allclose(got.double(), expected, rtol=1e-5, atol=1e-5)
    assert not torch.allclose(got.double(), x.double() @ w.double().T, atol=1e-4)  # it really is int8


@pytest.mark.parametrize("weights, block", [("int8", 16), ("int4", 32)])
def test_weight_only_paths_fall_back_to_float_weights_for_a_hidden_size_their_product_cannot_read(weights, block):
    from bot.model import CharLSTM, ModelConfig

    torch.manual_seed(0)
    model = CharLSTM(ModelConfig(vocab_size=12, embedding=8, hidden=8, layers=2, dropout=0.0)).eval()
    stepper = Stepper(model, PATHS[weights][0])
    assert not stepper.path.weights and f"no multiple of {block}" in stepper.path.reason
    logits, _ = stepper.step(torch.tensor([3]), stepper.zero(1))
    with torch.no_grad():
        expected, _ = model(torch.tensor([[3]]))
    assert torch.allclose(logits[0], expected[0, 0], atol=0.05)
