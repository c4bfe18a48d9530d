"""Render music21's folk collections through bot.render and report robustness and speed.

    python bench/render_corpus.py                 # a fixed random 1,000 tunes (seed 0)
    python bench/render_corpus.py --sample 300 --seed 1
    python bench/render_corpus.py --generated 60     # tunes the shipped model writes
    python bench/render_corpus.py --all           # every tune (about 12,900; long)
    python bench/render_corpus.py --bot-form      # training tunes in the bot's form (X:1 + normalised)

Prints the success rate, failures grouped by reason, which repairs were needed, render time
per second of audio, and the real-time factor of a 16-bar tune including FluidSynth start-up.
Renders run through render() from `--jobs` threads, exactly as the app calls it; each render
is its own child process, so at most `--jobs` (<= 2) processes render at once.
"""

from __future__ import annotations

import argparse
import random
import re
import statistics
import sys
import tempfile
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.machine import describe as machine  # noqa: E402
from bot.corpus import (  # noqa: E402
    COLLECTIONS,
    abc_files,
    load_corpus,
    music21_corpus_dir,
    read_abc_file,
)
from bot.render import RenderError, RenderSettings, render  # noqa: E402

# A 16-bar reel (8 bars written, repeated) for the real-time factor: 26.7 s at 144 BPM.
SIXTEEN_BARS = """X:1
T:Speed test
M:4/4
L:1/8
Q:1/4=144
R:reel
K:D
|:d2fd Adfd|g2bg fgaf|e2ge cege|fedc d2de|
fdAF DFAd|gfge fdec|dcBA GFED|1 EFGE D3E:|2 EFGE D4|]
"""


def corpus_tunes() -> list[tuple[str, str]]:
    """(label, raw ABC) for every tune in the collections, in a fixed order."""
    root = music21_corpus_dir()
    tunes = []
    for collection in COLLECTIONS:
        for path in abc_files(root / collection):
            for i, tune in enumerate(read_abc_file(path)):
                tunes.append((f"{collection}/{path.name}#{i + 1}", tune))
    return tunes


def bot_form_tunes() -> list[tuple[str, str]]:
    """(label, "X:1" + normalised tune) for every training tune: what the generator emits."""
    return [(f"train#{i + 1}", "X:1\n" + tune) for i, tune in enumerate(load_corpus().train)]


def generated_tunes(count: int) -> list[tuple[str, str]]:
    """(label, ABC) for `count` tunes the shipped model writes (temperature 1.0, seeds 0..count-1)."""
    from bot.generate import Settings, compose

    prompts = ["", "a jig in D", "a reel in G", "a slow air in E minor", "a hornpipe in A", "a waltz in F"]
    tunes = []
    for seed in range(count):
        prompt = prompts[seed % len(prompts)]
        *_, last = compose(prompt, Settings(seed=seed))
        tunes.append((f"generated seed {seed} {prompt!r}", last.abc))
    return tunes


def reason_key(message: str) -> str:
    """A failure message with its specifics (numbers, quoted values) blanked, for grouping."""
    key = re.sub(r"'[^']*'|\"[^\"]*\"", "'…'", message)
    key = re.sub(r"\d+(\.\d+)?", "N", key)
    return key[:110]


def repair_key(note: str) -> str:
    """The kind of a repair note, without the music21 message in brackets."""
    return re.sub(r"\s*\(.*", "", note)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    which = parser.add_mutually_exclusive_group()
    which.add_argument("--all", action="store_true", help="render every tune in the collections")
    which.add_argument("--sample", type=int, default=1000,
                       help="render this many tunes picked at random (default 1000)")
    parser.add_argument("--seed", type=int, default=0, help="seed for the random sample (default 0)")
    parser.add_argument("--bot-form", action="store_true",
                        help="normalised training tunes with X:1 (the bot's own form), not raw ones")
    which.add_argument("--generated", type=int, default=0,
                       help="instead, render this many tunes written by the shipped model")
    parser.add_argument("--jobs", type=int, default=2, choices=(1, 2),
                        help="renders at once (default 2)")
    parser.add_argument("--ogg", action="store_true",
                        help="also encode the OGG copy in the corpus run (slower)")
    parser.add_argument("--speed-runs", type=int, default=5,
                        help="renders of the 16-bar tune to time (default 5)")
    args = parser.parse_args()
    print(machine(), flush=True)

    if args.generated:
        tunes = generated_tunes(args.generated)
    else:
        tunes = bot_form_tunes() if args.bot_form else corpus_tunes()
    if not args.all and not args.generated:
        tunes = random.Random(args.seed).sample(tunes, min(args.sample, len(tunes)))
    settings = RenderSettings(compress=args.ogg)
    kind = "generated" if args.generated else "bot-form training" if args.bot_form else "raw corpus"
    which = ("model seeds 0.." + str(args.generated - 1)) if args.generated else "all" if args.all else f"sample, seed {args.seed}"
    print(f"rendering {len(tunes):,} {kind} tunes ({which}), {args.jobs} at a time")

    with tempfile.TemporaryDirectory(prefix="render-bench-") as tmp:
        out = Path(tmp)
        # Start the render server before timing anything.
        render(SIXTEEN_BARS, out, settings, stem="warm")

        def one(item: tuple[int, tuple[str, str]]):
            index, (label, abc) = item
            start = time.perf_counter()
            try:
                done = render(abc, out, settings, stem=f"t{index}")
            except RenderError as err:
                return label, None, str(err), time.perf_counter() - start
            wall = time.perf_counter() - start
            for path in (done.midi, done.wav, done.compressed):
                if path is not None:
                    path.unlink(missing_ok=True)
            return label, done, "", wall

        started = time.perf_counter()
        with ThreadPoolExecutor(max_workers=args.jobs) as pool:
            results = list(pool.map(one, enumerate(tunes)))
        elapsed = time.perf_counter() - started

        ok = [(label, done, wall) for label, done, _, wall in results if done is not None]
        failed = [(label, error) for label, done, error, _ in results if done is None]
        print(f"\nsuccess: {len(ok):,}/{len(results):,} = {100 * len(ok) / len(results):.2f}% "
              f"(non-silent audio; {elapsed:.0f} s wall)")
        if failed:
            print("failures by reason:")
            groups = Counter(reason_key(error) for _, error in failed)
            for key, count in groups.most_common():
                example = next(label for label, error in failed if reason_key(error) == key)
                print(f"  {count:5d}  {key}   e.g. {example}")
        repairs = Counter(repair_key(note) for _, done, _ in ok for note in done.notes)
        engines = Counter(done.engine for _, done, _ in ok)
        print("engines: " + ", ".join(f"{name} {count}" for name, count in engines.most_common()))
        if repairs:
            print("repairs:")
            for key, count in repairs.most_common():
                print(f"  {count:5d}  {key}")
        audio = sum(done.seconds for _, done, _ in ok)
        busy = sum(wall for _, _, wall in ok)
        steps = Counter()
        for _, done, _ in ok:
            steps.update(done.timings)
        print(f"audio rendered: {audio / 60:.1f} min; render time per second of audio: "
              f"{1000 * busy / audio:.1f} ms (each render timed alone, {args.jobs} at a time)")
        cpu = steps.pop("cpu", 0.0)
        per_step = ", ".join(f"{k} {1000 * v / audio:.1f} ms" for k, v in steps.items())
        print(f"  in the child, per second of audio: {per_step}; CPU {1000 * cpu / audio:.1f} ms")

        print("\n16-bar tune, one render at a time, FluidSynth start-up included:")
        for compress in (False, True):
            walls, cpus, seconds = [], [], 0.0
            for _ in range(args.speed_runs):
                start = time.perf_counter()
                done = render(SIXTEEN_BARS, out, RenderSettings(compress=compress), stem="speed")
                walls.append(time.perf_counter() - start)
                cpus.append(done.timings["cpu"])
                seconds = done.seconds
            wall, cpu = statistics.median(walls), statistics.median(cpus)
            label = "WAV + OGG" if compress else "WAV only "
            # Wall time depends on how busy the cores are; CPU time is the render's own cost.
            print(f"  {label}: {seconds:.1f} s of audio in {wall:.3f} s wall = {seconds / wall:.0f}x "
                  f"real time; {cpu:.3f} s CPU = {seconds / cpu:.0f}x (median of {args.speed_runs})")


if __name__ == "__main__":
    main()
