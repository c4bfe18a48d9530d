"""How good are sampled tunes? Bar-controlled decoding beside plain sampling, same prompts and seeds.

    python bench/sample_quality.py                 # 10 prompts x 10 seeds at temperature 1.0
    python bench/sample_quality.py --checkpoint checkpoints/mine --seeds 3

For each mode it prints: % of bars exact as counted by abc2midi (its "Bar N has X time units"
warnings, a count independent of bot/bars.py), % of tunes with every bar exact, % that
music21 parses, % that end with a final bar line (`|]` or `:|`), and the longest run of
characters any tune shares with a training tune. The total number of bars comes from
bot/bars.py (bars holding notes); abc2midi only names the wrong ones.
"""

from __future__ import annotations

import argparse
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.machine import describe as machine  # noqa: E402
import torch  # noqa: E402

from bot.notation.bars import Timing, audit, measure, split_bars  # noqa: E402
from bot.generate import Settings, generate  # noqa: E402

PROMPTS = (
    "surprise me", "a jig in D", "a reel in G", "a hornpipe in A", "a polka in D",
    "a waltz in G", "a slip jig in E minor", "an air in A minor", "a march in C", "a strathspey in A",
)


def abc2midi_bad_bars(abc: str, folder: Path) -> set[int] | None:
    """Bar numbers abc2midi says have the wrong number of time units (None if it failed to run)."""
    path = folder / "tune.abc"
    path.write_text(abc)
    try:
        run = subprocess.run(["abc2midi", str(path), "-o", str(folder / "tune.mid")],
                             capture_output=True, text=True, errors="replace", timeout=30)
    except (subprocess.TimeoutExpired, FileNotFoundError):
        return None
    return {int(m.group(1)) for m in re.finditer(r"Bar (\d+) has \S+ time units", run.stdout + run.stderr)}


def music21_parses(abc: str) -> bool:
    """Whether music21 reads the tune into a score with notes."""
    from music21 import converter

    try:
        score = converter.parseData(abc, format="abc")
        return len(score.flatten().notes) > 0
    except Exception:  # music21 raises many kinds; any of them is a failure to parse
        return False


def body_and_timing(abc: str) -> tuple[str, Timing]:
    """The music after the K: line, and the M:/L: it starts with."""
    head, _, body = abc.partition("\nK:")
    body = body.split("\n", 1)[1] if "\n" in body else ""
    meter = re.search(r"(?m)^M:(.*)$", head).group(1).strip()
    unit = re.search(r"(?m)^L:\s*(\d+)/(\d+)", head)
    from fractions import Fraction

    return body, Timing(meter, Fraction(int(unit.group(1)), int(unit.group(2))))


def longest_shared_run(text: str, corpus: str) -> int:
    """Length of the longest substring of `text` found anywhere in `corpus` (tunes joined by NUL)."""
    best, i = 0, 0
    while i + best < len(text):
        if text[i : i + best + 1] in corpus:
            best += 1  # a longer shared run starts at i
        else:
            i += 1
    return best


def run_mode(label: str, bar_check: bool, args, loaded, corpus: str, folder: Path) -> dict:
    bars = bad = exact_tunes = parsed = ended = own_exact = own_bars = 0
    runs, chars, seconds = [], 0, 0.0
    tunes = []
    for prompt in PROMPTS:
        for seed in range(args.first_seed, args.first_seed + args.seeds):
            settings = Settings(temperature=args.temperature, seed=seed, bar_check=bar_check, bars=args.bars)
            start = time.perf_counter()
            tune = generate(prompt, settings, loaded)
            seconds += time.perf_counter() - start
            tunes.append(tune.abc)
            body, timing = body_and_timing(tune.abc)
            n_bars = sum(1 for text, _ in split_bars(body) if measure(text, timing).elements)
            warned = abc2midi_bad_bars(tune.abc, folder)
            warned = set(range(n_bars)) if warned is None else warned
            bars += n_bars
            bad += min(len(warned), n_bars)
            exact_tunes += not warned
            verdicts = [v for v in audit(body, timing) if v.kind != "empty"]
            own_bars += len(verdicts)
            own_exact += sum(v.ok for v in verdicts)
            parsed += music21_parses(tune.abc)
            ended += tune.abc.rstrip().endswith(("|]", ":|"))
            runs.append(longest_shared_run(body, corpus))
            chars += len(body)
    n = len(tunes)
    return {
        "mode": label, "tunes": n,
        "bars exact (abc2midi)": 100 * (1 - bad / max(1, bars)),
        "tunes all bars exact": 100 * exact_tunes / n,
        "music21 parses": 100 * parsed / n,
        "ends with final bar": 100 * ended / n,
        "longest shared run": max(runs),
        "median shared run": statistics.median(runs),
        "bars exact (own check)": 100 * own_exact / max(1, own_bars),
        "bars per tune": bars / n,
        "chars per tune": chars / n,
        "seconds per tune": seconds / n,
        "tunes_text": tunes,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--checkpoint", default=None, help="checkpoint stem (default: the shipped one)")
    parser.add_argument("--seeds", type=int, default=10, help="seeds per prompt (default 10: 100 tunes)")
    parser.add_argument("--first-seed", type=int, default=1, help="seeds are first-seed, first-seed+1, ... (default 1)")
    parser.add_argument("--bars", type=int, default=16, help="bars per tune (default 16)")
    parser.add_argument("--temperature", type=float, default=1.0, help="sampling temperature (default 1.0)")
    parser.add_argument("--out", default=None, help="folder to write the sampled tunes into (optional)")
    args = parser.parse_args(argv)
    print(machine(), flush=True)

    from bot.checkpoint import DEFAULT_CHECKPOINT, load
    from bot.corpus import load_corpus

    torch.set_num_threads(1)
    stem = args.checkpoint or str(DEFAULT_CHECKPOINT)
    loaded = load(stem)
    card = loaded.card
    print(f"checkpoint {stem}: steps {card.get('steps')}, epochs {card.get('epochs')}, "
          f"held-out {card.get('validation', {}).get('bits_per_char')} bits/char")
    corpus = "\0".join(load_corpus().train)
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        for label, check in (("bar-checked", True), ("plain sampling", False)):
            results.append(run_mode(label, check, args, loaded, corpus, Path(tmp)))
    if args.out:
        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        for result in results:
            name = result["mode"].replace(" ", "_")
            (out / f"{name}.abc").write_text("\n".join(result["tunes_text"]))
    keys = [k for k in results[0] if k not in ("mode", "tunes_text")]
    print(f"{'':28s}" + "".join(f"{r['mode']:>18s}" for r in results))
    for key in keys:
        cells = "".join(f"{r[key]:>18.1f}" if isinstance(r[key], float) else f"{r[key]:>18}" for r in results)
        print(f"{key:28s}{cells}")
    goals = results[0]
    met = (goals["bars exact (abc2midi)"] >= 99.5 and goals["tunes all bars exact"] >= 95
           and goals["music21 parses"] == 100 and goals["ends with final bar"] >= 95 and goals["longest shared run"] < 40)
    print("goals (>=99.5% bars, >=95% tunes exact, 100% parse, >=95% end, run < 40):", "met" if met else "NOT met")
    return 0


if __name__ == "__main__":
    sys.exit(main())
