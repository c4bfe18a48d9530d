#!/usr/bin/env bash
# Run the whole test suite, installing whatever it needs first.
#
# Three passes, so that every compute path runs on any machine (bot/compute.py):
#   1. the whole suite on this machine's own path (`auto`: 4-bit weights or bfloat16 where the
#      CPU has native bfloat16, float32 elsewhere);
#   2. every test file that samples from the LSTM (stepping, engine, generation, chat, app,
#      training, form, play, links, style, accompaniment, golden tunes, continuations) again as
#      on a CPU without native bfloat16: oneDNN and ATen capped at AVX2 and float32 chosen by
#      the same detection a laptop gets (on a machine that is float32 already, that path again),
#      and the 4-bit path's sampling tests there too;
#   3. the sampling tests on each other path this machine runs (int4, int8, bfloat16).
# Arguments go to pytest and then run one pass only, on this machine's path.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --tests  # the browser tests need a Chromium too
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
if (($#)); then
  exec .venv/bin/python -m pytest -q "$@"
fi
echo "== pass 1 of 3: the whole suite on this machine's compute path"
.venv/bin/python -m bot.compute
.venv/bin/python -m pytest -q
echo "== pass 2 of 3: the compute tests on the float32 path of a CPU without native bfloat16"
(
  export ONEDNN_MAX_CPU_ISA=AVX2 ATEN_CPU_CAPABILITY=avx2 ABC_BOT_SIMULATED_CPU=avx2
  .venv/bin/python -m bot.compute
  .venv/bin/python -m pytest -q tests/test_compute.py tests/test_stepper.py tests/test_engine.py \
    tests/test_generate.py tests/test_chat.py tests/test_app_client.py tests/test_train.py tests/test_evaluate.py \
    tests/test_form.py tests/test_play.py tests/test_link_round_trip.py tests/test_style.py tests/test_accompaniment.py \
    tests/test_golden_tunes.py tests/test_continue.py tests/test_step_worker.py
  # The weight-only path such a CPU also runs when forced (4-bit steps, float32 priming): its
  # steps give the bits this machine's do, its priming does not.
  if ABC_BOT_PRECISION=int4 .venv/bin/python -m bot.compute >/dev/null 2>&1; then
    echo "-- ABC_BOT_PRECISION=int4 on the capped CPU"
    ABC_BOT_PRECISION=int4 .venv/bin/python -m pytest -q tests/test_stepper.py tests/test_generate.py \
      tests/test_golden_tunes.py
  fi
)
# The paths `auto` did not take here but this machine runs (int4 and int8 weights anywhere torch
# has their products; bfloat16 where the CPU has it natively): the tunes' sampling tests once more on each.
echo "== pass 3 of 3: the sampling tests on this machine's other compute paths"
auto=$(.venv/bin/python -c 'from bot.compute import inference_path; print(inference_path().name)')
for precision in w8a8 int4 int8 bfloat16; do
  if [ "cpu-$precision" != "$auto" ] && ABC_BOT_PRECISION=$precision .venv/bin/python -m bot.compute >/dev/null 2>&1; then
    echo "-- ABC_BOT_PRECISION=$precision"
    ABC_BOT_PRECISION=$precision .venv/bin/python -m pytest -q tests/test_stepper.py tests/test_engine.py \
      tests/test_generate.py tests/test_golden_tunes.py tests/test_continue.py
  else
    echo "-- $precision: $([ "cpu-$precision" = "$auto" ] && echo "this machine's own path, tested in pass 1" || echo "not run by this CPU")"
  fi
done
