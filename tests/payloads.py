"""Hostile text for every place a title, a line of lyrics or a pasted message is shown.

Each payload is a tune title (one T: line's text) written to look like markup, a URL, a
directive or a trick of the text itself. The tests put each one through each path that shows
or stores it (the chat, the card, the tunebook, the PDF, the MusicXML, file names, the link,
the API answers) and check it comes out as the same text, fetching and running nothing.

HOST is a host the test never serves: any request to it means a payload fetched something.
"""

from __future__ import annotations

HOST = "payload.invalid"
MARK = "PWNED"  # set as window.PWNED by a script a payload manages to run

PAYLOADS: list[str] = [
    # HTML that fetches or runs something
    f'<img src="http://{HOST}/pixel.png">Nice tune',
    f"<img src=x onerror=window.{MARK}=1>",
    f"<script>window.{MARK}=1</script>",
    f'<svg onload="window.{MARK}=1"><circle r="40"/></svg>',
    f"<svg><image href='http://{HOST}/svg.png'/></svg>",
    "<b>bold</b> and <i>italic",
    "<b>unclosed bold",
    f'<iframe src="http://{HOST}/frame"></iframe>',
    f'<a href="javascript:window.{MARK}=1">click</a>',
    f'<a href="data:text/html,<script>window.{MARK}=1</script>">data</a>',
    f'<video src="http://{HOST}/v.mp4" autoplay></video>',
    f'<audio src="http://{HOST}/a.ogg" autoplay></audio>',
    f'<link rel="stylesheet" href="http://{HOST}/x.css">',
    f'<object data="http://{HOST}/o.swf"></object>',
    f'<form action="http://{HOST}/f"><button>Go</button></form>',
    f'<input autofocus onfocus="window.{MARK}=1">',
    f'<details open ontoggle="window.{MARK}=1">x</details>',
    f'<math><mtext><table><mglyph><style><img src=http://{HOST}/m.png>',
    f'<div style="background:url(http://{HOST}/bg.png)">styled</div>',
    f"<style>@import 'http://{HOST}/i.css'; body{{display:none}}</style>",
    f'<base href="http://{HOST}/">',
    f'<meta http-equiv="refresh" content="0;url=http://{HOST}/">',
    "&lt;b&gt;already escaped&lt;/b&gt; &amp; &#x3C;img&#x3E;",
    "</code></pre></div><b>out of the card</b>",
    '"}]}</code><img src=x>',  # closing the card's JSON
    "'; alert(1); //",
    # Markdown that makes an element or fetches
    f"![pixel](http://{HOST}/md.png)",
    f"[click me](javascript:window.{MARK}=1)",
    f"[data](data:text/html;base64,PHNjcmlwdD4=)",
    f"<http://{HOST}/autolink>",
    f"www.{HOST}/bare-link",
    f"mail@{HOST}",
    "**bold** __bold__ *em* _em_ ~~struck~~",
    "`code` and ``more code``",
    "# A heading",
    "> a quote",
    "- a list item",
    "| a | table |",
    f"[ref]: http://{HOST}/ref",
    "$$\\frac{1}{2}$$ and $x^2$",
    "\\*not em\\* and a trailing backslash \\",
    # Unicode and control characters
    "Reel \u202eevil.exe\u202c of the \u2066isolate\u2069",
    "NUL\x00in\x01the\x1ftitle\x7f",
    "zero\u200bwidth\u200d joiners \ufeff",
    "Éire's Polka — «ünïcödé» ☘ 日本の歌",
    "T" * 10_000,  # a 10,000-character title
    # abcm2ps directives and ABC fields that read files or run PostScript, inside a title
    "%%beginps\n/showpage {} def\n%%endps",
    "%%abc-include /etc/passwd",
    "%%format /etc/passwd",
    "%%EPS /etc/passwd",
    "[I:abc-include /etc/passwd] inline",
    "$1big $2font \\\\ $0 abcm2ps escapes",
    "../../etc/passwd",
    "C:\\Windows\\system.ini",
]

# Directives a tune's own lines may carry (not in a title): each must be dropped before abcm2ps.
DIRECTIVE_LINES: list[str] = [
    "%%abc-include /etc/passwd",
    "%%format /etc/passwd",
    "%%beginps\n(/etc/passwd) (r) file\n%%endps",
    "%%EPS /etc/passwd",
    "I:abc-include /etc/passwd",
    "%%postscript (/etc/passwd) (r) file",
    "  %%deco x 3 /etc/passwd 0 0 0",
]


def titled(title: str) -> str:
    """A short playable tune with `title` as its T: (the first line of it: a title is one line)."""
    first = title.split("\n")[0]
    return f"X:1\nT:{first}\nM:4/4\nL:1/8\nK:D\nDFAd fdAF|GBdg bgdB|AFdF AFdF|d2f2 d4|]\n"
