"""Honest answers: bad input refused or flagged with what is wrong, failures on our side told as ours.

Each case here was met on the page: an unknown key accepted, a bar line deleted without a word,
5,000 random characters continued as a tune, and every model failure answered "try other words".
"""

from __future__ import annotations

import random
import string

import pytest

from bot import chat
from bot.chat import Chat, ChatConfig, Options, PlayError, Session
from bot.prompt import PromptError, parse_prompt

VOCAB = "".join(chr(c) for c in range(32, 127)) + "\n"


def junk(alphabet: str, seed: int) -> str:
    rng = random.Random(seed)
    return "".join(rng.choice(alphabet) for _ in range(5000))


@pytest.fixture
def bot(tmp_path):
    return Chat(ChatConfig(outputs=tmp_path / "outputs", min_interval_s=0.0, poll_s=0.05))


def small(**kw) -> Options:
    return Options(**{"bars": 4, "seed": 7, **kw})


def reply_text(bot, message: str) -> str:
    steps = list(bot.reply(message, [], Session(), small()))
    assert steps[-1].done and not any(step.audio for step in steps)
    return steps[-1].error


def test_an_unknown_key_is_refused_with_its_line_and_column():
    with pytest.raises(PromptError, match=r"K:Zz is not a key .*\(line 3, column 1\)"):
        parse_prompt("X:1\nT:t\nK:Zz\nABcd|defg|\n", VOCAB)
    for fine in ("D", "Ador", "Bb mix", "none", "HP", "G treble", "D exp ^f _b", "F#m clef=bass"):
        parse_prompt(f"X:1\nK:{fine}\nABcd|defg|\n", VOCAB)  # real ABC keys stay accepted


def test_an_unknown_key_in_a_card_edit_is_refused_where_it_is(bot):
    with pytest.raises(PlayError) as refused:
        bot.play("X:1\nT:t\nM:6/8\nL:1/8\nK:Zz\nd2e fed|cBA ABc|\n")
    assert "K:Zz is not a key" in str(refused.value) and refused.value.line == 5


def test_a_bar_of_the_wrong_length_plays_but_is_named(bot):
    played = bot.play("X:1\nT:t\nM:6/8\nL:1/8\nK:D\n|:d2e fed|cBA d2e fed cBA|d2e fed:|\n")
    assert played.audio.is_file()
    assert any("bar 2 holds 12 × 1/8 where M:6/8 takes 6 × 1/8" in note for note in played.notes)


@pytest.mark.parametrize("alphabet", [
    string.printable[:94] + " \n",  # any printable character
    string.ascii_letters + " |",  # letters with bar lines and few spaces
    string.printable,  # with tabs and form feeds
])
def test_random_text_is_refused_saying_why(bot, alphabet):
    text = reply_text(bot, junk(alphabet, 1))
    assert "doesn't read as words or music" in text and "characters" in text


def test_a_long_text_with_no_request_in_it_is_refused(bot):
    text = reply_text(bot, "lorem ipsum dolor sit amet consectetur " * 8)
    assert "neither ABC music nor a request" in text


def test_pasted_text_that_is_mostly_not_notes_is_refused():
    # Header lines, then 5,000 random characters (once continued as M:9/2 and 2.5 minutes of audio).
    with pytest.raises(PromptError, match="doesn't read as (words or )?music"):
        parse_prompt("X:1\nT:t\nM:6/8\nK:D\n" + junk(string.printable[:94] + " \n|", 2)[:4900], VOCAB)
    # Bar lines and symbols, but hardly a note: refused as music, saying what share were notes.
    with pytest.raises(PromptError, match=r"doesn't read as music: only \d+% of its"):
        parse_prompt("X:1\nT:t\nK:D\n" + "|#$ @!? ~+*|" * 20 + "\n", VOCAB)


def test_a_failure_on_our_side_is_told_as_ours(bot, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("could not create a primitive descriptor for the LSTM forward propagation primitive")
        yield  # a generator, like compose

    monkeypatch.setattr(chat.service, "compose", broken)
    text = reply_text(bot, "a jig in D")
    assert "failed on our side" in text and "writing the tune with the model" in text
    assert "other words" in text and "won't help" in text  # never "try other words"
    assert "reference" in text and "Traceback" not in text


def test_a_failed_warm_up_makes_health_say_not_ready(bot, monkeypatch):
    monkeypatch.setattr(chat.service, "load_cached", lambda: (_ for _ in ()).throw(OSError("no such checkpoint")))
    assert bot.health()["status"] == "warming up" and not bot.health()["ready"]
    bot.warm_up()
    health = bot.health()
    assert not health["ready"] and "loading the model" in health["status"]
    # What failed, not how: no exception text, paths, CPU features or versions in the answer.
    assert "no such checkpoint" not in health["status"] and "/" not in str(health)
    assert health["compute_path"].startswith("cpu-") and "AVX" not in str(health)


def test_a_good_warm_up_makes_health_ready(bot):
    bot.warm_up()
    assert bot.health()["ready"], bot.health()
