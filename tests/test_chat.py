"""The chat's logic without Gradio: what messages mean, follow-ups, bad input, the reply stream."""

from __future__ import annotations

import html
import json
import os
import re
import time
import wave
from pathlib import Path
from urllib.parse import unquote

import pytest

from bot import chat, links, style
from bot.chat import intent as chat_intent
from bot.chat import reply as chat_reply
from bot.chat import BUSY, Chat, ChatConfig, ChatError, Options, Session, interpret
from bot.prompt import MAX_PROMPT_CHARS
from bot.render import RenderSettings, ogg_encoder
from bot.web.names import tune_stem
from bot.web.text import as_text

JIG = "X:1\nT:Pasted\nM:6/8\nL:1/8\nK:G\nGAB dBG|c2e dBG|GAB dBG|A3 A2D|\n"


@pytest.fixture
def seeds(monkeypatch):
    """Fresh seeds come out 1000, 1001, ... so tests are reproducible."""
    counter = iter(range(1000, 2000))
    monkeypatch.setattr(chat_intent, "fresh_seed", lambda: next(counter))


@pytest.fixture
def bot(tmp_path):
    # A short tune keeps the real model and renderer quick; no throttling so every update shows.
    return Chat(ChatConfig(outputs=tmp_path / "outputs", min_interval_s=0.0, poll_s=0.05))


def small(**kw) -> Options:
    return Options(**{"bars": 4, "seed": 7, **kw})


def card_of(reply) -> dict:
    """The tune card's data in the last assistant message (what tunes.js reads)."""
    match = re.search(r'<code class="tune-data">(.*?)</code>', last_text(reply), re.S)
    assert match, "no tune card in the reply"
    return json.loads(html.unescape(match.group(1)))


def served_path(url: str) -> Path:
    """The file behind a card's gradio_api/file= URL."""
    return Path(unquote(url.split("file=", 1)[1]))


def last_text(reply) -> str:
    for message in reversed(reply.history):
        if isinstance(message["content"], str) and message["role"] == "assistant":
            return message["content"]
    raise AssertionError("no assistant text")


# -- what a message means ------------------------------------------------------------------


def test_words_start_a_new_tune_with_the_chosen_seed(seeds):
    intent = interpret("a jig in D", Session(), Options(seed=42, meter="6/8"))
    assert (intent.kind, intent.prompt, intent.seed, intent.meter) == ("new", "a jig in D", 42, "6/8")


def test_random_seed_is_drawn_when_none_is_set(seeds):
    assert interpret("a reel", Session(), Options(seed=None)).seed == 1000


def test_empty_message_is_surprise_me(seeds):
    intent = interpret("   ", Session(), Options())
    assert (intent.kind, intent.prompt) == ("new", "")


def test_continue_needs_a_tune_first():
    with pytest.raises(ChatError, match="no tune to continue"):
        interpret("continue", Session(), Options())


def test_continue_primes_with_this_conversations_tune(seeds):
    session = Session(abc="M:4/4\nK:D\nABcd|", prompt="a reel", seed=3)
    intent = interpret("Continue!", session, Options())
    assert (intent.kind, intent.prompt) == ("continue", session.abc)
    assert intent.meter is None and intent.key is None  # the tune keeps its own headers


@pytest.mark.parametrize("word", ["another", "again", "Again.", "one more"])
def test_another_reuses_the_words_with_a_fresh_seed_even_when_the_seed_is_fixed(seeds, word):
    session = Session(abc="K:D\nABcd|", prompt="a polka", seed=5)
    intent = interpret(word, session, Options(seed=5))
    assert (intent.kind, intent.prompt, intent.seed) == ("another", "a polka", 1000)


def test_seed_command_reruns_the_words_with_that_seed():
    intent = interpret("seed 42", Session(prompt="a hornpipe"), Options())
    assert (intent.kind, intent.prompt, intent.seed) == ("seed", "a hornpipe", 42)


def test_pasted_tune_is_continued(seeds):
    assert interpret(JIG, Session(), Options()).kind == "paste"


def test_too_long_message_is_refused_kindly():
    with pytest.raises(ChatError, match="characters"):
        interpret("a" * (MAX_PROMPT_CHARS + 1), Session(), Options())


def test_settings_from_the_page_are_checked():
    options = Options.from_controls(0.8, 8, 12, False, 5, "Auto", "Dm", 0, "flute")
    assert (options.seed, options.meter, options.key, options.tempo, options.instrument) == (12, None, "Dm", None, "flute")
    assert Options.from_controls(1.0, 16, 12, True).seed is None  # "random" wins over the box
    with pytest.raises(ChatError, match="Temperature"):
        Options.from_controls(5.0, 16)
    with pytest.raises(ChatError, match="instrument"):
        Options.from_controls(1.0, 16, instrument="kazoo-9000")


# -- links -----------------------------------------------------------------------------------


def test_link_round_trips_the_settings():
    link = links.TuneLink(prompt="a jig in D", seed=42, temperature=0.8, bars=12, meter="6/8", instrument="flute")
    query = link.to_query()
    assert "prompt=a+jig+in+D" in query and "seed=42" in query
    params = dict(p.split("=", 1) for p in query.split("&"))
    from urllib.parse import unquote_plus

    back = links.from_query({k: unquote_plus(v) for k, v in params.items()}, meters=("6/8",), instruments=("flute",))
    assert back == link and back.has_tune()


def test_bad_link_values_fall_back_to_defaults():
    back = links.from_query({"seed": "-3", "temperature": "nan", "bars": "9999", "meter": "<script>"}, meters=("6/8",))
    assert (back.seed, back.temperature, back.bars, back.meter) == (None, 1.0, 16, None)
    assert len(back.problems) == 4 and not back.has_tune()


# -- housekeeping ----------------------------------------------------------------------------


def test_outputs_older_than_an_hour_are_deleted(tmp_path):
    old, new = tmp_path / "old", tmp_path / "new"
    for folder in (old, new):
        folder.mkdir()
        (folder / "tune.abc").write_text("X:1\n")
    hour_ago = time.time() - 3700
    os.utime(old, (hour_ago, hour_ago))
    assert chat.clean_outputs(tmp_path, 3600) == 1
    assert not old.exists() and new.exists()


# -- the reply stream (real model and renderer, short tunes) ---------------------------------


def test_reply_streams_a_growing_tune_then_files_and_audio(bot):
    steps = list(bot.reply("a jig in D", [], Session(), small()))
    writing = [s.abc for s in steps if s.abc and not s.done]
    assert len(writing) >= 2
    assert all(b.startswith(a) for a, b in zip(writing, writing[1:]))  # the tune only grows
    final = steps[-1]
    assert final.done and final.error is None
    assert final.history[0] == {"role": "user", "content": "a jig in D"}
    assert "```abc" in last_text(final) and "Link to this tune" in last_text(final)
    assert final.audio is not None and final.audio.stat().st_size > 1000
    card = card_of(final)  # the score, player and downloads the page shows with the tune
    downloads = [served_path(card[key]).name for key in ("abc_url", "midi", "wav", "audio")]
    stem = tune_stem(final.tune)  # named for the tune's title (T:)
    assert stem != "tune" and downloads == [f"{stem}.abc", f"{stem}.mid", f"{stem}.wav", final.audio.name]
    assert all(served_path(card[key]).is_file() for key in ("abc_url", "midi", "wav", "audio"))
    assert card["abc"] == final.tune and card["tempo"] == 165  # a jig's pace: the highlight's tempo
    # 4 bars make no whole jig, so the tune takes a jig's usual 16: two 8-bar parts, repeated
    # or played once as the jig's layout draws it, which the ABC itself shows.
    from bot.notation.form import plan_form

    plan = plan_form("jig", 4, final.seed)
    assert plan.parts == (8, 8)
    assert final.tune.count(":|") == (2 if plan.repeated else 0), (plan, final.tune)
    # The reply as a person reads it (Markdown's backslashes and HTML's entities undone).
    shown = html.unescape(last_text(final)).replace("\\", "")
    named = re.search(r"In the manner of (.+?)\.(?:\s|$)", shown)
    assert named, "the reply names no collection"  # the shipped model writes in a collection's manner
    drawn = [key for key, name in style.NAMES.items() if name == named.group(1)]
    form = "AABB: two 8-bar parts, each played twice" if plan.repeated else "AB: two 8-bar parts"
    assert final.info() == {"form": form, "audio_error": None, "seed": 7,
                            "style": drawn[0] if drawn else "(a collection not in style.NAMES)"}
    # A title in the tradition's manner (bot.titles), never the words that asked for the tune.
    title = final.tune.split("\n")[1]
    assert final.tune.startswith("X:1\nT:") and "K:" in final.tune and len(title) > 3
    assert not {"jig", "d"} & set(re.findall(r"[a-z]+", title[2:].lower()))
    with wave.open(str(final.audio.with_suffix(".wav"))) as audio:
        assert audio.getnframes() > audio.getframerate()  # more than a second of sound
    assert final.session.abc == final.abc and final.session.prompt == "a jig in D"
    assert "seed=7" in final.link


def test_continue_extends_this_tabs_tune_and_leaves_other_tabs_alone(bot):
    first = list(bot.reply("a reel in G", [], Session(), small()))[-1]
    other_tab = Session()
    more = list(bot.reply("continue", first.history, first.session, small(seed=8)))[-1]
    assert more.error is None
    last_line = first.abc.rstrip("\n").splitlines()[-1]
    assert last_line in more.abc and more.abc.index(last_line) < len(more.abc) - len(last_line) - 1
    assert more.session.prompt == "a reel in G"  # "another" after this still means a reel in G
    refused = list(bot.reply("continue", [], other_tab, small()))[-1]
    assert refused.error and "no tune to continue" in refused.error
    assert other_tab == Session()


@pytest.mark.parametrize("message, options, says", [
    ("a" * (MAX_PROMPT_CHARS + 1), small(), "characters"),  # too long
    ("V:1\nV:2\nK:C\nabc|", small(), "several voices"),  # refused by the prompt reader
    ("\x00\x01\x02 junk", small(), "binary"),
    ("a jig", ChatError("Temperature must be between 0.1 and 2.0, not 9."), "Temperature"),  # bad setting
])
def test_bad_settings_and_input_get_a_friendly_message_not_a_traceback(bot, message, options, says):
    steps = list(bot.reply(message, [], Session(), options))
    assert steps[-1].done and not any(step.audio for step in steps)
    text = last_text(steps[-1])
    # The message is the error, shown as text (bot.web.text: Markdown's marks escaped).
    assert text == as_text(steps[-1].error) and says in text and "Traceback" not in text
    assert steps[-1].session == Session()  # the conversation's tune is untouched


def test_a_full_house_says_busy(tmp_path):
    bot = Chat(ChatConfig(outputs=tmp_path, max_active=1, max_waiting=0, min_interval_s=0.0))
    first = bot.reply("a jig", [], Session(), small())
    next(first)  # the first tune is being written
    busy = list(bot.reply("a reel", [], Session(), small()))
    assert busy[-1].error == BUSY
    first.close()  # Stop: its place frees up
    assert list(bot.reply("a reel", [], Session(), small()))[-1].error is None


def test_audio_sheds_the_top_octave_only_while_others_wait(tmp_path):
    """A tune finished while another is being written gets its audio at the busy sample rate; a
    tune rendered alone gets the full 44.1 kHz. The page plays the OGG either way (the WAV is
    only the download, within the render's byte budget)."""
    if ogg_encoder() is None:
        pytest.fail("sox with Ogg Vorbis is needed (scripts/setup.sh installs it)")
    bot = Chat(ChatConfig(outputs=tmp_path, min_interval_s=0.0))
    other = bot.reply("a reel", [], Session(), small(bars=32))
    next(other)  # someone else's tune is being written
    crowded = list(bot.reply("a jig", [], Session(), small()))[-1]
    assert crowded.done and crowded.audio.suffix == ".ogg"
    with wave.open(str(crowded.audio.with_suffix(".wav"))) as audio:
        assert audio.getframerate() == bot.config.busy_sample_rate == 32_000
    assert as_text("the audio is at 32 kHz, not 44.1, as the server was busy") in last_text(crowded)
    other.close()
    alone = list(bot.reply("a jig", [], Session(), small()))[-1]
    assert alone.done and alone.audio.suffix == ".ogg"
    assert alone.audio.read_bytes()[:4] == b"OggS"
    with wave.open(str(alone.audio.with_suffix(".wav"))) as audio:
        assert audio.getframerate() == RenderSettings().sample_rate == 44_100
    assert "kHz" not in last_text(alone)


def test_stop_and_closed_tab_cancel_and_leave_no_files(tmp_path):
    bot = Chat(ChatConfig(outputs=tmp_path, min_interval_s=0.0, poll_s=0.05))
    stream = bot.reply("a jig", [], Session(), small(bars=32), session_id="tab-1")
    next(stream)
    assert bot.cancel("tab-1") is True  # what the Stop button and closing the tab call
    rest = list(stream)
    assert not any(step.done for step in rest)  # no finished tune after Stop
    assert list(tmp_path.iterdir()) == []
    assert bot.cancel("tab-1") is False  # nothing left running for that tab


def test_stop_while_the_audio_is_made_leaves_no_files(tmp_path):
    bot = Chat(ChatConfig(outputs=tmp_path, min_interval_s=0.0, poll_s=0.01))
    stream = bot.reply("a jig", [], Session(), small(), session_id="tab-2")
    for step in stream:
        if last_text(step).startswith("Making the audio"):
            break
    assert len(list(tmp_path.iterdir())) == 1  # the tune's folder exists while rendering
    bot.cancel("tab-2")
    assert not any(step.done for step in stream)
    bot.close()  # wait for the killed render's worker to hand back its slot
    assert list(tmp_path.iterdir()) == []


def test_without_abcjs_or_its_registry_the_page_says_so(tmp_path):
    from bot import page

    missing = tmp_path / "abcjs" / "abcjs-basic-min.js"
    unreachable = "http://127.0.0.1:9"  # the discard port: nothing listens there
    assert page.ensure_abcjs(missing, registry=unreachable) == page.NO_SCORE_NOTICE
    assert page.abcjs_head(missing) == "" and not missing.exists()
    assert page.abcjs_head(page.ABCJS_FILE).startswith('<script src="/gradio_api/file=')
    head = page.page_head(missing)  # without abcjs the cards still load (and say why there is no score)
    assert "tunes.js?v=" in head and "tunes.css?v=" in head and "abcjs" not in head


def test_the_finished_reply_gives_the_bars_written_not_the_slider():
    from bot.generate import Update

    early = chat_reply.done_headline("A reel in G", small(bars=16), Update("", 0, True, 25, [], 8))
    assert "8 bars, as it came to its close before the 16 asked for" in early
    full = chat_reply.done_headline("A reel in G", small(bars=16), Update("", 0, True, 25, [], 16))
    assert "(seed 25, 16 bars, temperature 1.0)" in full and "close" not in full


def test_the_seed_box_is_text_read_as_a_whole_number_or_refused_by_name():
    assert Options.from_controls(1.0, 16, "42", random_seed=False).seed == 42
    assert Options.from_controls(1.0, 16, " ", random_seed=False).seed is None  # empty: a fresh seed
    assert Options.from_controls(1.0, 16, "oops", random_seed=True).seed is None  # "random" wins
    for typed in ("oops", "4.5", "-3"):
        with pytest.raises(ChatError, match="seed must be a whole number from 0"):
            Options.from_controls(1.0, 16, typed, random_seed=False)
