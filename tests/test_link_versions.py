"""Links of every version open the tune they were made for, byte for byte: the v=2 links made
before v=3 (tests/data/old_links.json) and the v=3 links made before v=4
(tests/data/links_v3.json), each written by the code of its time. v=4 links, shorter on all but
a few lines of rare characters (those stay v=3), pack each tune the same way on every machine
(tests/data/links_v4.json pins them); the v=3 dictionary and the v=4 prior are frozen."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from urllib.parse import parse_qsl

import pytest

from bot import link_packing, links
from bot.corpus import music21_corpus_dir
from bot.notation.abc import split_tunes

DATA = Path(__file__).parent / "data"
OLD = json.loads((DATA / "old_links.json").read_text(encoding="utf-8"))["links"]
V3 = json.loads((DATA / "links_v3.json").read_text(encoding="utf-8"))["links"]
V4 = json.loads((DATA / "links_v4.json").read_text(encoding="utf-8"))["links"]
# The v=3 dictionary's and the v=4 prior's bytes: any change opens every link of that version
# made so far as something else.
DICTIONARY_SHA256 = "1baa67638c7ce82b6bc27e2a27ab051e9bc8dcc5667268a13ce4e72e469afc24"
PRIOR_SHA256 = "7f98b43aedaf3c1d2bb6baefedbbfb85f516f03f5401bd7646f20787da5aaa49"
CHOICES = {"instruments": ("flute", "fiddle"), "accompaniments": ("guitar",)}


def opened(query: str) -> links.TuneLink:
    return links.from_query(dict(parse_qsl(query)), **CHOICES)


@pytest.mark.parametrize("old", OLD + V3, ids=range(len(OLD + V3)))
def test_every_link_made_before_still_opens_the_same_tune(old):
    link = opened(old["query"])
    assert not link.problems, link.problems
    if old["abc"] is None:  # a v=1 link: its words and seed write the tune again
        assert (link.prompt, link.seed, link.regenerated) == (old["prompt"], old["seed"], True)
    else:
        assert link.abc.encode("utf-8") == old["abc"].encode("utf-8")  # byte for byte


@pytest.mark.parametrize("pinned", V4, ids=range(len(V4)))
def test_a_v4_link_opens_its_tune_and_the_tune_packs_to_the_same_link(pinned):
    link = opened(pinned["query"])
    assert not link.problems and link.abc.encode("utf-8") == pinned["abc"].encode("utf-8")
    # Packing is integer arithmetic on frozen data: this machine makes the very same link.
    assert link.to_query() == pinned["query"]


def test_the_v3_dictionary_and_the_v4_prior_are_frozen():
    assert hashlib.sha256(links.DICTIONARY).hexdigest() == DICTIONARY_SHA256
    assert hashlib.sha256(link_packing.PRIOR_PATH.read_bytes()).hexdigest() == PRIOR_SHA256


@pytest.mark.parametrize("old", [o for o in OLD + V3 if o["abc"]], ids=range(sum(1 for o in OLD + V3 if o["abc"])))
def test_the_same_tune_makes_its_shortest_link_that_opens_it(old):
    link = opened(old["query"])
    query, v3, v4 = link.to_query(), link.to_query(3), link.to_query(4)
    assert query == min(v4, v3, key=len) and len(query) <= len(old["query"])
    again = opened(query)
    assert again == link and again.abc.encode() == old["abc"].encode()


def test_32_bar_tunes_the_bot_wrote_have_links_under_300_characters():
    # The bot's tunes of links_v3.json (titled, with the guitar's chords) and the 32-bar ones of
    # links_v4.json; bench/link_length.py measures new ones.
    tunes = [o["abc"] for o in V3 + V4 if o["abc"] and o["abc"].count("|") >= 30 and "\nR:" in o["abc"]]
    assert len(tunes) >= 6
    for abc in tunes:
        v4, v3 = (len(links.TuneLink(abc=abc).to_query(v)) for v in (4, 3))
        assert v4 < 300 and v4 < 0.75 * v3, (v4, v3)


@pytest.mark.parametrize("version", ["3", "4"])
def test_a_damaged_link_says_so(version):
    tune = "X:1\nT:Damage\nK:D\n|:DFA dAF|GBd gdB:|\n"
    good = links.encode_abc(tune, int(version))
    middle = len(good) // 2
    flipped = good[:middle] + ("B" if good[middle] != "B" else "C") + good[middle + 1:]
    other = links.encode_abc(tune, 2 if version == "3" else 3)
    # Raw deflate has no checksum, so only v=4 (one packing per text) tells a changed character.
    for bad in (good[:-3], good + "AAAA", good + "B", "!!!***", other) + ((flipped,) if version == "4" else ()):
        link = links.from_query({"v": version, "abc": bad})
        assert link.abc is None and link.problems and "abc" in link.problems[0], bad
        assert "Traceback" not in link.problems[0] and "Error" not in link.problems[0]


def test_a_v4_link_with_any_character_changed_is_refused_not_opened_as_another_tune():
    # An arithmetic coder reads any bits as some text: the tune's check value (16 bits of its
    # CRC-32) is what tells a changed link from another tune's.
    tune = V4[-4]["abc"]
    good = links.encode_abc(tune, 4)
    for at in range(0, len(good), max(1, len(good) // 60)):
        for ch in "AgZ0_":
            bad = good[:at] + ch + good[at + 1:]
            if bad != good:
                link = links.from_query({"v": "4", "abc": bad})
                assert link.abc is None and "abc" in link.problems[0], (at, ch)


@pytest.mark.parametrize("text", [
    "", "X", "X:1\nK:D\n", "T:Étude — «ünïcödé» ☘ 𝄞\n", "\t\r\n", "\U0010fffd\uffff\ue000 \u202e",
    "X:1\nK:D\n" + "".join(link_packing.TOKENS) * 3, " | \"G\"| \"G\"|\"D\"\n" * 40,
])
def test_any_text_packs_and_unpacks_exactly(text):
    assert link_packing.unpack(link_packing.pack(text), 10_000) == text


def test_a_lone_surrogate_is_refused_by_name():
    with pytest.raises(link_packing.PackingError, match="surrogate"):
        link_packing.pack("T:\ud800\n")


def test_unpacking_stops_at_the_limit_it_is_given():
    value = link_packing.pack("A" * 5000)
    assert len(value) < 100  # a tune's own repeats cost almost nothing
    with pytest.raises(link_packing.PackingError, match="longer than the 4,999"):
        link_packing.unpack(value, 4999)


def test_v4_links_of_32_bar_corpus_tunes_are_shorter_than_v3_and_v2():
    # Ryan's Mammoth (in neither the v=3 dictionary nor the v=4 prior): 28-40 bar tunes with
    # their music and main fields.
    tunes = []
    for path in sorted((music21_corpus_dir() / "ryansMammoth").glob("*.abc")):
        for tune in split_tunes(path.read_text(encoding="latin-1")):
            body = tune.split("\nK:", 1)[-1]
            if 28 <= body.count("|") <= 40:
                tunes.append("\n".join(line for line in tune.splitlines()
                                       if not re.match(r"^[A-JN-PS-WY-Za-z]:|^%", line)) + "\n")
    v2, v3, v4 = ([len(links.encode_abc(t, version=v)) for t in tunes] for v in (2, 3, 4))
    assert len(tunes) >= 20
    assert sum(v3) < 0.95 * sum(v2)  # measured: 319 against 352 characters on average
    assert sum(v4) < 0.97 * sum(v3)  # measured: 268 against 281
    assert all(links.decode_abc(links.encode_abc(t)) == t for t in tunes)
