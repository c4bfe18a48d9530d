#!/usr/bin/env bash
# Run the whole test suite, installing whatever it needs first.
#
# Two passes, so that every compute path runs on any machine (bot/compute.py):
#   1. the whole suite on this machine's own path (bfloat16 where the CPU has it natively);
#   2. every test file that samples from the LSTM (stepping, engine, generation, chat, app,
#      training, form, play, links, style, accompaniment) again as on a CPU without native
#      bfloat16: oneDNN and ATen capped at AVX2 and float32 chosen by the same detection a
#      laptop gets. On a machine that is float32 already, this pass runs that path a second
#      time. (The form, play, link, style and accompaniment files add about 80 s on 2 cores.)
# Arguments go to pytest and then run one pass only, on this machine's path.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --tests  # the browser tests need a Chromium too
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
if (($#)); then
  exec .venv/bin/python -m pytest -q "$@"
fi
echo "== pass 1 of 2: the whole suite on this machine's compute path"
.venv/bin/python -m bot.compute
.venv/bin/python -m pytest -q
echo "== pass 2 of 2: the compute tests on the float32 path of a CPU without native bfloat16"
export ONEDNN_MAX_CPU_ISA=AVX2 ATEN_CPU_CAPABILITY=avx2 ABC_BOT_SIMULATED_CPU=avx2
.venv/bin/python -m bot.compute
exec .venv/bin/python -m pytest -q tests/test_compute.py tests/test_stepper.py tests/test_engine.py \
  tests/test_generate.py tests/test_chat.py tests/test_app_client.py tests/test_train.py tests/test_evaluate.py \
  tests/test_form.py tests/test_play.py tests/test_link_round_trip.py tests/test_style.py tests/test_accompaniment.py
