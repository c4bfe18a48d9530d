"""Process-wide settings of the web server that serves many people on a small machine.

    from bot import serving
    serving.tune()   # in app.py's main, before the page launches

Kept out of app.py (layout and wiring only) and out of import time: tests that import the
app's modules get none of this.
"""

from __future__ import annotations

import os

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
