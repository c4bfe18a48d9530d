"""The tunebook: a conversation's tunes as one ABC file."""

from __future__ import annotations

from music21 import converter

from bot.notation.abc import split_tunes
from bot.tunebook import tunebook

JIG = "X:5\nT:The First Jig\nM:6/8\nL:1/8\nK:D\n|:\"D\"ABA d2e|1fed e3:|2fed d3|]\n"
GENERATED = "M:4/4\nL:1/8\nR:reel\nK:Ador\nEAAB cBAc|BGGA BGdB|\n"  # as the model writes it: no X:, no T:
AIR = "X:1\nT:\nM:3/4\nL:1/8\nK:Em\nE2 G2 B2|\n\ne2 d2 B2|]\n"  # an empty title and a blank line inside


def test_tunes_are_renumbered_titled_and_kept_in_order():
    book = tunebook([JIG, GENERATED, AIR])
    entries = book.split("\n\n")
    assert len(entries) == 3 and book.endswith("|]\n") and "\n\n\n" not in book
    assert entries[0] == JIG.replace("X:5", "X:1").rstrip("\n")
    assert entries[1] == "X:2\nT:Tune 2\n" + GENERATED.rstrip("\n")
    assert entries[2].startswith("X:3\nT:Tune 3\nT:\nM:3/4")


def test_the_music_of_every_tune_is_kept_verbatim():
    book = tunebook([JIG, GENERATED, AIR])
    assert '|:"D"ABA d2e|1fed e3:|2fed d3|]' in book and "EAAB cBAc|BGGA BGdB|" in book
    assert "E2 G2 B2|\n%\ne2 d2 B2|]" in book  # a blank line would have ended the air early


def test_readers_see_every_tune():
    book = tunebook([JIG, GENERATED, AIR])
    assert [t.splitlines()[0] for t in split_tunes(book)] == ["X:1", "X:2", "X:3"]
    opus = converter.parseData(book, format="abc")
    assert [s.metadata.title for s in opus.scores] == ["The First Jig", "Tune 2", "Tune 3"]


def test_several_tunes_in_one_text_and_empty_texts():
    pasted = "X:1\nT:A\nK:G\nGABc|\n\nX:2\nT:B\nK:D\nDEFG|\n"
    book = tunebook(["", pasted, "  \n", GENERATED])
    assert [t.splitlines()[:2] for t in split_tunes(book)] == [["X:1", "T:A"], ["X:2", "T:B"], ["X:3", "T:Tune 3"]]
    assert tunebook([]) == ""


def test_windows_line_endings_become_one_style():
    book = tunebook([JIG.replace("\n", "\r\n")])
    assert "\r" not in book and book == JIG.replace("X:5", "X:1")
