"""Continuing a pasted tune in a real browser, at the page's defaults (Length 16, guitar).

An A part pasted as a person pastes one comes back byte for byte, headers included, as the
start of an AABB tune whose new part carries chords and the paste none; the card's link
brings back the same tune and the same MIDI.
"""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path

import pytest
from playwright.sync_api import expect

sys.path.insert(0, str(Path(__file__).resolve().parent))
from test_browser import CARD, send  # noqa: E402
from test_continue import REEL_A  # noqa: E402

from bot.notation.form import read_form  # noqa: E402


@pytest.fixture
def page(browser):  # conftest's browser: the one tests/browser.py chooses
    page = browser.new_page(viewport={"width": 1400, "height": 1100})
    yield page
    page.close()


def test_a_pasted_a_part_comes_back_unchanged_as_aabb_and_its_link_brings_it_back(app_url, page):
    page.goto(app_url)
    send(page, REEL_A)
    expect(page.locator(".tune-card:has(audio)")).to_have_count(1, timeout=120_000)
    current = page.evaluate(f"{CARD.format(n=0)}.__card.current")
    tune = current["abc"]
    assert tune.startswith(REEL_A), tune  # every character of the paste, headers included
    new = tune[len(REEL_A):]
    assert '"' in new  # the page's guitar: chords in the new bars, none written into the paste
    parts = [(p.bars, p.repeated) for p in read_form(tune).parts]
    assert parts == [(8, True), (8, True)]  # AABB: a B part as long as A, repeated as A is
    assert read_form(tune).ends_on_tonic
    reply = page.locator("#chat .bot-row").last.inner_text()
    assert "16 bars in all, 8 of them new" in reply and "read as a reel in 4/4" in reply
    midi = hashlib.md5(page.request.get(app_url + current["midi"]).body()).hexdigest()

    page.goto(app_url + page.locator(".tune-card:has(audio) a.tc-link").first.get_attribute("href"))
    expect(page.locator(".tune-card:has(audio)")).to_have_count(1, timeout=60_000)
    back = page.evaluate(f"{CARD.format(n=0)}.__card.current")
    assert back["abc"] == tune
    assert hashlib.md5(page.request.get(app_url + back["midi"]).body()).hexdigest() == midi
