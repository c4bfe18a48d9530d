"""The chord chooser: an HMM over chords relative to the tonic, decoded with Viterbi (numpy).

States are chords named relative to the key's tonic (root 0 is the tonic chord), so one set
of parameters serves every key: a tune in G and the same tune in D read the same. For each
chord slot (bot.harmony.reading), the melody scores each chord by how long it sounds each
pitch class, weighed by how likely that interval above the chord's root is for the chord's
quality (`emission`). The chords follow each other by a transition table per mode family,
one for slots at a bar line and one inside a bar (so the chord rate per bar follows the
data), plus a prior for the first bar and for the bar that closes a section (cadences).

This HMM is the floor the learned models are measured against: `python -m bot.harmony.train`
counts its tables on the NMD training tunes (checkpoints/harmony_hmm.json) and also trains
the network of bot.harmony.net; whichever scores better on the validation tunes is written as
checkpoints/harmony.json, which `load()` reads (an HMM or a network, by its "format"). Without
a checkpoint the hand-set defaults below are used. Nothing is loaded at import.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np

from bot.notation.chords import QUALITIES, Chord
from bot.harmony.reading import MODES, PHRASE_BARS, Slot
from bot.harmony.scales import SCALES

CHECKPOINT = Path(__file__).resolve().parents[2] / "checkpoints" / "harmony.json"
HMM_CHECKPOINT = CHECKPOINT.with_name("harmony_hmm.json")  # the learned HMM, kept as the floor
HMM_FORMAT = "abc-bot harmony HMM v1"
NEG = -1e9  # log of "impossible", finite so sums stay finite
# A seventh is written only where the data makes it clearly likelier than the triad: with 0.5
# the 4-fold cross-validated "same chord" share was 0.8 points lower (59.5% against 60.3%).
SEVENTH_ODDS = 0.6

# Hand-set weight of a chord by the scale degree of its root (semitones above the tonic),
# before any data: the tonic most, then the chords a folk accompanist reaches for.
_DEGREE_WEIGHT = {0: 1.0, 5: 0.55, 7: 0.6, 10: 0.35, 9: 0.25, 2: 0.2, 8: 0.2, 3: 0.2, 4: 0.08, 11: 0.02}
# Hand-set melody model: probability of each interval above the chord's root.
_HAND_EMISSION = {
    "maj": {0: 24, 4: 18, 7: 20, 2: 8, 9: 8, 5: 6, 11: 6},
    "min": {0: 24, 3: 18, 7: 20, 2: 7, 5: 7, 10: 7, 8: 5, 9: 4},
    "7": {0: 20, 4: 17, 7: 17, 10: 14, 2: 8, 9: 7, 5: 5},
    "min7": {0: 20, 3: 17, 7: 17, 10: 14, 2: 7, 5: 7, 8: 4},
    "dim": {0: 20, 3: 20, 6: 20, 9: 10, 2: 5, 5: 5},
}


@dataclass
class HarmonyModel:
    """HMM parameters, all as log probabilities; states are chords relative to the tonic."""

    states: list[Chord]  # relative chords (root 0 = the tonic)
    emission: np.ndarray  # (qualities, 12): log P(melody interval above the root | quality)
    prior: dict[str, np.ndarray]  # mode -> (S,): log P(chord) anywhere
    move_bar: dict[str, np.ndarray]  # mode -> (S, S): log P(next | previous) across a bar line
    move_in: dict[str, np.ndarray]  # mode -> (S, S): log P(next | previous) inside a bar
    first: dict[str, np.ndarray]  # mode -> (S,): log P(chord) in the first full bar
    cadence: dict[str, np.ndarray]  # mode -> (S,): log P(chord) at the start of a section's last bar
    melody_weight: float = 1.0  # how much one beat of melody counts against the transitions
    stay_bonus: float = 0.0  # added to staying on a chord: tunes the change rate to the data's
    # P(a major chord is played as a seventh) by (relative root, resolves a fifth down next,
    # the melody sounds its seventh): (12, 2, 2). The HMM chooses root and triad; this adds the 7.
    sevenths: np.ndarray = field(default_factory=lambda: _hand_sevenths())
    # mode -> (2 * PHRASE_BARS, S): log P(chord | place in the phrase) - log P(chord); none before data.
    phrase: dict[str, np.ndarray] = field(default_factory=dict)
    # (S, 12): log P(melody pitch class relative to the tonic | state), counted per chord and
    # pulled toward `emission` rolled to the chord's root; None: `emission` alone.
    melody: np.ndarray | None = None
    info: dict = field(default_factory=dict)  # where the numbers came from (data, counts, scores)

    def emission_table(self) -> np.ndarray:
        """(S, 12): log P(melody pitch class relative to the tonic | chord state)."""
        if self.melody is not None and len(self.melody) == len(self.states):
            return self.melody
        table = np.empty((len(self.states), 12))
        for s, chord in enumerate(self.states):
            row = self.emission[QUALITIES.index(chord.quality)]
            table[s] = np.roll(row, chord.root)  # interval i above the root is pitch class root+i
        return table

    def to_json(self) -> dict:
        """The parameters as plain JSON (lists of numbers), loadable without this module."""
        per_mode = lambda table: {m: np.round(v, 4).tolist() for m, v in table.items()}  # noqa: E731
        return {
            "format": HMM_FORMAT,
            "states": [[c.root, c.quality] for c in self.states],
            "qualities": list(QUALITIES),
            "emission": np.round(self.emission, 4).tolist(),
            "prior": per_mode(self.prior), "move_bar": per_mode(self.move_bar),
            "move_in": per_mode(self.move_in), "first": per_mode(self.first),
            "cadence": per_mode(self.cadence),
            "melody_weight": self.melody_weight, "stay_bonus": self.stay_bonus,
            "sevenths": np.round(self.sevenths, 4).tolist(), "phrase": per_mode(self.phrase),
            "melody": None if self.melody is None else np.round(self.melody, 4).tolist(), "info": self.info,
        }

    @classmethod
    def from_json(cls, data: dict) -> HarmonyModel:
        """The model a to_json dict describes; ValueError names a missing or malformed part."""
        try:
            states = [Chord(int(r), str(q)) for r, q in data["states"]]
            qualities = tuple(data["qualities"])
            if qualities != QUALITIES:
                raise ValueError(f"qualities {qualities} differ from {QUALITIES}")
            arr = lambda table: {m: np.asarray(table[m], dtype=float) for m in MODES}  # noqa: E731
            model = cls(
                states=states, emission=np.asarray(data["emission"], dtype=float),
                prior=arr(data["prior"]), move_bar=arr(data["move_bar"]), move_in=arr(data["move_in"]),
                first=arr(data["first"]), cadence=arr(data["cadence"]),
                melody_weight=float(data["melody_weight"]), stay_bonus=float(data["stay_bonus"]),
                sevenths=np.asarray(data["sevenths"], dtype=float).reshape(12, 2, 2),
                phrase=arr(data["phrase"]) if data.get("phrase") else {},
                melody=np.asarray(data["melody"], dtype=float) if data.get("melody") is not None else None,
                info=dict(data.get("info", {})),
            )
        except (KeyError, TypeError, AssertionError) as err:
            raise ValueError(f"harmony model: missing or malformed {err}") from None
        size = len(states)
        for mode in MODES:
            if model.move_bar[mode].shape != (size, size) or model.prior[mode].shape != (size,):
                raise ValueError(f"harmony model: tables for mode {mode} do not match {size} states")
            if model.phrase and model.phrase[mode].shape != (2 * PHRASE_BARS, size):
                raise ValueError(f"harmony model: phrase table for mode {mode} is not {2 * PHRASE_BARS} x {size}")
        return model


def default_states() -> list[Chord]:
    """Every relative chord the HMM chooses among: major and minor on each root, and the leading-note diminished.

    Sevenths on major chords are added after decoding (HarmonyModel.sevenths).
    """
    return [Chord(root, quality) for root in range(12) for quality in ("maj", "min")] + [Chord(11, "dim")]


def _hand_sevenths() -> np.ndarray:
    """Before data: a seventh only where the melody sounds it before the chord a fifth down."""
    table = np.full((12, 2, 2), 0.1)
    table[:, 1, 1] = 0.55
    return table


def seventh_features(chords: list[Chord], slots: list[Slot]) -> list[tuple[int, int, int]]:
    """(relative root, resolves a fifth down next, melody has the 7th) for each slot's chord."""
    features = []
    following: Chord | None = None
    nexts: list[Chord | None] = [None] * len(chords)
    for t in range(len(chords) - 1, -1, -1):
        nexts[t] = following
        if t > 0 and chords[t - 1] != chords[t]:
            following = chords[t]
    for chord, after, slot in zip(chords, nexts, slots):
        resolves = int(after is not None and after.root == (chord.root + 5) % 12)
        has_seventh = int(slot.weights[(chord.root - slot.tonic + 10) % 12] > 0)
        features.append(((chord.root - slot.tonic) % 12, resolves, has_seventh))
    return features


def _diatonic(chord: Chord, scale: tuple[int, ...]) -> bool:
    return all(pc in scale for pc in chord.pitch_classes())


def hand_set() -> HarmonyModel:
    """The model before any data: diatonic chords of the mode, weighted by scale degree."""
    states = default_states()
    emission = np.zeros((len(QUALITIES), 12))
    for q, quality in enumerate(QUALITIES):
        row = np.full(12, 2.0)
        for interval, weight in _HAND_EMISSION[quality].items():
            row[interval] = weight
        emission[q] = np.log(row / row.sum())
    prior, move_bar, move_in, first, cadence = {}, {}, {}, {}, {}
    for mode, scale in SCALES.items():
        weights = np.array([
            _DEGREE_WEIGHT.get(c.root, 0.02) * (1.0 if _diatonic(c, scale) else 0.04)
            * (0.3 if c.quality == "dim" else 1.0)
            for c in states
        ])
        # The major dominant (V, V7) is at home in minor and dorian tunes too (raised leading note).
        for s, c in enumerate(states):
            if mode in ("min", "dor") and c.root == 7 and c.quality == "maj":
                weights[s] = 0.3
        p = weights / weights.sum()
        prior[mode] = np.log(p)
        # Across a bar line: stay with 0.5, else move by the prior. Inside a bar: mostly stay.
        size = len(states)
        move_bar[mode] = np.log(0.5 * np.eye(size) + 0.5 * p[None, :] + 1e-12)
        move_in[mode] = np.log(0.85 * np.eye(size) + 0.15 * p[None, :] + 1e-12)
        tonic = np.array([1.0 if c.root == 0 and c.quality in ("maj", "min") else 0.0 for c in states])
        first[mode] = np.log(0.6 * tonic / tonic.sum() + 0.4 * p)
        cadence[mode] = np.log(0.5 * tonic / tonic.sum() + 0.5 * p)
    # Melody weight and stay bonus: the best of a 3x3 grid on 84 Nottingham Music Database
    # tunes with chords (64.0% same root, 0.89x the human change rate), a set read from
    # outside the repo for this one choice and not shipped; the tables themselves are hand-set.
    return HarmonyModel(states, emission, prior, move_bar, move_in, first, cadence,
                        melody_weight=3.0, stay_bonus=-1.0, info={"source": "hand-set (no data)"})


@lru_cache(maxsize=4)
def load(path: str | None = None):
    """The shipped chooser (checkpoints/harmony.json: an HMM or a NetHarmoniser), else the hand-set HMM; cached.

    A network's weights are read from the .safetensors file beside its JSON card.
    FileNotFoundError names a given path that is missing; ValueError a file that does not describe a model.
    """
    file = Path(path) if path else CHECKPOINT
    if not file.exists():
        if path:
            raise FileNotFoundError(f"{file}: no harmony model there")
        return hand_set()
    try:
        data = json.loads(file.read_text())
    except json.JSONDecodeError as err:
        raise ValueError(f"{file}: not JSON ({err})") from None
    if data.get("format") == HMM_FORMAT:
        return HarmonyModel.from_json(data)
    from bot.harmony.net import NetHarmoniser  # torch only when a network is shipped

    return NetHarmoniser.from_json(data, file.with_suffix(".safetensors"))


def _pinned_state(chord: Chord, states: list[Chord]) -> Chord:
    """The state a written chord is decoded as: itself, else its triad (D7 as D, Am7 as Am).

    (A chord with neither in the vocabulary pins nothing; it is still kept as written.)
    """
    if chord in states:
        return chord
    return Chord(chord.root, "min" if chord.quality in ("min7", "dim") else "maj")


def decode(model: HarmonyModel, slots: list[Slot], fixed: list[Chord | None] | None = None) -> list[Chord]:
    """The most likely absolute chord for every slot (Viterbi); `fixed[t]` pins slot t's chord.

    A slot where no note starts keeps the chord before it (a chord cannot be written there).
    """
    if not slots:
        return []
    states = model.states
    index = {chord: i for i, chord in enumerate(states)}
    relative_fixed: list[Chord | None] = []  # the written chords, relative to the tonic
    pinned: list[int | None] = []  # the state standing for each (a seventh by its triad)
    for t, slot in enumerate(slots):
        chord = fixed[t] if fixed else None
        rel = chord.transposed(-slot.tonic) if chord is not None else None
        relative_fixed.append(rel)
        pinned.append(index.get(_pinned_state(rel, states)) if rel is not None else None)
    size, count = len(states), len(slots)
    weights = np.stack([slot.weights for slot in slots])  # (T, 12)
    score = model.melody_weight * weights @ model.emission_table().T  # (T, S)
    stay = model.stay_bonus * np.eye(size)
    for t, slot in enumerate(slots):
        if slot.first and slot.bar_start:
            score[t] += model.first[slot.mode]
        elif slot.cadence and slot.bar_start:
            score[t] += model.cadence[slot.mode]
        if slot.mode in model.phrase:
            score[t] += model.phrase[slot.mode][slot.phrase]
        if pinned[t] is not None:
            keep = score[t, pinned[t]]
            score[t] = NEG
            score[t, pinned[t]] = keep
    best = score[0] + model.prior[slots[0].mode]
    back = np.zeros((count, size), dtype=np.int32)
    no_change = np.full((size, size), NEG)
    np.fill_diagonal(no_change, 0.0)
    for t in range(1, count):
        slot = slots[t]
        if slot.insert_at is None and pinned[t] is None:
            move = no_change
        else:
            table_t = model.move_bar[slot.mode] if slot.bar_start else model.move_in[slot.mode]
            move = table_t + stay
        total = best[:, None] + move  # (S previous, S next)
        back[t] = np.argmax(total, axis=0)
        best = total[back[t], np.arange(size)] + score[t]
    path = [int(np.argmax(best))]
    for t in range(count - 1, 0, -1):
        path.append(int(back[t, path[-1]]))
    path.reverse()
    chords = [states[s].transposed(slot.tonic) for s, slot in zip(path, slots)]
    # Sevenths, decided per run of one chord (all its slots alike): pinned chords stay as written.
    features = seventh_features(chords, slots)
    t = 0
    while t < count:
        end = t
        while end + 1 < count and chords[end + 1] == chords[t]:
            end += 1
        if chords[t].quality == "maj" and all(relative_fixed[i] is None for i in range(t, end + 1)):
            root, resolves, _ = features[t]
            has_seventh = int(any(features[i][2] for i in range(t, end + 1)))
            if model.sevenths[root, resolves, has_seventh] > SEVENTH_ODDS:
                for i in range(t, end + 1):
                    chords[i] = Chord(chords[i].root, "7")
        t = end + 1
    for i, rel in enumerate(relative_fixed):
        if rel is not None:
            chords[i] = rel.transposed(slots[i].tonic)
    return chords

