"""Held-out bits per character of the sampling step on each compute path, on the same weights.

    python bench/path_quality.py                  # the held-out tunes, every path this machine runs
    python bench/path_quality.py --chars 20000    # the first 20,000 characters only

`bot.evaluate` scores the model as trained (nn.LSTM over whole rows); sampling runs the fused
step (`bot.stepper`) instead, in the precision of its compute path, and int8 weights change
its numbers, and int4 weights more. So here the text is fed through `Stepper.step` one character at a time (16 rows
of the stream side by side, each carrying its state, as `bot.evaluate.score` cuts it) and the
step's own logits are scored. An int8 or int4 path passes where its bits/char are within 0.01
of the float32 path's. The tunes are the held-out ones as the model reads them (`bot.evaluate.view_of`).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

from bot.compute import ComputeError, inference_path  # noqa: E402
from bot.stepper import Stepper  # noqa: E402


@torch.no_grad()
def score_steps(stepper: Stepper, ids: torch.Tensor, rows: int = 16) -> float:
    """Bits per character of `stepper`'s step logits on the id stream `ids`, cut into `rows`
    contiguous rows stepped side by side (only a row's first character lacks context)."""
    rows = max(1, min(rows, (len(ids) - 1) // 64 or 1))
    length = (len(ids) - 1) // rows
    x = ids[: rows * length].view(rows, length)
    y = ids[1 : rows * length + 1].view(rows, length)
    state, nll = stepper.zero(rows), 0.0
    for t in range(length):
        logits, state = stepper.step(x[:, t], state)
        nll += F.cross_entropy(logits, y[:, t], reduction="sum").item()
    return nll / (rows * length) / math.log(2)


def held_out_ids(loaded, chars: int | None = None) -> torch.Tensor:
    """The held-out tunes as the model reads them, encoded (the first `chars` ids when given)."""
    from bot.corpus import join_tunes, load_corpus
    from bot.evaluate import encodable, view_of

    kept, _ = encodable(load_corpus().held_out, loaded.vocab)
    ids = loaded.encode(join_tunes([view_of(t) for t in kept]))
    return torch.tensor(ids[:chars] if chars else ids, dtype=torch.long)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--checkpoint", default=None, help="checkpoint stem (default: the shipped one)")
    parser.add_argument("--chars", type=int, default=None, help="score only the first CHARS held-out characters (default: all)")
    parser.add_argument("--paths", nargs="+", default=["float32", "bfloat16", "int8", "int4", "w8a8"],
                        help="compute paths to score (default: float32 bfloat16 int8 int4 w8a8; those this machine refuses are skipped)")
    args = parser.parse_args(argv)
    from bench.machine import cpu_model
    from bot.checkpoint import DEFAULT_CHECKPOINT, load
    from bot.evaluate import score

    torch.set_num_threads(1)
    loaded = load(args.checkpoint or DEFAULT_CHECKPOINT)
    ids = held_out_ids(loaded, args.chars)
    print(f"CPU: {cpu_model()}; {len(ids)} held-out characters", flush=True)
    result = {"chars": len(ids), "nn.LSTM float32": round(score(loaded.model, ids)["bits_per_char"], 4)}
    for name in args.paths:
        try:
            path = inference_path(name)
        except ComputeError as err:
            print(f"{name}: skipped ({err})")
            continue
        start = time.perf_counter()
        result[path.name] = round(score_steps(Stepper(loaded.model, path), ids), 4)
        print(f"{path.name:14s} {result[path.name]:.4f} bits/char  ({time.perf_counter() - start:.0f} s)", flush=True)
    for weights in ("int8", "int4", "w8a8"):
        if f"cpu-{weights}" in result and "cpu-float32" in result:
            gap = result[f"cpu-{weights}"] - result["cpu-float32"]
            result[f"{weights} - float32"] = round(gap, 4)
            print(f"{weights} - float32: {gap:+.4f} bits/char ({'within' if abs(gap) <= 0.01 else 'OUTSIDE'} 0.01)")
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
