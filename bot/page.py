"""The page's own assets: the abcjs score widget (HTML, JS, CSS) and getting abcjs onto disk.

abcjs is installed from the npm registry at set-up (`scripts/setup.sh` runs `python -m
bot.abcjs`) into `static/abcjs/` and served by the app itself, never from a CDN. Where set-up
did not run (a Hugging Face Space), `ensure_abcjs` fetches it at start-up, and the page says
plainly when the score cannot be drawn.
"""

from __future__ import annotations

from pathlib import Path

from bot import abcjs

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


# The score widget is a gr.HTML whose value is the ABC text. The template never contains the
# value, so Gradio's re-render leaves the drawn SVG alone and `watch` redraws it.
SCORE_TEMPLATE = '<div class="abc-score"></div><p class="abc-note"></p>'

SCORE_CSS = """
.abc-score { min-height: 120px; background: #fff; border-radius: 8px; }
.abc-score svg { max-width: 100%; }
.abc-note { color: #666; font-size: 0.9em; margin: 0.3em 0; }
"""

SCORE_JS = """
const box = element.querySelector('.abc-score');
const note = element.querySelector('.abc-note');
let queued = false;
function draw() {
  // Several streamed updates can land in one frame: draw only the latest.
  if (queued) return;
  queued = true;
  requestAnimationFrame(() => {
    queued = false;
    let abc = (props.value || '').trim();
    if (!window.ABCJS) {
      note.textContent = 'Sheet music is unavailable: abcjs is not installed on this server.';
      return;
    }
    if (!abc) {
      box.innerHTML = '';
      note.textContent = 'The score is drawn here as the tune is written.';
      return;
    }
    if (!/^X:/m.test(abc)) abc = 'X:1\\n' + abc;
    try {
      window.ABCJS.renderAbc(box, abc, {responsive: 'resize', add_classes: true});
      note.textContent = '';
    } catch (err) {
      note.textContent = 'This score could not be drawn.';
    }
  });
}
draw();
watch('value', draw);
"""

PAGE_CSS = """
#chat .message-wrap pre { max-height: 22em; overflow: auto; }
#notice { color: #a15c00; }
footer { display: none !important; }
"""
