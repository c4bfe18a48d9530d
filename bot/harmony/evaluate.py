"""Score chord choices against a tune's own chords, beat by beat, and the three baselines.

    same root   the chosen chord's root is the human chord's root on that beat
    same chord  same root and the same of major / minor / seventh
    changes     chord changes per bar, the choice's against the human's
    chord tones the share of strong-beat melody notes (the note sounding at each slot's start:
                the downbeat and, in duple meters, the half bar) that are tones of the chord,
                the choice's against the human chords'
    cadences    the share of section-closing bars that start on the tonic chord
    monotony    the share of 8-bar parts where one chord starts more than 6 of the 8 bars
    vocabulary  each chord's share of the scored beats, as a degree of the key ("I", "V7", "ii")

Beats before the tune's first human chord are not scored (nothing to compare with).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from bot.notation.chords import Chord
from bot.harmony.reading import PHRASE_BARS, Reading
from bot.harmony.scales import SCALES, mode_triads

Chooser = Callable[[Reading], list[Chord]]
MONOTONY_BARS = 6  # one chord on more of a part's 8 bars than this sounds monotonous (issue 17)
# ... unless at least this share of the melody's beat notes under it are its tones: then holding
# it is what the tune asks for. (In the NMD training tunes, three parts in four reach 86% with
# their human chords, and half of the parts people held on one chord reach 100%.)
MELODY_ON_CHORD = 0.8


@dataclass
class Score:
    """Counts over a set of tunes; the percentages are properties."""

    tunes: int = 0
    answered: int = 0  # tunes the chooser gave a chord for every slot
    beats: int = 0
    same_root: int = 0
    same_chord: int = 0
    bars: int = 0
    changes: int = 0  # the chooser's chord changes, counted on the scored beats
    human_changes: int = 0
    strong: int = 0  # scored slots whose start has a melody note
    tones: int = 0  # ... where that note is a tone of the chosen chord
    human_tones: int = 0  # ... of the human chord
    cadences: int = 0  # scored slots that start a section's closing bar
    tonic_cadences: int = 0  # ... where the chosen chord is the tonic chord
    human_tonic_cadences: int = 0
    endings: int = 0  # tunes whose last slot has a human chord
    tonic_endings: int = 0  # ... where the chosen last chord is on the tonic root
    human_tonic_endings: int = 0
    parts: int = 0  # 8-bar phrases with a human chord on every bar
    monotonous: int = 0  # ... where one chosen chord starts more than MONOTONY_BARS of the 8 bars
    human_monotonous: int = 0
    vocabulary: Counter = field(default_factory=Counter)  # degree name -> scored beats (the choice's)
    human_vocabulary: Counter = field(default_factory=Counter)

    @property
    def root_pct(self) -> float:
        """Share of scored beats with the human chord's root, in percent."""
        return 100.0 * self.same_root / max(1, self.beats)

    @property
    def chord_pct(self) -> float:
        """Share of scored beats with the human chord (root and family), in percent."""
        return 100.0 * self.same_chord / max(1, self.beats)

    @property
    def change_ratio(self) -> float:
        """Chord changes per bar relative to the human rate (1.0 is the same rate)."""
        return self.changes / max(1, self.human_changes)

    def add(self, reading: Reading, chosen: list[Chord] | None) -> None:
        """Count one tune; `chosen` holds a chord per slot, None when the chooser gave no answer."""
        self.tunes += 1
        if chosen is None or len(chosen) != len(reading.slots):
            return
        self.answered += 1
        previous_human = previous = None
        bars = set()
        for slot, chord in zip(reading.slots, chosen):
            if slot.beats and slot.beats[0] is not None:
                human = slot.beats[0]
                if slot.onset is not None:
                    note = (slot.onset + slot.tonic) % 12
                    self.strong += 1
                    self.tones += note in chord.pitch_classes()
                    self.human_tones += note in human.pitch_classes()
                if slot.cadence and slot.bar_start:
                    self.cadences += 1
                    self.tonic_cadences += chord.root == slot.tonic
                    self.human_tonic_cadences += human.root == slot.tonic
            for human in slot.beats:
                if human is None:
                    continue
                bars.add(slot.bar)
                self.beats += 1
                self.same_root += chord.root == human.root
                self.same_chord += chord.same_family(human)
                self.human_changes += previous_human is not None and human != previous_human
                self.changes += previous is not None and chord != previous
                self.vocabulary[degree(chord, slot.tonic)] += 1
                self.human_vocabulary[degree(human, slot.tonic)] += 1
                previous_human, previous = human, chord
        self.bars += len(bars)
        last = reading.slots[-1] if reading.slots else None
        if last is not None and last.human is not None:  # how the tune ends: on the tonic chord?
            self.endings += 1
            self.tonic_endings += chosen[-1].root == last.tonic
            self.human_tonic_endings += last.human.root == last.tonic
        self._count_monotony(reading, chosen)

    def _count_monotony(self, reading: Reading, chosen: list[Chord]) -> None:
        """Count the tune's full 8-bar phrases, and those where one chord starts most bars."""
        for starts in eight_bar_parts(reading):
            if all(reading.slots[i].human is not None for i in starts):
                self.parts += 1
                self.monotonous += held_chord(chosen, starts)[1] > MONOTONY_BARS
                self.human_monotonous += held_chord([s.human for s in reading.slots], starts)[1] > MONOTONY_BARS

    @property
    def tone_pct(self) -> float:
        """Share of strong-beat melody notes that are tones of the chosen chord, in percent."""
        return 100.0 * self.tones / max(1, self.strong)

    @property
    def human_tone_pct(self) -> float:
        """The same share for the human chords."""
        return 100.0 * self.human_tones / max(1, self.strong)

    def line(self, name: str) -> str:
        """One row of the bench's table."""
        human_rate = self.human_changes / max(1, self.bars)
        rate = self.changes / max(1, self.bars)
        return (f"{name:<28} {self.root_pct:6.1f}% {self.chord_pct:6.1f}%   {rate:5.2f} vs {human_rate:4.2f}"
                f" ({self.change_ratio:4.2f}x)   {self.tone_pct:5.1f}% vs {self.human_tone_pct:4.1f}%"
                f"   {100.0 * self.tonic_cadences / max(1, self.cadences):5.1f}% vs "
                f"{100.0 * self.human_tonic_cadences / max(1, self.cadences):4.1f}%"
                f"   {100.0 * self.monotonous / max(1, self.parts):4.1f}% vs {100.0 * self.human_monotonous / max(1, self.parts):4.1f}%"
                f"   {100.0 * self.tonic_endings / max(1, self.endings):5.1f}% vs "
                f"{100.0 * self.human_tonic_endings / max(1, self.endings):4.1f}%"
                f"   {self.answered}/{self.tunes}")

    @staticmethod
    def header() -> str:
        """The column names line() fills."""
        return (f"{'chooser':<28} {'root':>7} {'chord':>7}   {'changes/bar vs human':<21}"
                f"   {'chord tones vs human':<20}   {'tonic cadence vs human':<20}   {'monotonous parts':<16}"
                f"   {'ends on tonic vs human':<20}   answered")


def eight_bar_parts(reading: Reading) -> list[list[int]]:
    """Each full 8-bar phrase of the tune (bot.harmony.reading's phrases), as its bars' first slot indices."""
    parts, starts = [], []
    for i, slot in enumerate(reading.slots):
        if not slot.bar_start:
            continue
        if slot.phrase == 0:
            starts = []
        starts.append(i)
        if len(starts) == PHRASE_BARS:
            parts.append(starts)
    return parts


def held_chord(chords: list[Chord | None], starts: list[int]) -> tuple[Chord | None, int]:
    """(the chord that starts most of the bars at slot indices `starts`, on how many)."""
    return Counter(chords[i] for i in starts).most_common(1)[0]


@dataclass
class HeldPart:
    """An 8-bar part whose chords were checked for monotony (issue 17)."""

    chord: Chord | None  # the chord that starts most of its bars
    bars: int  # how many of the 8 it starts
    beat_notes: int  # melody notes at the start of a slot where that chord is in force
    on_chord: int  # ... that are the chord's tones

    @property
    def monotonous(self) -> bool:
        """One chord starts more than MONOTONY_BARS of the 8 bars."""
        return self.bars > MONOTONY_BARS

    @property
    def melody_on_chord(self) -> bool:
        """The melody's beat notes under that chord are mostly its tones (MELODY_ON_CHORD): holding it is fair."""
        return self.on_chord >= MELODY_ON_CHORD * self.beat_notes


def held_parts(reading: Reading, chosen: list[Chord | None] | None = None) -> list[HeldPart]:
    """Every full 8-bar part of `reading` with its held chord; `chosen` (default: the text's own chords)."""
    chords = chosen if chosen is not None else [slot.human for slot in reading.slots]
    out = []
    for starts in eight_bar_parts(reading):
        chord, bars = held_chord(chords, starts)
        end = starts[-1] + 1
        while end < len(reading.slots) and not reading.slots[end].bar_start:
            end += 1  # the 8th bar's later slots belong to the part too
        notes = [reading.slots[i] for i in range(starts[0], end) if chords[i] == chord and reading.slots[i].onset is not None]
        on = sum((s.onset + s.tonic) % 12 in chord.pitch_classes() for s in notes) if chord else 0
        out.append(HeldPart(chord, bars, len(notes), on))
    return out


_NUMERALS = ("I", "bII", "II", "bIII", "III", "IV", "#IV", "V", "bVI", "VI", "bVII", "VII")
_DEGREE_SUFFIX = {"maj": "", "min": "", "7": "7", "min7": "7", "dim": "o"}


def degree(chord: Chord, tonic: int) -> str:
    """The chord as a degree of the key: "I", "V7", "ii", "bVII" (lower case for minor chords)."""
    numeral = _NUMERALS[(chord.root - tonic) % 12]
    if chord.quality in ("min", "min7", "dim"):
        accidental = numeral.rstrip("IV")
        numeral = accidental + numeral[len(accidental):].lower()
    return numeral + _DEGREE_SUFFIX[chord.quality]


def score(readings: list[Reading], chooser: Chooser) -> Score:
    """The chooser's score over `readings` (the human chords are in each reading's slots)."""
    total = Score()
    for reading in readings:
        try:
            chosen = chooser(reading)
        except Exception:  # a chooser that fails on a tune has not answered it
            chosen = None
        total.add(reading, chosen)
    return total


# --- baselines -------------------------------------------------------------------------------

_TRIAD = {"maj": "maj", "mix": "maj", "dor": "min", "min": "min"}


def tonic_chords(reading: Reading) -> list[Chord]:
    """Baseline 1: the tonic chord everywhere (minor for minor and dorian keys)."""
    return [Chord(slot.tonic, "min" if _TRIAD[slot.mode] == "min" else "maj") for slot in reading.slots]


def _bars(reading: Reading) -> list[list[int]]:
    groups: dict[int, list[int]] = {}
    for i, slot in enumerate(reading.slots):
        groups.setdefault(slot.bar, []).append(i)
    return list(groups.values())


def triad_per_bar(reading: Reading) -> list[Chord]:
    """Baseline 2: per bar, the diatonic triad whose tones cover most melody time."""
    chosen: list[Chord] = [None] * len(reading.slots)  # type: ignore[list-item]
    for group in _bars(reading):
        slot = reading.slots[group[0]]
        weights = sum(reading.slots[i].weights for i in group)
        triads = mode_triads(slot.mode)
        cover = [sum(weights[pc] for pc in t.pitch_classes()) for t in triads]
        best = triads[int(np.argmax(cover))]  # ties go to the earlier triad: the tonic first
        for i in group:
            chosen[i] = best.transposed(slot.tonic)
    return chosen


def hand_hmm_per_bar(reading: Reading) -> list[Chord]:
    """Baseline 3: per bar, a hand-set HMM over I, IV, V, V7, ii, vi (the mode's own triads)."""
    groups = _bars(reading)
    if not groups:
        return []
    states_by_mode = {}
    for mode, scale in SCALES.items():
        triads = {t.root: t for t in mode_triads(mode)}
        states = [triads.get(r, Chord(r, "maj")) for r in (scale[0], scale[3], scale[4])]
        states += [Chord(7, "7"), triads.get(scale[1], Chord(scale[1], "min")),
                   triads.get(scale[5], Chord(scale[5], "min"))]
        states_by_mode[mode] = states
    size = 6
    # Hand-set: stay 0.5, else each other chord alike; a tune starts and ends on I.
    move = np.log(np.full((size, size), 0.1) + np.eye(size) * 0.4)
    scores, modes = [], []
    for group in groups:
        slot = reading.slots[group[0]]
        weights = sum(reading.slots[i].weights for i in group)
        total = max(weights.sum(), 1e-9)
        states = states_by_mode[slot.mode]
        cover = np.array([sum(weights[pc] for pc in set(s.pitch_classes())) / total for s in states])
        scores.append(8.0 * cover)  # a bar all in one chord beats one half in it by 4 nats
        modes.append(slot.mode)
    scores[0] = scores[0] + np.log([0.6, 0.1, 0.1, 0.05, 0.05, 0.1])
    scores[-1] = scores[-1] + np.log([0.6, 0.1, 0.1, 0.05, 0.05, 0.1])
    best, back = scores[0], []
    for t in range(1, len(groups)):
        total = best[:, None] + move
        back.append(np.argmax(total, axis=0))
        best = total[back[-1], np.arange(size)] + scores[t]
    path = [int(np.argmax(best))]
    for pointers in reversed(back):
        path.append(int(pointers[path[-1]]))
    path.reverse()
    chosen: list[Chord] = [None] * len(reading.slots)  # type: ignore[list-item]
    for group, state, mode in zip(groups, path, modes):
        for i in group:
            chosen[i] = states_by_mode[mode][state].transposed(reading.slots[i].tonic)
    return chosen
