"""Chords that land: a part's last chord is its cadence's, and the tune ends on the tonic chord.

People close a part on the tonic chord or the dominant (a half close) and end a tune on the
tonic chord (88% of the NMD's tunes end on the tonic root). The networks mostly agree, but
now and then ended a tune on the chord of the last note's bar ("D" under a final `G2 TF4 G2`
in G). So at the last chord of each section's closing bar the choice is narrowed, in
decoding, to the chords of a cadence that hold the melody's last note: I or V (V7, v) at an
inner part's end, I at the tune's end. Where none holds it, or the key's vocabulary has none,
the networks' choice stands.
"""

from __future__ import annotations

from bot.harmony.reading import Slot
from bot.notation.chords import Chord


def closing_slots(slots: list[Slot]) -> list[tuple[int, bool]]:
    """(index, is the tune's end) of the last slot of every section's closing bar."""
    out = []
    for t, slot in enumerate(slots):
        last_of_bar = t + 1 == len(slots) or slots[t + 1].bar != slot.bar
        if slot.cadence and last_of_bar:
            out.append((t, t + 1 == len(slots)))
    return out


def cadence_chords(slot: Slot, final: bool) -> list[Chord]:
    """The cadence chords (relative to the tonic) that hold the slot's last note, best first."""
    minor = slot.mode in ("min", "dor")
    tonic = Chord(0, "min" if minor else "maj")
    options = [tonic] if final else [tonic, Chord(7, "maj"), Chord(7, "7"), Chord(7, "min")]
    note = slot.last if slot.last is not None else slot.onset
    if note is None:
        return options[:1] if final else options
    return [c for c in options if note in c.pitch_classes()]
