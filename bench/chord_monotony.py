"""Do the page's chords sit still too long? Issue 17's check on the shipped tunes at the page's defaults.

    python bench/chord_monotony.py [--seeds 10] [--show]

Ten prompts (dances in several meters, an air, minor and modal keys) x seeds 0-9, each written
the way the page writes a tune at its defaults: the chat's reading of the words
(bot.chat.intent.interpret), the page's default settings (bot.chat.options.Options: temperature
1.0, 16 bars, top-k off), the shipped language model (bot.generate.compose), the title, and the
chords the default accompaniment (guitar) adds (bot.chat.play.with_accompaniment ->
bot.harmonise, the shipped harmoniser). Each finished tune is then read back with its chords
(bot.harmony.reading) and every full 8-bar part is checked (bot.harmony.evaluate.held_parts):

    held        one chord starts more than 6 of the part's 8 bars (MONOTONY_BARS)
    fair        ... and at least MELODY_ON_CHORD of the melody's beat notes under that chord
                are its tones: the tune stays on the chord, so holding it is right

Issue 17's goal: no held part that is not fair. The share printed is over all 8-bar parts.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.machine import describe  # noqa: E402

# Varied on purpose: compound, simple and triple meters; major, minor, dorian, mixolydian.
PROMPTS = (
    "a jig in D", "a reel in G", "a hornpipe in A", "a polka in D", "a waltz in G",
    "a slow air in E minor", "a slip jig in A dorian", "a march in C", "a strathspey in A",
    "a reel in D mixolydian",
)


def page_tune(prompt: str, seed: int, loaded) -> str:
    """The tune the page writes for `prompt` with the Seed box at `seed`, with its accompaniment's chords."""
    from bot.chat.intent import Session, interpret, title_for, with_title
    from bot.chat.options import DEFAULT_ACCOMPANIMENT, Options
    from bot.chat.play import with_accompaniment
    from bot.generate import generate

    options = Options(seed=seed, accompaniment=DEFAULT_ACCOMPANIMENT)  # every other setting: the page's default
    intent = interpret(prompt, Session(), options)
    update = generate(intent.prompt, options.settings(intent.seed), loaded, meter=intent.meter, key=intent.key)
    tune = with_title(update.abc, title_for(intent))
    return with_accompaniment(tune, options.render_settings())


def main(argv: list[str] | None = None) -> int:
    """Print the share of 8-bar parts held on one chord, and how many of those the melody justifies."""
    parser = argparse.ArgumentParser(description="Issue 17: parts held on one chord in the page's tunes.")
    parser.add_argument("--seeds", type=int, default=10, help="seeds per prompt, from 0 (default 10)")
    parser.add_argument("--show", action="store_true", help="print every held part's tune")
    args = parser.parse_args(argv)
    if args.seeds < 1:
        parser.error(f"--seeds must be at least 1 (got {args.seeds})")
    import torch

    from bot.checkpoint import DEFAULT_CHECKPOINT, load_cached
    from bot.harmony.evaluate import MELODY_ON_CHORD, MONOTONY_BARS, held_parts
    from bot.harmony.model import load
    from bot.harmony.reading import read

    torch.set_num_threads(1)  # as the page's writer gets it on a busy server
    loaded = load_cached()
    harmoniser = load()
    print(describe())
    print(f"language model: {DEFAULT_CHECKPOINT}; harmoniser: "
          f"{harmoniser.info.get('chosen') or harmoniser.info.get('source', '?')}")
    print(f"{len(PROMPTS)} prompts x seeds 0-{args.seeds - 1}, page defaults, guitar accompaniment")
    print()
    started = time.perf_counter()
    tunes = parts = held = fair = 0
    unfair: list[str] = []
    print(f"{'prompt':<26} {'tunes':>5} {'8-bar parts':>11} {'held':>5} {'fair':>5}")
    for prompt in PROMPTS:
        row = [0, 0, 0, 0]
        for seed in range(args.seeds):
            abc = page_tune(prompt, seed, loaded)
            checked = held_parts(read(abc))
            row[0] += 1
            row[1] += len(checked)
            for part in checked:
                if part.monotonous:
                    row[2] += 1
                    row[3] += part.melody_on_chord
                    if not part.melody_on_chord:
                        unfair.append(f"{prompt!r} seed {seed}: {part.chord} on {part.bars}/8 bars, "
                                      f"{part.on_chord}/{part.beat_notes} beat notes its tones")
                        if args.show:
                            print(abc)
        print(f"{prompt:<26} {row[0]:>5} {row[1]:>11} {row[2]:>5} {row[3]:>5}")
        tunes, parts, held, fair = tunes + row[0], parts + row[1], held + row[2], fair + row[3]
    print()
    print(f"{tunes} tunes, {parts} full 8-bar parts: {held} ({100 * held / max(1, parts):.1f}%) hold one chord on "
          f"more than {MONOTONY_BARS} of 8 bars; {fair} of them with the melody on that chord's notes "
          f"(>= {MELODY_ON_CHORD:.0%} of its beat notes); not so: {held - fair} "
          f"({100 * (held - fair) / max(1, parts):.1f}% of parts; goal 0)")
    for line in unfair:
        print(f"  {line}")
    print(f"({time.perf_counter() - started:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
