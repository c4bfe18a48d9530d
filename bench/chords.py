"""How well the harmoniser's chords agree with human ones on the NMD test tunes, beside baselines, and how fast it is.

    python bench/chords.py [--model checkpoints/harmony.json] [--repeats 50]

The NMD's test split (bot.nmd: a hash of each tune's text; nothing is trained or chosen on
it) is read with its own chords; every chooser then picks chords from the melody alone and is
compared beat by beat (bot.harmony.evaluate): same root, same chord (root and
major/minor/seventh), chord changes per bar against the human rate, the share of strong-beat
melody notes that are chord tones, how often a section's closing bar starts on the tonic, and
the share of 8-bar parts with one chord on more than 6 of their bars, each beside the human
chords' own figure. The choosers, all in this run:

    tonic chord everywhere      baseline: I (i in minor keys) on every beat
    triad per bar               baseline: per bar, the key's triad covering most melody time
    hand-set HMM per bar        baseline: a hand-set HMM over I IV V V7 ii vi, one chord a bar
    hand-set HMM (old default)  the slot HMM with hand-set tables, the default before the NMD
    learned HMM                 the same HMM with tables counted on NMD train (harmony_hmm.json)
    shipped                     checkpoints/harmony.json (the model `python -m bot.harmony.train` chose)

Then the chords' vocabulary (share of beats per degree, shipped against human), the melody
round trip (remove the test tunes' chords, harmonise, remove them again: the text must come
back character for character) and the time to harmonise a 32-bar tune.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.machine import describe  # noqa: E402
from bot import nmd  # noqa: E402
from bot.harmony.data import load_chord_tunes  # noqa: E402
from bot.harmony.evaluate import Score, hand_hmm_per_bar, score, tonic_chords, triad_per_bar  # noqa: E402
from bot.harmony.harmonise import HarmonyError, choose, harmonise, strip_chords  # noqa: E402
from bot.harmony.model import HMM_CHECKPOINT, hand_set, load  # noqa: E402
from bot.harmony.reading import read  # noqa: E402

# 32 bars of reel (four 8-bar parts) in D, no chords: the timing tune.
PART = "|:A2|d2fd A2FA|dfaf e2ce|d2fd A2FA|B2cd e2dc|d2fd A2FA|dfaf g2fg|a2fd e2ce|d2f2 d2:|\n"
TUNE_32 = "X:1\nM:4/4\nL:1/8\nR:reel\nK:D\n" + PART * 4
SPEED_GOAL_MS = 50


def timed_ms(action, repeats: int) -> float:
    """Median milliseconds of `action()` over `repeats` runs (after one warm-up run)."""
    action()
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        action()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def vocabulary_lines(shipped: Score, top: int = 10) -> list[str]:
    """The most used degrees by the human chords, each with its share of beats: human, then shipped."""
    human_total = max(1, sum(shipped.human_vocabulary.values()))
    ours_total = max(1, sum(shipped.vocabulary.values()))
    names = [name for name, _ in shipped.human_vocabulary.most_common(top)]
    names += [name for name, _ in shipped.vocabulary.most_common(top) if name not in names]
    cells = [f"{name} {100 * shipped.human_vocabulary[name] / human_total:.1f}/"
             f"{100 * shipped.vocabulary[name] / ours_total:.1f}" for name in names]
    other_human = 100 - sum(100 * shipped.human_vocabulary[n] / human_total for n in names)
    other_ours = 100 - sum(100 * shipped.vocabulary[n] / ours_total for n in names)
    cells.append(f"other {other_human:.1f}/{other_ours:.1f}")
    return ["chord vocabulary, % of beats (human/shipped): " + ", ".join(cells)]


def main(argv: list[str] | None = None) -> int:
    """Print the bench's figures."""
    parser = argparse.ArgumentParser(description="Chord agreement with human chords on the NMD test tunes, and speed.")
    parser.add_argument("--model", type=Path, default=None, help="harmony model JSON (default: the shipped one)")
    parser.add_argument("--repeats", type=int, default=50, help="timing runs of the 32-bar tune")
    args = parser.parse_args(argv)
    if args.repeats < 1:
        parser.error(f"--repeats must be at least 1 (got {args.repeats})")
    try:
        import torch

        torch.set_num_threads(1)  # one core, as the page's harmoniser gets it on a busy server
    except ImportError:
        pass

    model = load(str(args.model) if args.model else None)
    data = load_chord_tunes(("test",))
    test = data.splits["test"]
    beats = sum(1 for r in test for s in r.slots for h in s.beats if h is not None)
    print(describe())
    print(f"data: {nmd.CREDIT}")
    print(f"NMD test split: {len(test)} tunes, {beats} beats with a human chord ({data.summary()})")
    print(f"shipped model: {model.info.get('chosen') or model.info.get('source', '?')}, "
          f"split fingerprint {model.info.get('data', {}).get('fingerprint', '-')}")
    if model.info.get("shipped"):
        print(f"  its weights: {model.info['shipped']}")
    print()
    print(Score.header())
    choosers = [
        ("tonic chord everywhere", tonic_chords),
        ("triad per bar", triad_per_bar),
        ("hand-set HMM per bar", hand_hmm_per_bar),
        ("hand-set HMM (old default)", lambda r, m=hand_set(): choose(r, m, keep=False)),
    ]
    if HMM_CHECKPOINT.exists():
        choosers.append(("learned HMM (NMD train)", lambda r, m=load(str(HMM_CHECKPOINT)): choose(r, m, keep=False)))
    choosers.append(("shipped", lambda r: choose(r, model, keep=False)))
    shipped = None
    for name, chooser in choosers:
        shipped = score(test, chooser)
        print(shipped.line(name))
    print()
    for line in vocabulary_lines(shipped):
        print(line)

    answered = same = 0
    for text in data.texts["test"]:
        bare = strip_chords(text)
        try:
            result = harmonise(bare, model)
        except HarmonyError as err:
            print(f"  not answered: {err}")
            continue
        answered += 1
        same += strip_chords(result) == bare and result != bare
    print(f"answered {answered}/{len(test)} test tunes; melody unchanged (strip_chords(harmonise(abc)) == abc, "
          f"chords added): {same}/{len(test)}")

    ours = timed_ms(lambda: harmonise(TUNE_32, model), args.repeats)
    baseline = timed_ms(lambda: triad_per_bar(read(TUNE_32)), args.repeats)
    print(f"harmonise a 32-bar tune: {ours:.1f} ms (median of {args.repeats}, goal <= {SPEED_GOAL_MS} ms); "
          f"read + triad-per-bar baseline {baseline:.1f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
