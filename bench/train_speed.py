"""Training throughput of bot.train's step against a bare nn.LSTM forward+backward.

    python bench/train_speed.py [--steps 20] [--threads 1]

Both run in this process on the same batch shape (TrainConfig defaults: batch x seq chars,
embedding-wide input, hidden x layers) and the same precision (the training path's: bf16 autocast when the
config uses it). The bare baseline has no embedding, dropout, output layer, loss, clipping
or optimiser: the ratio says how much of the LSTM's speed the full training step keeps.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.compute import training_path  # noqa: E402
from bench.machine import describe as machine  # noqa: E402
from bot.model import CharLSTM, ModelConfig  # noqa: E402
from bot.train import TrainConfig, make_optimizer, train_step  # noqa: E402

VOCAB = 87  # the shipped alphabet's size


def chars_per_second(step, steps: int, chars: int) -> float:
    """Median-free simple rate: warm up twice, then time `steps` calls."""
    for _ in range(2):
        step()
    start = time.perf_counter()
    for _ in range(steps):
        step()
    return steps * chars / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=20, help="timed steps per contender")
    parser.add_argument("--threads", type=int, default=TrainConfig.threads, help="torch threads (training default)")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds; the best of each is kept")
    args = parser.parse_args()
    print(machine(), flush=True)
    torch.set_num_threads(args.threads)
    config = TrainConfig()
    path = training_path(config.precision)
    torch.manual_seed(0)
    rows, seq = config.batch, config.seq
    tokens = torch.randint(0, VOCAB, (rows, seq + 1))
    x, y = tokens[:, :-1], tokens[:, 1:]

    model = CharLSTM(ModelConfig(VOCAB, config.embedding, config.hidden, config.layers, config.dropout)).train()
    optimizer = make_optimizer(model, config)
    state = [None]

    def ours():
        *_, state[0] = train_step(model, optimizer, x, y, state[0], path, config)

    bare = torch.nn.LSTM(config.embedding, config.hidden, config.layers, batch_first=True)
    inputs = torch.randn(rows, seq, config.embedding)

    def baseline():
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=path.bfloat16):
            out, _ = bare(inputs)
        out.float().sum().backward()

    # Alternate the two so drift in machine load hits both alike; keep each one's best round.
    best = {"ours": 0.0, "bare": 0.0}
    for _ in range(args.rounds):
        best["bare"] = max(best["bare"], chars_per_second(baseline, args.steps, rows * seq))
        best["ours"] = max(best["ours"], chars_per_second(ours, args.steps, rows * seq))
    print(f"batch {rows} x {seq} chars, LSTM {config.layers}x{config.hidden} (input {config.embedding}), "
          f"{path.name}, threads={args.threads}")
    print(f"bare nn.LSTM forward+backward: {best['bare']:,.0f} chars/s")
    print(f"bot.train step (embedding, dropout, head, loss, clip, AdamW): {best['ours']:,.0f} chars/s")
    print(f"ratio: {best['ours'] / best['bare']:.3f}")
    print(f"AdamW step alone: fused (as training uses) {optimizer_ms(model, fused=True):.1f} ms, "
          f"per-tensor loop {optimizer_ms(model, fused=False):.1f} ms")


def optimizer_ms(model, fused: bool, steps: int = 20) -> float:
    """Milliseconds per AdamW step over the model's current gradients."""
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4, fused=fused)
    for _ in range(3):
        optimizer.step()
    start = time.perf_counter()
    for _ in range(steps):
        optimizer.step()
    return (time.perf_counter() - start) / steps * 1000


if __name__ == "__main__":
    main()
