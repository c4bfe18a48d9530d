"""Which size and regularisation of char-LSTM to train (issue 18): candidates side by side, one run.

    python bench/capacity.py                      # trains the candidates (about 70 min on 2 cores), then scores
    python bench/capacity.py --epochs 1 --only base    # smoke run
    python bench/capacity.py --score-only         # score what an earlier run left in --dir

Each candidate is trained by the same command the shipped model was (`torchrun
--nproc_per_node 2 -m bot.train`), on the same corpus and split, with the same short schedule
(`--epochs`, the learning rate's warm-up and cosine fitted to it), so that they differ only in
size or regularisation. A full recipe of 26 epochs per candidate does not fit a session, so
this is a proxy: it ranks the candidates at equal training, and the shipped model (26
epochs) is printed beside them for scale. Every run resumes where an interrupted one
stopped, and a finished one is not trained again.

Each is then scored on the validation split the training chose by (the new corpus's held-out
tunes) and on the NMD test split, model view, all on the same tunes; with the seconds per
epoch, the parameter count and the train-minus-held-out gap (dropout on in the train figure).
Last, each one's generation speed against the shipped model's, in turns (`speed_lines`).
"""

from __future__ import annotations

import argparse
import shlex
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.machine import describe as machine  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DIR = ROOT / "bench" / "out" / "capacity"  # bench/out/ is in .gitignore: candidates are never committed
# name -> the bot.train flags that make it; "base" is the shipped model's settings.
CANDIDATES = {
    "base": [],
    "dropout0.5": ["--dropout", "0.5"],
    "wd0.2": ["--weight-decay", "0.2"],
    "3x512": ["--layers", "3"],
    "2x768": ["--hidden", "768"],
}


def train(name: str, flags: list[str], args) -> None:
    """Train one candidate unless a finished run is there; resume an interrupted one."""
    stem = Path(args.dir) / name
    done, log_path = stem.parent / (name + ".done"), stem.parent / (name + ".log")
    if done.is_file():
        print(f"{name}: trained earlier ({done})", flush=True)
        return
    command = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", str(args.ranks), "-m", "bot.train",
               "--epochs", str(args.epochs), "--out", str(stem), *flags]
    if (stem.parent / (stem.name + "_run") / "state.pt").is_file():
        command.append("--resume")
    print(f"{name}: " + " ".join(shlex.quote(c) for c in command), flush=True)
    with open(log_path, "ab") as log:
        result = subprocess.run(command, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
    if result.returncode:
        raise SystemExit(f"{name}: training failed (exit {result.returncode}); see {log_path}")
    done.write_text(time.strftime("%Y-%m-%d %H:%M:%S\n"))


def held_out_sets(corpus) -> list[tuple[str, list[str]]]:
    """The validation split the runs chose by, and the NMD test split, both model view."""
    from bot import nmd
    from bot.evaluate import view_of
    from bot.notation.abc import AbcError, normalise

    nmd_tunes = []
    for tune in nmd.read():
        if tune.split == "test":
            try:
                nmd_tunes.append(view_of(normalise(tune.text)))
            except AbcError:
                pass  # the same few tunes for every model: normalise alone decides
    return [("validation", [view_of(t) for t in corpus.held_out]), ("NMD test", nmd_tunes)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--dir", default=str(DEFAULT_DIR.relative_to(ROOT)),
                        help=f"where the candidates' checkpoints go, relative to the repo root unless absolute "
                             f"(default {DEFAULT_DIR.relative_to(ROOT)}, ignored by git)")
    parser.add_argument("--epochs", type=int, default=5, help="epochs per candidate (default 5)")
    parser.add_argument("--ranks", type=int, default=2, help="torchrun ranks (default 2)")
    parser.add_argument("--only", action="append", choices=sorted(CANDIDATES), help="train and score only these (repeatable)")
    parser.add_argument("--shipped", default=str(ROOT / "checkpoints" / "abc_lstm"), help="the shipped checkpoint, printed for scale")
    parser.add_argument("--score-only", action="store_true", help="score the finished candidates in --dir, train nothing")
    parser.add_argument("--no-speed", action="store_true", help="skip the generation speed comparison")
    parser.add_argument("--speed-rounds", type=int, default=8, help="rounds of the speed comparison (default 8)")
    args = parser.parse_args(argv)
    names = args.only or list(CANDIDATES)
    args.dir = str(Path(args.dir) if Path(args.dir).is_absolute() else ROOT / args.dir)
    if args.score_only and not any((Path(args.dir) / f"{name}.done").is_file() for name in names):
        parser.error(f"--score-only: no finished candidate in {args.dir}; train them first (without "
                     "--score-only), or give --dir the folder an earlier run wrote")
    Path(args.dir).mkdir(parents=True, exist_ok=True)
    print(machine())
    print("command: " + " ".join(shlex.quote(a) for a in [sys.executable, *sys.argv]), flush=True)
    if not args.score_only:
        for name in names:
            train(name, CANDIDATES[name], args)

    import torch

    from bot.checkpoint import load
    from bot.corpus import join_tunes, load_corpus
    from bot.evaluate import encodable, score

    torch.set_num_threads(2)
    models = {}
    for name in names:
        if (Path(args.dir) / f"{name}.done").is_file():
            models[name] = load(Path(args.dir) / name)
        else:
            print(f"{name}: not trained to the end, left out")
    models["shipped (26 epochs)"] = load(args.shipped)
    corpus = load_corpus()
    sets = held_out_sets(corpus)
    print(f"\nHeld-out bits per character, model view, every model on the same tunes (epochs: {args.epochs} each, shipped 26)")
    header = f"{'candidate':22s}{'size':>8s}{'dropout':>8s}{'wd':>6s}{'params':>10s}{'s/epoch':>9s}"
    texts = {}
    for set_name, tunes in sets:
        for loaded in models.values():
            tunes, _ = encodable(tunes, loaded.vocab)
        texts[set_name] = (join_tunes(tunes), len(tunes))
        header += f"{set_name:>14s}"
    print(header + f"{'train gap':>11s}")
    rows = {}
    for name, loaded in models.items():
        card, training = loaded.card, loaded.card["training"]
        params = sum(p.numel() for p in loaded.model.parameters())
        per_epoch = card["wall_time_s"] / max(card["epochs"], 1e-9)
        bits = {}
        for set_name, (text, _) in texts.items():
            bits[set_name] = score(loaded.model, torch.tensor(loaded.encode(text), dtype=torch.long))["bits_per_char"]
        gap = _train_gap(Path(args.dir) / name if name in CANDIDATES else Path(args.shipped))
        rows[name] = bits
        print(f"{name:22s}{training['layers']}x{training['hidden']:<5d}{training['dropout']:8.2f}{training['weight_decay']:6.2f}"
              f"{params / 1e6:9.2f}M{per_epoch:9.0f}" + "".join(f"{bits[s]:14.4f}" for s in texts) + f"{gap:>11s}")
    print("  tunes scored: " + ", ".join(f"{s} {n}" for s, (_, n) in texts.items()))
    if not args.no_speed:
        speed_lines(models, args.speed_rounds)
    trained = {n: r for n, r in rows.items() if n in CANDIDATES}
    if trained:
        best = min(trained, key=lambda n: trained[n]["validation"])
        print(f"best on validation at {args.epochs} epochs: {best}"
              + (f"; on NMD test: {min(trained, key=lambda n: trained[n]['NMD test'])}" if len(texts) > 1 else ""))
    return 0


def speed_lines(models: dict, rounds: int) -> None:
    """Generation speed of each model against the shipped one, in turns (one torch thread, as the bot runs).

    Two figures: the fused step alone (the architecture's cost) and the whole generator on the
    same prompts and seeds (bar checks and retries included, so it also depends on the tunes
    each model writes). Each round times every model once, so a drift in the machine's speed
    falls on all; the ratio is against the shipped model, whose speed issue 18 asks to keep
    (a larger model within 0.8x).
    """
    import numpy as np
    import torch

    from bench.generate_speed import step_chars_per_second
    from bot.generate import Settings, generate
    from bot.stepper import stepper_for

    torch.set_num_threads(1)
    prompts = ("a reel in D", "a jig in G", "a hornpipe in A", "a waltz in D")
    steps = {name: stepper_for(loaded.model) for name, loaded in models.items()}
    step_rate = {name: [] for name in models}
    made = {name: [0, 0.0] for name in models}
    for loaded in models.values():
        generate("a jig in G", Settings(seed=0, bars=2), loaded)  # warm-up: masks and caches built once
    for round_ in range(rounds):
        for name, loaded in models.items():
            step_rate[name].append(step_chars_per_second(steps[name], 1000, np.random.default_rng(round_)))
            start = time.perf_counter()
            tune = generate(prompts[round_ % len(prompts)], Settings(seed=round_, bars=16), loaded)
            made[name][1] += time.perf_counter() - start
            made[name][0] += len(tune.abc) - tune.new_from
    shipped = next(n for n in models if n not in CANDIDATES)
    base_step = sum(step_rate[shipped]) / rounds
    base_gen = made[shipped][0] / made[shipped][1]
    print(f"\nGeneration speed against the shipped model, {rounds} rounds in turns, one torch thread")
    print(f"{'candidate':22s}{'step chars/s':>14s}{'ratio':>8s}{'generator chars/s':>19s}{'ratio':>8s}")
    for name in models:
        step = sum(step_rate[name]) / rounds
        gen = made[name][0] / made[name][1]
        print(f"{name:22s}{step:14,.0f}{step / base_step:8.2f}{gen:19,.0f}{gen / base_gen:8.2f}")


def _train_gap(stem: Path) -> str:
    """Held-out minus train bits per char at the best checkpoint's row of the curve CSV ('' if none)."""
    import csv

    curve = stem.parent / (stem.name + "_curve.csv")
    if not curve.is_file():
        return ""
    with open(curve) as f:
        history = list(csv.DictReader(f))
    best = min(history, key=lambda r: float(r["val_bpc"]))
    return f"{float(best['val_bpc']) - float(best['train_bpc']):+.3f}"


if __name__ == "__main__":
    sys.exit(main())
