"""Which matrix-product kernel would make the LSTM step faster here? Timings of the step's three
products (the shipped model's shapes, batch 1, one thread) with the kernels torch offers.

    python bench/step_kernels.py
    python bench/step_kernels.py --quality      # also held-out bits/char of 4-bit weights

For each kernel: each product alone (its weights hot in the caches) and the three in a chain,
as a step reads them (3.2 MB of int8 weights do not fit one core's L2 on the machines we use):

* ATen's `_weight_int8pack_mm` (the int8 path's, `bot.stepper`: int8 rows, bfloat16 scales);
* ATen's `_weight_int4pack_mm_for_cpu` (4-bit weights, groups of 32 and 128 along a row);
* fbgemm's dynamic int8 linear (`torch.ao`: it quantizes the input per tensor, so a row's
  result would depend on the batch it is in, which `bot.engine` must not allow);
* fbgemm's int8 linear with the input on one fixed scale (the w8a8 path's, `bot.step_maths.W8A8Step`:
  every input is an LSTM h, inside (-1, 1), so no scale depends on the batch; AVX-512 VNNI only);
* oneDNN bfloat16 and float32 linear, as the other paths use them.

With --quality: held-out bits/char of the float model with its products' weights rounded to 4
bits (groups of 32 and 128), against the float weights: the int8 path's rule is at most 0.01.
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.machine import describe  # noqa: E402


def best_us(fn, n: int = 2000, rounds: int = 5) -> float:
    """Microseconds per call, best of `rounds` runs of `n` calls (other work only slows a run)."""
    for _ in range(50):
        fn()
    best = float("inf")
    for _ in range(rounds):
        start = time.perf_counter()
        for _ in range(n):
            fn()
        best = min(best, (time.perf_counter() - start) / n)
    return best * 1e6


def int4_weight(w, group: int):
    """(packed weight, scales and zeros) for `_weight_int4pack_mm_for_cpu`: asymmetric 4-bit per
    group; rows padded with zeros to a multiple of 16, as the kernel needs (the head's 87)."""
    import torch

    w = torch.cat([w, w.new_zeros(-w.shape[0] % 16, w.shape[1])])
    n, k = w.shape
    x = w.view(n, k // group, group)
    low, high = x.amin(-1, keepdim=True), x.amax(-1, keepdim=True)
    scale = ((high - low) / 15).clamp_min(1e-6)
    q = torch.round((x - low) / scale).clamp(0, 15).to(torch.int32).view(n, k)
    zero = low + 8 * scale  # the kernel reads (q - 8) * scale + zero
    scales = torch.stack([scale.view(n, k // group), zero.view(n, k // group)], -1).transpose(0, 1)
    return torch.ops.aten._convert_weight_to_int4pack_for_cpu(q, 1), scales.contiguous().to(torch.bfloat16)


def fake_int4(w, group: int):
    """The weight as 4-bit groups would hold it, in float."""
    import torch

    n, k = w.shape
    x = w.view(n, k // group, group)
    low, high = x.amin(-1, keepdim=True), x.amax(-1, keepdim=True)
    scale = ((high - low) / 15).clamp_min(1e-12)
    return (torch.round((x - low) / scale).clamp(0, 15) * scale + low).view(n, k)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quality", action="store_true", help="also held-out bits/char of 4-bit weights (about 1 min)")
    args = parser.parse_args(argv)
    import torch

    from bot.checkpoint import load
    from bot.compute import w8a8_available
    from bot.step_maths import int8_product
    from bot.stepper import Int8Weight, stepper_for

    print(describe())
    torch.set_num_threads(1)
    loaded = load()
    stepper = stepper_for(loaded.model)
    lstm, head = loaded.model.lstm, loaded.model.head
    weights = [lstm.weight_hh_l0.detach().float(),
               torch.cat([lstm.weight_ih_l1, lstm.weight_hh_l1], 1).detach().float(),
               head.weight.detach().float()]
    shapes = [tuple(w.shape) for w in weights]
    xs = [torch.randn(1, w.shape[1]) for w in weights]
    xb = [x.to(torch.bfloat16) for x in xs]
    kernels = {}
    q8 = [Int8Weight.of(w) for w in weights]
    kernels["int8, ATen (the int8 path's)"] = [lambda q=q, x=x: int8_product(x, q.q, q.scale) for q, x in zip(q8, xb)]
    for group in (32, 128):
        q4 = [int4_weight(w, group) for w in weights]
        kernels[f"int4 groups of {group}, ATen"] = [
            lambda p=p, x=x, g=group: torch.ops.aten._weight_int4pack_mm_for_cpu(x, p[0], g, p[1]) for p, x in zip(q4, xb)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch.ao's deprecation notices
        dynamic = []
        for w in weights:
            linear = torch.nn.Linear(w.shape[1], w.shape[0], bias=False)
            linear.weight.data.copy_(w)
            dynamic.append(torch.ao.quantization.quantize_dynamic(torch.nn.Sequential(linear), {torch.nn.Linear},
                                                                  dtype=torch.qint8)[0])
    kernels["int8 dynamic, fbgemm (batch-dependent)"] = [lambda m=m, x=x: m(x) for m, x in zip(dynamic, xs)]
    available, missing = w8a8_available()
    if available:  # the w8a8 path's: fbgemm's int8 product with the inputs on one fixed scale
        from bot.step_maths import W8A8_INPUT_SCALE, W8A8_INPUT_ZERO
        from bot.stepper import W8A8Weight

        w8 = [W8A8Weight.of(w).packed for w in weights]
        hs = [torch.rand(1, w.shape[1]) * 2 - 1 for w in weights]  # an h: inside (-1, 1)
        kernels["int8 x int8 fixed scale, fbgemm (w8a8)"] = [
            lambda p=p, x=x: torch.ops.quantized.linear_with_input_q_dq_qweight_dq_output_fp32(
                x, W8A8_INPUT_SCALE, W8A8_INPUT_ZERO, p) for p, x in zip(w8, hs)]
    else:
        print(f"w8a8's product not timed: {missing}")
    bf16 = [w.to(torch.bfloat16) for w in weights]
    kernels["bfloat16, oneDNN"] = [lambda w=w, x=x: torch.nn.functional.linear(x, w) for w, x in zip(bf16, xb)]
    kernels["float32"] = [lambda w=w, x=x: torch.nn.functional.linear(x, w) for w, x in zip(weights, xs)]

    print(f"products per step: {' , '.join(f'{n}x{k}' for n, k in shapes)}; one thread, batch 1; "
          f"this path ({stepper.path.name}) reads {stepper.bytes_per_step / 1e6:.1f} MB a step")
    print(f"{'kernel':42s}" + "".join(f"{f'{n}x{k} alone':>16s}" for n, k in shapes) + f"{'chain of 3':>14s}")
    for name, calls in kernels.items():
        alone = [best_us(call) for call in calls]

        def chain(calls=calls):
            for call in calls:
                call()

        print(f"{name:42s}" + "".join(f"{us:13.1f} us" for us in alone) + f"{best_us(chain):11.1f} us")
    state = stepper.zero(1)
    print(f"the whole step on this machine's path ({stepper.path.name}), bot.stepper: "
          f"{best_us(lambda: stepper.step(stepper.token[3], state)):.1f} us")
    torch.set_num_threads(2)
    print(f"the same with 2 torch threads: {best_us(lambda: stepper.step(stepper.token[3], state)):.1f} us "
          "(the chat keeps one: a render on the other core would stall the OpenMP team)")
    torch.set_num_threads(1)
    if args.quality:
        import copy

        from bench.path_quality import held_out_ids
        from bot.evaluate import score

        model = loaded.model.float().eval()
        ids = held_out_ids(loaded, 20_000)
        base = score(model, ids)["bits_per_char"]
        print(f"held-out bits/char (first 20,000 characters), float weights: {base:.4f}")
        for group in (32, 128):
            rounded = copy.deepcopy(model)
            with torch.no_grad():
                for name in ("weight_hh_l0", "weight_ih_l1", "weight_hh_l1"):
                    getattr(rounded.lstm, name).copy_(fake_int4(getattr(rounded.lstm, name), group))
                rounded.head.weight.copy_(fake_int4(rounded.head.weight, group))
            print(f"  4-bit weights, groups of {group}: {score(rounded, ids)['bits_per_char'] - base:+.4f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
