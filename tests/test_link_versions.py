"""Links of every version open the tune they were made for: the v=2 links made before v=3
(tests/data/old_links.json, written by the code of the time) byte for byte, and v=3 links,
shorter, for the same tunes; the v=3 dictionary is frozen."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from urllib.parse import parse_qsl

import pytest

from bot import links
from bot.corpus import music21_corpus_dir
from bot.notation.abc import split_tunes

OLD = json.loads((Path(__file__).parent / "data" / "old_links.json").read_text(encoding="utf-8"))["links"]
# The v=3 dictionary's bytes: any change opens every v=3 link made so far as something else.
DICTIONARY_SHA256 = "1baa67638c7ce82b6bc27e2a27ab051e9bc8dcc5667268a13ce4e72e469afc24"


@pytest.mark.parametrize("old", OLD, ids=range(len(OLD)))
def test_every_link_made_before_still_opens_the_same_tune(old):
    link = links.from_query(dict(parse_qsl(old["query"])), instruments=("flute", "fiddle"),
                            accompaniments=("guitar",))
    assert not link.problems, link.problems
    if old["abc"] is None:  # a v=1 link: its words and seed write the tune again
        assert (link.prompt, link.seed, link.regenerated) == (old["prompt"], old["seed"], True)
    else:
        assert link.abc.encode("utf-8") == old["abc"].encode("utf-8")  # byte for byte


def test_the_v3_dictionary_is_frozen():
    assert hashlib.sha256(links.DICTIONARY).hexdigest() == DICTIONARY_SHA256


@pytest.mark.parametrize("old", [o for o in OLD if o["abc"]], ids=range(sum(1 for o in OLD if o["abc"])))
def test_the_same_tune_makes_a_shorter_v3_link_that_opens_it(old):
    v2 = dict(parse_qsl(old["query"]))
    link = links.from_query(v2, instruments=("flute", "fiddle"), accompaniments=("guitar",))
    query = link.to_query()
    assert query.startswith("v=3&") and len(query) < len(old["query"])
    again = links.from_query(dict(parse_qsl(query)), instruments=("flute", "fiddle"), accompaniments=("guitar",))
    assert again == link and again.abc.encode() == old["abc"].encode()


def test_a_damaged_v3_link_says_so():
    good = links.encode_abc("X:1\nK:D\nDFA|]\n")
    for bad in (good[:-3], good + "AAAA", "!!!***", links.encode_abc("X:1\nK:D\nDFA|]\n", version=2)):
        link = links.from_query({"v": "3", "abc": bad})
        assert link.abc is None and link.problems and "abc" in link.problems[0], bad


def test_v3_links_of_32_bar_corpus_tunes_are_shorter_than_v2():
    # Ryan's Mammoth (not in the dictionary): 28-40 bar tunes with their music and main fields.
    tunes = []
    for path in sorted((music21_corpus_dir() / "ryansMammoth").glob("*.abc")):
        for tune in split_tunes(path.read_text(encoding="latin-1")):
            body = tune.split("\nK:", 1)[-1]
            if 28 <= body.count("|") <= 40:
                tunes.append("\n".join(line for line in tune.splitlines()
                                       if not re.match(r"^[A-JN-PS-WY-Za-z]:|^%", line)) + "\n")
    v2 = [len(links.encode_abc(t, version=2)) for t in tunes]
    v3 = [len(links.encode_abc(t, version=3)) for t in tunes]
    assert len(tunes) >= 20
    assert sum(v3) < 0.95 * sum(v2)  # measured: 319 against 352 characters on average
    assert all(links.decode_abc(links.encode_abc(t)) == t for t in tunes)
