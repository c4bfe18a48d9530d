"""Playing a given tune without generating: /play's logic, the cards' transpose and edit, the
tunebook, PDFs, links, and /compose's third output. Real renderer, short tunes, no Gradio."""

from __future__ import annotations

import hashlib
import json
import re
import time
from types import SimpleNamespace

import pytest

from bot import chat, links
from bot.chat import play as chat_play
from bot.chat import reply as chat_reply
from bot.chat import service as chat_service
from bot.chat import Chat, ChatConfig, ChatError, Options, PlayError, Session
from bot.harmonise import strip_chords
from bot.notation.transpose import transpose_tune
from bot.render import RenderError
from bot.web import cards

from test_chat import card_of, last_text, served_path

# 16 bars with repeats and first and second endings: what the highlight must follow in order.
REEL = """X:1
T:Test reel
M:4/4
L:1/8
R:reel
K:D
|:DFAF dFAF|GBdB gBdB|AFAF dFAF|1 EFGE FDD2:|2 EFGE D4||
|:fdfa fdfa|gege gege|fdfa fdfa|1 gfed cABc:|2 gfec d4|]
"""


@pytest.fixture(scope="module")
def bot(tmp_path_factory):
    bot = Chat(ChatConfig(outputs=tmp_path_factory.mktemp("outputs"), min_interval_s=0.0, poll_s=0.05))
    yield bot
    bot.close()


def md5(path) -> str:
    return hashlib.md5(path.read_bytes()).hexdigest()


def test_play_renders_the_tune_as_given(bot):
    played = bot.play(REEL)
    assert played.abc == REEL  # nothing moved, nothing rewritten
    assert played.audio.stat().st_size > 10_000 and played.rendered.midi.is_file()
    assert played.rendered.tempo == 180  # a reel's pace: the highlight runs at this tempo too
    assert (played.semitones, played.notes) == (0, [])


def test_transpose_moves_the_abc_the_midi_and_the_audio_within_a_second(bot):
    home = bot.play(REEL)
    start = time.monotonic()
    up = bot.play(REEL, key="G")  # fiddle G: D up a fourth (+5) is nearer than down a fifth
    took = time.monotonic() - start
    assert up.semitones == 5 and "\nK:G\n" in up.abc and up.abc != REEL
    assert md5(up.rendered.midi) != md5(home.rendered.midi) and md5(up.rendered.wav) != md5(home.rendered.wav)
    # The goal is 1 s (0.2-0.6 s measured alone, bench/highlight_drift.py times it in the page);
    # the bound here leaves room for a machine busy with other tests.
    assert took < 2.0, f"transpose to new audio took {took:.2f} s"
    down = bot.play(REEL, transpose=-2)
    assert "\nK:C\n" in down.abc


@pytest.mark.parametrize("args, says", [
    (dict(abc=""), "no tune to play"),
    (dict(abc=REEL, transpose=13), "from -12 to 12"),
    (dict(abc=REEL, transpose=1.5), "whole number"),
    (dict(abc=REEL, tempo=5), "Tempo must be between 30 and 300"),
    (dict(abc=REEL, instrument="kazoo"), "kazoo"),
    (dict(abc=REEL, key="H#"), "Pick a key"),
    (dict(abc="x" * 30_000), "30,000 characters"),
])
def test_bad_input_says_why(bot, args, says):
    with pytest.raises(PlayError, match=says):
        bot.play(**args)


def test_an_unplayable_edit_says_what_and_where(bot):
    edited = REEL.replace("|:fdfa fdfa|", "|:fdfa f/0dfa|")
    with pytest.raises(PlayError) as caught:
        bot.play(edited)
    err = caught.value
    assert (err.line, err.column) == (8, 8)  # where 'f/0' is in the edit
    assert "divided by zero" in str(err) and "(line 8, column 8)" in str(err)
    meter = REEL.replace("M:4/4", "M:4/0")
    with pytest.raises(PlayError, match=r"M:4/0.*\(line 3, column 1\)"):
        bot.play(meter)


def test_locate_finds_quoted_notes_fields_and_positions():
    abc = "X:1\nM:6/8\nK:G\nGAB C/0 d|\n"
    assert cards.locate(abc, "I can't play this: note 'C/0' has a length divided by zero") == (4, 5)
    assert cards.locate(abc, "M:6/8 is odd") == (2, 1)
    assert cards.locate(abc, "binary data (character 0x01 at position 12)") == (3, 3)
    assert cards.locate(abc, "the tune is too long") is None


def test_a_card_transposes_and_plays_edits_through_json(bot):
    asked = {"abc": REEL, "transpose": 0, "key": "A", "tempo": 180, "instrument": "flute", "title": "Test reel"}
    data = bot.play_card(json.dumps(asked))
    assert data["transpose"] == -5 and "\nK:A\n" in data["abc"] and data["tempo"] == 180
    assert data["instrument"] == "flute" and served_path(data["audio"]).is_file()
    # Files are named for the tune's title ("T:Test reel").
    assert served_path(data["midi"]).name == "test-reel.mid" and served_path(data["abc_url"]).read_text() == data["abc"]
    bad = bot.play_card(json.dumps({**asked, "key": None, "abc": REEL.replace("DFAF dFAF", "DFAF d/0FAF")}))
    assert bad["error"].startswith("I can't play this") and (bad["line"], bad["column"]) == (7, 8)
    assert bot.play_card("not json")["error"]


def test_play_said_with_a_pasted_tune_plays_it_as_it_is(bot):
    final = list(bot.reply("play\n" + REEL, [], Session(), Options()))[-1]
    assert final.done and final.error is None and final.tune.strip() == REEL.strip()
    assert card_of(final)["abc"].strip() == REEL.strip() and "played as you wrote it" in last_text(final)
    again = list(bot.reply(REEL + "\nplay", [], Session(), Options()))[-1]
    assert again.tune.strip() == REEL.strip()
    alone = list(bot.reply("play", [], Session(), Options()))[-1]
    assert alone.error and "paste the whole tune" in alone.error
    broken = list(bot.reply("play\n" + REEL.replace("M:4/4", "M:4/0"), [], Session(), Options()))[-1]
    assert "line 3" in broken.error and not broken.audio


def test_a_pdf_and_a_tunebook_of_every_tune(bot):
    pdf = bot.print_card(REEL)
    assert served_path(pdf["pdf"]).read_bytes().startswith(b"%PDF")
    assert "error" in bot.print_card("")
    second = REEL.replace("T:Test reel", "T:Second").replace("X:1", "X:1")
    book = bot.tunebook(json.dumps([REEL, second]))
    text = book.read_text()
    assert text.count("X:") == 2 and "T:Test reel" in text and "T:Second" in text
    with pytest.raises(ChatError, match="no tunes"):
        bot.tunebook("[]")


def test_compose_gives_the_form_and_the_seed_and_says_why_there_is_no_audio(bot, monkeypatch):
    *_, (abc, audio, info) = bot.compose_api("a jig in D", 1.0, 4, 3)
    assert "K:" in abc and audio is not None and info["seed"] == 3 and info["audio_error"] is None
    assert info["form"] == "AABB: two 8-bar parts, each played twice"  # 4 bars make no whole jig: its usual 16

    def broken(*args, **kwargs):
        raise RenderError("the soundfont is missing")

    monkeypatch.setattr(chat_service, "render", broken)
    *_, (abc, audio, info) = bot.compose_api("a jig in D", 1.0, 4, 3)
    assert "K:" in abc and audio is None and info["audio_error"] == "the soundfont is missing"


def test_the_finished_headline_gives_the_form_when_known():
    update = SimpleNamespace(abc=REEL, bars=16, seed=5, form="AABB: two 8-bar parts, each played twice", style="")
    text = chat_reply.done_headline("A reel", Options(bars=16), update)
    assert text.endswith("Form: AABB: two 8-bar parts, each played twice.")
    assert "Form" not in chat_reply.done_headline("A reel", Options(bars=16),
                                                  SimpleNamespace(abc=REEL, bars=16, seed=5, form="", style=""))
    # The collection the model wrote in the manner of (bot.style) is named after the form.
    styled = chat_reply.done_headline("A reel", Options(bars=16), SimpleNamespace(abc=REEL, bars=16, seed=5, form="", style="ryan"))
    assert styled.endswith("In the manner of Ryan's Mammoth Collection (1883).")


def test_an_old_seed_link_is_written_again_and_says_so(bot):
    link = links.TuneLink(prompt="a jig in D", seed=3, bars=4)
    final = list(bot.from_link(link, [], Session(), Options(bars=4, seed=3)))[-1]
    assert final.done and final.error is None and chat.REGENERATED in last_text(final)


# A "Link to this tune" made by this version (links v=2) before any retrain, kept verbatim: it
# must bring back exactly this tune, moved 5 semitones, at 150 BPM on the flute, whatever model
# the app has by then.
OLD_LINK = ("v=2&tempo=150&instrument=flute&transpose=5&abc=eNpFi6EOAjEQBf1-xfuDSy8VZF2bXk8AhpzAIEh3W4MC5H"
            "78tZCAmWQmmSs72njT1xtP1Qed2U-eTuymA134k46cyDjlkCEdtkaJaB0Wfs1hyeuCnNLMNn8lebM-Vql3DFjTphiwf3NoVQ"
            "UlxDLGLgXi7UY7C6otfw")


def test_a_link_made_before_a_retrain_brings_back_the_same_tune(bot):
    from urllib.parse import parse_qsl

    link = links.from_query(dict(parse_qsl(OLD_LINK)), instruments=chat.INSTRUMENT_CHOICES)
    assert link.abc == REEL and not link.problems
    final = list(bot.from_link(link, [], Session(), Options()))[-1]
    assert final.done and final.error is None
    assert final.tune == transpose_tune(REEL, 5) and "\nK:G\n" in final.tune
    card = card_of(final)
    assert (card["base"], card["transpose"], card["tempo"], card["instrument"]) == (REEL, 5, 150, "flute")
    # Shared again, it is a v=4 link, shorter, that opens the very same tune.
    again = links.from_query(dict(parse_qsl(card["link"])), instruments=chat.INSTRUMENT_CHOICES)
    assert card["link"].startswith("v=4&") and len(card["link"]) < len(OLD_LINK)
    assert (again.abc, again.transpose, again.tempo, again.instrument) == (REEL, 5, 150, "flute")
    assert chat.REGENERATED not in last_text(final)


def test_named_keys_move_the_tonic_and_modal_ones_match_the_signature(bot):
    assert chat_play._semitones_to(REEL, "G") == 5 and chat_play._semitones_to(REEL, "A") == -5  # fiddle keys
    assert chat_play._semitones_to(REEL, "Amix") == 0  # D major already fits the pipes' A mixolydian
    in_g = REEL.replace("K:D", "K:G")
    assert chat_play._semitones_to(in_g, "Amix") == -5 and chat_play._semitones_to(in_g, "Dmix") == 0
    played = bot.play(in_g, key="Amix")
    assert "\nK:D\n" in played.abc and played.semitones == -5


def test_an_accompaniment_adds_chords_under_the_finished_tune(bot):
    alone = bot.play(REEL)
    backed = bot.play(REEL, accompaniment="guitar")
    assert '"D"' in backed.abc and '"D"' not in REEL  # chord symbols where the bars had none
    assert md5(backed.rendered.midi) != md5(alone.rendered.midi)
    with pytest.raises(PlayError, match="accompaniment"):
        bot.play(REEL, accompaniment="kazoo")
    *_, (abc, audio, info) = bot.compose_api("a jig in D", 1.0, 4, 3, accompaniment="piano")
    assert audio is not None and info["audio_error"] is None
    assert re.search(r'"[A-G][#b]?m?7?"', abc)  # the chords are in the tune returned, not only heard
    *_, (plain, _, _) = bot.compose_api("a jig in D", 1.0, 4, 3)
    assert strip_chords(abc) == plain and '"' not in plain.split("K:", 1)[1]


def test_a_damaged_link_says_so_instead_of_playing_something_else(bot):
    link = links.from_query({"v": "2", "abc": "eNpLtDI0not-a-tune"})
    final = list(bot.from_link(link, [], Session(), Options()))[-1]
    assert final.error and final.error.startswith("This link could not be read (abc") and not final.audio


def test_a_move_retitles_a_title_that_names_the_key_and_a_key_already_fitting_says_so(bot):
    named = REEL.replace("T:Test reel", "T:A reel in D")
    data = bot.play_card(json.dumps({"abc": named, "transpose": 2, "title": "A reel in D"}))
    assert "\nT:A reel in E\n" in data["abc"] and "\nK:E\n" in data["abc"] and data["title"] == "A reel in E"
    assert data["base"] == named  # moving it again starts from the tune as it was
    air = "X:1\nT:Air in G minor\nT:from Dublin\nM:3/4\nL:1/4\nK:Gm\nGAB|d3|\n"
    assert chat.retitled(transpose_tune(air, 2), air).split("\n")[1:3] == ["T:Air in A minor", "T:from Dublin"]
    assert chat.retitled(transpose_tune(REEL, 2), REEL) == transpose_tune(REEL, 2)  # no key named
    # A D tune already fits the pipes' A mixolydian: nothing moves, and the card says why.
    pipes = bot.play_card(json.dumps({"abc": REEL, "key": "Amix"}))
    assert pipes["abc"] == REEL and pipes["transpose"] == 0
    assert "already fits A mixolydian" in pipes["notes"]


def test_a_card_gets_its_tune_as_musicxml_or_a_reason(bot):
    moved = bot.play(REEL, transpose=2, accompaniment="guitar").abc  # what a card sends: the ABC as it plays
    data = bot.musicxml_card(moved)
    text = served_path(data["musicxml"]).read_text()
    assert text.startswith("<?xml") and "<score-partwise" in text and "Test reel" in text
    assert "<fifths>4</fifths>" in text and "<harmony" in text  # E major now, with its chords
    assert "no tune" in bot.musicxml_card("")["error"]
    bad = bot.musicxml_card(REEL.replace("M:4/4", "M:4/0"))["error"]
    assert bad.startswith("I couldn't write this tune as MusicXML") and "M:4/0" in bad


def _note_ons(path) -> list[tuple[float, int]]:
    """(seconds, MIDI pitch) of every note-on of the melody and accompaniment, in time order."""
    from bot.render_worker import read_midi, tick_seconds, timed_events

    midi = read_midi(path)
    seconds = tick_seconds(midi)
    return sorted((round(seconds(tick), 4), event.pitch) for track in midi.tracks
                  for tick, event in timed_events(track) if event.isNoteOn() and event.velocity)


def test_slowed_to_70_percent_the_audio_is_longer_by_1_over_0_7_at_the_same_pitches(bot):
    from bot.render_worker import TAIL_S

    full = bot.play(REEL)
    slow = bot.play(REEL, tempo=round(full.rendered.tempo * 0.7))  # what the card's 70% asks for
    ratio = (slow.rendered.seconds - TAIL_S) / (full.rendered.seconds - TAIL_S)
    assert abs(ratio * 0.7 - 1) < 0.02, ratio
    fast_notes, slow_notes = _note_ons(full.rendered.midi), _note_ons(slow.rendered.midi)
    assert [p for _, p in slow_notes] == [p for _, p in fast_notes]  # the same notes: pitch unchanged
    assert abs(slow_notes[-1][0] / fast_notes[-1][0] * 0.7 - 1) < 0.02
    assert slow.abc == full.abc  # the tune itself is not touched


def test_a_print_that_fails_on_our_side_says_so_and_leaves_no_folder(bot, monkeypatch):
    import bot.chat.play as play

    def broken(abc, out):
        raise RuntimeError("ghostscript vanished")

    monkeypatch.setattr(play, "_print", broken)
    before = set(bot.config.outputs.iterdir())
    error = bot.print_card(REEL)["error"]
    assert "on our side" in error and "printing" in error
    assert set(bot.config.outputs.iterdir()) == before
