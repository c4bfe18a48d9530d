"""Bounded under abuse: bytes per render, the outputs folder's quota, grace notes in the note
count, input sizes (history, tunebook), and odd input (lone surrogates, deep JSON) answered
with a message, in process. tests/test_odd_input_api.py posts the same to the running app."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

from bot.chat import Chat, ChatConfig, ChatError, Options, PlayError, Session
from bot.chat.reply import text_of
from bot.render import LIMITS, RenderError, RenderSettings, prepare_tune, render
from bot.web.limits import MAX_HISTORY_CHARS, MAX_TUNEBOOK_TUNES, trim_history
from bot.web.quota import OutputsQuota, folder_bytes
from bot.web.text import check_text

from test_play import REEL

# The tune: 41 characters, inside every limit, 9.4 minutes of audio (a 99.7 MB WAV).
FLOOD_TUNE = "X:1\nM:4/4\nL:1\nQ:1/4=20\nK:C\nC16|C16|C15|]"


@pytest.fixture(scope="module")
def bot(tmp_path_factory):
    bot = Chat(ChatConfig(outputs=tmp_path_factory.mktemp("outputs"), min_interval_s=0.0, poll_s=0.05))
    yield bot
    bot.close()


def test_a_render_past_its_byte_budget_keeps_the_ogg_and_drops_the_wav(tmp_path):
    # REEL's WAV is ~6 MB: with a 2 MB budget only the MIDI and the OGG may stay.
    done = render(REEL, tmp_path, RenderSettings(max_bytes=2_000_000))
    assert done.wav is None and done.compressed is not None and done.compressed.suffix == ".ogg"
    assert folder_bytes(tmp_path) <= 2_000_000
    assert any("no WAV download" in note for note in done.notes)
    assert sorted(p.suffix for p in tmp_path.iterdir()) == [".mid", ".ogg"]  # no raw or partial file left


def test_without_a_compressed_copy_a_wav_past_the_budget_is_refused_with_its_size(tmp_path):
    with pytest.raises(RenderError, match=r"would be \d+ MB, more than the 2 MB"):
        render(REEL, tmp_path, RenderSettings(max_bytes=2_000_000, compress=False))
    assert list(tmp_path.iterdir()) == []


def test_the_41_character_flood_tune_writes_at_most_20_mb(tmp_path):
    start = time.monotonic()
    done = render(FLOOD_TUNE, tmp_path, RenderSettings(sample_rate=22_050))
    assert done.seconds > 500 and done.wav is None  # the music is all there, as OGG only
    assert folder_bytes(tmp_path) <= 20_000_000, folder_bytes(tmp_path)
    assert time.monotonic() - start < 60


def test_grace_notes_count_towards_the_note_limit():
    ok = "X:1\nM:4/4\nL:1/8\nK:C\n" + "{gag}C8|" * 10
    assert prepare_tune(ok).seconds > 0
    flood = "X:1\nM:4/4\nL:1/8\nK:C\n" + ("{" + "g" * 100 + "}C8|") * 45  # 4,500 grace notes, 45 notes
    with pytest.raises(RenderError, match="grace notes included"):
        prepare_tune(flood)
    assert LIMITS.max_notes < 4_500


def _folder(root: Path, name: str, size: int, age: float) -> Path:
    folder = root / name
    folder.mkdir()
    (folder / "f.bin").write_bytes(b"x" * size)
    os.utime(folder, (time.time() - age, time.time() - age))
    return folder


def test_the_outputs_quota_frees_the_oldest_folders_first(tmp_path):
    old = _folder(tmp_path, "old", 400, age=100)
    middle = _folder(tmp_path, "middle", 400, age=50)
    quota = OutputsQuota(tmp_path, max_bytes=1000, grace_s=0, owner_share=1.0)  # the two found at start: 800 bytes, kept
    assert quota.total == 800 and old.exists()
    new = _folder(tmp_path, "new", 400, age=0)
    freed = quota.add(new)
    assert freed == 400 and not old.exists() and middle.exists() and new.exists()
    assert quota.total <= 1000 and quota.peak <= 1000


def test_room_is_held_before_writing_so_renders_in_flight_stay_within_the_quota(tmp_path):
    _folder(tmp_path, "old", 500, age=100)
    _folder(tmp_path, "newer", 300, age=50)
    quota = OutputsQuota(tmp_path, max_bytes=1000, grace_s=10, owner_share=1.0)
    assert quota.make_room(400)  # a render about to write up to 400 bytes: the oldest goes first
    assert not (tmp_path / "old").exists() and (tmp_path / "newer").exists()
    assert quota.make_room(400)  # a second at once: 300 + 400 + 400 held > 1000, so "newer" goes too
    assert not (tmp_path / "newer").exists()
    done = _folder(tmp_path, "done", 350, age=0)
    quota.add(done, held=400)
    assert quota.total == 350 and quota.peak <= 1000
    # A third, while "done" is in its grace period (its page still fetching): refused, not freed.
    assert not quota.make_room(400) and done.exists()


def test_the_chat_counts_its_outputs_against_the_quota(bot):
    bot._quota.max_bytes, bot._quota._target, bot._quota.grace_s = 22_000_000, 0, 0
    bot._quota.owner_share = 1.0  # one owner here (API calls): the whole quota is its share
    first = bot.play(REEL)
    second = bot.play(REEL)  # its render's room (20 MB) needs the first one's folder freed
    assert not first.abc_path.parent.exists() and second.abc_path.parent.exists()
    assert bot._quota.total == folder_bytes(second.abc_path.parent)
    bot._quota.grace_s = 3600  # now nothing may be freed: the next render is refused with a message
    with pytest.raises(PlayError, match="no room for more audio"):
        bot.play(REEL)
    bot._quota.max_bytes, bot._quota.grace_s, bot._quota.owner_share = 10**12, 60, 0.25


def test_one_owner_holds_at_most_its_share_of_the_quota(tmp_path):
    quota = OutputsQuota(tmp_path, max_bytes=1000, grace_s=60, owner_share=0.25)
    assert quota.make_room(200, owner="flood")
    quota.add(_folder(tmp_path, "f1", 200, age=0), held=200, owner="flood")
    assert not quota.make_room(100, owner="flood")  # 300 > its 250: refused while its files are fresh
    assert quota.make_room(200, owner="person")  # someone else still has room
    quota.grace_s = 0  # once the flood's files are old enough, its own oldest go to make it room
    assert quota.make_room(100, owner="flood") and not (tmp_path / "f1").exists()


def test_the_history_sent_back_is_trimmed_to_its_newest_messages():
    long = [{"role": "user", "content": "x" * 100_000} for _ in range(50)]
    kept = trim_history(long + [{"role": "assistant", "content": "last"}])
    assert kept[-1]["content"] == "last" and sum(len(m["content"]) for m in kept) <= MAX_HISTORY_CHARS
    assert trim_history("not a list") == [] and trim_history([5, {"role": "x"}, None]) == []


def test_a_lone_surrogate_is_refused_with_a_message(bot):
    with pytest.raises(ValueError, match="not text"):
        check_text("T:\ud800")
    with pytest.raises(PlayError, match="surrogate"):
        bot.play(REEL.replace("Test reel", "Test \ud800 reel"))
    final = list(bot.reply("a jig \ud800", [], Session(), Options()))[-1]
    assert final.error and "surrogate" in final.error and "Traceback" not in text_of(final.history[-1]["content"])


@pytest.mark.parametrize("sent", ['"5"', "5", "null", "{}", "[" * 100_000 + "]" * 100_000, "{not json"])
def test_the_tunebook_answers_odd_json_with_a_message(bot, sent):
    with pytest.raises(ChatError, match="tunebook|no tunes"):
        bot.tunebook(sent)


def test_a_tunebook_past_its_size_is_refused_with_its_count(bot):
    with pytest.raises(ChatError, match=f"up to {MAX_TUNEBOOK_TUNES} tunes"):
        bot.tunebook(json.dumps([REEL] * (MAX_TUNEBOOK_TUNES + 1)))
    with pytest.raises(ChatError, match="longer than"):
        bot.tunebook("[" + ",".join(['"' + "a" * 1000 + '"'] * 2000) + "]")


@pytest.mark.parametrize("sent", ["[" * 100_000 + "]" * 100_000, '"5"', "\ud800", json.dumps({"abc": "\ud800"})])
def test_a_card_answers_odd_json_with_a_message(bot, sent):
    answer = bot.play_card(sent)
    assert answer["error"] and "Traceback" not in answer["error"] and "Error" not in answer["error"]


def test_messages_hold_no_paths_versions_or_exception_text(bot, monkeypatch):
    from bot.chat import play as chat_play

    def broken(abc, out):
        raise OSError(2, "No such file", "/secret/server/path")

    monkeypatch.setattr(chat_play, "_print", broken)
    answer = bot.print_card(REEL)
    assert "/secret" not in answer["error"] and "OSError" not in answer["error"]
    assert "failed on our side" in answer["error"]
    health = bot.health()
    assert "/" not in json.dumps(health) and "AVX" not in json.dumps(health)
