"""Learn the harmoniser from the NMD's human chords and write checkpoints/harmony.json (about 10 minutes on one CPU thread).

    python -m bot.harmony.train [--members 5] [--layers 2] [--hidden 48] [--dropout 0.4] [--seed 0]

Two models are learned on the NMD training split (bot.harmony.data) and compared on its
validation split; the test split is never read here (bench/chords.py scores it):

* the HMM (bot.harmony.model), by counting: the melody model, the chord prior, the
  transitions across and inside bars and the first/cadence priors, each pulled toward the
  hand-set model by pseudo-counts (so a chord the data never shows stays possible); then
  its melody weight and stay bonus are chosen on validation. Written to
  checkpoints/harmony_hmm.json: the floor.
* the network (bot.harmony.net): an ensemble of bidirectional GRUs, each trained from its own
  seed (bot.harmony.net_training: cross-entropy, AdamW, dropout, stopped on validation loss);
  their averaged log probabilities are decoded with stay bonuses chosen on validation.

Both are tonic-relative, so a tune counts the same in every key. For each, the settings with
the best validation score (same root + half of same chord) whose chord changes per bar stay
within RATE_BAND of the human rate are kept, and the better of the two is written as
checkpoints/harmony.json (+ harmony.safetensors for the network) with its card
checkpoints/harmony.md: data and its credit, the split's fingerprint, figures, command.

When the network wins, its members are then trained again from the same seeds on train and
validation together (bot.harmony.data.learning_tunes, which refuses any test tune) for the
median of the members' best epochs, and those are shipped with the stay bonuses chosen above
(--no-refit ships the members trained on train alone). The card's validation figures are
always those of the members trained on train alone: the refit members have seen validation.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from pathlib import Path

import numpy as np

from bot import nmd
from bot.compute import cpu_model
from bot.notation.chords import QUALITIES, Chord
from bot.harmony.data import ChordTunes, learning_tunes, load_chord_tunes
from bot.harmony.evaluate import Score, score
from bot.harmony.harmonise import choose
from bot.harmony.model import CHECKPOINT, HMM_CHECKPOINT, HarmonyModel, hand_set, seventh_features
from bot.harmony.net_training import NetTraining, train_members
from bot.harmony.reading import MODES, PHRASE_BARS, Reading

# Pseudo-counts that pull each table toward the hand-set model (more data, less pull).
PULL = {"emission": 20.0, "prior": 30.0, "move": 8.0, "edge": 10.0, "phrase": 20.0, "melody": 60.0, "sevenths": 30.0}
MELODY_WEIGHTS = (0.6, 0.8, 1.0, 1.3, 1.6, 2.0, 2.5)
STAY_BONUSES = (-1.0, -0.5, 0.0, 0.5, 1.0, 1.5)
# The network's stay bonuses (log odds added to keeping the chord), across a bar line and inside one.
NET_STAY_BAR = (-0.5, -0.25, 0.0, 0.25, 0.5, 1.0)
NET_STAY_IN = (0.0, 0.25, 0.5, 1.0, 1.5)
# Chord changes per bar allowed, relative to the human rate (the goal is 0.8-1.2x on the test
# tunes; choosing inside a narrower band on validation leaves room for the difference).
RATE_BAND = (0.9, 1.1)
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


def choice_key(result: Score) -> tuple[bool, float]:
    """How settings are ranked on validation: inside RATE_BAND first, then same root + half of same chord."""
    return RATE_BAND[0] <= result.change_ratio <= RATE_BAND[1], result.root_pct + 0.5 * result.chord_pct


def tune_weights(model: HarmonyModel, readings: list[Reading]) -> tuple[tuple[float, float], Score]:
    """(melody_weight, stay_bonus) with the best choice_key on `readings` (validation), and that score."""
    best, best_score = None, None
    for weight in MELODY_WEIGHTS:
        for bonus in STAY_BONUSES:
            model.melody_weight, model.stay_bonus = weight, bonus
            result = score(readings, lambda r: choose(r, model, keep=False))
            if best_score is None or choice_key(result) > choice_key(best_score):
                best, best_score = (weight, bonus), result
    model.melody_weight, model.stay_bonus = best
    return best, best_score


def tune_stays(harmoniser, readings: list[Reading]) -> Score:
    """Set the network's stay bonuses to the best choice_key on `readings` (validation); that score."""
    from bot.harmony.net import decode

    scores = {id(r): harmoniser.scores(r) for r in readings}  # the net runs once per tune
    best, best_score = None, None
    for stay_bar in NET_STAY_BAR:
        for stay_in in NET_STAY_IN:
            result = score(readings, lambda r: decode(scores[id(r)], r.slots, stay_bar, stay_in))
            if best_score is None or choice_key(result) > choice_key(best_score):
                best, best_score = (stay_bar, stay_in), result
    harmoniser.stay_bar, harmoniser.stay_in = best
    return best_score


def figures(result: Score) -> dict:
    """A score as the card's numbers."""
    return {"same_root_pct": round(result.root_pct, 1), "same_chord_pct": round(result.chord_pct, 1),
            "change_ratio": round(result.change_ratio, 2), "beats": result.beats, "tunes": result.tunes}


def dump(data: dict) -> str:
    """The model as JSON text with each row of numbers on one line (readable diffs, ~1,000 lines)."""
    text = json.dumps(data, indent=1)
    return re.sub(r"\[\s+([-\d.e,\s]+?)\s+\]", lambda m: "[" + re.sub(r"\s+", " ", m.group(1)) + "]", text) + "\n"


def card_text(info: dict) -> str:
    """The model card as markdown (checkpoints/harmony.md)."""
    val = info["validation"]
    rows = "\n".join(f"| {name} | {v['same_root_pct']}% | {v['same_chord_pct']}% | {v['change_ratio']}x |"
                     for name, v in info["candidates"].items())
    counts = "\n".join(f"- {name}: {n}" for name, n in sorted(info["data"]["counts"].items()))
    return f"""# Harmoniser: {info['chosen']}

Chooses guitar chords for a folk tune's melody (bot.harmony). Learned from human chords.

- **Data**: {nmd.CREDIT}. The NMD's tunes are data, not code: the MIT licence does not cover them.
- **Split** (bot.nmd: a hash of each tune's text; shared with the language model): train
  {info['data']['train_tunes']} tunes (learned on), validation {info['data']['validation_tunes']} (model and
  settings chosen on), test (never read by training; scored by `python bench/chords.py`).
  Fingerprint of the tunes used: `{info['data']['fingerprint']}`.
- **Command**: `{info['command']}` ({info['seconds']} s on {info['cpu']}).
- **Settings**: {json.dumps(info['settings'])}
- **Shipped weights**: {info.get('shipped', 'as chosen on validation')}.

## Validation figures (per beat, against the human chord)

| model | same root | same chord | changes/bar vs human |
|---|---|---|---|
{rows}

Chosen: **{info['chosen']}** ({val['same_root_pct']}% same root, {val['same_chord_pct']}% same chord,
{val['change_ratio']}x the human change rate on validation, scored with models trained on train
alone). Test figures: `python bench/chords.py`.

## What reading the NMD repaired or dropped

{counts}
"""


def main(argv: list[str] | None = None) -> int:
    """Command line: learn the HMM and the network on NMD train, choose on validation, write the winner."""
    defaults = NetTraining()
    parser = argparse.ArgumentParser(description="Learn the harmoniser from the NMD's human chords.")
    parser.add_argument("--members", type=int, default=defaults.members,
                        help=f"GRUs in the ensemble, each from its own seed (default {defaults.members})")
    parser.add_argument("--epochs", type=int, default=defaults.epochs,
                        help=f"most epochs per member; each stops when validation loss stops falling (default {defaults.epochs})")
    parser.add_argument("--patience", type=int, default=defaults.patience,
                        help=f"epochs without a lower validation loss before a member stops (default {defaults.patience})")
    parser.add_argument("--hidden", type=int, default=defaults.hidden, help=f"GRU width per direction (default {defaults.hidden})")
    parser.add_argument("--layers", type=int, default=defaults.layers, help=f"stacked GRU layers (default {defaults.layers})")
    parser.add_argument("--dropout", type=float, default=defaults.dropout,
                        help=f"dropout while training, 0 to under 1 (default {defaults.dropout})")
    parser.add_argument("--seed", type=int, default=defaults.seed, help="the first member's seed; member i uses seed + i")
    parser.add_argument("--no-refit", action="store_true",
                        help="ship the members trained on train alone (default: train them again on train + validation)")
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads (1 leaves the machine usable)")
    parser.add_argument("--out", type=Path, default=CHECKPOINT, help=f"where to write (default {CHECKPOINT})")
    parser.add_argument("--quiet", action="store_true", help="no progress bars")
    args = parser.parse_args(argv)
    if min(args.members, args.epochs, args.patience, args.hidden, args.layers) < 1 or not 0 <= args.dropout < 1:
        parser.error(f"--members, --epochs, --patience, --hidden and --layers must be at least 1 and --dropout in "
                     f"[0, 1) (got {args.members}, {args.epochs}, {args.patience}, {args.hidden}, {args.layers}, "
                     f"{args.dropout})")
    import torch

    from bot.harmony.net import NetHarmoniser, learn_vocabulary

    config = NetTraining(members=args.members, hidden=args.hidden, layers=args.layers, dropout=args.dropout, epochs=args.epochs,
                         patience=args.patience, seed=args.seed)
    torch.set_num_threads(args.threads)
    started = time.perf_counter()
    data: ChordTunes = load_chord_tunes(("train", "validation"))
    train, validation = data.splits["train"], data.splits["validation"]
    print(data.summary())
    if len(train) < MIN_TRAIN or not validation:
        print(f"only {len(train)} training and {len(validation)} validation chord tunes: data/nmd/ is "
              f"incomplete; {args.out} is left as it was", file=sys.stderr)
        return 1

    hmm = fit(train)
    _, hmm_score = tune_weights(hmm, validation)
    print(hmm_score.line("HMM (validation)"))
    nets, member_infos = train_members(train, validation, config, desc="networks on train", quiet=args.quiet)
    harmoniser = NetHarmoniser(nets, learn_vocabulary(train))
    candidates = {"learned HMM": figures(hmm_score)}
    if len(nets) > 1:  # the first member alone, for the card: what the ensemble adds
        alone = NetHarmoniser(nets[:1], harmoniser.vocabulary)
        candidates["network, one member"] = figures(tune_stays(alone, validation))
    net_score = tune_stays(harmoniser, validation)
    candidates[f"network, {len(nets)} members averaged" if len(nets) > 1 else "network"] = figures(net_score)
    print(net_score.line(f"network x{len(nets)} (validation)"))

    chosen = "network" if choice_key(net_score) > choice_key(hmm_score) else "HMM"
    settings = {"melody_weight": hmm.melody_weight, "stay_bonus": hmm.stay_bonus}
    shipped = "the learned HMM, counted on the train split"
    if chosen == "network":
        best_epochs = [info["epoch"] for info in member_infos]
        settings = {**config.to_dict(), "best_epochs": best_epochs,
                    "validation_losses": [info["validation_loss"] for info in member_infos],
                    "stay_bar": harmoniser.stay_bar, "stay_in": harmoniser.stay_in}
        shipped = f"the {len(nets)} members trained on the train split (each at its best validation epoch)"
        if not args.no_refit:
            # Standard practice once the settings are fixed: learn from every tune but the test ones,
            # for as long as the members needed on train alone; the decoding settings stay as chosen.
            tunes = learning_tunes(data)
            epochs = int(round(float(np.median(best_epochs))))
            nets, _ = train_members(tunes, None, config, epochs=epochs, desc="refit on train + validation",
                                    quiet=args.quiet)
            harmoniser = NetHarmoniser(nets, learn_vocabulary(tunes), harmoniser.stay_bar, harmoniser.stay_in)
            settings["refit_epochs"] = epochs
            shipped = (f"the {len(nets)} members trained again from the same seeds on train + validation "
                       f"({len(tunes)} tunes) for {epochs} epochs (the median best epoch), with the stay "
                       "bonuses chosen on validation; the figures below are the train-only members'")
    info = {
        "chosen": "bidirectional GRU ensemble (bot.harmony.net)" if chosen == "network" else "HMM (bot.harmony.model)",
        "credit": nmd.CREDIT,
        "data": {"source": "data/nmd (Nottingham Music Database)", "fingerprint": data.fingerprint(),
                 "train_tunes": len(train), "validation_tunes": len(validation),
                 "train_slots": sum(len(r.slots) for r in train), "counts": dict(data.counts)},
        "validation": figures(net_score if chosen == "network" else hmm_score),
        "candidates": candidates,
        "settings": settings,
        "shipped": shipped,
        "command": " ".join(["python -m bot.harmony.train", *(sys.argv[1:] if argv is None else argv)]),
        "cpu": cpu_model(), "torch": torch.__version__,
    }
    info["seconds"] = round(time.perf_counter() - started, 1)
    hmm.info = dict(info, chosen="HMM (bot.harmony.model)", validation=figures(hmm_score),
                    settings={"melody_weight": hmm.melody_weight, "stay_bonus": hmm.stay_bonus},
                    shipped="counted on the train split")
    hmm_path = args.out.with_name(args.out.stem + "_hmm.json") if args.out != CHECKPOINT else HMM_CHECKPOINT
    hmm_path.parent.mkdir(parents=True, exist_ok=True)
    hmm_path.write_text(dump(hmm.to_json()))
    if chosen == "network":
        harmoniser.info = info
        harmoniser.save(args.out, args.out.with_suffix(".safetensors"))
    else:
        hmm.info = info
        args.out.write_text(dump(hmm.to_json()))
        args.out.with_suffix(".safetensors").unlink(missing_ok=True)
    args.out.with_suffix(".md").write_text(card_text(info))
    print(f"chose the {chosen}; wrote {args.out}, {args.out.with_suffix('.md')} and {hmm_path} "
          f"in {info['seconds']} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
