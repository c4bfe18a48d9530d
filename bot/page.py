"""The page's own assets: abcjs (which bot.abcjs puts on disk), the tune cards' script and style.

abcjs is installed from the npm registry at set-up (`scripts/setup.sh` runs `python -m
bot.abcjs`) into `static/abcjs/` and served by the app itself, never from a CDN. Where set-up
did not run (a Hugging Face Space), `ensure_abcjs` fetches it at start-up, and the page says
plainly when the score cannot be drawn.
"""

from __future__ import annotations

from pathlib import Path

# Where abcjs lives and how it gets there are bot.abcjs's (no import back from there); the
# page serves and loads it, and app.py asks for it through here.
from bot.abcjs import ABCJS_FILE, NO_SCORE_NOTICE, STATIC_DIR, ensure_abcjs  # noqa: F401
from bot.web import cards


def abcjs_head(path: Path = ABCJS_FILE) -> str:
    """The <script> tag that loads abcjs from the app's own static files ("" if missing)."""
    if not path.is_file():
        return ""
    return f'<script src="/gradio_api/file={cards.served_path(path)}"></script>'


def page_head(path: Path = ABCJS_FILE) -> str:
    """Everything the page loads in its <head>: abcjs (when installed) and the tune cards' script
    and style (bot/web), each with its modification time in the URL so a new version is fetched."""
    tags = [abcjs_head(path)]
    for asset in (cards.STYLE, cards.SCRIPT):
        url = f"/gradio_api/file={cards.served_path(asset)}?v={int(asset.stat().st_mtime)}"
        tags.append(f'<link rel="stylesheet" href="{url}">' if asset.suffix == ".css" else f'<script src="{url}"></script>')
    return "\n".join(tag for tag in tags if tag)


# Folders the page serves its own files from (gr.set_static_paths): abcjs and the card assets.
SERVED_DIRS = (STATIC_DIR, cards.WEB_DIR)

PAGE_CSS = """
#chat .message-wrap pre { max-height: 22em; overflow: auto; }
/* Long ABC lines wrap inside the bubble: no scrolling sideways to read a line. */
#chat .message-wrap pre, #chat .message-wrap pre code {
  white-space: pre-wrap !important; overflow-wrap: anywhere;  /* at a space when there is one */
}
#notice { color: #a15c00; }
footer { display: none !important; }
@media (max-width: 640px) {
  /* A phone: the tune's score and player get the chat's whole width. */
  #chat .message-row.bot-row { max-width: 100% !important; }
  /* Gradio's rows keep a 20 px side margin at 100% width, which pushed the card 20 px past
     the chat's right edge (its player clipped): no margin, and a slimmer bubble padding (the
     space saved keeps a 16-bar tune's score in view above its tools). */
  #chat .message-row { margin: 2px 0 !important; }
  #chat .bubble-wrap { padding-bottom: 2px !important; }
  #chat .message-row .message { padding: 4px 6px !important; }
  #chat .message-wrap pre { max-height: 9em; }
}
"""
