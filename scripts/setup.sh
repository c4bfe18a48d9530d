#!/usr/bin/env bash
# Install whatever abc-bot needs and is missing: Debian packages (FluidSynth, a GM soundfont,
# abcmidi, sox, abcm2ps and ghostscript to print PDFs, poppler-utils to read them back in tests,
# chromium for browser tests), the pinned Python packages, and abcjs from the npm registry.
# Safe to run again: each step checks first.
set -euo pipefail
cd "$(dirname "$0")/.."

apt_packages=(fluidsynth fluid-soundfont-gm abcmidi sox abcm2ps ghostscript poppler-utils chromium)
missing=()
for pkg in "${apt_packages[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if ((${#missing[@]})); then
  echo "setup: installing Debian packages: ${missing[*]}"
  sudo_cmd=""
  [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# pip itself checks what is already there (about 3 s when nothing is missing). A quiet
# `--dry-run` cannot tell us instead: -q hides its "Would install" line.
echo "setup: checking Python packages from requirements.txt"
python3 -m pip install -q --disable-pip-version-check --root-user-action=ignore -r requirements.txt

# abcjs draws the score in the browser; the app serves it itself (never from a CDN). It comes
# from the npm registry, checked against the registry's sha512, without needing npm.
if [ ! -f static/abcjs/abcjs-basic-min.js ]; then
  echo "setup: installing abcjs from the npm registry"
  python3 -m bot.abcjs
fi
