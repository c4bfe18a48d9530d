"""The Chromium that the browser tests (and bench/highlight_drift.py) drive: Debian's where it
really runs, else the one Playwright installed for itself.

Debian's `chromium` package puts a working browser at /usr/bin/chromium. Ubuntu 22.04 and later
ship `chromium` only as a snap stub, which does not run in containers, so a path that exists
is not enough: the browser must answer `--version`. Where it does not, scripts/setup.sh --tests
installs Playwright's own (`python -m playwright install chromium`, then its system libraries),
and this takes the path Playwright reports.

    ABC_BOT_CHROMIUM=/path/to/chromium   # use that browser instead of Debian's
    ABC_BOT_CHROMIUM=/nonexistent        # hide Debian's: how the Playwright branch is tested

    python tests/browser.py              # prints the browser the tests would drive; exit 1 and what
                                         # to do when there is none
"""

from __future__ import annotations

import os
import subprocess
import sys

DEBIAN = "/usr/bin/chromium"  # a system path: where Debian's chromium package installs the browser
ENV = "ABC_BOT_CHROMIUM"
INSTALL = ".venv/bin/python -m playwright install --with-deps chromium"
# How every browser test starts it: no sandbox (root in a container), no network of its own.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--autoplay-policy=no-user-gesture-required"]


class NoBrowser(RuntimeError):
    """No Chromium on this machine runs; the message says which were tried and what to do."""


def runs(path: str) -> bool:
    """Whether `path` is a browser that starts: `--version` answers with a name and a number."""
    try:
        done = subprocess.run([path, "--version"], capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0 and any(name in done.stdout for name in ("Chromium", "Chrome"))


def playwright_chromium(playwright=None) -> str:
    """Where Playwright keeps its own Chromium (the path, whether or not it was installed).

    Pass the running `sync_playwright()` object where there is one: a second one cannot start
    inside it."""
    if playwright is not None:
        return playwright.chromium.executable_path
    from playwright.sync_api import sync_playwright

    with sync_playwright() as started:
        return started.chromium.executable_path


def chromium_executable(playwright=None) -> str:
    """The browser to launch: $ABC_BOT_CHROMIUM or Debian's if it runs, else Playwright's; NoBrowser if neither."""
    wanted = os.environ.get(ENV) or DEBIAN
    if runs(wanted):
        return wanted
    own = playwright_chromium(playwright)
    if runs(own):
        return own
    why = "is missing" if not os.path.exists(wanted) else "does not run (Ubuntu's chromium is a snap stub)"
    raise NoBrowser(
        f"no Chromium here runs: {wanted} {why}"
        + (f" ({ENV} names it)" if os.environ.get(ENV) else "")
        + f", and Playwright's own is not installed at {own}. On a machine with internet run "
        f"`bash scripts/setup.sh --tests` (it runs `{INSTALL}`), or install Debian's chromium "
        f"package, or set {ENV} to a Chromium that runs.")


if __name__ == "__main__":
    try:
        print(chromium_executable())
    except NoBrowser as err:
        print(f"browser: {err}", file=sys.stderr)
        sys.exit(1)
