#!/usr/bin/env bash
# Install whatever abc-bot needs and is missing: Debian packages (FluidSynth, a GM soundfont,
# abcmidi, sox, abcm2ps and ghostscript to print PDFs, poppler-utils to read them back in tests,
# python3-venv), a project virtual environment `.venv` with the pinned Python packages, and
# abcjs from the npm registry.
#
#   bash scripts/setup.sh            # what the app needs (scripts/start.sh runs this)
#   bash scripts/setup.sh --tests    # and a Chromium for the browser tests (scripts/test.sh runs this)
#
# The browser: Debian's `chromium` package where it really runs. Ubuntu 22.04 and later ship
# `chromium` only as a snap stub that does not run in containers; there (or wherever Debian's is
# missing, or hidden with ABC_BOT_CHROMIUM=/nonexistent) Playwright's own Chromium is installed,
# which needs the internet once. Without either, --tests stops with what to do.
# tests/browser.py makes the same choice for the tests.
#
# Python packages go into .venv, never into the system Python: Debian 12+ and Ubuntu 23.04+
# refuse `pip install` there (PEP 668, "externally-managed-environment"). The venv is made by
# the first `python3` on the PATH (or $PYTHON). Safe and quick to run again: each step checks
# first, and pip runs only when requirements.txt changed since the last install.
set -euo pipefail
cd "$(dirname "$0")/.."

tests=0
for arg in "$@"; do
  case "$arg" in
    --tests) tests=1 ;;
    *) echo "setup: unknown argument $arg (expected nothing, or --tests)" >&2; exit 2 ;;
  esac
done

python=${PYTHON:-python3}
if ! command -v "$python" >/dev/null; then
  echo "setup: no $python on the PATH; abc-bot needs Python 3.11 or newer (Debian/Ubuntu: apt-get install python3)" >&2
  exit 1
fi
if ! "$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
  echo "setup: $("$python" --version 2>&1) is too old: music21 10.5 needs Python 3.11 or newer" >&2
  exit 1
fi

apt_packages=(fluidsynth fluid-soundfont-gm abcmidi sox libsox-fmt-base abcm2ps ghostscript poppler-utils)
# Debian's browser for the tests, only on Debian itself and only when no other is named: Ubuntu's
# `chromium` is the snap stub (see above), which Playwright's own replaces further down.
if ((tests)) && [ -z "${ABC_BOT_CHROMIUM:-}" ] && grep -qx 'ID=debian' /etc/os-release 2>/dev/null; then
  apt_packages+=(chromium)
fi
# A Python without its venv module (Debian and Ubuntu split it out) needs python3-venv.
if [ ! -x .venv/bin/python ] && ! "$python" -c 'import ensurepip, venv' 2>/dev/null; then
  apt_packages+=("python$("$python" -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")')-venv")
fi
missing=()
for pkg in "${apt_packages[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if ((${#missing[@]})); then
  if ! command -v apt-get >/dev/null; then
    echo "setup: missing ${missing[*]}, and this machine has no apt-get (abc-bot's set-up knows Debian and Ubuntu; see the README)" >&2
    exit 1
  fi
  echo "setup: installing Debian packages: ${missing[*]}"
  sudo_cmd=""
  [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq "${missing[@]}" >/dev/null
fi

if [ ! -x .venv/bin/python ]; then
  echo "setup: making the project's Python environment .venv with $("$python" --version 2>&1) ($(command -v "$python"))"
  "$python" -m venv .venv
fi
# pip checks a whole requirements file in about 3 s even when nothing is missing; a stamp of
# the file's hash skips that when it has not changed since the last install.
stamp=.venv/.requirements.sha256
want=$(sha256sum requirements.txt | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  echo "setup: installing Python packages from requirements.txt into .venv"
  .venv/bin/python -m pip install -q --disable-pip-version-check -r requirements.txt
  echo "$want" > "$stamp"
fi

# abcjs draws the score in the browser; the app serves it itself (never from a CDN). It comes
# from the npm registry, checked against the registry's sha512, without needing npm.
if [ ! -f static/abcjs/abcjs-basic-min.js ]; then
  echo "setup: installing abcjs from the npm registry"
  .venv/bin/python -m bot.abcjs
fi

# The browser tests' Chromium (--tests only): tests/browser.py answers which one runs.
if ((tests)) && ! browser=$(.venv/bin/python tests/browser.py 2>/dev/null); then
  echo "setup: Debian's chromium (${ABC_BOT_CHROMIUM:-/usr/bin/chromium}) is missing or does not run" \
       "(Ubuntu ships a snap stub); installing Playwright's own Chromium for the browser tests"
  # The download first: where it fails (no internet) nothing on the system has changed yet.
  # Then the libraries it needs (`--with-deps` in one step does the same, libraries first).
  if ! .venv/bin/python -m playwright install chromium; then
    echo "setup: could not download Playwright's Chromium (no internet to Playwright's download" \
         "server?). The browser tests need a Chromium that runs. Either run" \
         "\`.venv/bin/python -m playwright install --with-deps chromium\` on a machine with internet" \
         "(or run this set-up again there), install Debian's chromium package, or set" \
         "ABC_BOT_CHROMIUM to a Chromium that runs." >&2
    exit 1
  fi
  sudo_cmd=""
  [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
  $sudo_cmd .venv/bin/python -m playwright install-deps chromium
  browser=$(.venv/bin/python tests/browser.py)  # says why and exits 1 if it still does not run
fi
if ((tests)); then
  echo "setup: the browser tests use $browser"
fi
