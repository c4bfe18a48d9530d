"""Is a new model better than the old one? Both side by side, in one table from one run (issue 18).

    python bench/model_compare.py --new checkpoints/abc_lstm_run/abc_lstm   # the shipped model against a new one
    python bench/model_compare.py --old OLD_STEM --new NEW_STEM --tunes 20
    python bench/model_compare.py --new NEW_STEM --quick          # smoke run: a few tunes, small score sets

A checkpoint stem is the path without .safetensors/.json (`python -m bot.train --out STEM`
writes one); --old defaults to the shipped model, --new has no default.

It prints, for the old and the new checkpoint:

1. bits per character on three held-out sets, as the model reads a pasted tune (chord
   symbols out, `bot.notation.tokens.model_view`, as `bot.evaluate` scores): the new corpus's
   held-out split, the NMD test split (never trained or tuned on) and the old corpus's
   held-out split (Essen included, no NMD). Both models score the same tunes (those both
   alphabets can encode), and the relative change (new - old) / old is printed; the goal is
   NMD test at least 10% lower, and the new corpus's split not worse.
2. per rhythm (reel, jig, hornpipe, polka, waltz, air): N tunes from each model ("a reel",
   seeds 0..N-1, or from --first-seed, 16 bars) against the human tunes of that rhythm in the new corpus (train and
   held-out; the rhythm read from the R: line, or where a tune has none from its title or
   its NMD file): the overlap of their pitch-class (relative to the tonic), melodic-interval
   and note-length (as a share of the bar) histograms (sum of the smaller of the two normalised histograms: 1.0 =
   identical), and how well a logistic regression on per-tune histograms tells generated
   from human tunes (5-fold cross-validated accuracy, classes balanced by subsampling the
   larger side, averaged over 10 draws: 50% = indistinguishable; lower is better). The human
   tunes are those `bot.rhythm_labels` names, the rule the corpus labels its training tunes by.
3. copying: the share of generated tunes whose music shares a run of 40 or more characters
   with a training tune (goal: at most 1 in 100).

Generation runs the tunes of a model together through one `bot.engine.BatchEngine`
(`--batch` at a time); a seed gives the same tune alone or in a batch. A tune the generator
fails on is listed with its prompt, seed and error, and left out of the figures. With 100
tunes per rhythm a run takes about 2 minutes on 2 cores (300: about 5). A classifier figure
rests on the smaller side's tunes: at 100 a side it is good to about +-6 points (95%: 200
tunes scored), at 57 (the human waltzes) to about +-9.
"""

from __future__ import annotations

import argparse
import shlex
import sys
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.machine import describe as machine  # noqa: E402
import numpy as np  # noqa: E402

from bot.notation.abc import AbcError, normalise, parse_meter, read_tune  # noqa: E402
from bot.notation.bars import read_body  # noqa: E402
from bot.notation.tokens import pitch_class, tonic  # noqa: E402

OLD = "checkpoints/abc_lstm"  # the shipped model, relative to the repo root
RHYTHMS = ("reel", "jig", "hornpipe", "polka", "waltz", "air")
RUN = 40  # characters a generated tune may share with a training tune before it counts as copied

# Melodic intervals in semitones from -INTERVALS to +INTERVALS, plus one bin for each side beyond.
INTERVALS = 12
# Note lengths as fractions of the bar, so that a reel in 2/4 written in sixteenths and one in
# 2/2 written in eighths count alike (a reel's running notes are 1/8 of the bar, a jig's 1/6,
# a waltz's crotchets 1/3); anything else, or a note in free meter, falls in a last bin.
LENGTHS = tuple(Fraction(n, d) for n, d in (
    (1, 32), (1, 24), (1, 16), (1, 12), (1, 9), (1, 8), (1, 6), (3, 16), (2, 9), (1, 4), (1, 3),
    (3, 8), (1, 2), (2, 3), (3, 4), (1, 1)))
_LENGTH_INDEX = {length: i for i, length in enumerate(LENGTHS)}
# Fewer tunes than this on either side of a comparison make its classifier figure noise.
FEW = 20
# Subsampling draws the classifier's accuracy is averaged over (`classifier_accuracy`).
REPEATS = 10
HISTOGRAMS = ("pitch class", "interval", "note length")
SIZES = (12, 2 * INTERVALS + 3, len(LENGTHS) + 1)


# --- what a tune's notes look like -------------------------------------------------------

def tune_counts(abc: str) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """(pitch-class, interval, note-length) counts of one tune's notes; None if it has none.

    Pitch classes are counted from the tonic of the tune's K: (so a reel in D and one in G
    compare as scale degrees); intervals are between successive notes' top pitches (rests
    skipped, bar lines crossed); lengths are fractions of the bar (`LENGTHS`), ties not joined.
    """
    tune = read_tune(abc)
    key = tune.get("K") or "C"
    meter = tune.get("M") or "none"
    unit = tune.get("L") or "1/8"
    root = tonic(key)
    root = pitch_class(root) if root else 0
    degrees, intervals, lengths = np.zeros(SIZES[0]), np.zeros(SIZES[1]), np.zeros(SIZES[2])
    previous = None
    for bar in read_body("\n".join(tune.body), meter, unit, key):
        bar_length = parse_meter(bar.meter or meter)
        for event in bar.events:
            if not event.pitches:
                continue
            top = event.melody
            degrees[(top - root) % 12] += 1
            share = event.duration / bar_length if bar_length else None
            lengths[_LENGTH_INDEX.get(share, len(LENGTHS))] += 1
            if previous is not None:
                step = max(-INTERVALS - 1, min(INTERVALS + 1, top - previous))
                intervals[step + INTERVALS + 1] += 1
            previous = top
    if not degrees.sum():
        return None
    return degrees, intervals, lengths


def normalised(counts: np.ndarray) -> np.ndarray:
    """Counts scaled to sum to 1 (all zeros stay zeros)."""
    total = counts.sum()
    return counts / total if total else counts.astype(float)


def overlap(a: np.ndarray, b: np.ndarray) -> float:
    """Histogram overlap: the sum of the smaller of the two normalised histograms (1.0 = identical, 0.0 = disjoint)."""
    return float(np.minimum(normalised(np.asarray(a, float)), normalised(np.asarray(b, float))).sum())


def feature_vector(counts: tuple[np.ndarray, ...]) -> np.ndarray:
    """One tune's features: its three histograms, each normalised, concatenated."""
    return np.concatenate([normalised(c) for c in counts])


# --- telling generated from human tunes ----------------------------------------------------

def fit_logistic(x: np.ndarray, y: np.ndarray, l2: float = 1.0, iterations: int = 25) -> tuple[np.ndarray, float]:
    """(weights, bias) of an L2-regularised logistic regression, fitted by Newton's method.

    x: (n, features), standardised by the caller; y: (n,) of 0/1. The bias is not penalised.
    """
    n, d = x.shape
    xb = np.hstack([x, np.ones((n, 1))])  # (n, d+1): the last column is the bias
    w = np.zeros(d + 1)
    penalty = np.full(d + 1, l2)
    penalty[-1] = 0.0
    for _ in range(iterations):
        p = 1.0 / (1.0 + np.exp(-np.clip(xb @ w, -30, 30)))
        gradient = xb.T @ (p - y) + penalty * w
        hessian = (xb * (p * (1 - p))[:, None]).T @ xb + np.diag(penalty + 1e-9)
        step = np.linalg.solve(hessian, gradient)
        w -= step
        if np.abs(step).max() < 1e-8:
            break
    return w[:-1], float(w[-1])


def classifier_accuracy(a: np.ndarray, b: np.ndarray, folds: int = 5, seed: int = 0, repeats: int = REPEATS) -> float:
    """Cross-validated accuracy of a logistic regression telling rows of `a` from rows of `b`,
    averaged over `repeats` draws.

    Each draw subsamples the larger set to the smaller one's size (so 0.5 = indistinguishable)
    and deals both into folds holding the same number of each; features are standardised on
    the training folds. With 57 human waltzes against 300 generated ones a single draw uses
    a fifth of the generated tunes, so which fifth moved the figure by several points; the
    mean over draws does not depend on it. NaN when either set has fewer rows than folds.
    """
    rng = np.random.default_rng(seed)
    n = min(len(a), len(b))
    if n < folds:
        return float("nan")
    a, b = np.asarray(a, float), np.asarray(b, float)
    y = np.r_[np.zeros(n), np.ones(n)]
    accuracies = []
    for _ in range(repeats):
        x = np.vstack([a[rng.permutation(len(a))[:n]], b[rng.permutation(len(b))[:n]]])
        fold = np.r_[rng.permutation(n) % folds, rng.permutation(n) % folds]
        correct = 0
        for k in range(folds):
            train, test = fold != k, fold == k
            mean, std = x[train].mean(0), x[train].std(0) + 1e-6
            w, bias = fit_logistic((x[train] - mean) / std, y[train])
            guess = ((x[test] - mean) / std) @ w + bias > 0
            correct += int((guess == (y[test] == 1)).sum())
        accuracies.append(correct / len(y))
    return float(np.mean(accuracies))


# --- copying ---------------------------------------------------------------------------------

_BASE = np.uint64(1_000_003)


def window_hashes(codes: np.ndarray, run: int) -> np.ndarray:
    """A polynomial hash (mod 2**64) of every `run`-long window of `codes`: (len - run + 1,) uint64."""
    count = len(codes) - run + 1
    if count <= 0:
        return np.zeros(0, dtype=np.uint64)
    codes = codes.astype(np.uint64)
    h = np.zeros(count, dtype=np.uint64)
    for j in range(run):  # uint64 arrays wrap on overflow: arithmetic mod 2**64
        h = h * _BASE + codes[j : j + count]
    return h


def _codes(text: str) -> np.ndarray:
    """One byte per character (tunes are ASCII; anything else reads as `?`), so indices match the text's."""
    return np.frombuffer(text.encode("latin-1", "replace"), dtype=np.uint8)


class CopyIndex:
    """Every `run`-character window of the training tunes, for finding copied runs quickly.

    Windows are kept as sorted 64-bit hashes; a hit is confirmed by an exact search of the
    training text, so a hash collision never counts as a copy.
    """

    def __init__(self, tunes: list[str], run: int = RUN):
        self.run = run
        self.text = "\0".join(tunes)  # no window of a generated tune holds NUL: none spans two tunes
        self.hashes = np.unique(window_hashes(_codes(self.text), run))

    def copied(self, text: str) -> str | None:
        """The first run of `run` characters of `text` found in a training tune, or None."""
        hashes = window_hashes(_codes(text), self.run)
        if not len(hashes) or not len(self.hashes):
            return None
        at = np.searchsorted(self.hashes, hashes).clip(max=len(self.hashes) - 1)
        for i in np.flatnonzero(self.hashes[at] == hashes):
            if text[i : i + self.run] in self.text:
                return text[i : i + self.run]
        return None


def body_of(abc: str) -> str:
    """The music of a tune: the text after its K: line (headers would match any tune's)."""
    _, _, rest = abc.partition("\nK:")
    return rest.partition("\n")[2]


# --- the run ---------------------------------------------------------------------------------

@dataclass
class ScoreSet:
    """One held-out set as both models score it."""

    name: str
    tunes: int
    skipped: int  # tunes one of the alphabets cannot encode
    unreadable: int  # tunes normalise refused
    chars: int
    old: float
    new: float


def score_sets(old, new, corpus, quick: bool) -> list[ScoreSet]:
    """Bits per character of both models on the three held-out sets (model view, same tunes);
    `corpus` is the new corpus (`bot.corpus.load_corpus()`)."""
    import torch

    from bot import nmd
    from bot.corpus import join_tunes, load_corpus
    from bot.evaluate import encodable, score, view_of

    sets: list[tuple[str, list[str], int]] = []
    sets.append(("new corpus held-out", [view_of(t) for t in corpus.held_out], 0))
    nmd_tunes, refused = [], 0
    for tune in nmd.read():
        if tune.split != "test":
            continue
        try:
            nmd_tunes.append(view_of(normalise(tune.text)))
        except AbcError:
            refused += 1
    sets.append(("NMD test split", nmd_tunes, refused))
    old_corpus = load_corpus(with_essen=True, with_nmd=False)
    sets.append(("old corpus held-out (Essen in)", [view_of(t) for t in old_corpus.held_out], 0))
    results = []
    for name, tunes, unreadable in sets:
        if quick:
            tunes = tunes[:20]
        kept, skipped_old = encodable(tunes, old.vocab)
        kept, skipped_new = encodable(kept, new.vocab)
        text = join_tunes(kept)
        bits = [score(m.model, torch.tensor(m.encode(text), dtype=torch.long))["bits_per_char"] for m in (old, new)]
        results.append(ScoreSet(name, len(kept), skipped_old + skipped_new, unreadable, len(text), *bits))
    return results


def human_tunes(corpus, rhythms: tuple[str, ...]) -> tuple[dict[str, list[str]], dict[str, dict[str, int]]]:
    """The tunes of `corpus` (the new corpus; train and held-out) of each rhythm, and how many
    of each were read from an R: line, a title or an NMD file's name, in that order.

    A tune's rhythm is read by `bot.rhythm_labels.rhythm_of`, the rule the corpus labels its
    training tunes by; each source is read as the corpus reads it (`read_tune_of`) and a tune
    counts once, where the corpus kept it.
    """
    from bot.corpus import corpus_sources, raw_reads
    from bot.rhythm_labels import SOURCES

    members = set(corpus.train) | set(corpus.held_out)
    found: dict[str, list[str]] = {r: [] for r in rhythms}
    how: dict[str, dict[str, int]] = {r: dict.fromkeys(SOURCES, 0) for r in rhythms}
    for _, _, read in raw_reads(corpus_sources(with_nmd=True)):
        if read is None or read.tune not in members:
            continue  # unreadable, a duplicate, or a tune the corpus leaves out (the NMD test split)
        members.discard(read.tune)
        if read.rhythm in found:
            found[read.rhythm].append(read.tune)
            how[read.rhythm][read.rhythm_from] += 1
    return found, how


def generate_tunes(loaded, prompt: str, seeds: range, batch: int) -> tuple[list[str], list[str], Counter]:
    """(the ABC of one tune per seed for `prompt` (16 bars), `batch` written together; a line
    for each seed the generator failed on; how many tunes were written in each style,
    `bot.style`, "" for none).

    A failure is a finding of the bench, not a reason to lose the run: it is printed with
    its seed and error, and the figures are taken over the tunes that were written.
    """
    from bot.engine import BatchEngine
    from bot.generate import Settings, generate
    from bot.stepper import stepper_for

    def one(seed: int, engine: BatchEngine | None = None):
        try:
            return generate(prompt, Settings(seed=seed, bars=16), loaded, engine=engine)
        except Exception as err:  # any error of the generator's is reported, with its seed
            return err

    if batch <= 1:
        results = [one(seed) for seed in seeds]
    else:
        with BatchEngine(stepper_for(loaded.model)) as engine, ThreadPoolExecutor(batch) as pool:
            results = list(pool.map(lambda seed: one(seed, engine), seeds))
    written = [r for r in results if not isinstance(r, Exception)]
    failed = [f"{prompt!r} seed {seed}: {type(r).__name__}: {r}"
              for seed, r in zip(seeds, results) if isinstance(r, Exception)]
    return [u.abc for u in written], failed, Counter(u.style for u in written)


def counts_of(tunes: list[str]) -> list[tuple[np.ndarray, ...]]:
    """tune_counts of every tune that has notes."""
    found = (tune_counts(t) for t in tunes)
    return [c for c in found if c is not None]


def style_row(generated: list[str], human: list[tuple[np.ndarray, ...]]) -> dict:
    """Histogram overlaps and classifier accuracy of generated tunes against human ones."""
    made = counts_of(generated)
    row = {}
    for i, name in enumerate(HISTOGRAMS):
        row[name] = overlap(sum(c[i] for c in made), sum(c[i] for c in human)) if made else float("nan")
    row["classifier"] = (classifier_accuracy(np.array([feature_vector(c) for c in made]),
                                             np.array([feature_vector(c) for c in human]))
                         if made and human else float("nan"))
    row["read"] = len(made)
    return row


def dotted_share(tunes: list[str]) -> float:
    """The share of tunes whose music has a dotted pair (`>` or `<`) for more than 1 note in 10.

    Hornpipes are written dotted or straight, tune by tune; the note-length histogram mixes
    the two, this says how many of each a model writes.
    """
    def dotted(abc: str) -> bool:
        body = body_of(abc)
        return body.count(">") + body.count("<") > 0.1 * sum(c.isalpha() and c.upper() in "ABCDEFG" for c in body)

    return sum(map(dotted, tunes)) / len(tunes) if tunes else float("nan")


def motion(counts: list[tuple[np.ndarray, ...]]) -> tuple[float, float]:
    """(whole-tone steps, leaps of a fourth or more): shares of all melodic intervals of `counts`.

    The two shares that told model 3's hornpipes from people's: it stepped more and leapt less.
    """
    if not counts:
        return float("nan"), float("nan")
    intervals = normalised(sum(c[1] for c in counts))
    zero = INTERVALS + 1
    steps = intervals[zero - 2] + intervals[zero + 2]
    leaps = intervals[: zero - 4].sum() + intervals[zero + 5:].sum()
    return float(steps), float(leaps)


def percent(x: float) -> str:
    return "   n/a" if x != x else f"{100 * x:5.1f}%"


def stem_path(stem: str) -> Path:
    """A checkpoint stem as a path; a relative one is read from the repo root, as the README's commands run."""
    return Path(stem) if Path(stem).is_absolute() else ROOT / stem


def missing_checkpoint(stem: str) -> str | None:
    """The first file of a checkpoint stem that is missing, else None."""
    from bot.checkpoint import paths

    return next((str(path) for path in paths(stem_path(stem)) if not path.is_file()), None)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--old", default=OLD, help=f"the model to compare against, a checkpoint stem (default {OLD}, the shipped one)")
    parser.add_argument("--new", required=True, help="the new model's checkpoint stem (required), e.g. checkpoints/abc_lstm_run/abc_lstm")
    parser.add_argument("--tunes", type=int, default=100, help="tunes per rhythm and model (default 100)")
    parser.add_argument("--first-seed", type=int, default=0, help="seed of the first tune of each rhythm (default 0: seeds 0..N-1)")
    parser.add_argument("--batch", type=int, default=16, help="tunes written together by one BatchEngine (default 16; 1 = one at a time)")
    parser.add_argument("--threads", type=int, default=2, help="torch threads (default 2)")
    parser.add_argument("--out", default=None, help="folder to write the generated tunes into, one .abc per model and rhythm (optional)")
    parser.add_argument("--quick", action="store_true", help="smoke run: 5 tunes per rhythm, 20 tunes per score set")
    args = parser.parse_args(argv)
    if args.tunes < 1:
        parser.error(f"--tunes must be at least 1, got {args.tunes}")
    tunes = min(5, args.tunes) if args.quick else args.tunes
    for flag, stem in (("--old", args.old), ("--new", args.new)):
        missing = missing_checkpoint(stem)
        if missing:
            parser.error(f"{flag} {stem}: no checkpoint there ({missing} is missing); give the stem that "
                         "`python -m bot.train --out STEM` wrote, without .safetensors or .json")

    start = time.perf_counter()
    print(machine())
    print("command: " + " ".join(shlex.quote(a) for a in [sys.executable, *sys.argv]), flush=True)

    import torch

    from bot.checkpoint import load
    from bot.corpus import load_corpus

    torch.set_num_threads(max(1, args.threads))
    models = {"old": load(stem_path(args.old)), "new": load(stem_path(args.new))}
    for label, stem in (("old", args.old), ("new", args.new)):
        card = models[label].card
        size = card.get("model", {})
        print(f"{label}: {stem}  ({size.get('layers')}x{size.get('hidden')}, steps {card.get('steps')}, "
              f"epochs {card.get('epochs')}, card held-out {card.get('validation', {}).get('bits_per_char')} bits/char)")

    # 1. bits per character
    print("\n1. Held-out bits per character, model view; both models on the same tunes")
    print(f"{'set':32s}{'tunes':>7s}{'skipped':>9s}{'chars':>10s}{'old':>8s}{'new':>8s}{'change':>9s}")
    corpus = load_corpus()
    scored = score_sets(models["old"], models["new"], corpus, args.quick)
    for s in scored:
        skipped = f"{s.skipped}" + (f"+{s.unreadable}" if s.unreadable else "")
        print(f"{s.name:32s}{s.tunes:7d}{skipped:>9s}{s.chars:10,d}{s.old:8.3f}{s.new:8.3f}"
              f"{100 * (s.new - s.old) / s.old:+8.1f}%")
    print("  skipped: tunes an alphabet cannot encode (+ NMD tunes normalise refuses)")
    nmd_set, own_set = scored[1], scored[0]
    print("  goal, NMD test at least 10% lower:", "met" if nmd_set.new <= 0.9 * nmd_set.old else "NOT met")
    print("  goal, new corpus's split not worse:", "met" if own_set.new <= own_set.old else "NOT met", flush=True)

    # 2. style per rhythm
    seconds = time.perf_counter()
    human_text, human_how = human_tunes(corpus, RHYTHMS)
    human = {r: counts_of(t) for r, t in human_text.items()}
    seconds = time.perf_counter() - seconds
    generated: dict[str, dict[str, list[str]]] = {"old": {}, "new": {}}
    failed: dict[str, list[str]] = {"old": [], "new": []}
    styles: dict[str, dict[str, Counter]] = {"old": {}, "new": {}}
    gen_seconds = time.perf_counter()
    torch.set_num_threads(1)  # one engine thread steps the batch; the other core runs the tunes' Python
    for label, loaded in models.items():
        for rhythm in RHYTHMS:
            prompt = f"{'an' if rhythm[0] in 'aeiou' else 'a'} {rhythm}"
            generated[label][rhythm], failures, styles[label][rhythm] = generate_tunes(
                loaded, prompt, range(args.first_seed, args.first_seed + tunes), args.batch)
            failed[label] += failures
    gen_seconds = time.perf_counter() - gen_seconds
    if args.out:
        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        for label, by_rhythm in generated.items():
            for rhythm, abcs in by_rhythm.items():
                (out / f"{label}_{rhythm.replace(' ', '_')}.abc").write_text("\n".join(abcs))
    print(f"\n2. Generated against human tunes per rhythm: {tunes} tunes per rhythm and model "
          f"(written in {gen_seconds:.0f} s; human tunes read in {seconds:.0f} s)")
    for label in models:
        if failed[label]:
            print(f"   {label}: the generator FAILED on {len(failed[label])} of {tunes * len(RHYTHMS)} tunes "
                  "(left out of the figures):")
            for line in failed[label]:
                print(f"     {line}")
    print("   histogram overlap (1.0 = identical, higher is better); classifier accuracy (50% = indistinguishable, lower is better)")
    print(f"{'rhythm':10s}{'human':>6s} " + "".join(f"{name:>15s}" for name in HISTOGRAMS) + f"{'classifier':>17s}")
    print(f"{'':17s}" + f"{'old':>8s}{'new':>7s}" * 3 + f"{'old':>9s}{'new':>8s}")
    lower, missing, few = [], [], []
    for rhythm in RHYTHMS:
        rows = {label: style_row(generated[label][rhythm], human[rhythm]) for label in models}
        cells = "".join(f"{rows['old'][name]:8.3f}{rows['new'][name]:7.3f}" for name in HISTOGRAMS)
        mark = "*" if min(len(human[rhythm]), tunes) < FEW else " "
        print(f"{rhythm:10s}{len(human[rhythm]):6d}{mark}" + cells
              + f"  {percent(rows['old']['classifier'])} {percent(rows['new']['classifier'])}")
        old_acc, new_acc = rows["old"]["classifier"], rows["new"]["classifier"]
        if old_acc != old_acc or new_acc != new_acc:
            missing.append(rhythm)
        else:
            lower.append(new_acc < old_acc)
        if mark == "*":
            few.append(rhythm)
    print("  dotted tunes (a dotted pair for more than 1 note in 10), old / new / human: " + "; ".join(
        f"{r} {percent(dotted_share(generated['old'][r])).strip()}/{percent(dotted_share(generated['new'][r])).strip()}"
        f"/{percent(dotted_share(human_text[r])).strip()}" for r in RHYTHMS))
    shares = {r: [motion(counts_of(generated[label][r])) for label in models] + [motion(human[r])] for r in RHYTHMS}
    print("  whole-tone steps / leaps of a fourth or more, share of intervals, old / new / human: " + "; ".join(
        f"{r} " + "/".join(percent(m[0]).strip() for m in shares[r]) + " | " + "/".join(percent(m[1]).strip() for m in shares[r])
        for r in RHYTHMS))
    print("  human tunes' rhythm read from " + "; ".join(
        f"{r} " + "/".join(str(n) for n in human_how[r].values()) for r in RHYTHMS)
          + " (R: line / title / NMD file)")
    for label in models:
        if any(set(styles[label][r]) - {""} for r in RHYTHMS):
            print(f"  styles the {label} model wrote in (bot.style), per rhythm: " + "; ".join(
                f"{r} " + " ".join(f"{tag} {n}" for tag, n in styles[label][r].most_common()) for r in RHYTHMS))
    if few:
        print(f"  * fewer than {FEW} tunes on one side: the classifier's figure is noise ({', '.join(few)})")
    verdict = "met" if lower and all(lower) else "NOT met"
    print(f"  goal, classifier accuracy lower than the old model's in every rhythm: {verdict} "
          f"(lower in {sum(lower)} of {len(lower)}" + (f"; n/a: {', '.join(missing)})" if missing else ")"),
          flush=True)

    # 3. copying
    index = CopyIndex(corpus.train)
    print(f"\n3. Copying: generated tunes whose music shares a run of {RUN}+ characters with a training tune")
    shares = {}
    for label in models:
        made = [t for by_rhythm in generated[label].values() for t in by_rhythm]
        copies = [c for c in (index.copied(body_of(t)) for t in made) if c is not None]
        shares[label] = share = len(copies) / len(made)
        example = f"  e.g. {copies[0]!r}" if copies else ""
        print(f"{label}: {len(copies)} of {len(made)} ({100 * share:.1f}%){example}")
    print("  goal, at most 1 in 100 (new model):", "met" if shares["new"] <= 0.01 else "NOT met")

    print(f"\ntime: {time.perf_counter() - start:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
