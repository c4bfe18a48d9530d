"""The page's own assets: abcjs, the tune cards' script and style, and getting abcjs onto disk.

abcjs is installed from the npm registry at set-up (`scripts/setup.sh` runs `python -m
bot.abcjs`) into `static/abcjs/` and served by the app itself, never from a CDN. Where set-up
did not run (a Hugging Face Space), `ensure_abcjs` fetches it at start-up, and the page says
plainly when the score cannot be drawn.
"""

from __future__ import annotations

from pathlib import Path

from bot import abcjs
from bot.web import cards

STATIC_DIR = Path(__file__).resolve().parent.parent / "static"
ABCJS_FILE = STATIC_DIR / "abcjs" / "abcjs-basic-min.js"

NO_SCORE_NOTICE = (
    "Sheet music is unavailable on this server: abcjs could not be fetched from the npm "
    "registry (run `bash scripts/setup.sh` where the registry can be reached). Tunes still "
    "stream and play."
)


def ensure_abcjs(path: Path = ABCJS_FILE, registry: str = abcjs.REGISTRY) -> str | None:
    """Make sure abcjs is on disk, fetching it from the npm registry when missing.

    Returns None when the file is there, else a one-line notice for the page.
    """
    if path.is_file():
        return None
    try:
        version = abcjs.install(path, registry)
    except abcjs.FetchError as err:
        print(f"abcjs: {err}")
        return NO_SCORE_NOTICE
    print(f"abcjs: installed {abcjs.PACKAGE} {version} into {path.parent}")
    return None


def abcjs_head(path: Path = ABCJS_FILE) -> str:
    """The <script> tag that loads abcjs from the app's own static files ("" if missing)."""
    if not path.is_file():
        return ""
    return f'<script src="/gradio_api/file={path.as_posix()}"></script>'


def page_head(path: Path = ABCJS_FILE) -> str:
    """Everything the page loads in its <head>: abcjs (when installed) and the tune cards' script
    and style (bot/web), each with its modification time in the URL so a new version is fetched."""
    tags = [abcjs_head(path)]
    for asset in (cards.STYLE, cards.SCRIPT):
        url = f"/gradio_api/file={asset.as_posix()}?v={int(asset.stat().st_mtime)}"
        tags.append(f'<link rel="stylesheet" href="{url}">' if asset.suffix == ".css" else f'<script src="{url}"></script>')
    return "\n".join(tag for tag in tags if tag)


# Folders the page serves its own files from (gr.set_static_paths): abcjs and the card assets.
SERVED_DIRS = (STATIC_DIR, cards.WEB_DIR)

PAGE_CSS = """
#chat .message-wrap pre { max-height: 22em; overflow: auto; }
#notice { color: #a15c00; }
footer { display: none !important; }
@media (max-width: 640px) {
  /* A phone: the tune's score and player get the chat's whole width. */
  #chat .message-row.bot-row { max-width: 100% !important; }
  #chat .message-wrap pre { max-height: 9em; }
}
"""
