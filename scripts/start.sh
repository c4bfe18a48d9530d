#!/usr/bin/env bash
# Start the abc-bot page, installing whatever is missing first. Flags go to app.py
# (--host, --port, --share).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec python3 app.py "$@"
