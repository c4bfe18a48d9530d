"""A tune card: the score, player and tools the chat shows with each tune (built by static/tunes.js).

The chat message carries the card as HTML that Gradio's sanitiser lets through: a div with a
class and an id, the tune's data as JSON text inside it, and a plain player and links for a page
without JavaScript. `tunes.js` reads the JSON and replaces the fallback with the real card.
"""

from __future__ import annotations

import html
import json
import re
import uuid
from pathlib import Path
from urllib.parse import quote

WEB_DIR = Path(__file__).resolve().parent / "static"  # served to the page as it is
SCRIPT = WEB_DIR / "tunes.js"
STYLE = WEB_DIR / "tunes.css"


def file_url(path: Path | None) -> str | None:
    """The URL the page fetches `path` from (a folder served by gr.set_static_paths), relative to
    the page so it also works under a proxy's path prefix."""
    if path is None:
        return None
    return "gradio_api/file=" + quote(served_path(path), safe="/")


def served_path(path: Path) -> str:
    """`path` as Gradio's file route reads it: relative to the server's working folder when it
    lies inside it (`outputs/3f2a.../reel.ogg`), so that no URL shows where the server keeps
    its files; absolute otherwise (the route resolves both the same way)."""
    resolved = Path(path).resolve()
    try:
        return resolved.relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return resolved.as_posix()


def card_html(data: dict) -> str:
    """The card for the chat message: JSON for tunes.js, a plain player and links without it."""
    data = {"id": uuid.uuid4().hex[:12], **data}
    fallback = []
    if data.get("audio"):
        fallback.append(f'<audio controls preload="none" src="{html.escape(data["audio"])}"></audio>')
    for key, label in (("abc_url", "ABC"), ("midi", "MIDI"), ("wav", "WAV")):
        if data.get(key):
            name = data[key].rsplit("/", 1)[-1]
            fallback.append(f'<a href="{html.escape(data[key])}" download="{html.escape(name)}">{label}</a>')
    if data.get("link"):
        fallback.append(f'<a href="?{html.escape(data["link"])}">Link to this tune</a>')
    # json.dumps writes newlines as \n, so the block has no blank line that would end Markdown's
    # HTML block; html.escape keeps "<" in a tune from opening a tag.
    payload = html.escape(json.dumps(data, ensure_ascii=False), quote=False)
    return (f'<div class="tune-card" id="tune-{data["id"]}"><code class="tune-data">{payload}</code>'
            + " ".join(fallback) + "</div>")


# A quoted token ('C/0'), not an apostrophe in a word ("can't").
_QUOTED = re.compile(r"""(?<![A-Za-z])'([^'\n]{1,80})'|"([^"\n]{1,80})\"""")
_FIELD_IN_MESSAGE = re.compile(r"\b([LMQK]):(\S*)")
_POSITION = re.compile(r"at position (\d+)")


def locate(abc: str, message: str) -> tuple[int, int] | None:
    """(line, column), both from 1, of what a renderer's message complains about, if it can be found.

    The renderer names the offending text (a quoted note such as 'C/0', a header such as
    M:7/0, or a character position); its first place in the tune's music is the place to look.
    """
    lines = abc.split("\n")

    def at(offset: int) -> tuple[int, int]:
        before = abc[:offset]
        return before.count("\n") + 1, offset - (before.rfind("\n") + 1) + 1

    match = _POSITION.search(message)
    if match and int(match.group(1)) <= len(abc):
        return at(int(match.group(1)))
    match = _FIELD_IN_MESSAGE.search(message)
    if match:
        for number, line in enumerate(lines, 1):
            if line.startswith(f"{match.group(1)}:") and match.group(2)[:4] in line:
                return number, 1
    for match in _QUOTED.finditer(message):
        token = match.group(1) or match.group(2)
        body_start = _body_start(lines)
        offset = abc.find(token, body_start)
        if offset < 0:
            offset = abc.find(token)
        if offset >= 0:
            return at(offset)
    return None


def _body_start(lines: list[str]) -> int:
    """Character offset of the first line after the K: header (0 if none)."""
    offset = 0
    for line in lines:
        offset += len(line) + 1
        if line.startswith("K:"):
            return offset
    return 0
