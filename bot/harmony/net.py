"""The learned chord chooser: a small bidirectional GRU over a tune's chord slots (torch).

Each chord slot (bot.harmony.reading.Slot) becomes one feature vector, all relative to the
key's tonic so one set of weights serves every key:

    melody      (12) beats each pitch class sounds in the slot (share of the slot)
    onset       (12) the pitch class sounding at the slot's start (the beat note; none on a rest)
    last        (12) the pitch class of the slot's last note (it leads into the next chord)
    place       (16) bar in the 8-bar phrase x first/second half of the bar
    flags        (7) bar start, section cadence bar, first bar, tune's last slot, last slot
                     of a cadence bar, place in the bar (0..1), more than two slots a bar
    minor        (1) the key's third is minor (dorian, minor); the NMD has no modal tunes,
                     so a mode of its own would be a feature never seen in training
    meter        (2) compound (6/8, 9/8 ...), triple (3/4, 9/8)
    middle      (12) the pitch class sounding at the slot's middle, where the slot is longer
                     than a beat (the second beat of a 4/4 half bar)
    lowest      (12) the lowest pitch class sounding in the slot (what a bass line would take)
    notes        (1) notes and rests starting in the slot, over 6 (capped at 1): busy or held

The last three (25 features) came with the second GRU layer: on NMD validation they raised
a member's same-root share by 0.4 (one layer) to 0.9 points (two layers) (bot.harmony.train).

The GRU reads the whole tune both ways (so the chord at a half bar knows the cadence ahead)
and gives, per slot, log P(chord | tune) over CLASSES: major, minor and seventh on each of the
12 roots relative to the tonic. Several such GRUs, trained alike from different seeds, are
shipped together: their log probabilities are averaged per slot before decoding (the average
agrees with people more often on validation than any one member does; bot.harmony.train).

Only the chords of the key's vocabulary may be chosen: those people played at least
MIN_VOCABULARY times in the training tunes of its mode family (major or minor), and for
dorian and mixolydian tunes (none in the NMD) also their mode's own triads; so a D
mixolydian tune gets C and Am, never D minor. Decoding (`choose`) adds a stay bonus in a
Viterbi pass so that the chords change about as often as people change them, keeps written
chords pinned and never changes chord where no note starts. Weights:
checkpoints/harmony.safetensors (member i's tensors under "i."); its settings and card:
checkpoints/harmony.json (bot.harmony.model.load reads both).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np
import torch
from torch import nn

from bot.harmony.cadences import cadence_chords, closing_slots
from bot.harmony.reading import PHRASE_BARS, Reading, Slot
from bot.harmony.scales import mode_triads
from bot.notation.chords import Chord

# The chord classes: every root (relative to the tonic) as major, minor and dominant seventh.
# m7 and dim fold into minor (the bench's "same chord" counts them as minor too).
QUALITY_CLASSES = ("maj", "min", "7")
CLASSES = [Chord(root, quality) for root in range(12) for quality in QUALITY_CLASSES]
FEATURES = 12 * 3 + 2 * PHRASE_BARS + 7 + 1 + 2 + 12 + 12 + 1
NEG = -1e9  # log of "impossible", finite so sums stay finite
# A chord (relative to the tonic) is in a mode family's vocabulary when the training tunes
# play it on at least this many slots (of about 36,000): the major keys then keep 17 chords.
MIN_VOCABULARY = 30


def class_of(chord: Chord) -> int:
    """The class index of a chord relative to the tonic (m7, dim -> minor)."""
    quality = {"min7": "min", "dim": "min"}.get(chord.quality, chord.quality)
    return chord.root * 3 + QUALITY_CLASSES.index(quality)


@dataclass
class NetConfig:
    """Shape of the chord network (stored in the card so the weights load without this code's defaults)."""

    features: int = FEATURES  # input size per slot (see the module docstring)
    hidden: int = 48  # GRU width per direction: larger did not score better on validation
    classes: int = len(CLASSES)  # output chords
    dropout: float = 0.0  # dropped share of the GRU's input, output and between its layers while training (none at use)
    layers: int = 1  # stacked GRU layers (each both ways)

    def to_dict(self) -> dict:
        """Plain JSON."""
        return asdict(self)


class ChordNet(nn.Module):
    """Slots' features (B, T, F) -> log P(chord class) (B, T, C), reading the tune both ways."""

    def __init__(self, config: NetConfig):
        super().__init__()
        self.config = config
        self.embed = nn.Linear(config.features, config.hidden)
        self.drop = nn.Dropout(config.dropout)  # no parameters: weights of any dropout load alike
        self.gru = nn.GRU(config.hidden, config.hidden, num_layers=config.layers, batch_first=True, bidirectional=True,
                          dropout=config.dropout if config.layers > 1 else 0.0)
        self.out = nn.Linear(2 * config.hidden, config.classes)

    def forward(self, x: torch.Tensor, lengths: torch.Tensor | None = None) -> torch.Tensor:
        """(B, T, F) float -> (B, T, C) log probabilities; `lengths` (B,): each tune's slots in a padded batch.

        With lengths the GRU reads each tune packed, so the backward direction starts at the
        tune's own last slot, as it does for a single tune (padding would feed it zeros first).
        """
        e = self.drop(torch.tanh(self.embed(x)))  # (B, T, H)
        if lengths is None:
            h, _ = self.gru(e)  # (B, T, 2H)
        else:
            packed = nn.utils.rnn.pack_padded_sequence(e, lengths, batch_first=True, enforce_sorted=False)
            h, _ = nn.utils.rnn.pad_packed_sequence(self.gru(packed)[0], batch_first=True, total_length=x.shape[1])
        return torch.log_softmax(self.out(self.drop(h)), dim=-1)


def features(reading: Reading) -> np.ndarray:
    """(T, FEATURES) float32: one row per slot of `reading` (see the module docstring)."""
    slots = reading.slots
    rows = np.zeros((len(slots), FEATURES), dtype=np.float32)
    per_bar: dict[int, int] = {}
    for slot in slots:
        per_bar[slot.bar] = per_bar.get(slot.bar, 0) + 1
    seen: dict[int, int] = {}
    compound = _compound(reading.meter)
    for t, slot in enumerate(slots):
        row = rows[t]
        total = slot.weights.sum()
        if total > 0:
            row[0:12] = slot.weights / total
        if slot.onset is not None:
            row[12 + slot.onset] = 1
        if slot.last is not None:
            row[24 + slot.last] = 1
        row[36 + min(slot.phrase, 2 * PHRASE_BARS - 1)] = 1
        k = 36 + 2 * PHRASE_BARS
        index_in_bar = seen.get(slot.bar, 0)
        seen[slot.bar] = index_in_bar + 1
        count = per_bar[slot.bar]
        last_of_bar = index_in_bar == count - 1
        row[k:k + 7] = (slot.bar_start, slot.cadence, slot.first, t == len(slots) - 1,
                        slot.cadence and last_of_bar, index_in_bar / max(1, count - 1), count > 2)
        row[k + 7] = slot.mode in ("dor", "min")
        row[k + 8] = compound
        row[k + 9] = count % 3 == 0
        _fill_texture(row[k + 10:], reading, slot)
    return rows


def _fill_texture(row: np.ndarray, reading: Reading, slot: Slot) -> None:
    """Write a slot's middle note (12), lowest note (12) and note count (1) into `row` (25,)."""
    bar = reading.bars[slot.bar]  # a bar with slots is no pickup: its events' offsets need no shift
    sounding = slot.sounding
    middle = slot.start + (slot.end - slot.start) / 2
    at_middle = [e for e in sounding if e.offset <= middle < e.offset + e.duration]
    if at_middle and slot.end - slot.start > reading.beat:
        row[(max(at_middle[0].pitches) - slot.tonic) % 12] = 1  # the top note of a written chord is the melody's
    if sounding:
        row[12 + (min(min(e.pitches) for e in sounding) - slot.tonic) % 12] = 1
    row[24] = min(1.0, sum(slot.start <= e.offset < slot.end for e in bar.events) / 6)


def _compound(meter: str) -> bool:
    top = meter.split("/")[0]
    return top.isdigit() and int(top) % 3 == 0 and int(top) > 3


def labels(reading: Reading) -> np.ndarray:
    """(T,) int64: the human chord's class per slot, -1 where the text has none yet."""
    out = np.full(len(reading.slots), -1, dtype=np.int64)
    for t, slot in enumerate(reading.slots):
        if slot.human is not None:
            out[t] = class_of(slot.human.transposed(-slot.tonic))
    return out


@torch.no_grad()
def log_probs(nets: list[ChordNet], reading: Reading) -> np.ndarray:
    """(T, C): the members' log P(chord class) per slot of one tune, averaged over the members."""
    x = torch.from_numpy(features(reading))[None]  # (1, T, F)
    return torch.stack([net(x)[0] for net in nets]).mean(dim=0).numpy().astype(np.float64)  # (M, T, C) -> (T, C)


def decode(scores: np.ndarray, slots: list[Slot], stay_bar: float, stay_in: float,
           fixed: list[Chord | None] | None = None) -> list[Chord]:
    """Viterbi over (T, C) class scores with a bonus for keeping the chord; `fixed[t]` pins slot t.

    Where no note starts (slot.insert_at is None) and nothing is pinned, the chord cannot change.
    """
    count, size = scores.shape
    scores = scores.copy()
    pinned: list[int | None] = []
    for t, slot in enumerate(slots):
        chord = fixed[t] if fixed else None
        pinned.append(None if chord is None else class_of(chord.transposed(-slot.tonic)))
        if pinned[t] is not None:
            keep = scores[t, pinned[t]]
            scores[t] = NEG
            scores[t, pinned[t]] = keep
    for t, final in closing_slots(slots):  # chords that land (bot.harmony.cadences)
        if pinned[t] is None:
            wanted = [class_of(c) for c in cadence_chords(slots[t], final)]
            if wanted and (scores[t, wanted] > NEG / 2).any():
                keep = scores[t, wanted].copy()
                scores[t] = NEG
                scores[t, wanted] = keep
    stay = {True: stay_bar * np.eye(size), False: stay_in * np.eye(size)}
    no_change = np.full((size, size), NEG)
    np.fill_diagonal(no_change, 0.0)
    best = scores[0]
    back = np.zeros((count, size), dtype=np.int32)
    for t in range(1, count):
        slot = slots[t]
        move = no_change if slot.insert_at is None and pinned[t] is None else stay[slot.bar_start]
        total = best[:, None] + move  # (C previous, C next)
        back[t] = np.argmax(total, axis=0)
        best = total[back[t], np.arange(size)] + scores[t]
    path = [int(np.argmax(best))]
    for t in range(count - 1, 0, -1):
        path.append(int(back[t, path[-1]]))
    path.reverse()
    chords = [CLASSES[c].transposed(slot.tonic) for c, slot in zip(path, slots)]
    if fixed:  # written chords stay exactly as written (an m7 is not turned into its minor)
        chords = [f if f is not None else c for c, f in zip(chords, fixed)]
    return chords


FORMAT = "abc-bot harmony net v2"  # v2: one or more members, weights keyed "0.gru...", "1.gru..."


@dataclass
class NetHarmoniser:
    """The networks (an ensemble of one or more) with their decoding settings and card: what
    checkpoints/harmony.json describes."""

    nets: list[ChordNet]  # members of one shape, averaged (log_probs)
    # mode family ("maj" | "min") -> the class indices people play in it (see module docstring)
    vocabulary: dict[str, list[int]] = field(default_factory=dict)
    stay_bar: float = 0.0  # log bonus for keeping the chord across a bar line (chosen on validation)
    stay_in: float = 0.5  # ... and inside a bar
    info: dict | None = None  # the card: data, split fingerprint, figures, command, credit

    def __post_init__(self):
        assert isinstance(self.nets, list) and self.nets, "NetHarmoniser takes a list of one or more ChordNets"

    def choose(self, reading: Reading, fixed: list[Chord | None] | None = None) -> list[Chord]:
        """The chord in force at every slot of `reading`; `fixed[t]` pins slot t."""
        if not reading.slots:
            return []
        return decode(self.scores(reading), reading.slots, self.stay_bar, self.stay_in, fixed)

    def allowed(self, mode: str) -> np.ndarray:
        """(C,) bool: the classes a tune of `mode` ("maj", "mix", "dor", "min") may be given."""
        family = "min" if mode in ("dor", "min") else "maj"
        mask = np.zeros(len(CLASSES), dtype=bool)
        mask[self.vocabulary.get(family, range(len(CLASSES)))] = True
        if mode in ("dor", "mix"):
            for chord in mode_triads(mode):
                mask[class_of(chord)] = True
        return mask

    def scores(self, reading: Reading) -> np.ndarray:
        """(T, C): the network's log probabilities, NEG for chords outside each slot's vocabulary."""
        scores = log_probs(self.nets, reading)
        for mode in {slot.mode for slot in reading.slots}:
            rows = np.array([slot.mode == mode for slot in reading.slots])
            scores[np.ix_(rows, ~self.allowed(mode))] = NEG
        return scores

    def to_json(self) -> dict:
        """Settings and card as plain JSON (the weights go beside it, in safetensors)."""
        vocabulary = {family: [f"{CLASSES[c].root}:{CLASSES[c].quality}" for c in classes]
                      for family, classes in self.vocabulary.items()}
        return {"format": FORMAT, "net": self.nets[0].config.to_dict(), "members": len(self.nets),
                "vocabulary": vocabulary, "stay_bar": self.stay_bar, "stay_in": self.stay_in,
                "classes": [f"{c.root}:{c.quality}" for c in CLASSES], "info": self.info or {}}

    def save(self, card_path, weights_path) -> None:
        """Write weights (safetensors) and card (JSON) via temporary names, so a crash leaves no torn pair."""
        import json
        from pathlib import Path

        from safetensors.torch import save_file

        card_path, weights_path = Path(card_path), Path(weights_path)
        card_path.parent.mkdir(parents=True, exist_ok=True)
        assert self.nets and all(net.config == self.nets[0].config for net in self.nets), "members differ in shape"
        tensors = {f"{i}.{k}": v.detach().contiguous() for i, net in enumerate(self.nets) for k, v in net.state_dict().items()}
        save_file(tensors, str(weights_path) + ".tmp")
        Path(str(card_path) + ".tmp").write_text(json.dumps(self.to_json(), indent=1) + "\n")
        Path(str(weights_path) + ".tmp").replace(weights_path)
        Path(str(card_path) + ".tmp").replace(card_path)

    @classmethod
    def from_json(cls, data: dict, weights_path) -> NetHarmoniser:
        """The harmoniser a card and its weights describe; ValueError names what does not match."""
        from safetensors.torch import load_file

        if data.get("format") != FORMAT:
            raise ValueError(f"harmony net: format {data.get('format')!r}, expected {FORMAT!r}")
        try:
            classes = [_chord(c) for c in data.get("classes", [])]
            vocabulary = {family: [class_of(_chord(c)) for c in names] for family, names in data["vocabulary"].items()}
        except (AttributeError, IndexError, ValueError, AssertionError, KeyError):
            classes = []
        if classes != CLASSES:
            raise ValueError(f"harmony net: its {len(classes)} chord classes differ from this code's {len(CLASSES)}")
        try:
            config = NetConfig(**data["net"])
        except (KeyError, TypeError) as err:
            raise ValueError(f"harmony net: missing or malformed net config ({err})") from None
        if config.features != FEATURES:
            raise ValueError(f"harmony net: {config.features} input features, this code makes {FEATURES}")
        members = data.get("members")
        if not isinstance(members, int) or members < 1:
            raise ValueError(f"harmony net: members {members!r}, expected a whole number from 1")
        nets = [ChordNet(config) for _ in range(members)]
        try:
            tensors = load_file(str(weights_path))
            for i, net in enumerate(nets):
                mine = {k.split(".", 1)[1]: v for k, v in tensors.items() if k.split(".", 1)[0] == str(i)}
                net.load_state_dict(mine)
                net.eval()
            if len(tensors) != members * len(nets[0].state_dict()):
                raise RuntimeError(f"{len(tensors)} tensors for {members} members")
        except (OSError, RuntimeError) as err:
            raise ValueError(f"harmony net: weights {weights_path} do not load ({err})") from None
        return cls(nets, vocabulary, float(data["stay_bar"]), float(data["stay_in"]), dict(data.get("info", {})))


def _chord(name: str) -> Chord:
    """"7:7" -> Chord(7, "7") (how the card writes a class)."""
    root, quality = name.split(":")
    return Chord(int(root), quality)


def learn_vocabulary(readings: list[Reading]) -> dict[str, list[int]]:
    """Per mode family, the classes the human chords of `readings` use on at least MIN_VOCABULARY slots."""
    counts = {"maj": np.zeros(len(CLASSES)), "min": np.zeros(len(CLASSES))}
    for reading in readings:
        for slot in reading.slots:
            if slot.human is not None and slot.human.quality != "dim":  # a dim is no minor chord to offer
                family = "min" if slot.mode in ("dor", "min") else "maj"
                counts[family][class_of(slot.human.transposed(-slot.tonic))] += 1
    return {family: [int(c) for c in np.flatnonzero(n >= MIN_VOCABULARY)] for family, n in counts.items()}
