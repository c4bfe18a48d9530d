"""Fit the chord HMM to human chords and write checkpoints/harmony.json (seconds, numpy only).

    python -m bot.harmony.train [--abc FILE_OR_FOLDER ...] [--out checkpoints/harmony.json]

Counting, not gradient descent: the melody model (interval above the root per quality), the
chord prior, the transitions across and inside bars and the first/cadence priors are
counted on the training chord tunes, each pulled toward the hand-set model by pseudo-counts
(so a chord the data never shows stays possible). The counts are in tonic-relative form, so
they are the same for the tunes transposed into all 12 keys: the transposition the issue asks
for is built in. Then the melody weight and the stay bonus are chosen on the training tunes:
the best same-root share whose chord changes per bar stay within 0.85-1.15x the human rate.
The held-out scores go into the checkpoint's info.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from pathlib import Path

import numpy as np

from bot.notation.chords import QUALITIES, Chord
from bot.harmony.data import load_chord_tunes
from bot.harmony.evaluate import score
from bot.harmony.harmonise import choose
from bot.harmony.model import CHECKPOINT, HarmonyModel, hand_set, seventh_features
from bot.harmony.reading import MODES, PHRASE_BARS, HarmonyError, Reading, read

# Pseudo-counts that pull each table toward the hand-set model (more data, less pull).
PULL = {"emission": 20.0, "prior": 30.0, "move": 8.0, "edge": 10.0, "phrase": 20.0, "melody": 60.0, "sevenths": 30.0}
MELODY_WEIGHTS = (0.6, 0.8, 1.0, 1.3, 1.6, 2.0, 2.5)
STAY_BONUSES = (-1.0, -0.5, 0.0, 0.5, 1.0, 1.5)
RATE_BAND = (0.85, 1.15)
MIN_TRAIN = 20  # fewer training tunes than this would overwrite the model with noise


def _state_of(chord: Chord, index: dict[Chord, int]) -> int | None:
    """The model state for a relative chord: itself, else the same root's triad of its family."""
    if chord in index:
        return index[chord]
    fallback = Chord(chord.root, "min" if chord.quality in ("min7", "dim") else "maj")
    return index.get(fallback)


def _normalise_rows(counts: np.ndarray) -> np.ndarray:
    return np.log(counts / counts.sum(axis=-1, keepdims=True))


def fit(readings: list[Reading], base: HarmonyModel | None = None) -> HarmonyModel:
    """Count a model from readings with human chords (pseudo-counts from `base`, hand-set by default)."""
    base = base or hand_set()
    states = base.states
    index = {c: i for i, c in enumerate(states)}
    size = len(states)
    emission = PULL["emission"] * np.exp(base.emission)
    prior = {m: PULL["prior"] * np.exp(base.prior[m]) for m in MODES}
    move = {(m, kind): PULL["move"] * np.exp(getattr(base, kind)[m]) for m in MODES for kind in ("move_bar", "move_in")}
    edge = {(m, kind): PULL["edge"] * np.exp(getattr(base, kind)[m]) for m in MODES for kind in ("first", "cadence")}
    phrase = {m: np.zeros((2 * PHRASE_BARS, size)) for m in MODES}
    melody = np.zeros((size, 12))
    # Sevenths: PULL["sevenths"] pseudo-slots at the base's rate. A seventh is written only where
    # the data is clearly for it: with less pull the held-out "same chord" fell 5 points.
    sevenths = PULL["sevenths"] * np.minimum(base.sevenths, 0.3)  # pulled toward the triad
    sevenths_all = np.full((12, 2, 2), PULL["sevenths"])
    for reading in readings:
        humans = [slot.human for slot in reading.slots]
        if all(h is not None for h in humans):
            for chord, feature in zip(humans, seventh_features(humans, reading.slots)):
                if chord.quality in ("maj", "7"):
                    sevenths_all[feature] += 1
                    sevenths[feature] += chord.quality == "7"
        previous = None
        for slot in reading.slots:
            if slot.human is None:
                previous = None
                continue
            rel = slot.human.transposed(-slot.tonic)
            state = _state_of(rel, index)
            if state is None:
                previous = None
                continue
            chord = states[state]
            total = slot.weights.sum()
            if total > 0:
                # Melody intervals above the chord's root, one unit per slot.
                emission[QUALITIES.index(chord.quality)] += np.roll(slot.weights, -chord.root) / total
                melody[state] += slot.weights / total
            prior[slot.mode][state] += 1
            phrase[slot.mode][slot.phrase, state] += 1
            if previous is not None:
                move[(slot.mode, "move_bar" if slot.bar_start else "move_in")][previous, state] += 1
            if slot.bar_start and slot.first:
                edge[(slot.mode, "first")][state] += 1
            elif slot.bar_start and slot.cadence:
                edge[(slot.mode, "cadence")][state] += 1
            previous = state
    log_prior = {m: _normalise_rows(prior[m]) for m in MODES}
    phrase_ratio = {
        m: _normalise_rows(phrase[m] + PULL["phrase"] * np.exp(log_prior[m])[None, :]) - log_prior[m][None, :]
        for m in MODES
    }
    shared = HarmonyModel(states, _normalise_rows(emission), {}, {}, {}, {}, {}).emission_table()
    melody_table = _normalise_rows(melody + PULL["melody"] * np.exp(shared))
    return HarmonyModel(
        states=list(states), emission=_normalise_rows(emission),
        prior=log_prior, phrase=phrase_ratio, melody=melody_table,
        move_bar={m: _normalise_rows(move[(m, "move_bar")]) for m in MODES},
        move_in={m: _normalise_rows(move[(m, "move_in")]) for m in MODES},
        first={m: _normalise_rows(edge[(m, "first")]) for m in MODES},
        cadence={m: _normalise_rows(edge[(m, "cadence")]) for m in MODES},
        melody_weight=base.melody_weight, stay_bonus=base.stay_bonus, sevenths=sevenths / sevenths_all,
    )


def tune_weights(model: HarmonyModel, readings: list[Reading]) -> tuple[float, float]:
    """(melody_weight, stay_bonus) with the best same-root share inside RATE_BAND (training tunes)."""
    best, best_key = None, None
    for weight in MELODY_WEIGHTS:
        for bonus in STAY_BONUSES:
            model.melody_weight, model.stay_bonus = weight, bonus
            result = score(readings, lambda r: choose(r, model, keep=False))
            inside = RATE_BAND[0] <= result.change_ratio <= RATE_BAND[1]
            key = (inside, result.root_pct + 0.5 * result.chord_pct)
            if best_key is None or key > best_key:
                best, best_key = (weight, bonus), key
    return best


def dump(data: dict) -> str:
    """The model as JSON text with each row of numbers on one line (readable diffs, ~1,000 lines)."""
    text = json.dumps(data, indent=1)
    return re.sub(r"\[\s+([-\d.e,\s]+?)\s+\]", lambda m: "[" + re.sub(r"\s+", " ", m.group(1)) + "]", text) + "\n"


def readings_of(tunes: list[str]) -> list[Reading]:
    """Each tune read into slots; tunes the reader cannot read are left out."""
    out = []
    for tune in tunes:
        try:
            out.append(read(tune))
        except HarmonyError:
            continue
    return out


def main(argv: list[str] | None = None) -> int:
    """Command line: fit on the training chord tunes, score the held-out ones, write the JSON."""
    parser = argparse.ArgumentParser(description="Fit the chord HMM to human chords.")
    parser.add_argument("--abc", type=Path, nargs="*", default=[],
                        help="extra ABC files or folders with chord symbols (music21's corpus is always read)")
    parser.add_argument("--out", type=Path, default=CHECKPOINT, help=f"where to write (default {CHECKPOINT})")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    data = load_chord_tunes(args.abc)
    train, held = readings_of(data.train), readings_of(data.held_out)
    print(f"chord tunes: {len(train)} train, {len(held)} held out ({data.counts})")
    if len(train) < MIN_TRAIN:
        print(f"only {len(train)} training chord tunes (at least {MIN_TRAIN}): give ABC with chord symbols "
              f"with --abc; {args.out} is left as it was", file=sys.stderr)
        return 1
    model = fit(train)
    model.melody_weight, model.stay_bonus = tune_weights(model, train)
    chooser = lambda r: choose(r, model, keep=False)  # noqa: E731
    train_score, held_score = score(train, chooser), score(held, chooser)
    model.info = {
        "data_fingerprint": data.fingerprint(), "sources": data.counts,
        "train_tunes": len(train), "held_out_tunes": len(held),
        "train_slots": sum(len(r.slots) for r in train),
        "train": {"same_root_pct": round(train_score.root_pct, 1), "same_chord_pct": round(train_score.chord_pct, 1),
                  "change_ratio": round(train_score.change_ratio, 2)},
        "held_out": {"same_root_pct": round(held_score.root_pct, 1), "same_chord_pct": round(held_score.chord_pct, 1),
                     "change_ratio": round(held_score.change_ratio, 2), "beats": held_score.beats},
        "command": "python -m bot.harmony.train " + " ".join(f"--abc {p}" for p in args.abc),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(dump(model.to_json()))
    print(train_score.line("train"))
    print(held_score.line("held out"))
    print(f"melody weight {model.melody_weight}, stay bonus {model.stay_bonus}; "
          f"wrote {args.out} in {time.perf_counter() - started:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
