#!/usr/bin/env bash
# Start the abc-bot page, installing whatever is missing first. Flags go to app.py
# (--host, --port, --share). ABC_BOT_PRECISION=float32 forces the float32 compute path.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/python app.py "$@"
