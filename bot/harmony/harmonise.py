"""Add chord symbols to a tune: read its chord slots, choose chords (HMM), write them into the text.

The melody is never changed: the output is the input with `"G"`-style chord symbols inserted
in front of notes, so removing them gives the input back character for character. A tune
that already has chords keeps every one of them: bars up to its last chorded bar are left as
written (an empty bar there means "same chord"), and only the bars after it (what the bot
added) get chords, chosen to follow on from the written ones.
"""

from __future__ import annotations

from bot.harmony.chords import Chord, chord_name, key_fifths, parse_symbol
from bot.harmony.model import HarmonyModel, decode, load
from bot.harmony.reading import HarmonyError, Reading, read
from bot.notation.abc import parse_key, split_tunes
from bot.notation.tokens import tokenize


def choose(reading: Reading, model: HarmonyModel | None = None, keep: bool = True) -> list[Chord]:
    """The chord in force at every slot of `reading`; keep=True pins the text's own chords."""
    model = model or load()
    fixed = None
    if keep and reading.has_chords:
        last = max(reading.chorded_bars)
        fixed = [slot.human if slot.bar <= last else None for slot in reading.slots]
    return decode(model, reading.slots, fixed)


def harmonise_tune(text: str, model: HarmonyModel | None = None) -> str:
    """One tune with chord symbols added (see the module docstring); HarmonyError if unreadable."""
    reading = read(text)
    if not reading.slots:
        return text
    chords = choose(reading, model)
    last_written = max(reading.chorded_bars) if reading.has_chords else -1
    inserts: list[tuple[int, str]] = []
    previous: Chord | None = None
    for slot, chord in zip(reading.slots, chords):
        free = slot.bar > last_written or (slot.human is None and slot.bar not in reading.chorded_bars)
        if free and slot.insert_at is not None and (slot.bar_start or chord != previous):
            parsed = parse_key(reading.bars[slot.bar].key) or ("C", "")
            inserts.append((slot.insert_at, f'"{chord_name(chord, key_fifths(*parsed))}"'))
        previous = chord
    out, last = [], 0
    for position, symbol in sorted(inserts):
        out += [text[last:position], symbol]
        last = position
    out.append(text[last:])
    return "".join(out)


def harmonise(abc: str, model: HarmonyModel | None = None) -> str:
    """ABC text (one tune or several) with chord symbols added; the melody is unchanged.

    Tunes that already carry chords keep them; only bars after the last chorded bar are filled.
    Raises HarmonyError for text with no K: line.
    """
    tunes = split_tunes(abc)
    if not tunes:
        return harmonise_tune(abc, model)
    head = abc[: abc.index(tunes[0])]
    return head + "".join(harmonise_tune(tune, model) for tune in tunes)


def strip_chords(abc: str) -> str:
    """The text with every chord symbol (quoted text that names a chord) removed; annotations stay."""
    out, last = [], 0
    for tok in tokenize(abc):
        if tok.kind == "quote" and parse_symbol(tok.text.strip('"')) is not None:
            out.append(abc[last:tok.start])
            last = tok.end
    out.append(abc[last:])
    return "".join(out)


__all__ = ["HarmonyError", "choose", "harmonise", "harmonise_tune", "strip_chords"]
