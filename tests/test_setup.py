"""The set-up's browser for the tests: Debian's chromium where it runs, else Playwright's own,
else a clear stop (scripts/setup.sh --tests and tests/browser.py make the same choice)."""

from __future__ import annotations

import os
import subprocess

import pytest

import browser
from tests.conftest import ROOT

# What Ubuntu's /usr/bin/chromium does in a container: the snap stub refuses to start.
SNAP_STUB = """#!/bin/sh
echo "Command '/usr/bin/chromium' requires the chromium snap to be installed." >&2
exit 1
"""
WORKING = """#!/bin/sh
echo "Chromium 156.0.1.2 built for this test"
"""


def script(folder, name: str, text: str) -> str:
    path = folder / name
    path.write_text(text)
    path.chmod(0o755)
    return str(path)


def test_the_tests_drive_debians_chromium_where_it_runs(monkeypatch):
    monkeypatch.delenv(browser.ENV, raising=False)
    chosen = browser.chromium_executable()
    assert browser.runs(chosen)
    # This machine has Debian's; a machine without it gets Playwright's, which lives elsewhere.
    assert chosen == browser.DEBIAN if os.path.exists(browser.DEBIAN) and browser.runs(browser.DEBIAN) \
        else chosen == browser.playwright_chromium()


def test_a_snap_stub_is_passed_over_for_playwrights_chromium(tmp_path, monkeypatch):
    stub, own = script(tmp_path, "chromium", SNAP_STUB), script(tmp_path, "chrome", WORKING)
    monkeypatch.setenv(browser.ENV, stub)
    assert not browser.runs(stub) and browser.runs(own)
    monkeypatch.setattr(browser, "playwright_chromium", lambda playwright=None: own)
    assert browser.chromium_executable() == own


def test_with_no_browser_that_runs_the_message_says_what_to_do(tmp_path, monkeypatch):
    monkeypatch.setenv(browser.ENV, script(tmp_path, "chromium", SNAP_STUB))
    monkeypatch.setattr(browser, "playwright_chromium", lambda playwright=None: str(tmp_path / "none" / "chrome"))
    with pytest.raises(browser.NoBrowser, match="does not run .*snap stub.*playwright install --with-deps chromium"):
        browser.chromium_executable()
    monkeypatch.setenv(browser.ENV, "/nonexistent")
    with pytest.raises(browser.NoBrowser, match="/nonexistent is missing"):
        browser.chromium_executable()


def test_setup_with_debians_browser_hidden_takes_playwrights_route_and_stops_clearly(tmp_path):
    # Debian's browser hidden, Playwright's browsers looked for in an empty folder, and its
    # download server a closed local port: the set-up must try Playwright's Chromium, fail,
    # and say what to do, on any machine and without downloading anything.
    env = dict(os.environ, ABC_BOT_CHROMIUM="/nonexistent", PLAYWRIGHT_BROWSERS_PATH=str(tmp_path / "browsers"),
               PLAYWRIGHT_DOWNLOAD_HOST="http://127.0.0.1:9")
    done = subprocess.run(["bash", "scripts/setup.sh", "--tests"], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "installing Playwright's own Chromium" in done.stdout
    assert "could not download Playwright's Chromium" in done.stderr
    assert "playwright install --with-deps chromium` on a machine with internet" in done.stderr
    assert "the browser tests use" not in done.stdout


def test_every_browser_launch_takes_the_chosen_browser():
    # One place chooses (tests/browser.py); a launch with a path of its own would break on Ubuntu.
    launches = [f"{path.relative_to(ROOT)}: {line.strip()}"
                for path in [*(ROOT / "tests").glob("*.py"), *(ROOT / "bench").glob("*.py")] if path.name != "test_setup.py"
                for line in path.read_text().splitlines() if "executable_path=" in line]
    assert launches and all("executable_path=chromium_executable(p)" in line for line in launches), launches
