"""Process-wide settings of the web server that serves many people on a small machine.

    from bot import serving
    serving.tune()   # in app.py's main, before the page launches

Kept out of app.py (layout and wiring only) and out of import time: tests that import the
app's modules get none of this.
"""

from __future__ import annotations

import logging
import os

log = logging.getLogger(__name__)

# Bytes per read when the server sends a file (the audio, abcjs). Starlette's FileResponse reads
# and sends 64 KB at a time, each read on a worker thread: a 9.4 MB WAV cost the server 34 ms of
# CPU, and 16 listeners fetching theirs at once took 0.5 core-s from the tunes being written.
# With 1 MB reads the same 16 fetches cost 0.13 core-s (16 fetches of one 9.4 MB WAV, app CPU
# from /proc: 54 ticks against 13; see README, Load).
FILE_CHUNK_BYTES = 1 << 20


def tune() -> None:
    """Set up the server process: matplotlib's backend and large file reads."""
    # Gradio wraps every event in matplotlib.get_backend() / use("agg"). With no backend set,
    # the first event imports pyplot to find one: 0.37 s on the first person's first click
    # (0.06 s with the backend named).
    os.environ.setdefault("MPLBACKEND", "agg")
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
