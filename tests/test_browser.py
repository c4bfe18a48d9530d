"""The page in a real browser: headless Chromium (Debian's, else Playwright's: tests/browser.py) driven by Playwright.

Types "a jig in D", clicks Generate, and checks what a person sees: the ABC streaming into
the chat with its score redrawn, then the tune's card (score, player, downloads). Then, with
tunes pasted and played as they are: the highlight follows the audio through play, pause,
seek and a click on a note; transposing fetches new audio; an edit is heard and an unplayable
one is explained; the tunebook holds every tune; an old link brings back its tune; and on a
phone the current score is in view. Leaves screenshots in screenshots/ (git-ignored).
"""

from __future__ import annotations

import hashlib
import re
import sys
from pathlib import Path

import pytest
from playwright.sync_api import expect

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))
from test_play import OLD_LINK, REEL  # noqa: E402  (the frozen link and its tune)
from bot.web.names import slug  # noqa: E402


# Records every text the newest bot message shows, and whether a live score was drawn in it.
WATCH_CHAT = """
() => {
  window.__seen = [];
  window.__liveScores = 0;
  const chat = document.querySelector('#chat');
  new MutationObserver(() => {
    const bots = chat.querySelectorAll('.bot-row');
    if (bots.length) window.__seen.push(bots[bots.length - 1].innerText);
    if (chat.querySelector('.tune-card.tc-live svg .abcjs-note')) window.__liveScores++;
  }).observe(chat, {subtree: true, childList: true, characterData: true});
}
"""

CARD = "document.querySelectorAll('.tune-card:has(audio)')[{n}]"


@pytest.fixture
def page(browser):
    page = browser.new_page(viewport={"width": 1400, "height": 1100})
    yield page
    page.close()


def send(page, message: str) -> None:
    page.locator("#message textarea").fill(message)
    page.locator("#generate").click()


def play_tune(page, app_url, abc: str = REEL, count: int = 1):
    """Open the page, paste `abc` with "play", and wait for its card to have audio."""
    if page.url != app_url:
        page.goto(app_url)
    send(page, "play\n" + abc)
    cards = page.locator(".tune-card:has(audio)")
    expect(cards).to_have_count(count, timeout=60_000)
    card = cards.nth(count - 1)
    expect(card.locator("svg .abcjs-note").first).to_be_visible()
    page.wait_for_function(f"{CARD.format(n=count - 1)}.querySelector('audio').readyState >= 3", timeout=30_000)
    return card


def audio_state(page, n: int = 0) -> dict:
    return page.evaluate(f"""(() => {{
        const card = {CARD.format(n=n)}.__card;
        return {{shown: card.shown, time: card.audio.currentTime, paused: card.audio.paused,
                 lit: card.el.querySelectorAll('.tc-playing').length, src: card.audio.getAttribute('src'),
                 abc: card.current.abc, start: card.shown >= 0 ? card.timeline[card.shown].t : null}};
    }})()""")


def fetched_md5(page, url: str) -> str:
    return hashlib.md5(page.request.get(url).body()).hexdigest()


def test_a_jig_streams_draws_plays_and_downloads(app_url, page):
    fetched = []  # (status, content type, url) of every response, to see the audio fetched
    page.on("response", lambda r: fetched.append((r.status, r.headers.get("content-type", ""), r.url)))
    page.goto(app_url)
    page.locator("#seed input").press_sequentially("7")  # typed: a fixed seed, the same tune every run
    expect(page.locator("#random-seed input")).not_to_be_checked()  # typing a seed unticks "random"
    page.locator("#chat").wait_for(state="attached")  # Gradio may still be mounting it on a cold start
    page.evaluate(WATCH_CHAT)
    send(page, "a jig in D")

    card = page.locator(".tune-card:has(audio)")
    expect(card).to_have_count(1, timeout=120_000)
    expect(card.locator("svg .abcjs-note").first).to_be_visible()
    assert card.locator("svg .abcjs-note").count() >= 8  # abcjs drew the notes
    page.wait_for_function(f"{CARD.format(n=0)}.querySelector('audio').duration > 1", timeout=30_000)
    audio = [(status, url) for status, kind, url in fetched if kind.startswith("audio/") and "gradio_api/file=" in url]
    assert audio and all(status in (200, 206) for status, _ in audio), f"the page fetched no audio: {fetched[-5:]}"

    seen = page.evaluate("window.__seen")
    writing = {text for text in seen if text.startswith("Writing") and "K:" in text}
    assert len(writing) >= 2, f"the ABC did not stream into the chat: {seen[:5]}"
    assert page.evaluate("window.__liveScores") >= 2  # the score was redrawn while the tune streamed
    final = page.locator("#chat .bot-row").first.inner_text()
    assert final.startswith("Here is") and "seed 7," in final and "X:1" in final and "K:" in final

    names = card.locator(".tc-downloads a[download]").evaluate_all("els => els.map(a => a.download)")
    stem = slug(card.evaluate("el => el.__card.original.title"))  # named for the tune's title
    assert stem != "tune" and names == [f"{stem}.abc", f"{stem}.mid", f"{stem}.wav"], names
    assert card.locator("a.tc-link").get_attribute("href").startswith("?v=4&")

    (ROOT / "screenshots").mkdir(exist_ok=True)
    page.screenshot(path=str(ROOT / "screenshots" / "page.png"), full_page=True)


def test_the_highlight_follows_play_pause_seek_and_a_clicked_note(app_url, page):
    play_tune(page, app_url)
    assert audio_state(page)["lit"] == 0
    page.evaluate(f"window.__svg = {CARD.format(n=0)}.querySelector('svg')")
    page.locator(".tune-card:has(audio) audio").first.evaluate("a => a.play()")
    page.wait_for_function(f"{CARD.format(n=0)}.__card.shown >= 3", timeout=10_000)
    first = audio_state(page)
    page.wait_for_function(f"{CARD.format(n=0)}.__card.shown > {first['shown'] + 2}", timeout=10_000)
    later = audio_state(page)
    assert later["lit"] >= 1 and later["shown"] > first["shown"]  # the highlighted note moves on
    assert later["start"] <= later["time"] < later["start"] + 0.5  # the lit note is the one sounding
    assert page.evaluate(f"window.__svg === {CARD.format(n=0)}.querySelector('svg')")  # no redraw per note

    page.evaluate(f"{CARD.format(n=0)}.querySelector('audio').pause()")
    paused = audio_state(page)
    page.wait_for_timeout(400)
    assert audio_state(page)["shown"] == paused["shown"] and paused["paused"]  # paused: it stays put

    page.evaluate(f"{CARD.format(n=0)}.querySelector('audio').currentTime = 12.0")
    page.wait_for_function(f"{CARD.format(n=0)}.__card.shown !== {paused['shown']}", timeout=5_000)
    sought = audio_state(page)
    assert sought["start"] <= 12.0 < sought["start"] + 0.5  # seeking moves the highlight with the audio

    # A click on the tune's third note plays from there.
    # (abcjs listens on the whole score and finds the note under the pointer.)
    box = page.locator(".tune-card:has(audio) svg .abcjs-note").nth(2).bounding_box()
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] * 0.8)
    page.wait_for_function(f"!{CARD.format(n=0)}.querySelector('audio').paused", timeout=5_000)
    clicked = audio_state(page)
    assert clicked["time"] < 3.0 and clicked["shown"] >= 0  # the audio went back to that note
    timeline_starts = page.evaluate(f"{CARD.format(n=0)}.__card.timeline.slice(0, 4).map(e => e.t)")
    assert abs(clicked["time"] - timeline_starts[2]) < 0.5


def test_a_tune_whose_repeats_the_renderer_could_not_expand_is_drawn_once_through(app_url, page):
    page.goto(app_url)
    page.wait_for_function("window.abcBotWithoutRepeats && window.ABCJS")
    plain = page.evaluate("abc => window.abcBotWithoutRepeats(abc)", REEL)
    body = plain.split("K:D\n", 1)[1]
    assert ":" not in body and "[1" not in body and "|2" not in body
    assert body.replace("|", "").split() == REEL.split("K:D\n", 1)[1].replace(":", "").replace("|", "") \
        .replace("1 ", " ").replace("2 ", " ").split()  # the same notes, in the same order


def test_transpose_to_g_fetches_new_audio_and_the_original_is_one_click_away(app_url, page):
    card = play_tune(page, app_url)
    fetched = []
    page.on("response", lambda r: fetched.append(r.url))
    before = audio_state(page)
    card.locator("select.tc-key").select_option("key:G")
    expect(card.locator("audio")).not_to_have_attribute("src", before["src"], timeout=20_000)
    page.wait_for_function(f"{CARD.format(n=0)}.querySelector('audio').readyState >= 3", timeout=20_000)
    moved = audio_state(page)
    assert "\nK:G\n" in moved["abc"] and "\nK:D\n" in before["abc"]
    assert any(moved["src"].split("file=")[1] in url for url in fetched), "the new audio was not fetched"
    assert fetched_md5(page, app_url + moved["src"]) != fetched_md5(page, app_url + before["src"])
    card.locator("button.tc-original").click()
    assert audio_state(page)["src"] == before["src"] and audio_state(page)["abc"] == before["abc"]


def test_an_edit_is_heard_and_an_unplayable_one_is_explained(app_url, page):
    card = play_tune(page, app_url)
    before = audio_state(page)
    card.locator("button.tc-edit").click()
    editor = card.locator("textarea.tc-editor")
    editor.fill(REEL.replace("|:DFAF dFAF|", "|:DFAF d/0FAF|"))
    card.locator("button.tc-play-edit").click()
    expect(card.locator(".tc-msg.tc-error")).to_contain_text("divided by zero (line 7, column 8)", timeout=20_000)
    assert audio_state(page)["src"] == before["src"]  # the tune that played still plays

    editor.fill(REEL.replace("|:DFAF dFAF|", "|:DFAF eFAF|"))  # one note changed
    card.locator("button.tc-play-edit").click()
    expect(card.locator("audio")).not_to_have_attribute("src", before["src"], timeout=20_000)
    edited = audio_state(page)
    assert "eFAF" in edited["abc"] and not card.locator(".tc-msg.tc-error").count()
    assert fetched_md5(page, app_url + edited["src"]) != fetched_md5(page, app_url + before["src"])


def test_the_tunebook_holds_every_tune_and_each_keeps_its_score(app_url, page):
    play_tune(page, app_url)
    page.evaluate(f"{CARD.format(n=0)}.__kept = true; {CARD.format(n=0)}.querySelector('audio').play()")
    play_tune(page, app_url, REEL.replace("T:Test reel", "T:Second reel"), count=2)
    # The first card was left as it was while the second tune came: same element, still playing.
    assert page.evaluate(f"{CARD.format(n=0)}.__kept === true && !{CARD.format(n=0)}.querySelector('audio').paused")
    cards = page.locator(".tune-card:has(audio)")
    assert all(cards.nth(i).locator("svg .abcjs-note").count() > 20 for i in range(2))  # both scores stay
    page.locator("#tunebook").click()
    link = page.locator("#tunebook-file a").first
    expect(link).to_be_visible(timeout=20_000)
    book = page.request.get(link.get_attribute("href")).text()
    assert book.count("X:") == 2 and "T:Test reel" in book and "T:Second reel" in book


def test_a_link_made_before_a_retrain_brings_back_the_same_tune(app_url, page):
    from bot.notation.transpose import transpose_tune

    page.goto(app_url + "?" + OLD_LINK)
    card = page.locator(".tune-card:has(audio)")
    expect(card).to_have_count(1, timeout=60_000)
    state = page.evaluate(f"{CARD.format(n=0)}.__card.current")
    assert state["abc"] == transpose_tune(REEL, 5) and state["tempo"] == 150 and state["instrument"] == "flute"
    expect(card.locator(".tc-shift")).to_have_text("+5 semitones")
    expect(page.locator("#chat")).not_to_contain_text("written again")


def test_on_a_phone_the_current_score_is_in_view_above_the_examples(app_url, browser):
    phone = browser.new_page(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    try:
        card = play_tune(phone, app_url)
        phone.wait_for_timeout(500)  # the chat scrolls to its newest message
        score = card.locator(".tc-score svg").bounding_box()
        chat = phone.locator("#chat .bubble-wrap").bounding_box()
        examples = phone.get_by_text("a slow air in G minor").bounding_box()
        assert score["y"] + 40 < examples["y"] and score["y"] + 40 < 844  # no scrolling past the examples
        assert chat["y"] <= score["y"] and score["y"] + 40 <= chat["y"] + chat["height"]  # shown in the chat
        assert score["x"] >= 0 and score["x"] + score["width"] <= 390 + 1  # fits the screen's width
        assert score["width"] >= 290  # the chat's width, not a bubble's
        # The whole card, its player included, lies inside the chat's visible box (Gradio's
        # row margins pushed it 20 px past the right edge, clipping the player).
        inside = phone.locator("#chat .bubble-wrap").bounding_box()
        for part in (card, card.locator("audio"), card.locator(".tc-tools")):
            box = part.bounding_box()
            assert inside["x"] <= box["x"] and box["x"] + box["width"] <= inside["x"] + inside["width"] + 1, box
        assert card.bounding_box()["x"] - inside["x"] <= 16  # not offset to the right
        (ROOT / "screenshots").mkdir(exist_ok=True)
        phone.screenshot(path=str(ROOT / "screenshots" / "phone.png"))
    finally:
        phone.close()


def test_follow_up_without_a_tune_gets_a_friendly_message(app_url, page):
    page.goto(app_url)
    page.locator("#message textarea").fill("continue")
    page.keyboard.press("Enter")
    expect(page.locator("#chat .bot-row")).to_contain_text("no tune to continue", timeout=30_000)
    expect(page.locator("#generate")).to_be_enabled()


def bubble_code(page, n: int = 0) -> str:
    """The ABC block's text in the chat message that holds card `n`."""
    return page.evaluate(f"""(() => {{
        const row = {CARD.format(n=n)}.closest('.message-row');
        return [...row.querySelectorAll('pre code')].find(c => !c.closest('.tune-card')).textContent;
    }})()""")


def test_a_move_renames_the_tune_in_the_chat_and_original_brings_back_the_editor_text(app_url, page):
    named = REEL.replace("T:Test reel", "T:A reel in D")
    card = play_tune(page, app_url, named)
    before = audio_state(page)
    card.locator("button.tc-edit").click()
    card.locator("button.tc-up").click()
    expect(card.locator(".tc-shift")).to_have_text("+1 semitone", timeout=20_000)
    card.locator("button.tc-up").click()
    expect(card.locator(".tc-shift")).to_have_text("+2 semitones", timeout=20_000)
    expect(card.locator("audio")).not_to_have_attribute("src", before["src"], timeout=20_000)
    moved = audio_state(page)
    assert "\nK:E\n" in moved["abc"] and "\nT:A reel in E\n" in moved["abc"]
    # The chat's ABC block and headline follow the card; so does the editor.
    code = bubble_code(page)
    assert "\nK:E\n" in code and "T:A reel in E" in code and "\nK:D\n" not in code
    headline = page.locator("#chat .bot-row").last.inner_text()
    assert "“A reel in E”" in headline and "“A reel in D”" not in headline
    assert card.locator("textarea.tc-editor").input_value() == moved["abc"]
    # "Original": the first tune everywhere, the editor's text included.
    card.locator("button.tc-original").click()
    assert audio_state(page)["src"] == before["src"]
    assert card.locator("textarea.tc-editor").input_value() == before["abc"]
    assert "\nK:D\n" in bubble_code(page) and "“A reel in D”" in page.locator("#chat .bot-row").last.inner_text()
    expect(card.locator(".tc-shift")).to_have_text("Original key")


def test_the_pipes_key_on_a_d_tune_says_it_already_fits(app_url, page):
    card = play_tune(page, app_url)
    card.locator("select.tc-key").select_option("key:Amix")
    expect(card.locator(".tc-msg")).to_contain_text("already fits A mixolydian", timeout=20_000)
    assert "\nK:D\n" in audio_state(page)["abc"]


def test_the_transpose_menu_is_steps_beside_a_short_list_of_keys(app_url, page):
    card = play_tune(page, app_url)
    options = card.locator("select.tc-key option").all_inner_texts()
    assert 4 <= len(options) <= 8 and any("Pipes" in o for o in options), options
    assert card.locator("button.tc-down").is_visible() and card.locator("button.tc-up").is_visible()
    card.locator("button.tc-down").click()
    expect(card.locator(".tc-shift")).to_have_text("−1 semitone", timeout=20_000)
    assert "\nK:Db\n" in audio_state(page)["abc"] or "\nK:C#\n" in audio_state(page)["abc"]


def test_long_abc_lines_wrap_in_the_chat_bubble(app_url, page):
    long_line = REEL.replace("|:fdfa fdfa|", "|:" + "fdfa " * 40 + "|")
    play_tune(page, app_url, long_line)
    sizes = page.evaluate("""[...document.querySelectorAll('#chat .bot-row pre')]
        .map(p => [p.scrollWidth, p.clientWidth])""")
    assert sizes and all(scroll <= client + 1 for scroll, client in sizes), sizes


def test_a_played_tune_with_chords_added_comes_back_from_its_link_with_them(app_url, page):
    card = play_tune(page, app_url)  # with the page's default accompaniment, the guitar
    first = page.evaluate(f"{CARD.format(n=0)}.__card.current")
    assert '"D"' in first["abc"] and first["accompaniment"] == "guitar"
    expect(page.locator("#chat .bot-row").last).to_contain_text("chord symbols added for the guitar accompaniment")
    midi = fetched_md5(page, app_url + first["midi"])
    page.goto(app_url + card.locator("a.tc-link").get_attribute("href"))
    expect(page.locator(".tune-card:has(audio)")).to_have_count(1, timeout=60_000)
    back = page.evaluate(f"{CARD.format(n=0)}.__card.current")
    assert back["abc"] == first["abc"] and back["accompaniment"] == "guitar"
    assert fetched_md5(page, app_url + back["midi"]) == midi


def test_stop_shows_only_while_writing_and_the_seed_box_shows_the_seed_used(app_url, page):
    page.goto(app_url)
    expect(page.locator("#random-seed input")).to_be_checked()
    expect(page.locator("#seed input")).to_have_value("")  # "random": no number yet (it showed 0)
    expect(page.locator("#stop")).to_be_hidden()
    page.locator("#seed input").click()
    page.keyboard.insert_text("12")  # as a paste arrives: one input event, no keys
    expect(page.locator("#random-seed input")).not_to_be_checked()
    page.locator("#seed input").fill("")
    page.locator("#random-seed input").check()
    send(page, "a reel in G")
    expect(page.locator("#stop")).to_be_visible(timeout=10_000)
    expect(page.locator(".tune-card:has(audio)")).to_have_count(1, timeout=120_000)
    expect(page.locator("#stop")).to_be_hidden(timeout=10_000)
    headline = page.locator("#chat .bot-row").last.inner_text()
    used = re.search(r"seed (\d+),", headline).group(1)
    expect(page.locator("#seed input")).to_have_value(used)
    expect(page.locator("#random-seed input")).to_be_checked()  # still a new seed next time


def test_the_musicxml_button_downloads_the_score_as_it_plays(app_url, page):
    card = play_tune(page, app_url)
    card.locator("button.tc-up").click()
    expect(card.locator(".tc-shift")).to_have_text("+1 semitone", timeout=20_000)
    with page.expect_download(timeout=30_000) as caught:
        card.locator("button.tc-musicxml").click()
    download = caught.value
    assert download.suggested_filename == "test-reel.musicxml"  # REEL's T:Test reel
    text = Path(download.path()).read_text()
    assert "<score-partwise" in text and "<fifths>-3</fifths>" in text  # D up a semitone: E flat, as the card plays


# Two 2-bar parts, each repeated (AABB): a loop is a few seconds long.
LOOP_TUNE = "X:1\nT:Loop test\nM:4/4\nL:1/8\nR:reel\nK:D\n|:DFAF dFAF|GBdB gBdB:|\n|:fdfa fdfa|gege gege:|\n"


def test_a_part_loops_and_slows_down_with_the_highlight_following(app_url, page, tmp_path):
    from bot.render_worker import TAIL_S, midi_seconds, read_midi

    card = play_tune(page, app_url, LOOP_TUNE)
    state = f"{CARD.format(n=0)}.__card"
    assert card.locator("select.tc-loop option").all_inner_texts() == [
        "Loop: off", "Loop: all", "Loop: A", "Loop: B"]
    card.locator("select.tc-loop").select_option("B")
    region = page.evaluate(f"{state}.region")
    # Measured against the audio's own notes (its MIDI): B starts with its first f (MIDI 78),
    # a note part A never plays, and ends where the tune's last note ends.
    midi = tmp_path / "tune.mid"
    midi.write_bytes(page.request.get(app_url + page.evaluate(f"{state}.current.midi")).body())
    first_b = min(t for t, pitch in _note_ons_of(midi) if pitch == 78)
    assert abs(region["start"] - first_b) < 0.05, (region, first_b)
    assert abs(region["end"] - midi_seconds(read_midi(str(midi)))[0]) < 0.05, region
    # Played past its end, the audio goes back to the part's start, the highlight with it.
    page.evaluate(f"{state}.audio.currentTime = {region['end'] - 0.3}; {state}.audio.play()")
    page.wait_for_timeout(1200)
    now = page.evaluate(f"[{state}.audio.currentTime, {state}.shown >= 0 ? {state}.timeline[{state}.shown].t : -1]")
    assert region["start"] <= now[0] < region["start"] + 1.2, (now, region)
    assert region["start"] - 0.01 <= now[1] <= now[0] + 0.01  # the lit note is in the looped part
    page.evaluate(f"{state}.audio.pause()")

    # 70%: new audio at 126 instead of 180 quarter notes a minute, the same tune, the loop and
    # the highlight on the new clock.
    before = page.evaluate(f"[{state}.audio.duration, {state}.current.abc]")
    card.locator("select.tc-speed").select_option("70")
    page.wait_for_function(f"{state}.current.tempo === 126", timeout=20_000)
    page.wait_for_function(f"{state}.audio.readyState >= 1 && Math.abs({state}.audio.duration - {before[0]}) > 1",
                           timeout=20_000)
    after = page.evaluate(f"[{state}.audio.duration, {state}.current.abc, {state}.region, {state}.timeline[1].t]")
    assert abs((after[0] - TAIL_S) / (before[0] - TAIL_S) * 0.7 - 1) < 0.02, (before[0], after[0])
    assert after[1] == before[1]  # pitch unchanged: the same ABC, re-rendered slower
    assert abs(after[2]["start"] - region["start"] / 0.7) < 0.05 and after[3] == pytest.approx(1 / 6 / 0.7, abs=0.01)  # an eighth at 126
    expect(card.locator("select.tc-speed")).to_have_value("70")


def _note_ons_of(path) -> list[tuple[float, int]]:
    from test_play import _note_ons

    return _note_ons(path)


def test_parts_with_first_and_second_endings_loop_as_written(app_url, page, tmp_path):
    play_tune(page, app_url)  # REEL: |: ... |1 ... :|2 ... || twice
    state = f"{CARD.format(n=0)}.__card"
    parts = page.evaluate(f"{state}.parts")
    assert [p["label"] for p in parts] == ["A", "B"] and parts[0]["start"] == 0
    assert parts[0]["end"] == parts[1]["start"] and parts[1]["end"] == page.evaluate(f"{state}.end")
    midi = tmp_path / "tune.mid"
    midi.write_bytes(page.request.get(app_url + page.evaluate(f"{state}.current.midi")).body())
    first_b = min(t for t, pitch in _note_ons_of(midi) if pitch == 78)  # B's first f; A has none
    assert abs(parts[1]["start"] - first_b) < 0.05, (parts, first_b)
