"""The mode families' scales and the triads on their degrees, relative to the tonic.

The lowest module of bot.harmony beside reading: the HMM (model), the network (net) and the
scores (evaluate) all read these, and it imports none of them, so the package's imports go
one way (model -> net -> scales).
"""

from __future__ import annotations

from bot.notation.chords import Chord

# Scale of each mode family (bot.harmony.reading.MODES), semitones above the tonic.
SCALES = {
    "maj": (0, 2, 4, 5, 7, 9, 11), "mix": (0, 2, 4, 5, 7, 9, 10),
    "dor": (0, 2, 3, 5, 7, 9, 10), "min": (0, 2, 3, 5, 7, 8, 10),
}


def mode_triads(mode: str) -> list[Chord]:
    """The major and minor triads on the degrees of a mode's scale (SCALES), relative to the tonic, tonic first."""
    scale = SCALES[mode]
    triads = []
    for degree in range(7):
        root, third, fifth = scale[degree], scale[(degree + 2) % 7], scale[(degree + 4) % 7]
        kind = {(4, 7): "maj", (3, 7): "min"}.get(((third - root) % 12, (fifth - root) % 12))
        if kind:
            triads.append(Chord(root, kind))
    return triads
