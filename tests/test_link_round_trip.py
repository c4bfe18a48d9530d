"""A "Link to this tune" brings back exactly what its card played.

For 20 cards made the ways a person makes them (written by the model, pasted and played,
transposed by steps or to an instrument's key, edited, each with and without an accompaniment,
on several instruments and tempos), opening the card's link must give byte-identical ABC and
MIDI, the MIDI with the same tracks and General MIDI programs, and a card with the same
settings. One Chat (one model load) serves every case; the tunes are a few bars long.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from urllib.parse import parse_qsl

import pytest

from bot import chat, links
from bot.chat import Chat, ChatConfig, Options, Session
from bot.render import INSTRUMENTS

from test_chat import card_of, served_path
from test_play import REEL

JIG = """X:1
T:Pasted jig in G
M:6/8
L:1/8
R:jig
K:G
|:GAB dBG|c2e dBG|GAB dBG|A3 A2D:|
"""
# A tune with some chords of its own: the accompaniment fills only the bars after them.
POLKA = """X:1
T:Half-chorded polka
M:2/4
L:1/8
R:polka
K:A
"A"AB cA|"E"BA GE|AB cA|Bc d2|
"""
# No X: and no T:: the page titles it, and the link must keep that title.
BARE = "M:3/4\nL:1/4\nK:Dm\nDFA|d2A|FED|A3|\n"


def tunes_js_request(card: dict, **change) -> str:
    """What tunes.js sends to /play_card from `card` (its settings() plus the change)."""
    body = {"tempo": card["tempo"], "instrument": card["instrument"],
            "accompaniment": card.get("accompaniment"), "title": card.get("title") or "",
            "abc": card.get("base") or card["abc"], **change}
    return json.dumps(body)


def programs(midi: Path) -> list[list[int]]:
    """Each MIDI track's program changes, in order (what the tracks are played on)."""
    from music21 import midi as m21midi

    mf = m21midi.MidiFile()
    mf.open(str(midi))
    try:
        mf.read()
    finally:
        mf.close()
    return [[e.data for e in track.events if e.type == m21midi.ChannelVoiceMessages.PROGRAM_CHANGE]
            for track in mf.tracks]


def md5(path: Path) -> str:
    return hashlib.md5(path.read_bytes()).hexdigest()


def final(steps):
    *_, last = steps
    assert last.done and last.error is None, last.error
    return last


@pytest.fixture(scope="module")
def bot(tmp_path_factory):
    bot = Chat(ChatConfig(outputs=tmp_path_factory.mktemp("outputs"), min_interval_s=0.0, poll_s=0.05))
    yield bot
    bot.close()


@pytest.fixture(scope="module")
def made(bot) -> dict[str, dict]:
    """name -> the card as the page got it, for every case (made once: each builds on others)."""
    cards: dict[str, dict] = {}

    def say(name, message, **options):
        cards[name] = card_of(final(bot.reply(message, [], Session(), Options(**{"bars": 4, **options}))))

    def card(name, from_name, **change):
        data = bot.play_card(tunes_js_request(cards[from_name], **change))
        assert "error" not in data, data.get("error")
        cards[name] = data

    # Written by the model (4 bars each, seeded).
    say("generated jig, guitar", "a jig in D", seed=3, accompaniment="guitar")
    say("generated reel, melody alone", "a reel in G", seed=4)
    say("generated air, piano under a flute at 100", "a slow air", seed=5, accompaniment="piano",
        instrument="flute", tempo=100)
    say("pasted and continued, accordion", JIG.replace(":|", "|"), seed=6, accompaniment="accordion")
    # Pasted and played as written.
    say("played reel, melody alone", "play\n" + REEL)
    say("played reel, guitar", "play\n" + REEL, accompaniment="guitar")
    say("played jig, piano on whistle at 120", "play\n" + JIG, accompaniment="piano", instrument="whistle",
        tempo=120)
    say("played half-chorded polka, guitar", "play\n" + POLKA, accompaniment="guitar")
    say("played untitled waltz, melody alone", "play\n" + BARE)
    say("played untitled waltz, accordion", "play\n" + BARE, accompaniment="accordion")
    # Transposed on the card: by steps, and to an instrument's key.
    card("generated jig +2", "generated jig, guitar", transpose=2)
    card("generated reel -3", "generated reel, melody alone", transpose=-3)
    card("played reel with guitar, to G", "played reel, guitar", key="G")
    card("played jig, to the pipes' A mixolydian", "played jig, piano on whistle at 120", key="Amix")
    card("played reel, to A", "played reel, melody alone", key="A")
    card("untitled waltz with accordion +5", "played untitled waltz, accordion", transpose=5)
    # Edited on the card (the editor holds the card's ABC as played), then moved again.
    edited = cards["played reel, guitar"]["abc"].replace("dFAF|", "eFAF|", 1)
    card("edited reel with guitar", "played reel, guitar", abc=edited, transpose=0)
    card("edited reel, then +1", "edited reel with guitar", transpose=1)
    edited_gen = cards["generated reel, melody alone"]["abc"].rstrip("\n") + "\n"
    card("edited generated reel, melody alone", "generated reel, melody alone",
         abc=edited_gen.replace("K:", "Q:1/4=90\nK:", 1), transpose=0)
    card("edited polka with guitar, -2", "played half-chorded polka, guitar",
         abc=cards["played half-chorded polka, guitar"]["abc"].replace("Bc d2|", "Bc d2|]"), transpose=-2)
    return cards


CASES = [
    "generated jig, guitar", "generated reel, melody alone", "generated air, piano under a flute at 100",
    "pasted and continued, accordion", "played reel, melody alone", "played reel, guitar",
    "played jig, piano on whistle at 120", "played half-chorded polka, guitar",
    "played untitled waltz, melody alone", "played untitled waltz, accordion", "generated jig +2",
    "generated reel -3", "played reel with guitar, to G", "played jig, to the pipes' A mixolydian",
    "played reel, to A", "untitled waltz with accordion +5", "edited reel with guitar", "edited reel, then +1",
    "edited generated reel, melody alone", "edited polka with guitar, -2",
]


def test_there_are_twenty_cases(made):
    assert sorted(made) == sorted(CASES) and len(CASES) == 20


@pytest.mark.parametrize("name", CASES)
def test_the_link_brings_back_what_the_card_played(bot, made, name):
    card = made[name]
    assert card["link"], f"{name}: the card has no link"
    link = links.from_query(dict(parse_qsl(card["link"])), chat.METERS, chat.KEYS, chat.INSTRUMENT_CHOICES,
                            chat.ACCOMPANIMENTS)
    assert not link.problems and link.abc is not None
    back = card_of(final(bot.from_link(link, [], Session(), Options())))

    assert back["abc"].encode() == card["abc"].encode(), f"{name}: the ABC differs"
    assert served_path(back["abc_url"]).read_bytes() == served_path(card["abc_url"]).read_bytes()
    midi, midi_back = served_path(card["midi"]), served_path(back["midi"])
    assert md5(midi_back) == md5(midi), f"{name}: the MIDI differs"
    for key in ("tempo", "instrument", "accompaniment", "title"):
        assert back.get(key) == card.get(key), f"{name}: {key} {back.get(key)!r} != {card.get(key)!r}"
    # Where transpositions start from, and how far this one moved (a card from the chat has
    # neither: it is its own base, unmoved).
    assert (back.get("base") or back["abc"], back.get("transpose") or 0) == \
        (card.get("base") or card["abc"], card.get("transpose") or 0), name

    # The tracks are what the card's settings say: the melody's instrument, and the
    # accompaniment's on a track of its own when one is on.
    tracks = [p for p in programs(midi_back) if p]
    assert tracks == [p for p in programs(midi) if p]
    assert tracks[0] == [INSTRUMENTS[card["instrument"]]]
    if card["accompaniment"]:
        assert len(tracks) == 2 and set(tracks[1]) == {INSTRUMENTS[card["accompaniment"]]}, tracks
        assert '"' in card["abc"].split("\nK:", 1)[1]  # the chords it plays are in the text
    else:
        assert len(tracks) == 1, tracks


def test_a_played_paste_with_an_accompaniment_says_what_was_added(made, bot):
    reply = final(bot.reply("play\n" + REEL, [], Session(), Options(accompaniment="guitar")))
    text = reply.history[-1]["content"]
    added = reply.tune.count('"') // 2  # the reel itself has none
    assert added >= 8 and '"' not in REEL
    assert f"played as you wrote it, with {added} chord symbols added for the guitar accompaniment" in text
    assert "accompaniment=guitar" in reply.link and '"D"' in reply.tune
    plain = final(bot.reply("play\n" + REEL, [], Session(), Options()))
    said = plain.history[-1]["content"]
    assert "played as you wrote it." in said and "chord symbol" not in said
