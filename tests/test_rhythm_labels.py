"""A tune's rhythm read from its R: line, title or NMD file, and written into the training form."""

from __future__ import annotations

import re

import pytest

from bot import nmd
from bot.corpus import NMD, Source, load_corpus, read_tune_of
from bot.notation.abc import normalise, read_tune
from bot.notation.tokens import model_view
from bot.rhythm_labels import labelled, nmd_file_rhythm, rhythm_of


def test_rhythm_is_read_from_r_then_title_then_nmd_file():
    assert rhythm_of("X:1\nT:Some Waltz\nR:double jig\nK:D\nABc|\n", "waltzes.abc") == ("jig", "R:")
    assert rhythm_of("X:1\nT:The Bluebell Polka\nK:D\nABc|\n", "reelsa-c.abc") == ("polka", "title")
    assert rhythm_of("X:1\nT:Bob's Favourite\nK:D\nABc|\n", "reelsa-c.abc") == ("reel", "NMD file")
    assert rhythm_of("X:1\nT:Bob's Favourite\nK:D\nABc|\n", "") == (None, "")
    # An R: line naming no rhythm we know gives way to the title.
    assert rhythm_of("X:1\nT:Fairy Dance Reel\nR:walkaround\nK:D\nABc|\n") == ("reel", "title")
    assert nmd_file_rhythm("waltzes.abc") == "waltz" and nmd_file_rhythm("reelsu-z.abc") == "reel"
    assert nmd_file_rhythm("xmas.abc") is None


def test_labelled_writes_r_just_before_k_and_keeps_an_existing_one():
    tune = normalise("X:1\nT:The Bluebell Polka\nM:2/4\nL:1/8\nK:G\nGA Bc|d2 B2|]\n")
    out = labelled(tune, "polka")
    assert out.split("\n")[:4] == ["M:2/4", "L:1/8", "R:polka", "K:G"]
    assert out.endswith("GA Bc|d2 B2|]\n") and read_tune(out).get("R") == "polka"
    assert labelled(out, "reel") == out  # a tune's own R: line is never overwritten
    with pytest.raises(ValueError, match="no K:"):
        labelled("ABc|\n", "reel")


def test_nmd_waltz_is_labelled_from_its_file_in_the_models_view():
    path = nmd.NMD_DIR / "waltzes.abc"
    source = Source(NMD, [path], view=model_view, split=nmd.split_of)
    raw = next(t.text for t in nmd.read() if t.file == "waltzes.abc" and "R:" not in t.text)
    read = read_tune_of(source, path, raw)
    assert read.labelled_from == "NMD file" and read_tune(read.tune).get("R") == "waltz"
    # Expected values built here, not by the code under test: the labelled tune is the plain
    # one with one line, R:waltz, just before K:; and the plain one is the model's view, the
    # file's notes without its chord symbols (the NMD's waltzes carry them).
    head, _, body = read.plain.partition("\nK:")
    assert read.tune == f"{head}\nR:waltz\nK:{body}"
    assert '"' in raw and '"' not in read.plain

    def notes(text: str) -> str:
        """The tune's body without quoted strings, line continuations and blanks."""
        body = text.split("\nK:", 1)[1].split("\n", 1)[1]
        return re.sub(r'"[^"]*"|\\|\s', "", body)

    assert notes(read.plain) == notes(raw)
    assert read.part == nmd.split_of(raw)


def test_the_default_corpus_names_a_rhythm_for_every_nmd_dance_tune():
    corpus = load_corpus()
    rhythms = [read_tune(t).get("R") for t in corpus.train]
    # Before labels the corpus had 4 waltzes and no polka with an R: line.
    assert rhythms.count("waltz") >= 40 and rhythms.count("polka") >= 1
    assert corpus.labelled["NMD file"] > 500 and corpus.labelled["title"] > 300
