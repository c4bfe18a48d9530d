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


def cpu_flags() -> set[str]:
    """The CPU's own flags in /proc/cpuinfo, read without bot.compute."""
    with open("/proc/cpuinfo") as info:
        for line in info:
            if line.split(":")[0].strip() in ("flags", "Features"):
                return set(line.split(":", 1)[1].split())
    return set()


def cpu_has_vnni() -> bool:
    """Whether the w8a8 path's product can run: AVX-512 VNNI in the CPU's flags, less the AVX2
    cap this run's environment may set (fbgemm ignores the cap, so bot.compute honours it)."""
    return X86 and "avx512_vnni" in cpu_flags() and os.environ.get("ATEN_CPU_CAPABILITY", "").lower() != "avx2"


def cpu_has_bfloat16() -> bool:
    """The expected answer, read without bot.compute: the CPU's own flags in /proc/cpuinfo, less
    the AVX2 cap this run's environment may set (scripts/test.sh's second pass)."""
    flags = cpu_flags()
    if X86:
        capped = os.environ.get("ONEDNN_MAX_CPU_ISA", "").upper() == "AVX2"
        return bool({"avx512_bf16", "amx_bf16"} & flags) and not capped
    return "bf16" in flags


def bfloat16_lstm_runs() -> bool:
    """Whether oneDNN really runs an LSTM under bfloat16 autocast in this process (the crash the
    path exists to avoid, when it does not)."""
    lstm = torch.nn.LSTM(8, 8, batch_first=True)
    try:
        with torch.autocast("cpu", dtype=torch.bfloat16):
            out, _ = lstm(torch.randn(2, 3, 8))
    except RuntimeError as err:
        assert "primitive descriptor" in str(err), err  # only oneDNN's refusal counts as "cannot"
        return False
    return out.dtype == torch.bfloat16


def test_auto_takes_bfloat16_exactly_where_the_cpu_has_it():
    expected = cpu_has_bfloat16()
    path = inference_path("auto")
    assert path.bfloat16 == expected and cpu_bfloat16()[0] == expected
    assert path.device == "cpu" and cpu_bfloat16()[1] in path.reason
    # Where the CPU has bfloat16 on x86 with AVX-512 (the class the quantized paths were measured
    # faster on), auto takes w8a8 where the CPU has VNNI and torch fbgemm, else 4-bit weights
    # (int8 where torch lacks their product); its priming still runs in bfloat16 there.
    weighted = X86 and expected and torch.backends.cpu.get_cpu_capability().startswith("AVX512")
    w8a8 = weighted and cpu_has_vnni() and "fbgemm" in torch.backends.quantized.supported_engines
    int4 = weighted and not w8a8 and hasattr(torch.ops.aten, "_weight_int4pack_mm_for_cpu")
    int8 = weighted and not w8a8 and not int4 and hasattr(torch.ops.aten, "_weight_int8pack_mm")
    name = "w8a8" if w8a8 else "int4" if int4 else "int8" if int8 else "bfloat16" if expected else "float32"
    assert path.describe().startswith(f"compute path: cpu-{name}")
    assert (path.int8, path.int4, path.w8a8) == (int8, int4, w8a8)
    # What the choice is for: bfloat16 is chosen only where the LSTM runs in it, and a CPU at
    # AVX2 (a laptop, or the capped pass) really cannot run it.
    if path.bfloat16:
        assert bfloat16_lstm_runs()
    if X86 and torch.backends.cpu.get_cpu_capability() == "AVX2":
        assert not bfloat16_lstm_runs()


def test_the_second_test_pass_really_is_the_float32_path():
    # scripts/test.sh's second pass sets the caps; there auto must choose float32.
    if os.environ.get("ABC_BOT_SIMULATED_CPU") == "avx2":
        assert not cpu_bfloat16()[0]
        assert inference_path().dtype == torch.float32
        assert torch.backends.cpu.get_cpu_capability() == "AVX2" or not X86
    else:
        assert inference_path().bfloat16 == cpu_has_bfloat16()


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


@pytest.mark.parametrize("gpu, bf16, setting, expected", [
    (False, False, "auto", None),  # no GPU: the CPU's own path
    (True, True, "auto", ("cuda", torch.bfloat16)),
    (True, False, "auto", ("cuda", torch.float32)),  # an older GPU without bfloat16
    (True, True, "float32", ("cuda", torch.float32)),
])
def test_training_uses_a_gpu_only_when_there_is_one(monkeypatch, gpu, bf16, setting, expected):
    # The machine is made up (torch.cuda's answers replaced), so both branches run on any machine.
    monkeypatch.setattr(torch.cuda, "is_available", lambda: gpu)
    monkeypatch.setattr(torch.cuda, "get_device_name", lambda index=0: "Made-up GPU")
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *a, **k: bf16)
    path = training_path(setting)
    if expected is None:
        # The CPU's floating-point path (never int8 or int4, sampling paths), from its own flags.
        assert path.device == "cpu" and not path.weights
        assert path.dtype == (torch.bfloat16 if cpu_has_bfloat16() else torch.float32)
    else:
        assert (path.device, path.dtype) == expected and "Made-up GPU" in path.reason


def test_bfloat16_training_is_refused_on_a_gpu_without_it(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "get_device_name", lambda index=0: "Made-up GPU")
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *a, **k: False)
    with pytest.raises(ComputeError, match="Made-up GPU has no bfloat16"):
        training_path("bfloat16")


@pytest.mark.parametrize("weights", ["int8", "int4", "w8a8"])
def test_quantized_paths_can_be_forced_and_are_printed_and_training_stays_in_floating_point(weights):
    caps = {k: os.environ[k] for k in AVX2 if k in os.environ}  # this pass's caps, if any, as here
    done = run_compute(ABC_BOT_PRECISION=weights, **caps)
    if weights == "w8a8" and not cpu_has_vnni():
        # Refused, with the reason and what to do, never a crash or a silent float path.
        assert done.returncode == 2 and "ABC_BOT_PRECISION=w8a8, but this machine cannot run it" in done.stderr
        assert "Unset ABC_BOT_PRECISION" in done.stderr and "Traceback" not in done.stderr
        with pytest.raises(ComputeError, match="VNNI|x86-only"):
            inference_path(weights)
        return
    assert done.returncode == 0, done.stderr
    assert f"inference compute path: cpu-{weights}" in done.stdout and f"{weights} weights forced" in done.stdout
    # Training reads int8 and int4 as auto: the float path this CPU's own flags call for.
    expected = "cpu-bfloat16" if cpu_has_bfloat16() else "cpu-float32"
    assert f"training  compute path: {expected}" in done.stdout
    path = inference_path(weights)
    assert (path.int8, path.int4, path.w8a8) == (weights == "int8", weights == "int4", weights == "w8a8")
    assert path.name == f"cpu-{weights}" and path.device == "cpu" and path.weights == weights
    # Priming (nn.LSTM with its float weights) runs in bfloat16 only where the CPU has it.
    assert path.dtype == (torch.bfloat16 if cpu_has_bfloat16() else torch.float32)
    assert not training_path(weights).weights


@pytest.mark.parametrize("weights, probe, kernel", [("int8", "int8_available", "_weight_int8pack_mm"),
                                                    ("int4", "int4_available", "_weight_int4pack_mm_for_cpu")])
def test_a_weight_only_path_is_refused_clearly_where_torch_lacks_its_product(monkeypatch, weights, probe, kernel):
    from bot import compute

    compute._inference.cache_clear()
    monkeypatch.setattr(compute, probe, lambda: False)
    try:
        with pytest.raises(ComputeError, match=f"{weights}.*{kernel}"):
            inference_path(weights)
        # Auto passes over a missing product: never a path that cannot step.
        assert inference_path("auto").weights != weights
    finally:
        compute._inference.cache_clear()


def test_w8a8_is_refused_clearly_on_a_cpu_without_vnni_and_auto_passes_over_it(monkeypatch):
    from bot import compute

    flags = compute._cpu_flags() - {"avx512_vnni"}
    compute._inference.cache_clear()
    compute.w8a8_available.cache_clear()
    monkeypatch.setattr(compute, "_cpu_flags", lambda: flags)
    try:
        with pytest.raises(ComputeError, match="w8a8, but this machine cannot run it: .*(VNNI|x86-only)"):
            inference_path("w8a8")
        auto = inference_path("auto")
        assert not auto.w8a8  # auto takes the next path, never one that cannot step
        if auto.weights:  # and says why it passed w8a8 over
            assert "w8a8 passed over: " in auto.reason and ("VNNI" in auto.reason or "x86-only" in auto.reason)
    finally:
        compute._inference.cache_clear()
        compute.w8a8_available.cache_clear()
