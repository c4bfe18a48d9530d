"""Text from a person or the model, shown as text: the one place that escapes it for the page.

gr.Chatbot renders Markdown and lets ordinary HTML through its sanitiser (`<img src=...>`, `<b>`,
`<svg>`, and Markdown images `![x](url)` all render and fetch). A tune's title, a pasted line, a
renderer's note quoting the tune: any of them may be written to look like markup. `as_text`
makes such a string inert for a chat message, `one_line` makes it safe to sit inside a sentence.

    f"Here is “{one_line(title)}”"   # a title in a sentence
    bot_message(as_text(error))        # a refusal that quotes the person's text
"""

from __future__ import annotations

import html
import re

# Characters that can change how the rest of a line reads without being seen: C0/C1 controls
# (NUL included) and Unicode's bidirectional overrides and isolates (U+202A-U+202E,
# U+2066-U+2069), with which "txt.exe" can be made to read as "exe.txt".
_INVISIBLE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
# The ASCII punctuation that can make Markdown (as gr.Chatbot renders it: GFM) build something:
# emphasis and code (* _ ` ~), links and images ([ ] !), headings, lists and rules at a line's
# start (# - + =), tables (|), KaTeX ($), autolinks (`:` breaks `http://`, `.` breaks `www.`
# and e-mail addresses) and the backslash itself. `<` and `&` become entities (html.escape);
# the rest (, / ; ? ...) builds nothing and stays as it is, readable in the message's text.
_MARKDOWN = re.compile(r"([\\`*_~\[\]!#+\-=|$:.])")

MAX_SHOWN = 300  # characters of a title or an echo shown in a sentence (a 10,000-character title is cut)


def as_text(text: str, limit: int | None = None) -> str:
    """`text` as Markdown/HTML that shows exactly these characters and nothing else.

    Control characters and bidi overrides are dropped; `limit` cuts it (with "…") first.
    """
    text = _INVISIBLE.sub("", str(text))
    if limit is not None and len(text) > limit:
        text = text[: limit - 1] + "…"
    # quote=False: quotes only matter inside an attribute, and no text of ours goes into one.
    return html.escape(_MARKDOWN.sub(r"\\\1", text), quote=False)


def one_line(text: str, limit: int = MAX_SHOWN) -> str:
    """`as_text` for a name inside a sentence: one line, at most `limit` characters."""
    return as_text(" ".join(_INVISIBLE.sub("", str(text)).split()), limit)


def plain(text: str, limit: int | None = None) -> str:
    """`text` with control characters and bidi overrides dropped (for a log, a file, a JSON
    answer: places that are not Markdown, where escapes would show)."""
    text = _INVISIBLE.sub("", str(text))
    return text if limit is None or len(text) <= limit else text[: limit - 1] + "…"


def check_text(text: str, what: str = "text", error: type[Exception] = ValueError) -> str:
    """`text` if it can be written as UTF-8; ValueError naming the place of the first character
    that cannot (a lone surrogate such as "\\ud800", which JSON can carry but no file can hold)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as err:
        raise error(f"The {what} holds a character that is not text (a lone UTF-16 surrogate, "
                         f"at character {err.start + 1}); please send it again as plain text.") from None
    return text
