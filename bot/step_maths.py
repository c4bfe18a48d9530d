"""The fused LSTM step as TorchScript: one compiled module per weight format, called alike by
`Stepper.step` and by the step worker's serving loop (`bot.step_worker`).

Why TorchScript: a scripted call runs its whole graph without Python's GIL (torch releases it
around the call). So the step worker's thread can serve steps, spinning on a flag between them,
while the composer's Python runs on the other core. Both callers run these same compiled ops in
the same order, so a step gives the same bits whoever runs it, and the eager maths this replaced
gave the same bits too (the golden tunes, `tests/test_golden_tunes.py`, are unchanged on every path).

The products, one subclass each (each compiles only its own kernel, so a torch without one
kernel still compiles the others):
- float32 through oneDNN's packed linear, a lone row stepped as a pair (oneDNN takes another
  route for one row; any 2+ rows give each row the same bits);
- float32 row by row where torch has no oneDNN (the same in any batch, only slower);
- bfloat16 weights (oneDNN's bfloat16 linear);
- int8 weights with a scale per row (`aten._weight_int8pack_mm`, bfloat16 inputs);
- 4-bit weights with a scale and zero per group (`aten._weight_int4pack_mm_for_cpu`);
- int8 weights times int8 inputs on one fixed scale (fbgemm's VNNI product, `W8A8Step`).
`bot.stepper` says why each gives a row the same bits alone or in any batch.
"""

import warnings
from typing import Final, List, Tuple

# (No `from __future__ import annotations`: TorchScript reads these annotations as types.)
import torch
import torch.nn.functional as F
from torch import Tensor, nn

# The serving loop's flag, `ctrl[0]` (ctrl[1] holds the rows of the step asked for).
IDLE: Final = 0  # nothing asked; the worker spins
GO: Final = 1  # inputs are in place: step them
DONE: Final = 2  # outputs are in place
STOP: Final = 3  # leave the loop
GONE: Final = 4  # the worker left the loop after spinning idle for its limit

INT4_GROUP = 32  # a scale and zero per 32 weights of a row (see `bot.stepper.Int4Weight`)
W8A8_INPUT_SCALE = 1.0 / 127  # the inputs' fixed quantization (W8A8Step says why it is fixed)
W8A8_INPUT_ZERO = 128


class StepMaths(nn.Module):
    """One character per sequence through the LSTM: the first layer's input product is a table
    lookup, each other layer's [input, h] one product; gates in i, f, o, g order (one sigmoid
    covers three). Each subclass holds its weights as its kernel takes them; `product(x, k)`
    multiplies by weight k."""

    hidden: Final[int]
    layers: Final[int]
    pad: Final[bool]
    rows_out: Final[int]
    # The flag's values (the module's IDLE..GONE), as constants TorchScript can read.
    idle: Final[int]
    go: Final[int]
    done: Final[int]
    stop: Final[int]
    gone: Final[int]

    def __init__(self, hidden: int, input0: Tensor, weights: List[List[Tensor]], b_upper: List[Tensor],
                 b_out: Tensor, rows_out: int, pad: bool = False):
        super().__init__()
        self.hidden, self.layers, self.pad, self.rows_out = hidden, len(b_upper) + 1, pad, rows_out
        self.input0, self.b_out = input0, b_out
        self.idle, self.go, self.done, self.stop, self.gone = IDLE, GO, DONE, STOP, GONE
        # Weight k as the tensors its product reads: k 0 the first layer's recurrent weight,
        # 1 .. layers - 1 the upper layers' [input | recurrent] ones, `layers` the head's.
        self.weights: List[List[Tensor]] = weights
        self.b_upper: List[Tensor] = b_upper

    def product(self, x: Tensor, k: int) -> Tensor:
        """x (B, K) @ weight k (N, K).T -> (B, N); each subclass has its kernel."""
        raise NotImplementedError("a StepMaths subclass names its product")

    def cell(self, gates: Tensor, c: Tensor, h_out: Tensor, c_out: Tensor) -> Tensor:
        """gates (B, 4H) float32 (fresh, overwritten), c (B, H) float32: writes the new c into
        c_out and the new h into h_out (rounded once to its dtype); returns h_out."""
        hidden = self.hidden
        sig = gates[:, : 3 * hidden].sigmoid_()
        torch.addcmul(sig[:, hidden : 2 * hidden] * c, sig[:, :hidden], gates[:, 3 * hidden :].tanh_(), out=c_out)
        return torch.mul(sig[:, 2 * hidden :], c_out.tanh(), out=h_out)

    def forward(self, tokens: Tensor, h: Tensor, c: Tensor) -> Tuple[Tensor, Tensor, Tensor]:
        """tokens (B,) int64, h, c (layers, B, H) -> logits (B, V) float32, new h, new c."""
        rows = tokens.shape[0]
        tokens, h, c = self.padded(tokens, h, c)
        logits, new_h, new_c = self.advance(tokens, h, c, self.recurrent(h))
        return self.unpadded(rows, logits, new_h, new_c)

    def padded(self, tokens: Tensor, h: Tensor, c: Tensor) -> Tuple[Tensor, Tensor, Tensor]:
        """oneDNN's float32 product takes another route for a single row: a copy goes beside it."""
        if self.pad and tokens.shape[0] == 1:
            return tokens.repeat(2), h.repeat(1, 2, 1), c.repeat(1, 2, 1)
        return tokens, h, c

    def unpadded(self, rows: int, logits: Tensor, h: Tensor, c: Tensor) -> Tuple[Tensor, Tensor, Tensor]:
        if rows != logits.shape[0]:
            return logits[:rows], h[:, :rows].contiguous(), c[:, :rows].contiguous()
        return logits, h, c

    def recurrent(self, h: Tensor) -> Tensor:
        """The first layer's recurrent product W_hh0 @ h[0]: the one product that does not
        depend on the character, so the worker works it out while the character is drawn."""
        return self.product(h[0], 0)

    def advance(self, tokens: Tensor, h: Tensor, c: Tensor, recurrent: Tensor) -> Tuple[Tensor, Tensor, Tensor]:
        """The step given the first layer's recurrent product (`recurrent(h)`).

        A product may come back in bfloat16; adding it to a float32 term widens it exactly, so
        the sums are float32. The new state is written in place into fresh tensors."""
        new_h, new_c = torch.empty_like(h), torch.empty_like(c)
        gates = self.input0.index_select(0, tokens) + recurrent  # (B, 4H) float32
        x = self.cell(gates, c[0], new_h[0], new_c[0])
        for k in range(1, self.layers):
            both = torch.cat([x, h[k]], 1)  # (B, 2H) in the products' dtype
            gates = torch.add(self.b_upper[k - 1], self.product(both, k))
            x = self.cell(gates, c[k], new_h[k], new_c[k])
        return self.head(x), new_h, new_c

    @torch.jit.export
    def head(self, x: Tensor) -> Tensor:
        """The last layer's h (B, H) -> logits (B, V) float32."""
        out = self.product(x, self.layers)
        if out.shape[1] != self.rows_out:  # the 4-bit product pads the head's rows to 16s
            out = out[:, : self.rows_out]
        return torch.add(self.b_out, out)

    @torch.jit.export
    def serve(self, ctrl: Tensor, tokens: Tensor, h: Tensor, c: Tensor, logits: Tensor, h_out: Tensor,
              c_out: Tensor, idle_spins: int) -> int:
        """The worker's loop, run without the GIL. It waits for GO, steps ctrl[1] rows into the
        output buffers, and says DONE; it leaves on STOP, or after `idle_spins` reads of the flag
        with nothing asked (saying GONE if the last outputs were taken). Returns the steps served.

        The rows come from the input buffers, or, where ctrl[3] is 1, they are the rows of its
        last step's outputs (the composer drew on from them). Right after each step it works out
        the next step's first-layer recurrent product from its outputs, while the composer
        draws; a step that goes on from them uses it, any other works it out afresh (the same
        product of the same h: the same bits either way)."""
        ctrl[2] = 1  # in the loop, without the GIL: the thread that started this one may go on
        served = 0
        spins = 0
        serving = True
        last_h, last_c, ahead = h, c, h  # what the last step left, and its recurrent product
        ahead_rows = 0  # rows `ahead` holds: 0 when there is none
        while serving:
            flag = int(ctrl[0].item())
            if flag == self.go:
                n = int(ctrl[1].item())
                if int(ctrl[3].item()) == 1 and ahead_rows == n:
                    step_tokens = tokens[:n].repeat(2) if self.pad and n == 1 else tokens[:n]
                    step_h, step_c, first = last_h, last_c, ahead  # padded as they were stepped
                else:
                    step_tokens, step_h, step_c = self.padded(tokens[:n], h[:, :n].contiguous(), c[:, :n].contiguous())
                    first = self.recurrent(step_h)
                out, new_h, new_c = self.advance(step_tokens, step_h, step_c, first)
                out, h_rows, c_rows = self.unpadded(n, out, new_h, new_c)
                logits[:n].copy_(out)
                h_out[:, :n].copy_(h_rows)
                c_out[:, :n].copy_(c_rows)
                ctrl[0] = self.done  # written after the outputs: x86 keeps stores in order
                served += 1
                spins = 0
                last_h, last_c, ahead, ahead_rows = new_h, new_c, self.recurrent(new_h), n
            elif flag == self.stop:
                serving = False
            else:
                spins += 1
                if spins > idle_spins:
                    if flag == self.idle:
                        ctrl[0] = self.gone
                    # (with DONE up, its outputs not yet taken, it leaves without a word: the
                    # waiter still finds DONE, and the next step starts a thread)
                    serving = False
        return served


class OnednnF32Step(StepMaths):
    """float32 weights in oneDNN's packed layout (`bot.stepper.pack`); a lone row goes as a pair."""

    def product(self, x: Tensor, k: int) -> Tensor:
        return torch.ops.mkldnn._linear_pointwise(x, self.weights[k][0], None, "none", [], "")


class RowsF32Step(StepMaths):
    """float32 without oneDNN: each row alone (a matrix-vector product), the same in any batch."""

    def product(self, x: Tensor, k: int) -> Tensor:
        w = self.weights[k][0]
        return torch.cat([F.linear(x[i : i + 1], w) for i in range(x.shape[0])])


class Bf16Step(StepMaths):
    """bfloat16 weights: oneDNN's bfloat16 linear gives a row the same bits in any batch."""

    def product(self, x: Tensor, k: int) -> Tensor:
        return F.linear(x, self.weights[k][0])


class Int8Step(StepMaths):
    """int8 weights w[0] (N, K) with a bfloat16 scale per row w[1]; bfloat16 inputs."""

    def product(self, x: Tensor, k: int) -> Tensor:
        w = self.weights[k]
        return int8_product(x, w[0], w[1])


class Int4Step(StepMaths):
    """4-bit weights in the kernel's packing w[0], each group's scale and zero w[1]; bfloat16 inputs."""

    def product(self, x: Tensor, k: int) -> Tensor:
        w = self.weights[k]
        return int4_product(x, w[0], w[1])


def int8_product(x: Tensor, q: Tensor, scale: Tensor) -> Tensor:
    """x (B, K) bfloat16 @ (int8 q (N, K) * scale[:, None]).T -> (B, N) bfloat16."""
    return torch.ops.aten._weight_int8pack_mm(x, q, scale)


def int4_product(x: Tensor, packed: Tensor, scales: Tensor) -> Tensor:
    """x (B, K) bfloat16 @ (4-bit weight, rows padded to 16s).T -> (B, padded N) bfloat16."""
    return torch.ops.aten._weight_int4pack_mm_for_cpu(x, packed, 32, scales)  # 32: INT4_GROUP


class W8A8Step(StepMaths):
    """int8 weights with a scale per row, in fbgemm's packing (`bot.stepper.W8A8Weight`), times
    int8 inputs on one fixed scale: each product is integer dot products (VNNI), exact in int32,
    then scaled to float32 per element, so a row's result is the same alone or in any batch.

    The inputs can share one fixed scale because every product's input is an LSTM h, which is
    o * tanh(c), inside (-1, 1) by construction: 1/127 per step around 128 maps it onto 1..255
    with nothing clipped. (A scale read from the inputs, as fbgemm's dynamic linear does, would
    be one per batch, so a row's bits would depend on its neighbours.)"""

    input_scale: Final[float]
    input_zero: Final[int]

    def __init__(self, hidden: int, input0: Tensor, packed: List[torch.classes.quantized.LinearPackedParamsBase],
                 b_upper: List[Tensor], b_out: Tensor, rows_out: int):
        super().__init__(hidden, input0, [], b_upper, b_out, rows_out)
        self.input_scale, self.input_zero = W8A8_INPUT_SCALE, W8A8_INPUT_ZERO
        self.packed: List[torch.classes.quantized.LinearPackedParamsBase] = packed

    def product(self, x: Tensor, k: int) -> Tensor:
        return torch.ops.quantized.linear_with_input_q_dq_qweight_dq_output_fp32(
            x, self.input_scale, self.input_zero, self.packed[k])



def w8a8_pack(w: Tensor) -> torch.ScriptObject:
    """A float weight (N, K) as int8 rows with a float32 scale each (symmetric: its largest
    magnitude at 127), packed for fbgemm's product (W8A8Step)."""
    w = w.detach().float().contiguous()
    scale = (w.abs().amax(1) / 127).clamp_min(1e-12).double()
    engine = torch.backends.quantized.engine
    with warnings.catch_warnings():
        # torch 2.13 marks quantized tensors deprecated; fbgemm's packing still takes one, and
        # `bot.compute.w8a8_available` packs a weight to check it still does.
        warnings.filterwarnings("ignore", message=r".*quantized tensor creation functions.*")
        try:
            torch.backends.quantized.engine = "fbgemm"  # the packing follows the engine set
            q = torch.quantize_per_channel(w, scale, torch.zeros(w.shape[0], dtype=torch.long), 0, torch.qint8)
            return torch.ops.quantized.linear_prepack(q, None)
        finally:
            torch.backends.quantized.engine = engine
