"""Add chord symbols to a tune: read its chord slots, choose chords (HMM), write them into the text.

The melody is never changed: the output is the input with `"G"`-style chord symbols inserted
in front of notes, so removing them gives the input back character for character. A tune
that already has chords keeps every one of them: bars up to its last chorded bar are left as
written (an empty bar there means "same chord"), and only the bars after it (what the bot
added) get chords, chosen to follow on from the written ones.
"""

from __future__ import annotations

from bot.notation.chords import Chord, chord_name, parse_symbol
from bot.notation.tokens import key_fifths
from bot.harmony.model import HarmonyModel, decode, load
from bot.harmony.reading import HarmonyError, Reading, read
from bot.notation.abc import parse_key, split_tunes
from bot.notation.tokens import tokenize


def _fillable(reading: Reading, fill_from: int | None) -> list[bool]:
    """For each slot: may a chord be written there? (The rest of the text is kept as written.)

    With `fill_from` (an index into the tune text): the slots from there on. Without it: every
    slot of a tune without chords, else the bars after its last chorded bar.
    """
    if fill_from is not None:
        return [slot.insert_at is not None and slot.insert_at >= fill_from for slot in reading.slots]
    last = max(reading.chorded_bars) if reading.has_chords else -1
    return [slot.bar > last for slot in reading.slots]


def choose(reading: Reading, model=None, keep: bool = True, fill_from: int | None = None) -> list[Chord]:
    """The chord in force at every slot of `reading`; keep=True pins the text's own chords where
    nothing will be written (see _fillable). `model`: a HarmonyModel (HMM) or a NetHarmoniser,
    by default the shipped one (bot.harmony.model.load)."""
    model = model or load()
    fixed = None
    if keep and reading.has_chords:
        fixed = [None if free else slot.human for slot, free in zip(reading.slots, _fillable(reading, fill_from))]
    if isinstance(model, HarmonyModel):
        return decode(model, reading.slots, fixed)
    return model.choose(reading, fixed)


def harmonise_tune(text: str, model=None, fill_from: int | None = None) -> str:
    """One tune with chord symbols added (see harmonise); HarmonyError if it cannot be read."""
    reading = read(text)
    if not reading.slots:
        return text
    chords = choose(reading, model, fill_from=fill_from)
    inserts: list[tuple[int, str]] = []
    previous: Chord | None = None
    for slot, chord, free in zip(reading.slots, chords, _fillable(reading, fill_from)):
        # A bar that already has a chord symbol of its own is never written into.
        free = free and slot.bar not in reading.chorded_bars
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


def harmonise(abc: str, model=None, fill_from: int | None = None) -> str:
    """ABC text (one tune or several) with chord symbols added; the melody is unchanged.

    Chords already written are kept. Which bars get chords: with `fill_from` (an index into
    `abc`, e.g. the length of a pasted tune the bot continued), only those from there on;
    without it, every bar of a tune without chords, and in a tune with chords the bars after
    its last chorded bar. Raises HarmonyError for text with no K: line.
    """
    tunes = split_tunes(abc)
    if not tunes:
        return harmonise_tune(abc, model, fill_from)
    out, at = [abc[: abc.index(tunes[0])]], abc.index(tunes[0])
    for tune in tunes:
        local = None if fill_from is None else max(0, fill_from - at)
        out.append(harmonise_tune(tune, model, local))
        at += len(tune)
    return "".join(out)


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
