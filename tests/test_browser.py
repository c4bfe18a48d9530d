"""The page in a real browser: headless Debian chromium driven by Playwright.

Types "a jig in D", clicks Generate, and checks what a person sees: the ABC streaming into
the chat, the score drawn as SVG, an audio player with a source and the download links.
Leaves a screenshot in screenshots/page.png (git-ignored).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import expect, sync_playwright

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]

# Records every text the newest bot message shows, so the test can see the tune stream in.
WATCH_CHAT = """
() => {
  window.__seen = [];
  const chat = document.querySelector('#chat');
  new MutationObserver(() => {
    const bots = chat.querySelectorAll('.bot-row');
    if (bots.length) window.__seen.push(bots[bots.length - 1].innerText);
  }).observe(chat, {subtree: true, childList: true, characterData: true});
}
"""


@pytest.fixture(scope="module")
def page():
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", headless=True, args=CHROMIUM_ARGS)
        yield browser.new_page(viewport={"width": 1400, "height": 1100})
        browser.close()


def test_a_jig_streams_draws_plays_and_downloads(app_url, page):
    fetched = []  # (status, content type, url) of every response, to see the audio fetched
    page.on("response", lambda r: fetched.append((r.status, r.headers.get("content-type", ""), r.url)))
    page.goto(app_url)
    page.locator("#seed input").fill("7")  # a fixed seed: the same tune every run
    expect(page.locator("#random-seed input")).not_to_be_checked()  # typing a seed unticks "random"
    page.locator("#message textarea").fill("a jig in D")
    page.evaluate(WATCH_CHAT)
    page.locator("#generate").click()

    player = page.locator("#chat [data-testid=waveform-Audio]")
    expect(player).to_have_count(1, timeout=120_000)
    # The player's <audio> sits in a shadow root and plays a blob of the fetched file.
    expect(page.locator("#chat audio")).to_have_attribute("src", re.compile(r"^(blob:|https?:)"))
    # The browser fetched and read the file: the player shows how long the tune is.
    expect(player.locator(".timestamp")).not_to_have_text("0:00", timeout=30_000)
    audio = [(status, url) for status, kind, url in fetched if kind.startswith("audio/") and "/tune." in url]
    assert audio and all(status in (200, 206) for status, _ in audio), f"the player fetched no audio: {fetched[-5:]}"

    seen = page.evaluate("window.__seen")
    writing = {text for text in seen if text.startswith("Writing") and "K:" in text}
    assert len(writing) >= 2, f"the ABC did not stream into the chat: {seen[:5]}"
    final = page.locator("#chat .bot-row").first.inner_text()
    assert final.startswith("Here is") and "seed 7," in final and "X:1" in final and "K:" in final

    expect(page.locator("#score svg").first).to_be_visible()
    assert page.locator("#score svg .abcjs-note").count() >= 8  # abcjs drew the notes

    names = page.locator("#chat a[download]").evaluate_all("els => els.map(a => a.textContent.trim())")
    for name in ("tune.abc", "tune.mid", "tune.wav"):
        assert any(name in n for n in names), f"no download link for {name}: {names}"

    (ROOT / "screenshots").mkdir(exist_ok=True)
    page.screenshot(path=str(ROOT / "screenshots" / "page.png"), full_page=True)


def test_follow_up_without_a_tune_gets_a_friendly_message(app_url, page):
    page.goto(app_url)
    page.locator("#message textarea").fill("continue")
    page.keyboard.press("Enter")
    expect(page.locator("#chat .bot-row")).to_contain_text("no tune to continue", timeout=30_000)
    expect(page.locator("#generate")).to_be_enabled()
