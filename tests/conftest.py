"""Shared test fixtures: small, offline, seeded."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


@pytest.fixture(scope="session")
def small_abc_file() -> Path:
    """A real 47-tune ABC file shipped inside music21 (O'Neill's 1850, tunes 1-50)."""
    from bot.corpus import music21_corpus_dir

    return music21_corpus_dir() / "oneills1850" / "0001-0050.abc"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def app_url():
    """app.py on a free loopback port, stopped (with its render server) after the module."""
    port = _free_port()
    env = dict(os.environ, GRADIO_ANALYTICS_ENABLED="False", PYTHONUNBUFFERED="1")
    proc = subprocess.Popen(
        [sys.executable, "app.py", "--host", "127.0.0.1", "--port", str(port)],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        start_new_session=True,
    )
    log: list[str] = []
    ready = threading.Event()

    def pump():
        for line in proc.stdout:
            log.append(line)
            if "Running on local URL" in line:
                ready.set()

    threading.Thread(target=pump, daemon=True).start()
    try:
        assert ready.wait(240), "app did not start:\n" + "".join(log[-30:])  # a loaded 2-core machine is slow to start it
        yield f"http://127.0.0.1:{port}/"
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=20)


@pytest.fixture(scope="module")
def browser():
    """Headless Chromium, the one tests/browser.py chooses (Debian's, else Playwright's)."""
    from playwright.sync_api import sync_playwright

    from browser import CHROMIUM_ARGS, chromium_executable

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_executable(p), headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()
