#!/usr/bin/env bash
# Run the whole test suite, installing whatever it needs first.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec python3 -m pytest -q "$@"
