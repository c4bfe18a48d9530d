"""The compute path: chosen from the machine, overridable, and refused clearly where impossible.

scripts/test.sh runs this file twice: on this machine's own path, and with oneDNN and ATen
capped at AVX2 (ABC_BOT_SIMULATED_CPU=avx2), as on a laptop CPU without native bfloat16.
"""

from __future__ import annotations

import os
import platform
import subprocess
import sys

import pytest
import torch

from bot.compute import ComputeError, cpu_bfloat16, inference_path, training_path
from tests.conftest import ROOT

AVX2 = {"ONEDNN_MAX_CPU_ISA": "AVX2", "ATEN_CPU_CAPABILITY": "avx2"}
X86 = platform.machine().lower() in ("x86_64", "amd64")


def run_compute(**env) -> subprocess.CompletedProcess:
    """`python -m bot.compute` in a fresh process (the caps must be set before torch loads)."""
    clean = {k: v for k, v in os.environ.items() if k not in (*AVX2, "ABC_BOT_PRECISION")}
    return subprocess.run([sys.executable, "-m", "bot.compute"], cwd=ROOT, env={**clean, **env},
                          capture_output=True, text=True, timeout=120)


def test_auto_takes_bfloat16_exactly_where_the_cpu_has_it():
    native, found = cpu_bfloat16()
    path = inference_path("auto")
    assert path.bfloat16 == native
    assert path.device == "cpu" and found in path.reason
    assert path.describe().startswith(f"compute path: cpu-{'bfloat16' if native else 'float32'}")


def test_the_second_test_pass_really_is_the_float32_path():
    # scripts/test.sh's second pass sets the caps; there auto must choose float32.
    if os.environ.get("ABC_BOT_SIMULATED_CPU") == "avx2":
        assert not cpu_bfloat16()[0]
        assert inference_path().dtype == torch.float32
        assert torch.backends.cpu.get_cpu_capability() == "AVX2" or not X86
    else:
        assert inference_path().bfloat16 == cpu_bfloat16()[0]


def test_a_cpu_capped_at_avx2_is_read_as_having_no_bfloat16():
    # The caps exist on x86-64 only; elsewhere forcing float32 is how the float32 path is taken.
    done = run_compute(**AVX2) if X86 else run_compute(ABC_BOT_PRECISION="float32")
    assert done.returncode == 0, done.stderr
    assert "inference compute path: cpu-float32" in done.stdout
    assert ("no native bfloat16" if X86 else "forced") in done.stdout


def test_float32_can_be_forced_and_bfloat16_is_refused_where_not_native():
    done = run_compute(ABC_BOT_PRECISION="float32")
    assert done.returncode == 0 and "cpu-float32" in done.stdout and "forced" in done.stdout
    refused = run_compute(ABC_BOT_PRECISION="bfloat16", **(AVX2 if X86 else {}))
    if X86 or not cpu_bfloat16()[0]:
        assert refused.returncode == 2
        assert "cannot run it" in refused.stderr and "float32" in refused.stderr
    else:  # an ARM CPU with bfloat16: forcing it is allowed
        assert refused.returncode == 0 and "cpu-bfloat16" in refused.stdout


def test_an_unknown_setting_is_named_in_the_error():
    with pytest.raises(ComputeError, match="'fp8'.*auto, float32, bfloat16"):
        inference_path("fp8")


def test_training_uses_a_gpu_only_when_there_is_one():
    path = training_path("auto")
    assert path.device == ("cuda" if torch.cuda.is_available() else "cpu")
