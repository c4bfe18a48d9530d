"""The golden tunes: a fixed set of 200+ generations whose outputs must not change by accident.

    python bench/golden.py            # check: list the cases whose output differs from the stored hashes
    python bench/golden.py --write    # store this code's outputs as the golden ones

Only rerun `--write` when the outputs change on purpose (a new rule, a retrained checkpoint, a
prompt layer that reads pastes differently), and say so in the commit. A refactor of the
composer must leave every hash as it is: `tests/test_golden_tunes.py` checks them all.

Each case is a prompt (words, or a pasted tune to continue) and Settings (seed, form on or off,
bar checks, temperature, top-k, bars); its hash covers what a person sees of the last Update:
the ABC, the notices, the bar count, the form line, the style and where new music starts.
The hashes are stored per compute path (`bot.compute`, e.g. cpu-bfloat16, cpu-float32): the
two paths' products differ in their last bits and so, now and then, in a drawn character. To
store the float32 path's hashes on a machine with native bfloat16, run under
`ABC_BOT_PRECISION=float32` (or the AVX2 simulation: ONEDNN_MAX_CPU_ISA=AVX2
ATEN_CPU_CAPABILITY=avx2).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

GOLDEN = ROOT / "tests" / "data" / "golden_tunes.json"

# Pasted tunes to continue, short inline fixtures of the shapes people paste.
PASTES = {
    # A whole 8-bar A part, repeated: the continuation writes the B part.
    "a_part": "X:1\nT:A Part\nM:6/8\nL:1/8\nR:jig\nK:D\n"
              "|:A|dAF DFA|dAF A2d|cBA GFE|FGA Bcd|dAF DFA|dAF A2d|cBA GFE|D3 D2:|\n",
    # Four bars cut off mid-part: the part is finished first.
    "cut": "X:1\nT:Cut\nM:4/4\nL:1/8\nR:reel\nK:G\n|:GABc dBGB|cABG AGEG|D2GB dBGB|cAFA GABc|\n",
    # A paste that opens on a pickup.
    "pickup": "X:1\nT:Pickup\nM:3/4\nL:1/8\nR:waltz\nK:G\nD2|G2B2d2|g4 fe|d2B2G2|A4 D2|\n",
    # Bare bars with no headers at all.
    "bare": "|:d2fd AdFA|dfed cdeg|fdec dBAF|GBAG FDD2:|\n",
    # A hornpipe in a minor key, two bars, ending on an open bar.
    "minor": "X:1\nM:4/4\nL:1/8\nR:hornpipe\nK:Em\nEFGA B2e2|dBAG F2D2|E2",
}


@dataclass(frozen=True)
class Case:
    """One generation: a prompt (words, or a PASTES key after 'paste:') and its Settings."""

    prompt: str
    seed: int
    bars: int = 8
    form: bool = True
    bar_check: bool = True
    temperature: float = 1.0
    top_k: int = 0
    max_chars: int = 400
    meter: str | None = None
    key: str | None = None

    @property
    def name(self) -> str:
        """A short readable label for reports."""
        return (f"{self.prompt!r} seed={self.seed} bars={self.bars} form={self.form} check={self.bar_check} "
                f"T={self.temperature} k={self.top_k} meter={self.meter} key={self.key}")


def cases() -> list[Case]:
    """The fixed case list (its order and contents are part of the golden file)."""
    words = ["a jig in D", "a reel in G", "a hornpipe", "a polka in A", "a slip jig",
             "a waltz in D", "a slow air in E minor", "a march in G", "a strathspey in A", ""]
    out: list[Case] = []
    for i, prompt in enumerate(words):
        for seed in range(6):
            out.append(Case(prompt, seed=seed, bars=16 if seed % 2 else 8))  # form on: one part, or whole forms
            out.append(Case(prompt, seed=100 + seed, form=False))  # form off
        out.append(Case(prompt, seed=7, bar_check=False, form=False))
        out.append(Case(prompt, seed=8, temperature=0.7))
        out.append(Case(prompt, seed=9, temperature=1.4, form=i % 2 == 0))
        out.append(Case(prompt, seed=10, top_k=5))
        out.append(Case(prompt, seed=11, bars=12, form=i % 2 == 1))
    # The page's pickers on a text prompt.
    for seed in range(4):
        out.append(Case("a tune", seed=seed, meter="9/8", key="Ador"))
        out.append(Case("a tune", seed=seed, meter="2/4", key="Bb", form=False))
    # Continuations of pasted tunes.
    for name in PASTES:
        for seed in range(4):
            out.append(Case(f"paste:{name}", seed=seed))
            out.append(Case(f"paste:{name}", seed=50 + seed, form=False, bars=4))
        out.append(Case(f"paste:{name}", seed=9, bar_check=False, form=False, bars=4))
        out.append(Case(f"paste:{name}", seed=10, bars=16, temperature=0.8))
    return out


def prompt_text(case: Case) -> str:
    """The text typed or pasted for a case."""
    return PASTES[case.prompt[6:]] if case.prompt.startswith("paste:") else case.prompt


def digest(update) -> str:
    """sha256 of what a person sees of a finished tune."""
    seen = {"abc": update.abc, "notices": update.notices, "bars": update.bars, "form": update.form,
            "style": update.style, "new_from": update.new_from}
    return hashlib.sha256(json.dumps(seen, sort_keys=True).encode()).hexdigest()


def run_case(case: Case, loaded) -> str:
    """Generate one case and hash it."""
    from bot.generate import Settings, generate

    settings = Settings(temperature=case.temperature, top_k=case.top_k, bars=case.bars, max_chars=case.max_chars,
                        seed=case.seed, bar_check=case.bar_check, form=case.form)
    return digest(generate(prompt_text(case), settings, loaded, meter=case.meter, key=case.key))


def path_name() -> str:
    """The compute path these hashes belong to (`bot.compute`)."""
    from bot.compute import inference_path

    return inference_path().name


# Text stepped through the LSTM one character at a time for the kernel's fingerprint.
_FINGERPRINT_TEXT = "\n\nM:6/8\nL:1/8\nK:D\n|:A|dAF DFA|dAF A2d|cBA GFE|"


def kernel_fingerprint(loaded) -> str:
    """sha256 of the logits this machine's step gives for a fixed text, one character at a time,
    and of what priming the same text gives.

    Two CPUs on one compute path may round their products differently (AMX against AVX-512,
    oneDNN's kernels per ISA), and a weight-only path primes in bfloat16 only where the CPU has
    it natively (its 4-bit steps gave the same bits on AVX2 as here, its priming did not): the
    tunes' hashes hold only where this fingerprint is the same.
    """
    import torch

    from bot.stepper import stepper_for

    stepper = stepper_for(loaded.model)
    ids = loaded.encode(_FINGERPRINT_TEXT)
    state, out = stepper.zero(1), hashlib.sha256()
    for char_id in ids:
        logits, state = stepper.step(torch.tensor([char_id]), state)
        out.update(logits.float().numpy().tobytes())
    logits, state = stepper.prime(ids)
    for tensor in (logits, state.h, state.c):
        out.update(tensor.float().numpy().tobytes())
    return out.hexdigest()


def compute(loaded, only: list[int] | None = None) -> list[str]:
    """Hashes of every case (or of the indexes in `only`), in order."""
    all_cases = cases()
    picked = range(len(all_cases)) if only is None else only
    return [run_case(all_cases[i], loaded) for i in picked]


def compare(stored: dict, loaded) -> list[str]:
    """Names of the cases whose hash differs from the stored ones on this compute path."""
    path = path_name()
    if path not in stored["paths"]:
        raise KeyError(f"no golden hashes for compute path {path} in {GOLDEN}; run bench/golden.py --write on it")
    expected = stored["paths"][path]
    listed = [Case(**{k: v for k, v in c.items()}) for c in stored["cases"]]
    if listed != cases():
        raise ValueError(f"the case list in {GOLDEN} differs from bench/golden.py's: rerun --write")
    got = compute(loaded)
    return [f"#{i} {c.name}" for i, (c, a, b) in enumerate(zip(listed, got, expected)) if a != b]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--write", action="store_true", help="store this code's hashes for this compute path")
    parser.add_argument("--threads", type=int, default=1, help="torch threads (default 1, as the bot runs)")
    args = parser.parse_args(argv)
    import torch

    from bot.checkpoint import load_cached

    torch.set_num_threads(args.threads)
    loaded = load_cached()
    path = path_name()
    start = time.perf_counter()
    if args.write:
        stored = json.loads(GOLDEN.read_text()) if GOLDEN.exists() else {"paths": {}}
        stored["cases"] = [asdict(c) for c in cases()]
        stored["paths"][path] = compute(loaded)
        stored.setdefault("fingerprints", {})[path] = kernel_fingerprint(loaded)
        GOLDEN.parent.mkdir(parents=True, exist_ok=True)
        GOLDEN.write_text(json.dumps(stored, indent=1) + "\n")
        print(f"wrote {len(stored['cases'])} hashes for {path} to {GOLDEN} in {time.perf_counter() - start:.1f} s")
        return 0
    differ = compare(json.loads(GOLDEN.read_text()), loaded)
    print(f"{len(cases())} cases on {path} in {time.perf_counter() - start:.1f} s: "
          + ("all identical" if not differ else f"{len(differ)} differ"))
    for name in differ:
        print("  ", name)
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main())
