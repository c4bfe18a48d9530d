"""The server-process settings app.py applies before launching the page."""

from __future__ import annotations

import os

from starlette.responses import FileResponse

from bot import serving


def test_tune_sets_large_file_reads_and_a_matplotlib_backend(monkeypatch):
    monkeypatch.setattr(FileResponse, "chunk_size", 64 * 1024)
    monkeypatch.delenv("MPLBACKEND", raising=False)
    serving.tune()
    assert FileResponse.chunk_size == serving.FILE_CHUNK_BYTES >= 1 << 20
    assert os.environ["MPLBACKEND"] == "agg"
