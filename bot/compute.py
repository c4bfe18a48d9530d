"""The compute path: which device and which precision the LSTM runs in, chosen once from the machine.

bfloat16 halves the weight bytes read per sampled character and trains about 1.8x faster, but
only where the hardware does it natively: on a CPU without native bfloat16 (most laptops:
AVX2, no AVX-512 BF16 or AMX) oneDNN has no bfloat16 LSTM at all ("could not create a
primitive descriptor for the LSTM forward propagation primitive") and bfloat16 matrix products
are emulated, slower than float32. So the choice is read from the machine when a model is
loaded, never found by catching the first crash, and `ABC_BOT_PRECISION` overrides it:

    ABC_BOT_PRECISION=auto       # default: w8a8 or 4-bit weights where measured faster
                                 # (below), else bfloat16 where native, float32 elsewhere
    ABC_BOT_PRECISION=float32    # force float32 (the path of a CPU without bfloat16)
    ABC_BOT_PRECISION=bfloat16   # force bfloat16; refused where the CPU cannot run it
    ABC_BOT_PRECISION=int8       # force int8 weights in the sampling step
    ABC_BOT_PRECISION=int4       # force 4-bit weights in the sampling step
    ABC_BOT_PRECISION=w8a8       # force int8 weights times int8 inputs; refused without AVX-512 VNNI

    python -m bot.compute        # prints the path this machine takes, and why

The quantized paths are sampling only (training reads them as auto), and each keeps a seed's
tune the same alone or batched: no scale depends on the batch.
- int8 holds the step's weights as int8 with one scale per output row and multiplies them with
  bfloat16 inputs (`aten._weight_int8pack_mm`, weight-only): a quarter of float32's bytes.
- int4 holds them in 4 bits, with a bfloat16 scale and zero per group of 32 along a row
  (`aten._weight_int4pack_mm_for_cpu`, weight-only too): an eighth.
- w8a8 holds them as int8 rows too, packed for fbgemm, and rounds the inputs to int8 on one
  fixed scale (every input is an LSTM h, inside (-1, 1)), so each product is integer dot
  products (AVX-512 VNNI), exact in int32 (`bot.step_maths.W8A8Step`).

Auto takes a quantized path where it was measured faster, and only there: on an x86 CPU with
native bfloat16 and AVX-512 (an Intel Xeon with AMX, 2 cores, torch 2.13), in the order w8a8,
int4, int8, each where this machine runs it. The weight-only kernels dequantize each weight for
one row, so at one row they are bound by arithmetic; fbgemm's VNNI product does the work as
integer dot products (alone, with its weights in the cache, 29 and 98 us for the two large
matrices against int4's 61 and 120: `bench/step_kernels.py`). In turns in one run, tunes were
written at 3,595 chars/s with w8a8, 3,066 with int4, 2,481 with int8 and 1,390 with bfloat16
weights (`bench/step_options.py`), and w8a8 costs +0.0002 held-out bits/char against float32's
step, int4 +0.0023 (`bench/path_quality.py`, which also read w8a8's 16-row batches 3 times as
fast as int4's: 3 s against 9). Without VNNI fbgemm sums int8 pairs in 16 bits,
which saturate, so w8a8 is refused there (int4 next). On AVX2 (measured only with the ISA
capped) and on ARM, auto keeps the float path until measured there.

Sampling always runs on the CPU: it steps one character at a time, so a step is a few small
matrix-vector products whose cost on a GPU is launch latency, not arithmetic (not measured
here: no GPU on the machines this was written on). Training uses a CUDA GPU when there is one.
"""

from __future__ import annotations

import os
import platform
import sys
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import NamedTuple

import torch

ENV = "ABC_BOT_PRECISION"
CHOICES = ("auto", "float32", "bfloat16")  # what training takes (`python -m bot.train --precision`)
INT8 = "int8"  # sampling only: training_path reads it as auto
INT4 = "int4"  # sampling only, likewise
W8A8 = "w8a8"  # sampling only, likewise: int8 weights and int8 inputs
WEIGHTS = (W8A8, INT4, INT8)  # the quantized paths, in auto's order of preference


class ComputeError(RuntimeError):
    """A forced precision that this machine cannot run; the message says why and what to set."""


@dataclass(frozen=True)
class ComputePath:
    """Where the LSTM's products run and in which precision, and why that was chosen."""

    device: str  # "cpu" or "cuda"
    dtype: torch.dtype  # torch.bfloat16 or torch.float32: the matrix products' precision
    reason: str  # one line a person can read: what the machine has, and what chose this
    # The step's quantized format (priming still runs in `dtype`): "int8" (a scale per row) or
    # "int4" (a scale and zero per group), weight-only with bfloat16 inputs; "w8a8" (int8 rows
    # times int8 inputs on a fixed scale); or "" for weights in `dtype`.
    weights: str = ""

    def __post_init__(self):
        if self.weights not in ("", *WEIGHTS):
            raise ValueError(f"weights {self.weights!r}: expected '' or one of {', '.join(WEIGHTS)}")

    @property
    def int8(self) -> bool:
        """The step reads int8 weights."""
        return self.weights == INT8

    @property
    def int4(self) -> bool:
        """The step reads 4-bit weights."""
        return self.weights == INT4

    @property
    def w8a8(self) -> bool:
        """The step multiplies int8 weights by int8 inputs."""
        return self.weights == W8A8

    @property
    def bfloat16(self) -> bool:
        """Whether products run in bfloat16 (autocast in training and priming, bf16 weights in steps)."""
        return self.dtype == torch.bfloat16

    @property
    def name(self) -> str:
        """Short form for logs and benches: 'cpu-bfloat16', 'cpu-float32', 'cpu-int8', 'cpu-int4',
        'cpu-w8a8', 'cuda-bfloat16'."""
        return f"{self.device}-" + (self.weights or str(self.dtype).removeprefix("torch."))

    def describe(self) -> str:
        """One line: the path, then why."""
        return f"compute path: {self.name} ({self.reason})"


def _cpu_flags() -> set[str]:
    """The CPU's feature flags from /proc/cpuinfo (x86 'flags', ARM 'Features'); empty elsewhere."""
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return set()
    for line in text.splitlines():
        key, _, value = line.partition(":")
        if key.strip() in ("flags", "Features"):
            return set(value.split())
    return set()


def cpu_model() -> str:
    """The CPU's model name from /proc/cpuinfo (or what platform knows): where a figure was measured."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def cpu_bfloat16() -> tuple[bool, str]:
    """(whether this CPU runs bfloat16 natively for the LSTM, a line saying what was found).

    Both must agree: the CPU has bfloat16 instructions (AVX-512 BF16 or AMX on x86, BF16 on
    ARM), and oneDNN, capped by ONEDNN_MAX_CPU_ISA as it may be, will run bfloat16 (its own
    check, the one its LSTM obeys). ATen's capability is read too, as ATEN_CPU_CAPABILITY caps it.
    """
    capability = torch.backends.cpu.get_cpu_capability()
    flags = _cpu_flags()
    machine = platform.machine().lower()
    if machine in ("x86_64", "amd64"):
        has = bool({"avx512_bf16", "amx_bf16"} & flags) and capability.startswith("AVX512")
    elif machine in ("aarch64", "arm64"):
        has = "bf16" in flags
    else:
        has = False
    onednn = torch.backends.mkldnn.is_available() and bool(
        getattr(torch.ops.mkldnn, "_is_mkldnn_bf16_supported", lambda: False)())
    native = has and onednn
    found = f"{machine} CPU, ATen capability {capability}, " + (
        "native bfloat16" if native else
        "no native bfloat16" + ("" if has else " instructions") + ("" if onednn else " in oneDNN"))
    return native, found


def int8_available() -> bool:
    """Whether torch has the int8 weight-only product the int8 path steps with."""
    return hasattr(torch.ops.aten, "_weight_int8pack_mm")


def int4_available() -> bool:
    """Whether torch has the 4-bit weight-only product (and its packing) the int4 path steps with."""
    return all(hasattr(torch.ops.aten, op) for op in ("_weight_int4pack_mm_for_cpu", "_convert_weight_to_int4pack_for_cpu"))


@lru_cache(maxsize=None)
def w8a8_available() -> tuple[bool, str]:
    """(whether this machine runs the w8a8 product, what is missing where it does not).

    It needs fbgemm's int8 product with fixed input quantization, a torch that still packs a
    weight for it (torch 2.13 marks the quantized tensors its packing takes deprecated: a small
    weight is packed and multiplied here to check), and AVX-512 VNNI: without VNNI fbgemm sums
    pairs of int8 products in 16 bits, which saturate for inputs spread over the whole range.
    ATEN_CPU_CAPABILITY does not cap fbgemm, which reads the CPU itself; so a capped
    capability (the AVX2 simulation) counts as no VNNI."""
    if platform.machine().lower() not in ("x86_64", "amd64"):
        return False, f"{platform.machine()} CPU: fbgemm's int8 product is x86-only"
    if "avx512_vnni" not in _cpu_flags() or not torch.backends.cpu.get_cpu_capability().startswith("AVX512"):
        return False, "no AVX-512 VNNI (fbgemm's int8 sums would saturate)"
    if "fbgemm" not in torch.backends.quantized.supported_engines or not hasattr(
            torch.ops.quantized, "linear_with_input_q_dq_qweight_dq_output_fp32"):
        return False, f"this torch ({torch.__version__}) has no fbgemm int8 linear"
    try:
        from bot.step_maths import W8A8_INPUT_SCALE, W8A8_INPUT_ZERO, w8a8_pack

        out = torch.ops.quantized.linear_with_input_q_dq_qweight_dq_output_fp32(
            torch.full((1, 16), 0.5), W8A8_INPUT_SCALE, W8A8_INPUT_ZERO, w8a8_pack(torch.eye(8, 16)))
    except (RuntimeError, AttributeError) as err:
        return False, f"this torch ({torch.__version__}) cannot pack fbgemm's int8 weights ({err})"
    if not torch.allclose(out, torch.full((1, 8), 0.5), atol=0.01):
        return False, "fbgemm's int8 product gave a wrong answer on a test weight"
    return True, ""


def _available(weights: str) -> tuple[bool, str]:
    """(whether this machine runs the product of a quantized path, what is missing if not)."""
    if weights == W8A8:
        return w8a8_available()
    if weights == INT8:
        return int8_available(), f"this torch ({torch.__version__}) has no aten._weight_int8pack_mm"
    return int4_available(), f"this torch ({torch.__version__}) has no aten._weight_int4pack_mm_for_cpu"


def _setting(value: str | None) -> str:
    value = (value if value is not None else os.environ.get(ENV, "auto")).strip().lower() or "auto"
    if value not in (*CHOICES, *WEIGHTS):
        raise ComputeError(f"{ENV}={value!r}: expected one of {', '.join((*CHOICES, *WEIGHTS))}")
    return value


def weights_chosen_by_auto() -> tuple[str, str]:
    """(the quantized path auto takes here, 'w8a8', 'int4' or 'int8', or '' for none; why): where
    it was measured faster. That is an x86 CPU with native bfloat16 and AVX-512 in ATen (an
    Intel Xeon with AMX: w8a8's tunes 1.17x int4's, int4's 1.24x int8's, int8's 1.8x
    bfloat16's, in turns in one run of `bench/step_options.py`), taking the first of WEIGHTS this
    machine runs; not measured on an AVX2 CPU or on ARM, which keep their float path. A path
    passed over is named in the why, with what it lacks: never a silent fallback."""
    native, _ = cpu_bfloat16()
    x86 = platform.machine().lower() in ("x86_64", "amd64")
    avx512 = torch.backends.cpu.get_cpu_capability().startswith("AVX512")
    passed_over = []
    if x86 and native and avx512:
        for weights in WEIGHTS:
            runs, missing = _available(weights)
            if runs:
                return weights, (f"{weights} weights chosen (the measured-fastest step on x86 AVX-512 "
                                 "with native bfloat16)" + "".join(f"; {p} passed over: {m}" for p, m in passed_over))
            passed_over.append((weights, missing))
    return "", ""


def _float_path(setting: str) -> ComputePath:
    """The CPU's floating-point path for auto, float32 or bfloat16 (what training runs)."""
    native, found = cpu_bfloat16()
    if setting == "float32":
        return ComputePath("cpu", torch.float32, f"{found}; float32 forced by {ENV}")
    if setting == "bfloat16":
        if not native:
            raise ComputeError(f"{ENV}=bfloat16, but this machine cannot run it: {found}. "
                               f"Unset {ENV} (or set it to float32) to run in float32.")
        return ComputePath("cpu", torch.bfloat16, f"{found}; bfloat16 forced by {ENV}")
    if native:
        return ComputePath("cpu", torch.bfloat16, f"{found}: bfloat16 chosen")
    return ComputePath("cpu", torch.float32, f"{found}: float32 chosen")


@lru_cache(maxsize=None)
def _inference(setting: str) -> ComputePath:
    native, found = cpu_bfloat16()
    # Priming (nn.LSTM, full weights) on a weight-only path runs as the float path would:
    # bfloat16 autocast where native, else float32.
    prime = torch.bfloat16 if native else torch.float32
    if setting in WEIGHTS:
        available, missing = _available(setting)
        if not available:
            raise ComputeError(f"{ENV}={setting}, but this machine cannot run it: {missing}. "
                               f"Unset {ENV} to take the path this machine chooses.")
        return ComputePath("cpu", prime, f"{found}; {setting} weights forced by {ENV}", weights=setting)
    if setting == "auto":
        weights, why = weights_chosen_by_auto()
        if weights:
            return ComputePath("cpu", prime, f"{found}: {why}", weights=weights)
    return _float_path(setting)


def inference_path(setting: str | None = None) -> ComputePath:
    """The path sampling takes: CPU; 4-bit or int8 weights where measured faster (`weights_chosen_by_auto`),
    else bfloat16 where native, else float32; `setting` (or the environment's
    ABC_BOT_PRECISION) overrides. ComputeError for a setting this machine refuses."""
    return _inference(_setting(setting))


def training_path(setting: str | None = None) -> ComputePath:
    """The path training takes: a CUDA GPU when there is one (bfloat16 where it supports it),
    else the CPU's floating-point path (bfloat16 where native, else float32; never int8 or int4)."""
    chosen = _setting(setting)
    if chosen in WEIGHTS:
        chosen = "auto"  # int8 and int4 are sampling paths; weights train in the float path auto picks
    if torch.cuda.is_available():
        name = torch.cuda.get_device_name(0)
        bf16 = torch.cuda.is_bf16_supported()
        if chosen == "float32" or (chosen == "auto" and not bf16):
            return ComputePath("cuda", torch.float32, f"CUDA GPU {name}; float32 "
                               + ("forced" if chosen == "float32" else "(no bfloat16 on it)"))
        if chosen == "bfloat16" and not bf16:
            raise ComputeError(f"{ENV}=bfloat16, but the GPU {name} has no bfloat16")
        return ComputePath("cuda", torch.bfloat16, f"CUDA GPU {name}: bfloat16")
    return _float_path(chosen)


STEP_THREAD_ENV = "ABC_BOT_STEP_THREAD"


class StepThread(NamedTuple):
    """Whether sampling may step the LSTM on the step worker (`bot.step_worker`), and why."""

    on: bool
    forced: bool  # ABC_BOT_STEP_THREAD=on: used whatever else runs (auto: only with a core free)
    reason: str


def step_thread(setting: str | None = None) -> StepThread:
    """Whether sampling steps the LSTM on a worker thread beside the composer: see
    `bot.step_worker`. auto: on an x86-64 CPU (the worker's hand-off relies on its store order)
    with 2 or more cores this process may use, and then only while a core is free
    (`bot.step_worker.spare_core`); `ABC_BOT_STEP_THREAD=on` or `off` forces it (on is refused
    off x86-64). ComputeError for another value."""
    value = (setting if setting is not None else os.environ.get(STEP_THREAD_ENV, "auto")).strip().lower() or "auto"
    if value not in ("auto", "on", "off"):
        raise ComputeError(f"{STEP_THREAD_ENV}={value!r}: expected auto, on or off")
    x86 = platform.machine().lower() in ("x86_64", "amd64")
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    if value == "off":
        return StepThread(False, False, f"step thread off: forced by {STEP_THREAD_ENV}")
    if value == "on":
        if not x86:
            raise ComputeError(f"{STEP_THREAD_ENV}=on, but this is {platform.machine()}: the step "
                               f"worker's hand-off is written for x86-64. Unset {STEP_THREAD_ENV}.")
        return StepThread(True, True, f"step thread on: forced by {STEP_THREAD_ENV} ({cores} cores)")
    if not x86:
        return StepThread(False, False, f"step thread off: {platform.machine()}, not x86-64")
    if cores < 2:
        return StepThread(False, False, "step thread off: 1 core (the step and the composer would take turns anyway)")
    return StepThread(True, False, f"step thread on while a core is free: {cores} cores, x86-64 (the step runs "
                                   "while the composer's rules do)")


def main(argv: list[str] | None = None) -> int:
    """`python -m bot.compute`: print the paths this machine takes."""
    try:
        print("inference " + inference_path().describe())
        print("sampling  " + step_thread().reason)
        print("training  " + training_path().describe())
    except ComputeError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
