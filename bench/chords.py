"""How well the harmoniser's chords agree with human ones, beside three baselines, and how fast it is.

    python bench/chords.py [--abc FILE_OR_FOLDER ...] [--model checkpoints/harmony.json]

The held-out chord tunes (bot.harmony.data: the corpus hash, a quarter of the chord tunes)
are read with their own chords; every chooser then picks chords from the melody alone and is
compared beat by beat: same root, same chord (root and major/minor/seventh), and chord
changes per bar against the human rate. Then: the share of tunes answered, the melody round
trip (harmonise, remove the chord symbols again: the input must come back character for
character), and the time to harmonise a 32-bar tune against the per-bar-triad baseline's time
on the same tune, in the same run.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.machine import cpu_model  # noqa: E402
from bot.harmony.data import load_chord_tunes  # noqa: E402
from bot.harmony.evaluate import hand_hmm_per_bar, score, tonic_chords, triad_per_bar  # noqa: E402
from bot.harmony.harmonise import choose, harmonise, strip_chords  # noqa: E402
from bot.harmony.model import load  # noqa: E402
from bot.harmony.reading import HarmonyError, read  # noqa: E402

# 32 bars of reel (four 8-bar parts) in D, no chords: the timing tune.
PART = "|:A2|d2fd A2FA|dfaf e2ce|d2fd A2FA|B2cd e2dc|d2fd A2FA|dfaf g2fg|a2fd e2ce|d2f2 d2:|\n"
TUNE_32 = "X:1\nM:4/4\nL:1/8\nR:reel\nK:D\n" + PART * 4


def timed_ms(action, repeats: int) -> float:
    """Median milliseconds of `action()` over `repeats` runs (after one warm-up run)."""
    action()
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        action()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def main(argv: list[str] | None = None) -> int:
    """Print the bench's figures."""
    parser = argparse.ArgumentParser(description="Chord agreement with human chords, and speed.")
    parser.add_argument("--abc", type=Path, nargs="*", default=[],
                        help="extra ABC files or folders with chord symbols (music21's corpus is always read)")
    parser.add_argument("--model", type=Path, default=None, help="harmony model JSON (default: the shipped one)")
    parser.add_argument("--repeats", type=int, default=50, help="timing runs of the 32-bar tune")
    args = parser.parse_args(argv)

    model = load(str(args.model) if args.model else None)
    data = load_chord_tunes(args.abc)
    held = []
    for tune in data.held_out:
        try:
            held.append(read(tune))
        except HarmonyError:
            continue
    beats = sum(1 for r in held for s in r.slots for h in s.beats if h is not None)
    print(f"CPU: {cpu_model()}")
    print(f"chord tunes: {sum(data.counts.values())} ({', '.join(f'{k} {v}' for k, v in data.counts.items() if v)});"
          f" held out {len(data.held_out)} tunes, {beats} beats with a human chord")
    print(f"model: {model.info.get('source') or model.info.get('command', '')}")
    print()
    if not held:
        print("no held-out chord tunes to score: music21's folk collections carry no guitar chords (what it "
              "reads as chord symbols there are fingerings and D.C. marks); give ABC with chords with --abc")
        return round_trip_and_speed(model, args.repeats)
    print(f"{'chooser':<28} {'root':>7} {'chord':>7}   changes/bar (ratio)   answered")
    choosers = [
        ("tonic chord everywhere", tonic_chords),
        ("triad per bar", triad_per_bar),
        ("hand-set HMM per bar", hand_hmm_per_bar),
        ("harmoniser (HMM)", lambda r: choose(r, model, keep=False)),
    ]
    for name, chooser in choosers:
        print(score(held, chooser).line(name))

    kept = same = 0
    for tune in data.held_out:
        bare = strip_chords(tune)
        try:
            result = harmonise(bare, model)
        except HarmonyError:
            continue
        kept += 1
        same += strip_chords(result) == bare and result != bare
    print()
    print(f"melody round trip: {same}/{len(data.held_out)} held-out tunes harmonised and given back unchanged"
          f" when the chords are removed ({kept} answered)")

    print_speed(model, args.repeats)
    return 0


def print_speed(model, repeats: int) -> None:
    ours = timed_ms(lambda: harmonise(TUNE_32, model), repeats)
    baseline = timed_ms(lambda: triad_per_bar(read(TUNE_32)), repeats)
    print(f"harmonise a 32-bar tune: {ours:.1f} ms (median of {repeats}); read + triad-per-bar baseline "
          f"{baseline:.1f} ms; ratio {ours / baseline:.2f}")


def round_trip_and_speed(model, repeats: int, count: int = 500) -> int:
    """With nothing to score: the melody round trip on held-out corpus tunes (no chords), and the speed."""
    from bot.corpus import load_corpus

    tunes = load_corpus().held_out[:count]
    answered = same = 0
    for tune in tunes:
        try:
            result = harmonise(tune, model)
        except HarmonyError:
            continue
        answered += 1
        same += strip_chords(result) == tune and result != tune
    print(f"melody round trip on {len(tunes)} held-out corpus tunes: {answered} answered, {same} harmonised "
          f"and given back unchanged when the chords are removed")
    print_speed(model, repeats)
    return 0


if __name__ == "__main__":
    sys.exit(main())
