"""Text is text, everywhere: each hostile title of tests/payloads.py through each path that shows
or stores it (the chat's Markdown, the card, the tunebook, the PDF, the MusicXML, file names,
the link, /play's answer) comes out as the same text, making no element and fetching nothing.
The page itself, in Chromium, is tests/test_browser_payloads.py."""

from __future__ import annotations

import html
import json
import re
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest
from markdown_it import MarkdownIt

from bot import links
from bot.chat import Chat, ChatConfig, Options, Session
from bot.chat.reply import text_of
from bot.printing import _printable, tune_pdf
from bot.render import Rendered, musicxml
from bot.tunebook import tunebook
from bot.web.names import slug, tune_stem
from bot.web.text import as_text, one_line, plain

from payloads import DIRECTIVE_LINES, HOST, PAYLOADS, titled

# Markdown as the chat renders it: CommonMark with raw HTML on, GFM tables and strikethrough.
MARKDOWN = MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"])
_INVISIBLE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


class Elements(HTMLParser):
    """The tags, attributes and text of an HTML fragment."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data):
        self.text.append(data)


def elements(markup: str) -> Elements:
    parser = Elements()
    parser.feed(markup)
    parser.close()
    return parser


def shown(title: str) -> str:
    """What a person should read for `title`: the same characters, less controls and bidi marks."""
    return _INVISIBLE.sub("", title)


def test_there_are_at_least_40_payloads_and_each_is_different():
    assert len(PAYLOADS) >= 40 and len(set(PAYLOADS)) == len(PAYLOADS)


@pytest.mark.parametrize("payload", PAYLOADS, ids=range(len(PAYLOADS)))
def test_as_text_renders_each_payload_as_exactly_its_own_text(payload):
    rendered = elements(MARKDOWN.render(as_text(payload)))
    assert [tag for tag, _ in rendered.tags] in ([], ["p"]), rendered.tags
    assert "".join(rendered.text).strip() == shown(payload).strip()


@pytest.mark.parametrize("payload", PAYLOADS, ids=range(len(PAYLOADS)))
def test_one_line_keeps_a_title_in_its_sentence(payload):
    markup = MARKDOWN.render(f"Here is “{one_line(payload)}”, played as you wrote it.")
    rendered = elements(markup)
    assert [tag for tag, _ in rendered.tags] == ["p"]
    text = "".join(rendered.text).strip()
    assert text.startswith("Here is “") and text.endswith("”, played as you wrote it.")
    words = " ".join(shown(payload).split())
    assert words[:200] in text  # the title itself, as text (a 10,000-character one is cut)
    assert len(text) < 400


def test_plain_drops_controls_and_bidi_overrides_only():
    assert plain("a\x00b\u202ec\u2066d") == "abcd"
    assert plain("<b>x</b>") == "<b>x</b>"  # not Markdown: no escapes to show


# -- the chat, with the real reply code and a stand-in for the audio --------------------------


@pytest.fixture(scope="module")
def bot(tmp_path_factory):
    """A Chat whose renders write tiny stand-in files (the text path is what is tested here;
    tests/test_play.py renders for real)."""
    bot = Chat(ChatConfig(outputs=tmp_path_factory.mktemp("outputs"), min_interval_s=0.0, poll_s=0.05))

    def fake_render(abc, folder, settings, cancel, owner=None):
        stem = tune_stem(abc)
        files = {ext: Path(folder) / f"{stem}.{ext}" for ext in ("mid", "wav", "ogg")}
        for path in files.values():
            path.write_bytes(b"x")
        yield Rendered(files["mid"], files["wav"], files["ogg"], 3.0)

    bot._render = fake_render
    yield bot
    bot.close()


ALLOWED_TAGS = {"p", "pre", "code", "div", "audio", "a", "em"}  # what the reply itself writes


@pytest.mark.parametrize("payload", PAYLOADS, ids=range(len(PAYLOADS)))
def test_a_pasted_tune_titled_with_a_payload_is_shown_as_text(bot, payload):
    tune = titled(payload)
    steps = list(bot.reply("play\n" + tune, [], Session(), Options(accompaniment=None)))
    final = steps[-1]
    assert final.done and final.error is None, final.error
    for message in final.history:
        markup = MARKDOWN.render(text_of(message["content"]))
        found = elements(markup)
        assert {tag for tag, _ in found.tags} <= ALLOWED_TAGS, found.tags
        for tag, attrs in found.tags:
            for name, value in attrs.items():
                assert not name.startswith("on"), (tag, name)
                assert HOST not in (value or "") and "javascript:" not in (value or "").lower(), (tag, name, value)
            if tag == "a":
                assert attrs["href"].startswith(("gradio_api/file=", "?v=")), attrs
    text = "".join(elements(MARKDOWN.render(text_of(final.history[-1]["content"]))).text)
    title = " ".join(shown(payload.split("\n")[0]).split())
    assert title.strip()[:60].strip() in text  # the title (first 60 characters), shown as text in the headline
    card = json.loads(html.unescape(re.search(r'<code class="tune-data">(.*?)</code>',
                                              text_of(final.history[-1]["content"]), re.S).group(1)))
    assert card["title"] == payload.split("\n")[0].strip()[:60]  # the card's data: its first 60 characters, unchanged
    for key in ("abc_url", "midi", "wav", "audio"):
        name = card[key].rsplit("/", 1)[-1]
        assert re.fullmatch(r"[a-z0-9-]{1,48}\.[a-z]+", name), name  # a safe file name
    # The user's own message, echoed in the chat, is a code block: text.
    user = elements(MARKDOWN.render(text_of(final.history[0]["content"])))
    assert {tag for tag, _ in user.tags} <= {"pre", "code"}


@pytest.mark.parametrize("payload", PAYLOADS[:12] + PAYLOADS[26:40], ids=range(26))
def test_a_one_line_message_is_echoed_as_text(bot, payload):
    # A message of words (no newline) is echoed as it was typed; here the prompt is refused
    # before any model is loaded, as the settings sent are bad.
    from bot.chat import ChatError

    steps = list(bot.reply(payload, [], Session(), ChatError("The seed must be a whole number.")))
    found = elements(MARKDOWN.render(text_of(steps[-1].history[0]["content"])))
    assert {tag for tag, _ in found.tags} <= {"p"}, found.tags
    assert "".join(found.text).strip() == shown(payload).strip()


# -- files: the tunebook, the PDF, MusicXML, names, the link ----------------------------------


def test_the_tunebook_keeps_each_title_as_its_own_line_of_text():
    tunes = [titled(p) for p in PAYLOADS]
    book = tunebook(tunes)
    titles = [line[2:] for line in book.splitlines() if line.startswith("T:")]
    assert titles == [p.split("\n")[0] for p in PAYLOADS]
    assert not any(line.startswith(("%%", "I:")) for line in book.splitlines())


@pytest.mark.parametrize("payload", PAYLOADS, ids=range(len(PAYLOADS)))
def test_each_payload_is_a_safe_file_name(payload):
    name = slug(payload)
    assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", name) and len(name) <= 48, name


def test_file_names_come_from_the_title():
    assert slug("The Humours of X") == "the-humours-of-x"
    assert slug("Éire's Polka — «ünïcödé»") == "eire-s-polka-unicode"
    assert slug("") == slug(None) == slug("日本の歌") == "tune"
    assert tune_stem(titled("The Kesh")) == "the-kesh"
    assert tune_stem("X:1\nK:D\nDFA|]\n") == "tune"  # no title


def test_the_pdf_drops_every_directive_and_reads_no_file(tmp_path):
    lines = "\n".join(DIRECTIVE_LINES)
    tune = titled("Directives").replace("K:D\n", f"K:D\n{lines}\n")
    source, _ = _printable(tune)
    assert "/etc/passwd" not in "\n".join(line for line in source.splitlines() if not line.startswith("%"))
    ps = subprocess.run(["abcm2ps", "-q", "-O", "-", "-"], input=source.encode(), capture_output=True,
                        cwd=tmp_path, timeout=20).stdout
    assert b"%%Page:" in ps and b"root:" not in ps  # drawn, and /etc/passwd's text is not in it
    pdf = tune_pdf(tune, tmp_path / "directives.pdf")
    assert pdf.read_bytes().startswith(b"%PDF")


@pytest.mark.parametrize("payload", PAYLOADS, ids=range(len(PAYLOADS)))
def test_each_payload_title_prints_with_the_title_as_text(payload, tmp_path):
    pdf = tune_pdf(titled(payload), tmp_path / "t.pdf")
    data = pdf.read_bytes()
    assert data.startswith(b"%PDF") and b"/JavaScript" not in data and b"/URI" not in data
    assert b"root:" not in data


@pytest.mark.parametrize("payload", PAYLOADS[::4], ids=range(len(PAYLOADS[::4])))
def test_musicxml_carries_the_title_as_text_and_abc_bot_as_software(payload, tmp_path):
    from xml.etree import ElementTree

    path = musicxml(titled(payload), tmp_path / "t.musicxml")
    root = ElementTree.parse(path).getroot()  # well-formed: the title could not break the XML
    title = root.findtext("movement-title") or ""
    assert title == re.sub(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]", "", payload.split("\n")[0].strip())[:200]
    assert root.findtext("identification/encoding/software") == "abc-bot"
    assert root.find("identification/creator[@type='composer']") is None  # no C: line, no composer


def test_musicxml_names_the_composer_only_from_a_c_line(tmp_path):
    from xml.etree import ElementTree

    tune = titled("With composer").replace("M:4/4", "C:Trad. <arr. me>\nM:4/4")
    root = ElementTree.parse(musicxml(tune, tmp_path / "c.musicxml")).getroot()
    assert root.findtext("identification/creator[@type='composer']") == "Trad. <arr. me>"
    assert "Music21" not in (tmp_path / "c.musicxml").read_text()


@pytest.mark.parametrize("payload", PAYLOADS, ids=range(len(PAYLOADS)))
def test_each_payload_survives_the_link_byte_for_byte(payload):
    tune = titled(payload)
    query = links.TuneLink(abc=tune).to_query()
    assert re.fullmatch(r"[A-Za-z0-9=&_.-]+", query)  # nothing in the link but its own characters
    from urllib.parse import parse_qsl

    back = links.from_query(dict(parse_qsl(query)))
    expected = tune if not re.search(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]", tune) else None
    assert back.abc == expected
