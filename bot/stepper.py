"""The CharLSTM's inference maths, fused for sampling one character at a time.

`nn.LSTM` called once per character spends most of its time in per-call overhead. Sampling
needs far less: the first layer's input projection is a table lookup (embedding times
weights plus both biases, precomputed per character), the other layers' input and recurrent
products are one matrix product, and the gates are a handful of element-wise operations.

The products run in the precision `bot.compute` chose for this machine. In bfloat16 (a CPU
that has it natively) the weights are held in bfloat16, which halves the bytes read per
character, and oneDNN's bfloat16 products give each row the same result whatever the batch
size. In float32 MKL's products do not: a row computed alone (a matrix-vector product)
differs in its last bits from the same row in a batch, and a batch of 2 or 3 from one of 16.
oneDNN's float32 products give each row the same result for any batch of 2 or more
(tests/test_stepper.py checks it), so in float32 a lone sequence is stepped as a batch of two
(the second row a copy, thrown away). Either way a sequence sampled alone or stepped beside
others draws the same characters from the same seed (see `bot.engine`). Where torch has no
oneDNN, float32 rows are computed one at a time: still the same for any batch, only slower.
On the int8 path (`ABC_BOT_PRECISION=int8`) the step's weights are int8 with one float scale per
output row (weight-only: the inputs stay bfloat16, never quantized, so no scale depends on the
batch), multiplied by ATen's `_weight_int8pack_mm`, which gives each row the same bits alone or
in any batch (tests/test_stepper.py checks 1 to 32); a quarter of float32's bytes per character.
On the int4 path (`ABC_BOT_PRECISION=int4`; auto's where w8a8 cannot run) they are 4-bit,
with a bfloat16 scale and zero per group of INT4_GROUP along a row, multiplied by ATen's
`_weight_int4pack_mm_for_cpu`, which also gives each row the same bits in any batch: an eighth
of float32's bytes, small enough to stay in one core's L2 cache beside the composer.
On the w8a8 path (auto's choice where the CPU has AVX-512 VNNI) they are int8 rows packed for
fbgemm, and each product rounds its inputs to int8 on one fixed scale (they are h values, inside
(-1, 1)): integer sums are exact, and each output is scaled alone, so a row's bits are the same
in any batch too; h is kept in float32 there, which the product takes.
State c and the gates stay float32.
"""

from __future__ import annotations

import threading
import warnings
import weakref
from dataclasses import dataclass
from typing import NamedTuple

import torch

from bot.compute import ComputePath, inference_path
from bot.model import CharLSTM
from bot.step_maths import (INT4_GROUP, Bf16Step, Int4Step, Int8Step, OnednnF32Step, RowsF32Step, StepMaths, W8A8Step,
                             w8a8_pack)

# oneDNN's float32 linear, which gives each row the same bits for any batch of 2 or more rows.
_ONEDNN = torch.backends.mkldnn.is_available() and hasattr(torch.ops.mkldnn, "_linear_pointwise")


def pack(w: torch.Tensor) -> torch.Tensor:
    """A float32 weight in oneDNN's blocked layout, laid out for small batches."""
    return torch.ops.mkldnn._reorder_linear_weight(w.contiguous(), 2)


INT8_BLOCK = 16  # `_weight_int8pack_mm` needs each row's length (K) a multiple of this (measured: 8 gives inf, 40 garbage)


class Int8Weight(NamedTuple):
    """A weight (N, K) as int8 rows and a bfloat16 scale per row: w ~= q * scale[:, None]."""

    q: torch.Tensor  # (N, K) int8
    scale: torch.Tensor  # (N,) bfloat16

    @staticmethod
    def of(w: torch.Tensor) -> Int8Weight:
        """Symmetric per-row quantization of a float weight. The scale is rounded to bfloat16
        (the dtype the product takes it in) upwards before the rows are divided by it, so the
        rounding of the scale costs nothing and no value leaves [-127, 127]."""
        w = w.detach().float()
        step = w.abs().amax(1).clamp_min(1e-12) / 127
        scale = (step * (1 + 2**-7)).to(torch.bfloat16)  # bfloat16 rounds by at most 2**-8: scale >= step
        q = torch.round(w / scale.float()[:, None]).clamp_(-127, 127).to(torch.int8)
        return Int8Weight(q.contiguous(), scale.contiguous())


INT4_ROWS = 16  # `_weight_int4pack_mm_for_cpu` packs rows in blocks of 16: the head's 87 are padded


class Int4Weight(NamedTuple):
    """A weight (N, K) in 4 bits: per group of INT4_GROUP along a row, w ~= (q - 8) * scale + zero,
    with q in 0..15, packed in the kernel's layout; rows padded with zeros to a multiple of 16."""

    packed: torch.Tensor  # the kernel's layout of q
    scales: torch.Tensor  # (K / INT4_GROUP, padded N, 2) bfloat16: each group's scale and zero
    rows: int  # N, the rows before padding

    @staticmethod
    def of(w: torch.Tensor) -> Int4Weight:
        """Asymmetric 4-bit quantization of a float weight, each group from its own least to its
        largest value in 16 steps."""
        w = w.detach().float()
        rows = w.shape[0]
        w = torch.cat([w, w.new_zeros(-rows % INT4_ROWS, w.shape[1])])
        n, k = w.shape
        groups = w.view(n, k // INT4_GROUP, INT4_GROUP)
        low, high = groups.amin(-1, keepdim=True), groups.amax(-1, keepdim=True)
        scale = ((high - low) / 15).clamp_min(1e-6)
        q = torch.round((groups - low) / scale).clamp_(0, 15).to(torch.int32).view(n, k)
        zero = low + 8 * scale  # the kernel reads (q - 8) * scale + zero, so that is q * scale + low
        scales = torch.stack([scale.view(n, -1), zero.view(n, -1)], -1).transpose(0, 1)
        packed = torch.ops.aten._convert_weight_to_int4pack_for_cpu(q, 1)
        return Int4Weight(packed, scales.contiguous().to(torch.bfloat16), rows)


class W8A8Weight(NamedTuple):
    """A weight (N, K) as int8 rows with a float32 scale per row, packed for fbgemm's int8 product
    (`bot.step_maths.W8A8Step`): w ~= q * scale[:, None]."""

    packed: torch.ScriptObject  # fbgemm's packed weight (torch.classes.quantized.LinearPackedParamsBase)
    rows: int
    cols: int

    @property
    def nbytes(self) -> int:
        """Bytes its product reads: the int8 weights, and per row a scale, a zero point and the
        column sum fbgemm keeps for the inputs' zero point (4 bytes each)."""
        return self.rows * self.cols + 12 * self.rows

    @staticmethod
    def of(w: torch.Tensor) -> W8A8Weight:
        """Symmetric per-row quantization of a float weight, packed for fbgemm."""
        return W8A8Weight(w8a8_pack(w), w.shape[0], w.shape[1])


def _nbytes(w) -> int:
    """Bytes of a weight as the step holds it (a tensor, an Int8Weight, an Int4Weight or a W8A8Weight)."""
    if isinstance(w, W8A8Weight):
        return w.nbytes
    return sum(t.numel() * t.element_size() for t in _parts(w))


@dataclass
class State:
    """LSTM state for a batch of sequences: h (layers, batch, hidden) in the products' dtype,
    c the same shape in float32.

    h is only ever read by matrix products, so it is kept in their precision; c carries the
    cell's memory and stays float32.
    """

    h: torch.Tensor
    c: torch.Tensor

    @property
    def batch(self) -> int:
        """Sequences held."""
        return self.h.shape[1]

    def row(self, index: int) -> State:
        """One sequence's state, batch 1: a view, safe to keep as a snapshot, as no state is
        ever changed in place (every step and prime makes new tensors)."""
        return State(self.h[:, index : index + 1], self.c[:, index : index + 1])

    @staticmethod
    def stack(states: list[State]) -> State:
        """Batch-1 states side by side, in order."""
        return State(torch.cat([s.h for s in states], 1), torch.cat([s.c for s in states], 1))


class Stepper:
    """Batched single-character LSTM steps and whole-sequence priming for one CharLSTM."""

    def __init__(self, model: CharLSTM, path: ComputePath | None = None):
        if model.training:
            raise ValueError("Stepper needs a model in eval mode (call model.eval()): dropout would change its priming")
        self.path = path or inference_path()
        if self.path.device != "cpu":
            raise ValueError(f"Stepper samples on the CPU, not {self.path.device}")
        block = INT8_BLOCK if self.path.int8 else INT4_GROUP
        if (self.path.int8 or self.path.int4) and model.config.hidden % block:
            # The int8 product reads its rows in blocks of 16 (rows of other widths come out wrong
            # or crash), the 4-bit one in groups of 32: such a model (only tiny test ones) steps in
            # the floating-point path of the same dtype.
            self.path = ComputePath("cpu", self.path.dtype, f"{self.path.reason}; hidden size "
                                    f"{model.config.hidden} is no multiple of {block}: float weights")
        # The step's dtype (h and the products' inputs): bfloat16 on the weight-only paths, whose
        # priming still runs in path.dtype (float32 where the CPU has no bfloat16); float32 on
        # w8a8, whose product takes float32 inputs and quantizes them itself.
        if self.path.w8a8:
            dtype, maths = torch.float32, W8A8Step
        elif self.path.weights:
            dtype, maths = torch.bfloat16, Int8Step if self.path.int8 else Int4Step
        elif self.path.dtype == torch.bfloat16:
            dtype, maths = torch.bfloat16, Bf16Step
        else:
            dtype, maths = torch.float32, OnednnF32Step if _ONEDNN else RowsF32Step
        self.dtype = dtype
        config = model.config
        self.layers, self.hidden, self.vocab_size = config.layers, config.hidden, config.vocab_size
        self.model = model
        lstm = model.lstm
        with torch.no_grad():
            # PyTorch orders gates i, f, g, o; reorder rows to i, f, o, g so one sigmoid
            # covers the first 3H columns and one tanh the last H.
            order = self._gate_order()
            w_ih0 = lstm.weight_ih_l0.detach().float()[order]  # (4H, E)
            bias0 = (lstm.bias_ih_l0 + lstm.bias_hh_l0).detach().float()[order]
            # Layer 0's input product for every character: (V, 4H), float32.
            self.input0 = (model.embed.weight.detach().float() @ w_ih0.T + bias0).contiguous()
            # The products' float32 weights: layer 0's recurrent one (4H, H); each upper layer's
            # [W_ih | W_hh] (4H, 2H), so one product takes [x, h] (B, 2H) -> (B, 4H); the head's (V, H).
            floats = [lstm.weight_hh_l0.detach().float()[order]]
            self.b_upper = []
            for k in range(1, self.layers):
                w = torch.cat([getattr(lstm, f"weight_ih_l{k}"), getattr(lstm, f"weight_hh_l{k}")], 1)
                floats.append(w.detach().float()[order])
                b = getattr(lstm, f"bias_ih_l{k}") + getattr(lstm, f"bias_hh_l{k}")
                self.b_upper.append(b.detach().float()[order].contiguous())
            floats.append(model.head.weight.detach().float())
            self.b_out = model.head.bias.detach().float().contiguous()
            # Each held as the step's kernel reads it (quantized from float32, not from bfloat16).
            if maths is OnednnF32Step:
                held = [pack(w) for w in floats]
            elif self.path.weights:
                quantize = {"int8": Int8Weight.of, "int4": Int4Weight.of, "w8a8": W8A8Weight.of}[self.path.weights]
                held = [quantize(w) for w in floats]
            else:
                held = [w.to(dtype).contiguous() for w in floats]
            self.w_hh0, *self.w_upper, self.w_out = held
        every = (self.w_hh0, *self.w_upper, self.w_out)
        if maths is W8A8Step:
            step = W8A8Step(self.hidden, self.input0, [w.packed for w in every], self.b_upper, self.b_out, self.vocab_size)
        else:
            step = maths(self.hidden, self.input0, [_parts(w) for w in every], self.b_upper, self.b_out,
                         self.vocab_size, pad=maths is OnednnF32Step)
        self.maths = _script(step)
        # One (1,) index tensor per character, made once: a batch-1 step then builds none.
        self.token = [torch.tensor([i]) for i in range(self.vocab_size)]

    def _gate_order(self) -> torch.Tensor:
        h = self.hidden
        i, f, g, o = (torch.arange(k * h, (k + 1) * h) for k in range(4))
        return torch.cat([i, f, o, g])

    @property
    def bytes_per_step(self) -> int:
        """Weight bytes read for one character (the memory-bandwidth cost of a step)."""
        tensors = [self.w_hh0, self.w_out, self.b_out, *self.w_upper, *self.b_upper]
        return sum(_nbytes(t) for t in tensors) + 4 * self.input0.shape[1]

    def zero(self, batch: int = 1) -> State:
        """Zero state for `batch` sequences."""
        shape = (self.layers, batch, self.hidden)
        return State(torch.zeros(shape, dtype=self.dtype), torch.zeros(shape))

    def step(self, tokens: torch.Tensor, state: State) -> tuple[torch.Tensor, State]:
        """Feed one character per sequence: tokens (B,) int64 -> logits (B, V) float32, new state."""
        # No autograd to switch off: the weights are detached copies and states never need grad.
        logits, h, c = self.maths(tokens, state.h, state.c)
        return logits, State(h, c)

    def prime(self, ids: list[int], state: State | None = None) -> tuple[torch.Tensor, State]:
        """Feed a whole text to one sequence at once: logits (V,) after its last character, and the state.

        The model's own nn.LSTM reads the text in one call (layer by layer, each layer's input
        product as one matrix product): under bfloat16 autocast on the bfloat16 path (as the
        model trained), in float32 on the other.
        """
        if not ids:
            raise ValueError("prime needs at least one character")
        state = state or self.zero(1)
        with torch.no_grad(), torch.autocast("cpu", dtype=torch.bfloat16, enabled=self.path.bfloat16):
            x = self.model.embed(torch.tensor([ids]))  # (1, T, E)
            out, (h, c) = self.model.lstm(x, (state.h.float(), state.c))  # out (1, T, H)
        last = out[0, -1:].to(self.dtype)
        if self.maths.pad:  # oneDNN's float32 product takes another route for one row
            last = last.repeat(2, 1)
        logits = self.maths.head(last)[:1]  # float32
        return logits[0], State(h.to(self.dtype).contiguous(), c.float().contiguous())


class Ask(NamedTuple):
    """A sequence's request to read characters: token ids to feed after `state` (batch 1).

    Answered with (logits (V,) after the last id, the new batch-1 state): one id by a step
    (`bot.engine` batches these across sequences), several by `Stepper.prime`.
    """

    ids: list[int]
    state: State


def _parts(w) -> list[torch.Tensor]:
    """A weight as the list of tensors its product reads (`bot.step_maths`)."""
    if isinstance(w, Int8Weight):
        return [w.q, w.scale]
    if isinstance(w, Int4Weight):
        return [w.packed, w.scales]
    return [w]


def _script(maths: StepMaths) -> torch.jit.ScriptModule:
    """The step compiled; each format's class is compiled once per process (the cost is the
    first model's, about a second) and later modules of it reuse that type.

    torch 2.13 marks `torch.jit.script` deprecated, pointing to `torch.compile`, which compiles
    C++ at run time and whose calls still need the GIL; the scripted call is what lets the step
    worker run beside the composer. requirements.txt pins torch, and tests/test_stepper.py fails
    on a torch that can no longer script the step, so the warning is not shown to users."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r".*torch\.jit\.script. is deprecated", category=DeprecationWarning)
        return torch.jit.script(maths)


def answer(stepper: Stepper, ask: Ask) -> tuple[torch.Tensor, State]:
    """Answer one Ask on its own (no batch): the reference that batched answers equal."""
    if len(ask.ids) == 1:
        logits, state = stepper.step(stepper.token[ask.ids[0]], ask.state)
        return logits[0], state
    return stepper.prime(ask.ids, ask.state)


_CACHE: "weakref.WeakKeyDictionary[CharLSTM, Stepper]" = weakref.WeakKeyDictionary()
_CACHE_LOCK = threading.Lock()


def stepper_for(model: CharLSTM) -> Stepper:
    """The Stepper of `model` on this machine's compute path, built once per model object."""
    with _CACHE_LOCK:
        stepper = _CACHE.get(model)
        if stepper is None:
            stepper = _CACHE[model] = Stepper(model, inference_path())
        return stepper
