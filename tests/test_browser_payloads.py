"""Hostile titles in a real browser: tunes titled with every payload of tests/payloads.py are
pasted and played in one page, and the page must fetch nothing from elsewhere, run nothing,
make no element from any title, and still show each title, as text, in its reply and card.

One page load; the payloads go five to a title so that the whole list takes 12 plays. Control
characters are refused by the renderer ("the text holds binary data"), so here they are
shown as "?"; tests/test_text_safety.py takes them through the reply's text path.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from urllib.parse import urlparse

import pytest
from playwright.sync_api import expect

sys.path.insert(0, str(Path(__file__).resolve().parent))
from payloads import MARK, PAYLOADS  # noqa: E402
from test_browser import send  # noqa: E402

_INVISIBLE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
GROUP = 5  # payloads per title: 12 plays in all

# Tags of one bot message outside its code block and its card: they must be the same for every
# title (a benign one sets the count), so any extra <img>, <b>, <svg>, <a>, KaTeX span ... shows.
MESSAGE_TAGS = """
(row) => {
  const counts = {};
  for (const el of row.querySelectorAll('*')) {
    if (el.closest('pre') || el.closest('.tune-card')) continue;
    counts[el.tagName] = (counts[el.tagName] || 0) + 1;
  }
  return counts;
}
"""

# Elements that fetch, run, restyle or take input, in a card (the score's own SVG aside).
CARD_TAGS = """
(card) => {
  const counts = {};
  for (const el of card.querySelectorAll('img, iframe, object, embed, video, form, base, meta, link, style, math, b, i, strong')) {
    counts[el.tagName] = (counts[el.tagName] || 0) + 1;
  }
  return counts;
}
"""


def tune(title: str, n: int) -> str:
    return f"X:{n}\nT:{title}\nM:2/4\nL:1/8\nQ:1/4=240\nK:D\nDFAd|fdAF|]\n"


def shown(title: str) -> str:
    """What the headline shows of a title: its first 60 characters, controls dropped, one line."""
    return " ".join(_INVISIBLE.sub("", title[:60].strip()).split())


def test_every_payload_title_is_shown_as_text_and_fetches_nothing(app_url, browser):
    page = browser.new_page(viewport={"width": 1400, "height": 1100})
    own = urlparse(app_url).netloc
    elsewhere: list[str] = []
    page.on("request", lambda r: elsewhere.append(r.url) if urlparse(r.url).scheme in ("http", "https", "ws", "wss")
            and urlparse(r.url).netloc != own else None)
    page.goto(app_url)
    # The payloads' first lines (a title is one line), joined three to a title.
    # (A chat message holds at most 5,000 characters: the 10,000-character title is cut here;
    # tests/test_text_safety.py takes it whole through /play.)
    lines = [re.sub(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]", "?", p.split("\n")[0][:4000]) for p in PAYLOADS]
    titles = ["Benign reel"] + [" ~ ".join(lines[i:i + GROUP]) for i in range(0, len(lines), GROUP)]
    baseline = card_baseline = None
    for n, title in enumerate(titles, start=1):
        send(page, "play\n" + tune(title, n))
        cards = page.locator(".tune-card:has(audio)")
        expect(cards).to_have_count(n, timeout=60_000)
        row = page.locator("#chat .bot-row").nth(n - 1)
        expect(row).to_contain_text("played as you wrote it", timeout=30_000)
        tags = row.evaluate(MESSAGE_TAGS)
        if baseline is None:
            baseline = tags
        assert tags == baseline, f"title {n - 1} made elements: {title[:120]!r}: {tags} vs {baseline}"
        text = row.inner_text()
        assert f"Here is “{shown(title)}”" in text, (title[:80], text[:200])
        card = row.locator(".tune-card")
        found = card.evaluate(CARD_TAGS)
        card_baseline = found if card_baseline is None else card_baseline
        assert found == card_baseline, f"title {n - 1} made elements in its card: {found} vs {card_baseline}"
        editor = card.evaluate("el => el.__card.editor.value")  # the Edit box holds the title as text
        assert f"T:{title}".replace("\x00", "") in editor.replace("\x00", ""), editor[:200]
        names = card.locator(".tc-downloads a[download]").evaluate_all("els => els.map(a => a.download)")
        assert names and all(re.fullmatch(r"[a-z0-9-]+\.[a-z]+", name) for name in names), names
        href = card.locator("a.tc-link").get_attribute("href") or ""
        assert href.startswith("?v="), href
    assert page.evaluate(f"window.{MARK}") is None  # no payload ran a script
    assert page.evaluate("document.querySelectorAll('#chat img').length") == 0
    assert not elsewhere, f"the page fetched from elsewhere: {elsewhere[:5]}"
    page.close()


@pytest.mark.parametrize("query", ["?v=2&abc=!!!***", "?v=2&abc=" + "A" * 100_000])
def test_a_damaged_or_overlong_link_says_so_on_the_page(app_url, browser, query):
    page = browser.new_page()
    page.goto(app_url + query)
    expect(page.locator("#chat .bot-row").first).to_contain_text("This link could not be read", timeout=30_000)
    page.close()
