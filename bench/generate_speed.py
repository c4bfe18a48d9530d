"""How fast does the generator sample? Figures from one run, as ratios against a baseline run beside them.

    python bench/generate_speed.py
    python bench/generate_speed.py --checkpoint /tmp/other/abc_lstm --chars 3000

Prints: characters per second of the generator (bot.generate, bar checks on, retries
counted as time spent), with form control and without (taking turns, same seeds), and of its bare LSTM step; the same for a naive loop (nn.LSTM called
once per character with batch 1, softmax, multinomial) and their ratio; the bound set by
memory bandwidth (weight bytes read per character over the bandwidth of a large-array copy
measured here); the time from a 200-character seed to the first sampled character; and
16 concurrent tunes written by one shared BatchEngine against 16 threads stepping alone and
against the same 16 written one after another. The fused step is also timed on the other
compute paths, in turns with this run's: float32, bfloat16 (on a CPU without native bfloat16,
its emulated step: the path float32 replaces there), int8 and int4 weights, and w8a8 (int8 weights
times int8 inputs, where the CPU has AVX-512 VNNI). The bandwidth-bound line
says what fraction of its bound this run's step reaches.

    ABC_BOT_PRECISION=float32 python bench/generate_speed.py   # the float32 path, forced
    ABC_BOT_PRECISION=int8 python bench/generate_speed.py      # the int8-weight path, forced
    ABC_BOT_PRECISION=int4 python bench/generate_speed.py      # the 4-bit-weight path, forced
    ABC_BOT_PRECISION=w8a8 python bench/generate_speed.py      # int8 weights and inputs, forced

The generator is timed with the step worker as `bot.compute.step_thread` sets it (on an x86-64
CPU with 2 or more cores: the LSTM steps on a thread of its own while the composer's rules run,
`bot.step_worker`) and with ABC_BOT_STEP_THREAD=off, in turns; so is the step with sampling,
on the worker and alone.

Also printed: where a sampled character's time goes (the LSTM step, the draw, each rule's
`banned` and `judge`, and all rules together against the goal of at most 25%), measured by
wrapping the rules in timing proxies for one run; the composer itself has no hook, so this
costs nothing when off.

    python bench/generate_speed.py --compare-ref main --rounds 5

compares the generator with the code of another git revision: the revision is checked out
into a temporary folder (`git archive`), and the two take turns, each round a fresh process
per side on the same checkpoint and seeds, each tune's best of --repeat times kept; it prints
each side's median and best round. Then the composer's own time per character (the LSTM's
answers recorded once and replayed to both, so the step and its noise drop out), and stops.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.machine import describe as machine  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402

from bot.compose.loop import Composer  # noqa: E402
from bot.compose.rules import Rule, rules_for  # noqa: E402
from bot.engine import BatchEngine  # noqa: E402
from bot.generate import Settings, compose, generate  # noqa: E402
from bot.prompt import parse_prompt  # noqa: E402
from bot.compute import (STEP_THREAD_ENV, ComputePath, cpu_bfloat16, int4_available, int8_available,  # noqa: E402
                         step_thread, w8a8_available)
from bot.step_worker import StepWorker, worker_for  # noqa: E402
from bot.stepper import Ask, Stepper, answer, stepper_for  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent

# The seed for the first-character latency: a pasted tune, cut so that what the model is
# primed with (header lines in its form, then the music) is SEED_CHARS long.
SEED_CHARS = 200
SEED_HEAD = "X:1\nT:The Kesh\nM:6/8\nL:1/8\nR:jig\nK:G\n"
SEED_MUSIC = ("|:D|GAG GAB|ABA ABd|edd gdd|edB dBA|GAG GAB|ABA ABd|edd gdd|edB dBG:|\n"
              "|:B|dBd ded|dBd ded|gfg aga|bgf gdB|dBd ded|dBd ded|gfg aga|bgf g2:|\n"
              "|:d|gfg agf|gfg aga|bgf gdB|dBd ded|gfg agf|gfg aga|bgf gdB|AGF G2:|\n")


def seed_prompt(vocab: str):
    """The pasted-tune prompt whose prime is SEED_CHARS characters."""
    for cut in range(len(SEED_MUSIC)):
        prompt = parse_prompt(SEED_HEAD + SEED_MUSIC[:cut], vocab)
        if len(prompt.prime) >= SEED_CHARS:
            return prompt
    raise ValueError("seed music too short")


# Rounds the naive loop and the fused steps take turns for (`main`).
ROUNDS = 5


def naive_chars_per_second(model, vocab_size: int, chars: int) -> float:
    """nn.LSTM once per character, batch 1: softmax and multinomial on the logits."""
    token = torch.zeros(1, 1, dtype=torch.long)
    state = None
    with torch.no_grad():
        for _ in range(20):  # warm-up
            logits, state = model(token, state)
        start = time.perf_counter()
        for _ in range(chars):
            logits, state = model(token, state)
            probs = torch.softmax(logits[0, -1], dim=-1)
            token = torch.multinomial(probs, 1).view(1, 1)
        return chars / (time.perf_counter() - start)


def step_chars_per_second(stepper, chars: int, rng: np.random.Generator) -> float:
    """The fused step alone, batch 1, with the generator's numpy sampling."""
    state = stepper.zero(1)
    token = 0
    for _ in range(20):
        logits, state = stepper.step(torch.tensor([token]), state)
    start = time.perf_counter()
    for _ in range(chars):
        logits, state = stepper.step(torch.tensor([token]), state)
        z = logits[0].numpy().astype(np.float64)
        p = np.exp(z - z.max())
        cdf = np.cumsum(p)
        token = int(np.searchsorted(cdf, rng.random() * cdf[-1], side="right"))
        token = min(token, stepper.vocab_size - 1)
    return chars / (time.perf_counter() - start)


def generator_chars_per_second(loaded, tunes: int, naive_chars: int) -> tuple[dict[str, tuple[float, int]], float]:
    """({mode: (tune characters per second of bot.generate, retries counted as time spent;
    characters made)}, the naive loop's chars/s timed in turns with them). Modes: "form" (form
    control, the step worker as `bot.compute.step_thread` sets it), "form, no worker" (the
    same with ABC_BOT_STEP_THREAD=off) and "form off".

    The modes and a `naive_chars` run of the naive loop take turns tune by tune, so a drift
    in the machine's speed falls on all of them: on this shared machine the generator alone
    read 973 and 1,948 chars/s in two runs a minute apart.
    """
    generate("a jig in G", Settings(seed=0, bars=2), loaded)  # warm-up: masks and caches are built once
    modes = {"form": (True, None), "form, no worker": (True, "off"), "form off": (False, None)}
    made = dict.fromkeys(modes, 0)
    seconds = dict.fromkeys(modes, 0.0)
    naive_seconds = 0.0
    prompts = ("a reel in D", "a jig in G", "a hornpipe in A", "a waltz in D")
    setting = os.environ.get(STEP_THREAD_ENV)
    try:
        for seed in range(tunes):
            naive_seconds += naive_chars / naive_chars_per_second(loaded.model, loaded.model.config.vocab_size, naive_chars)
            for mode, (form, thread) in modes.items():
                _set_env(STEP_THREAD_ENV, thread if thread is not None else setting)
                settings = Settings(seed=seed, bars=32, form=form)
                start = time.perf_counter()
                tune = generate(prompts[seed % len(prompts)], settings, loaded)
                seconds[mode] += time.perf_counter() - start
                made[mode] += len(tune.abc) - tune.new_from
    finally:
        _set_env(STEP_THREAD_ENV, setting)
    return {mode: (made[mode] / seconds[mode], made[mode]) for mode in modes}, tunes * naive_chars / naive_seconds


def _set_env(name: str, value: str | None) -> None:
    if value is None:
        os.environ.pop(name, None)
    else:
        os.environ[name] = value


def worker_step_chars_per_second(stepper, chars: int, rng: np.random.Generator) -> float:
    """The step on the step worker, batch 1, with the generator's numpy sampling in this thread
    (each step going on from the worker's own outputs, as a tune's steps mostly do)."""
    worker = StepWorker(stepper)
    if not worker.claim():
        raise RuntimeError("a new worker is free")
    try:
        state = stepper.zero(1)
        token = 0
        for i in range(chars + 20):
            if i == 20:
                start = time.perf_counter()
            logits, state = worker.submit([token], [state]).result(0)
            z = logits.numpy().astype(np.float64)
            p = np.exp(z - z.max())
            cdf = np.cumsum(p)
            token = int(np.searchsorted(cdf, rng.random() * cdf[-1], side="right"))
            token = min(token, stepper.vocab_size - 1)
        return chars / (time.perf_counter() - start)
    finally:
        worker.release()


def worker_breakdown(loaded, tunes: int) -> tuple[int, float, float] | None:
    """(characters sampled, seconds in all, seconds the composer waited for the worker's steps)
    over `tunes` tunes of the generator set with the step worker; None where it is off."""
    if not step_thread().on:
        return None
    waited = [0.0]
    finish = StepWorker.finish

    def timed_finish(self, finish=finish):
        start = time.perf_counter()
        try:
            return finish(self)
        finally:
            waited[0] += time.perf_counter() - start

    StepWorker.finish = timed_finish
    try:
        worker = worker_for(stepper_for(loaded.model))
        before, total = worker.steps, 0.0
        prompts = ("a reel in D", "a jig in G", "a hornpipe in A", "a waltz in D")
        for seed in range(tunes):
            start = time.perf_counter()
            generate(prompts[seed % len(prompts)], Settings(seed=seed, bars=32), loaded)
            total += time.perf_counter() - start
        return worker.steps - before, total, waited[0]
    finally:
        StepWorker.finish = finish


class TimedRule:
    """A rule wrapped to time its answers (the bench's breakdown); behaves as the rule does."""

    def __init__(self, rule: Rule):
        self.rule, self.phase, self.needs_form, self.fresh_mask = rule, rule.phase, rule.needs_form, rule.fresh_mask
        self.seconds: dict[str, float] = defaultdict(float)

    def overrides(self, name: str) -> bool:
        return self.rule.overrides(name)

    def _timed(self, name: str, *args):
        start = time.perf_counter()
        try:
            return getattr(self.rule, name)(*args)
        finally:
            self.seconds[name] += time.perf_counter() - start

    def banned(self, state):
        return self._timed("banned", state)

    def judge(self, state, bar, verdict):
        return self._timed("judge", state, bar, verdict)

    def lost(self, state):
        return self._timed("lost", state)

    def redraw(self, state, ch, judge):
        return self._timed("redraw", state, ch, judge)


def breakdown(loaded, tunes: int) -> tuple[int, dict[str, float]]:
    """(characters sampled, seconds by part) over `tunes` tunes of the generator_chars_per_second set,
    form on: the LSTM step, the draw, each rule's answers, and the rest of the loop."""
    timed = tuple(TimedRule(rule) for rule in rules_for(loaded.vocab))
    stepper = stepper_for(loaded.model)
    parts: dict[str, float] = defaultdict(float)
    chars = 0
    prompts = ("a reel in D", "a jig in G", "a hornpipe in A", "a waltz in D")
    for seed in range(tunes):
        prompt = parse_prompt(prompts[seed % len(prompts)], loaded.vocab)
        composer = Composer(loaded, prompt, Settings(seed=seed, bars=32), seed, None, rules=timed)
        draw = composer.seq.draw

        def timed_draw(banned=None, draw=draw):
            start = time.perf_counter()
            try:
                return draw(banned)
            finally:
                parts["draw"] += time.perf_counter() - start

        composer.seq.draw = timed_draw
        coroutine, reply = composer._run(), None
        start = time.perf_counter()
        while True:
            try:
                item = coroutine.send(reply)
            except StopIteration:
                break
            if isinstance(item, Ask):
                step = time.perf_counter()
                reply = answer(stepper, item)
                parts["LSTM steps (prime, headers included)"] += time.perf_counter() - step
            else:
                reply = None
        parts["total"] += time.perf_counter() - start
        chars += composer.seq.steps
    for rule in timed:
        for name, seconds in rule.seconds.items():
            parts[f"{type(rule.rule).__name__}.{name}"] += seconds
    return chars, parts


def print_breakdown(loaded, tunes: int) -> None:
    """Microseconds per sampled character, by part (rules' redraw includes the judges it asks)."""
    chars, parts = breakdown(loaded, tunes)
    total = parts.pop("total")
    rules = sum(v for k, v in parts.items() if "." in k and not k.endswith(".redraw"))
    rest = total - parts["LSTM steps (prime, headers included)"] - parts["draw"] - rules
    print(f"time per sampled character ({chars} characters, {tunes} tunes, form on, retries included): "
          f"{total / chars * 1e6:.1f} us")
    for name, seconds in sorted(parts.items(), key=lambda kv: -kv[1]):
        print(f"  {name:32s} {seconds / chars * 1e6:7.2f} us  {100 * seconds / total:5.1f}%")
    print(f"  {'the loop (reading the bar, rest)':32s} {rest / chars * 1e6:7.2f} us  {100 * rest / total:5.1f}%")
    print(f"  {'all rules together':32s} {rules / chars * 1e6:7.2f} us  {100 * rules / total:5.1f}%  (goal <= 25%)")


# One side of --compare-ref: the generator's chars/s in a fresh process, importing `bot` from
# the tree in argv[1] (so the same code runs on old and new), on generator_chars_per_second's
# tunes; each tune is timed argv[4] times and its best time kept, as other work on a shared
# machine only ever slows a run down.
_RATE = """
import json, sys, time
sys.path.insert(0, sys.argv[1])
import torch
torch.set_num_threads(1)
from bot.checkpoint import load
from bot.generate import Settings, generate
loaded = load(sys.argv[2])
generate("a jig in G", Settings(seed=0, bars=2), loaded)
prompts = ("a reel in D", "a jig in G", "a hornpipe in A", "a waltz in D")
made, seconds = 0, 0.0
for seed in range(int(sys.argv[3])):
    for form in (True, False):
        best = float("inf")
        for _ in range(int(sys.argv[4])):
            start = time.perf_counter()
            tune = generate(prompts[seed % len(prompts)], Settings(seed=seed, bars=32, form=form), loaded)
            best = min(best, time.perf_counter() - start)
        seconds += best
        made += len(tune.abc) - tune.new_from
print(json.dumps({"rate": made / seconds, "chars": made}))
"""


def compare_ref(ref: str, stem: str, tunes: int, rounds: int, repeat: int) -> None:
    """The generator at git revision `ref` and in this tree, taking turns, one process per side and round."""
    with tempfile.TemporaryDirectory() as tmp:
        archive = subprocess.run(["git", "-C", str(ROOT), "archive", ref], check=True, capture_output=True).stdout
        subprocess.run(["tar", "-x", "-C", tmp], input=archive, check=True)
        sides = {f"{ref} (old)": tmp, "this tree (new)": str(ROOT)}
        rates: dict[str, list[float]] = {name: [] for name in sides}
        made: dict[str, int] = {}
        for i in range(rounds):
            order = list(sides) if i % 2 == 0 else list(sides)[::-1]  # who goes first alternates
            for name in order:
                out = subprocess.run([sys.executable, "-c", _RATE, sides[name], stem, str(tunes), str(repeat)],
                                     cwd=sides[name], check=True, capture_output=True, text=True).stdout
                result = json.loads(out.strip().splitlines()[-1])
                rates[name].append(result["rate"])
                made[name] = result["chars"]
                print(f"round {i + 1} {name:20s} {result['rate']:8.0f} chars/s", flush=True)
    chars = set(made.values())
    print(f"same tunes on both sides: {'yes' if len(chars) == 1 else 'NO'} ({', '.join(map(str, sorted(chars)))} chars)")
    for name, values in rates.items():
        print(f"generator, form on and off, {name:20s} median {statistics.median(values):6.0f} chars/s, "
              f"best round {max(values):6.0f} ({rounds} rounds of {tunes} tunes each way, best of {repeat} per tune)")
    (old, new), (old_best, new_best) = ([statistics.median(v) for v in rates.values()],
                                        [max(v) for v in rates.values()])
    print(f"new / old: {new / old:.3f} by medians, {new_best / old_best:.3f} by best rounds")


def compare_loop(ref: str, loaded, tunes: int, rounds: int) -> None:
    """The composer's own time per character (everything but the LSTM step) at `ref` and here.

    The LSTM's answers are recorded once and replayed to both, so the step's cost and its noise
    drop out. The old `bot/generate.py` is loaded beside this tree's modules: right for a
    revision that differs from this one in the composer only.
    """
    import importlib.util

    from bot import generate as new

    source = subprocess.run(["git", "-C", str(ROOT), "show", f"{ref}:bot/generate.py"], check=True,
                            capture_output=True, text=True).stdout
    with tempfile.NamedTemporaryFile("w", suffix=".py", delete=False) as file:
        file.write(source)
    spec = importlib.util.spec_from_file_location("_ref_generate", file.name)
    old = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = old  # dataclasses look their module up
    spec.loader.exec_module(old)
    Path(file.name).unlink()
    stepper = stepper_for(loaded.model)
    prompts = ("a reel in D", "a jig in G", "a hornpipe in A", "a waltz in D")
    cases = [(prompts[seed % len(prompts)], seed, form) for seed in range(tunes) for form in (True, False)]

    def drive(module, case, answers=None):
        text, seed, form = case
        composer = module._Composer(loaded, parse_prompt(text, loaded.vocab), module.Settings(seed=seed, bars=32, form=form),
                                    seed, None)
        coroutine, reply, made, last = composer._run(), None, [], None
        while True:
            try:
                item = coroutine.send(reply)
            except StopIteration:
                return made, last
            if isinstance(item, Ask):
                reply = answer(stepper, item) if answers is None else answers[len(made)]
                made.append(reply)
            else:
                reply, last = None, item

    recorded = [drive(new, case)[0] for case in cases]
    same = all(drive(old, c, r)[1].abc == drive(new, c, r)[1].abc for c, r in zip(cases, recorded))
    seconds: dict[str, list[float]] = {"old": [], "new": []}
    for i in range(rounds):
        for name, module in ((("old", old), ("new", new)) if i % 2 == 0 else (("new", new), ("old", old))):
            start = time.perf_counter()
            for case, answers in zip(cases, recorded):
                drive(module, case, answers)
            seconds[name].append(time.perf_counter() - start)
    steps = sum(len(r) for r in recorded)
    old_us, new_us = (min(seconds[n]) / steps * 1e6 for n in ("old", "new"))
    print(f"composer's own time per LSTM step, answers replayed ({steps} steps, {len(cases)} tunes, best of {rounds}; "
          f"same tunes: {'yes' if same else 'NO'}): {ref} {old_us:.1f} us, this tree {new_us:.1f} us "
          f"(new / old {new_us / old_us:.3f})")

def copy_bandwidth() -> float:
    """Bytes per second of a large-array copy (read + write), best of five."""
    source = np.ones(64 * 2**20 // 4, dtype=np.float32)  # 64 MiB, far past the caches
    target = np.empty_like(source)
    best = 0.0
    for _ in range(5):
        start = time.perf_counter()
        np.copyto(target, source)
        best = max(best, 2 * source.nbytes / (time.perf_counter() - start))
    return best


def first_char_ms(loaded, repeats: int = 7) -> tuple[float, float, int]:
    """(ms from a 200-character seed to the first sampled character, ms to the first streamed bar, seed length)."""
    stepper = stepper_for(loaded.model)
    prompt = seed_prompt(loaded.vocab)
    seed_chars = len(prompt.prime)
    first, bar = [], []
    for i in range(repeats):
        start = time.perf_counter()
        # What compose does before its first character: prime with the seed, then one draw.
        logits, state = stepper.prime(loaded.encode("\n\n" + prompt.prime))
        z = logits.numpy().astype(np.float64)
        int(np.argmax(z))
        first.append((time.perf_counter() - start) * 1000)
        start = time.perf_counter()
        stream = compose(prompt, Settings(seed=i, bars=4), loaded)
        next(stream)  # headers and the pasted music
        next(stream)  # the first new bar
        bar.append((time.perf_counter() - start) * 1000)
        stream.close()
    return statistics.median(first), statistics.median(bar), seed_chars


def concurrent(loaded, users: int, engine: BatchEngine | None, threaded: bool = True) -> float:
    """Total tune characters per second of `users` threads each writing one tune (or of one
    thread writing them one after another)."""
    made = [0] * users

    def work(i: int) -> None:
        tune = generate("a jig in G", Settings(seed=100 + i, bars=16), loaded, engine=engine)
        made[i] = len(tune.abc) - tune.new_from

    if not threaded:
        start = time.perf_counter()
        for i in range(users):
            work(i)
        return sum(made) / (time.perf_counter() - start)
    threads = [threading.Thread(target=work, args=(i,)) for i in range(users)]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sum(made) / (time.perf_counter() - start)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--checkpoint", default=None, help="checkpoint stem (default: the shipped one)")
    parser.add_argument("--chars", type=int, default=2000, help="characters per timed loop (default 2000)")
    parser.add_argument("--tunes", type=int, default=8, help="tunes for the generator's rate (default 8)")
    parser.add_argument("--users", type=int, default=16, help="concurrent tunes for the engine test (default 16)")
    parser.add_argument("--threads", type=int, default=1, help="torch threads (default 1, as the bot runs)")
    parser.add_argument("--compare-ref", default=None,
                        help="git revision whose generator to time in turns with this tree's (then stop)")
    parser.add_argument("--rounds", type=int, default=5, help="turns each side takes with --compare-ref (default 5)")
    parser.add_argument("--repeat", type=int, default=3,
                        help="with --compare-ref: times each tune is written per turn, its best kept (default 3)")
    args = parser.parse_args(argv)
    print(machine(), flush=True)

    from bot.checkpoint import DEFAULT_CHECKPOINT, load

    torch.set_num_threads(args.threads)
    stem = args.checkpoint or str(DEFAULT_CHECKPOINT)
    if args.compare_ref:
        compare_ref(args.compare_ref, str(Path(stem).resolve()), args.tunes, args.rounds, args.repeat)
        compare_loop(args.compare_ref, load(stem), args.tunes, 2 * args.rounds)
        return 0
    loaded = load(stem)
    config = loaded.model.config
    print(f"checkpoint {stem}: steps {loaded.card.get('steps')}, {config.layers}x{config.hidden} LSTM, "
          f"vocabulary {config.vocab_size}; torch threads {torch.get_num_threads()}")
    stepper = stepper_for(loaded.model)

    # The other compute paths' steps (float32, bfloat16 (emulated where not native), int8 and
    # int4 weights) on the same weights, timed in turns with this run's.
    others = {}
    available = {"int8": int8_available(), "int4": int4_available(), "w8a8": w8a8_available()[0]}
    for name, other_path in (("float32", ComputePath("cpu", torch.float32, "bench")),
                             ("bfloat16", ComputePath("cpu", torch.bfloat16, "bench")),
                             ("int8", ComputePath("cpu", stepper.path.dtype, "bench", weights="int8")),
                             ("int4", ComputePath("cpu", stepper.path.dtype, "bench", weights="int4")),
                             ("w8a8", ComputePath("cpu", stepper.path.dtype, "bench", weights="w8a8"))):
        if other_path.name != stepper.path.name and available.get(name, True):
            others[other_path.name] = Stepper(loaded.model, other_path)
    # The loops take turns for ROUNDS rounds and each keeps its median: timed once, the
    # naive loop alone read 327 to 471 chars/s in one session, and every ratio with it.
    naives, steps, worker_steps = [], [], []
    other_rates: dict[str, list[float]] = {name: [] for name in others}
    mode = step_thread()
    threaded, thread_line = mode.on, mode.reason
    print(f"sampling: {thread_line}", flush=True)
    for _ in range(ROUNDS):
        naives.append(naive_chars_per_second(loaded.model, config.vocab_size, args.chars))
        steps.append(step_chars_per_second(stepper, args.chars, np.random.default_rng(0)))
        if threaded:
            worker_steps.append(worker_step_chars_per_second(stepper, args.chars, np.random.default_rng(0)))
        for name, other in others.items():
            other_rates[name].append(step_chars_per_second(other, args.chars, np.random.default_rng(0)))
    naive, step = statistics.median(naives), statistics.median(steps)
    rates, gen_naive = generator_chars_per_second(loaded, args.tunes, args.chars // 4)
    (gen, made), (unthreaded, _), (plain, plain_made) = rates["form"], rates["form, no worker"], rates["form off"]
    bandwidth = copy_bandwidth()
    fp32_bytes = sum(p.numel() * 4 for n, p in loaded.model.named_parameters() if not n.startswith("embed"))
    first, first_bar, seed_chars = first_char_ms(loaded)
    print(f"naive nn.LSTM loop (batch 1)        {naive:10.0f} chars/s   (median of {ROUNDS} rounds, "
          f"{min(naives):.0f} to {max(naives):.0f}, taking turns with both fused steps)")
    print(f"fused step + sampling (batch 1)     {step:10.0f} chars/s   {step / naive:5.1f}x naive  ({stepper.path.name})")
    for name, values in other_rates.items():
        other_step = statistics.median(values)
        emulated = "" if name != "cpu-bfloat16" or cpu_bfloat16()[0] else "; emulated: no native bfloat16 here"
        print(f"the same on path {name:18s} {other_step:10.0f} chars/s   {other_step / naive:5.1f}x naive  "
              f"({others[name].bytes_per_step / 1e6:.1f} MB of weights{emulated}, "
              f"{other_step / (bandwidth / others[name].bytes_per_step):.2f} of its bandwidth bound); "
              f"this run's path at {step / other_step:.2f}x it")
    print(f"generator, bar checks, form control {gen:10.0f} chars/s   {gen / gen_naive:5.1f}x naive  ({made} chars in {args.tunes} tunes; "
          f"the naive loop at {gen_naive:.0f} chars/s in turns with them; step worker {'on' if threaded else 'off'})")
    print(f"the same, step worker off           {unthreaded:10.0f} chars/s   {unthreaded / gen_naive:5.1f}x naive  "
          f"(the worker's gain: {gen / unthreaded:.2f}x; the same tunes, byte for byte)")
    print(f"generator, bar checks, form off     {plain:10.0f} chars/s   {plain / gen_naive:5.1f}x naive  ({plain_made} chars; "
          f"form control runs at {gen / plain:.3f} of this)")
    print(f"copy bandwidth                      {bandwidth / 1e9:10.2f} GB/s")
    print(f"weights read per char: fused {stepper.path.name} {stepper.bytes_per_step / 1e6:.1f} MB, nn.LSTM fp32 {fp32_bytes / 1e6:.1f} MB")
    bound = bandwidth / stepper.bytes_per_step
    print(f"bandwidth bound (fused)             {bound:10.0f} chars/s   "
          f"(weights that fit in the caches can beat it); the fused step at {step / bound:.2f} of it (goal >= 0.8)")
    if threaded:
        worker_step = statistics.median(worker_steps)
        print(f"the step on the step worker + sampling {worker_step:7.0f} chars/s   {worker_step / naive:5.1f}x naive  "
              f"(median of {ROUNDS} rounds in turns with the others; its first-layer recurrent product runs while "
              f"the character is drawn): {worker_step / bound:.2f} of the bound (goal >= 0.8)")
    print(f"bandwidth bound (nn.LSTM, fp32)     {bandwidth / fp32_bytes:10.0f} chars/s")
    print(f"first character after a {seed_chars}-char seed {first:6.1f} ms (prime + first draw); "
          f"first streamed bar {first_bar:.1f} ms")
    print_breakdown(loaded, args.tunes)
    worker_parts = worker_breakdown(loaded, args.tunes)
    if worker_parts is not None:
        steps_made, total, waited = worker_parts
        print(f"with the step worker: {total / steps_made * 1e6:.1f} us per sampled character ({steps_made} steps), of "
              f"which the composer waited for the step {waited / steps_made * 1e6:.1f} us ({100 * waited / total:.1f}%); "
              "its rules, draw and loop ran the rest, the rules while the worker stepped")

    serial = concurrent(loaded, args.users, None, threaded=False)
    alone = concurrent(loaded, args.users, None)
    with BatchEngine(stepper) as engine:
        shared = concurrent(loaded, args.users, engine)
        batch = engine.rows / max(1, engine.steps)
    print(f"{args.users} tunes one after another, one thread  {serial:8.0f} chars/s")
    print(f"{args.users} concurrent tunes, each stepping alone {alone:8.0f} chars/s in all")
    print(f"{args.users} concurrent tunes, one BatchEngine     {shared:8.0f} chars/s in all   "
          f"{shared / alone:5.1f}x threads alone, {shared / serial:4.1f}x one after another  (mean batch {batch:.1f})")
    goals = {"generator >= 5x naive": gen / gen_naive >= 5, "<= 50 ms to first character": first <= 50,
             "form control >= 0.85 of form off": gen / plain >= 0.85, "BatchEngine >= 3x threads alone": shared / alone >= 3,
             "step >= 0.8 of its bandwidth bound": max(step, statistics.median(worker_steps) if threaded else 0) / bound >= 0.8}
    print(f"goals on {stepper.path.name}: " + "; ".join(f"{name} {'met' if ok else 'NOT met'}" for name, ok in goals.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
