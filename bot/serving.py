"""Process-wide settings of the web server that serves many people on a small machine.

    from bot import serving
    serving.tune()   # in app.py's main, before the page launches

Kept out of app.py (layout and wiring only) and out of import time: tests that import the
app's modules get none of this.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

log = logging.getLogger(__name__)

# Bytes per read when the server sends a file (the audio, abcjs). Starlette's FileResponse reads
# and sends 64 KB at a time, each read on a worker thread: a 9.4 MB WAV cost the server 34 ms of
# CPU, and 16 listeners fetching theirs at once took 0.5 core-s from the tunes being written.
# With 1 MB reads the same 16 fetches cost 0.13 core-s (16 fetches of one 9.4 MB WAV, app CPU
# from /proc: 54 ticks against 13; see docs/benchmarks.md, Load).
FILE_CHUNK_BYTES = 1 << 20


def tune() -> None:
    """Set up the server process: matplotlib's backend and large file reads."""
    # Gradio wraps every event in matplotlib.get_backend() / use("agg"). With no backend set,
    # the first event imports pyplot to find one: 0.37 s on the first person's first click
    # (0.06 s with the backend named).
    os.environ.setdefault("MPLBACKEND", "agg")
    # Served files are named relative to the working folder (bot.web.cards.served_path): from
    # the repository, no URL or <head> of the page shows where the server keeps its files.
    os.chdir(Path(__file__).resolve().parents[1])
    from starlette.responses import FileResponse

    FileResponse.chunk_size = max(FileResponse.chunk_size, FILE_CHUNK_BYTES)


# How often Gradio's queue looks for work when it has none. Gradio polls every 1 ms on Linux
# (`Queue.sleep_when_free`, not a public setting): an idle page cost 4.7% of a core (47 ticks of
# app CPU in 10 s, /proc), and under load every poll takes the GIL from the thread writing the
# tunes. 10 ms adds at most 10 ms before a queued click starts.
QUEUE_POLL_S = 0.01


def tune_queue(demo) -> bool:
    """Slow Gradio's idle queue polling to QUEUE_POLL_S; False (and a log line) where this
    Gradio has no such attribute, which leaves the page working as before."""
    queue = getattr(demo, "_queue", None)
    if queue is None or not isinstance(getattr(queue, "sleep_when_free", None), (int, float)):
        log.warning("this Gradio has no Queue.sleep_when_free: the queue keeps its own polling")
        return False
    queue.sleep_when_free = max(queue.sleep_when_free, QUEUE_POLL_S)
    return True


# A page address longer than this is not a link the app made (the longest tune a link carries,
# MAX_LINK_ABC characters, encodes to far less): Gradio's page route fails on one over 65,536
# characters with HTTP 500 (httpx: "URL too long"), and shows nothing.
MAX_PAGE_QUERY = 32_768
TOO_LONG_QUERY = b"link=too-long"


class LongLinks:
    """ASGI middleware: the page opened with an overlong query is sent to `?link=too-long`, which
    the page reads as a link it cannot open and says so (bot.links.from_query), instead of a 500."""

    def __init__(self, app, max_query: int = MAX_PAGE_QUERY):
        self.app, self.max_query = app, max_query

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http" and len(scope.get("query_string", b"")) > self.max_query:
            # Relative to the page itself, so it works under a proxy's path prefix too.
            location = b"./?" + TOO_LONG_QUERY if scope.get("path", "/").endswith("/") else b"?" + TOO_LONG_QUERY
            await send({"type": "http.response.start", "status": 303,
                        "headers": [(b"location", location), (b"content-length", b"0")]})
            await send({"type": "http.response.body", "body": b""})
            return
        await self.app(scope, receive, send)


def app_kwargs(demo=None) -> dict:
    """launch(app_kwargs=...): the FastAPI app's middleware for overlong links, and for API calls
    with too few values (`bot.web.arity`, given the built `demo`)."""
    from starlette.middleware import Middleware

    from bot.web.arity import CheckArity

    return {"middleware": [Middleware(LongLinks), Middleware(CheckArity, demo=demo)]}
