"""What else might make sampling faster on this CPU: each option timed in turns with the path it would replace.

    python bench/step_options.py              # about 2 minutes, run alone
    python bench/step_options.py --tunes 24   # more tunes for the weight formats' race

Prints, after the CPU model:
* **the weight formats in the generator**: tunes written (form on, 32 bars, the four dance
  prompts) with the step's weights in int8 and in 4 bits, as w8a8 (int8 weights times int8
  inputs, where the CPU has AVX-512 VNNI) and in bfloat16 where native, taking turns tune by
  tune; chars/s of each. This is how `bot.compute` chose auto's path.
* **where a step's time goes**: the step's three products alone, one after another; the step
  with its products taken out (what the cell's element-wise work and the dispatch cost); the
  whole step in a tight loop; and the same step inside the generator, where the composer runs
  between steps.
* **two torch threads**: the step with one and two threads, on an idle machine and while
  another process keeps one core busy (as a render does); the naive nn.LSTM loop likewise,
  because a thread count applies to both sides of `bench/generate_speed.py`'s ratio.
* **the step on a worker thread**: a tune's next rules run while the step computes the logits
  they do not need. Timed with Python work of the rules' size between hand-offs, against the
  same work done one after the other: on a plain thread handed each character by queue, and on
  the step worker the generator uses (`bot.step_worker`: a flag both sides poll, the step
  scripted so that it runs without the GIL).
* **the step in a worker process** (no GIL between them), handed each character through a
  pipe, and through shared memory that both sides poll (two cores kept busy), with the same
  Python work between hand-offs.
"""

from __future__ import annotations

import argparse
import multiprocessing
import statistics
import subprocess
import sys
import threading
import time
from multiprocessing import shared_memory
from pathlib import Path
from queue import SimpleQueue
from typing import List

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402
import torch  # noqa: E402
from torch import Tensor  # noqa: E402

from bench.generate_speed import naive_chars_per_second  # noqa: E402
from bench.machine import describe as machine  # noqa: E402
from bot.compute import ComputePath, cpu_bfloat16, int4_available, int8_available, w8a8_available  # noqa: E402
from bot.step_maths import StepMaths, int8_product  # noqa: E402
from bot.step_worker import StepWorker  # noqa: E402
from bot.stepper import Stepper, _CACHE  # noqa: E402

PROMPTS = ("a reel in D", "a jig in G", "a hornpipe in A", "a waltz in D")


class CannedProducts(StepMaths):
    """The step with each product's output made (zeros of its shape), not computed."""

    def product(self, x: Tensor, k: int) -> Tensor:
        return torch.zeros(x.shape[0], self.weights[k][0].shape[0], dtype=torch.bfloat16)


def per_step_us(step, state, token, n: int = 1500) -> float:
    """Microseconds per call of `step(token, state) -> (logits, state)`, after a warm-up."""
    for _ in range(30):
        _, state = step(token, state)
    start = time.perf_counter()
    for _ in range(n):
        _, state = step(token, state)
    return (time.perf_counter() - start) / n * 1e6


def stepper_of(loaded, weights: str = "int8") -> Stepper:
    """A Stepper of the model with `weights` ("int8", "int4", "w8a8", or "" for bfloat16 weights)."""
    return Stepper(loaded.model, ComputePath("cpu", torch.bfloat16, "bench", weights=weights))


def one_after_the_other(stepper: Stepper, python_work, loops: int, n: int) -> float:
    """Microseconds a character for a step followed by `loops` of Python work, in this thread."""
    state, token = stepper.zero(1), stepper.token[5]
    start = time.perf_counter()
    for _ in range(n):
        _, state = stepper.step(token, state)
        python_work(loops)
    return (time.perf_counter() - start) / n * 1e6


def weight_formats(loaded, tunes: int) -> None:
    """The generator's chars/s with each weight format's Stepper, taking turns tune by tune."""
    from bot.generate import Settings, generate

    formats = {"int8": int8_available(), "int4": int4_available(), "w8a8": w8a8_available()[0],
               "bfloat16": cpu_bfloat16()[0]}
    steppers = {name: stepper_of(loaded, "" if name == "bfloat16" else name)
                for name, runs in formats.items() if runs}
    made = {name: 0 for name in steppers}
    seconds = {name: 0.0 for name in steppers}
    for seed in range(tunes):
        for name, stepper in steppers.items():
            _CACHE[loaded.model] = stepper  # the generator takes the model's cached Stepper
            start = time.perf_counter()
            tune = generate(PROMPTS[seed % len(PROMPTS)], Settings(seed=seed, bars=32), loaded)
            seconds[name] += time.perf_counter() - start
            made[name] += len(tune.abc) - tune.new_from
    _CACHE.pop(loaded.model, None)
    base = made["int8"] / seconds["int8"] if "int8" in made else None
    for name in steppers:
        rate = made[name] / seconds[name]
        versus = f"  {rate / base:.2f}x int8's" if base else ""
        print(f"  generator, weights {name:9s} {rate:7.0f} chars/s ({made[name]} chars, {tunes} tunes, "
              f"{steppers[name].bytes_per_step / 1e6:.1f} MB read a step){versus}")


def step_parts(loaded) -> None:
    """The step's products alone, the step without them, the step, and the step in the generator."""
    from bench.generate_speed import breakdown

    stepper = stepper_of(loaded)
    token = stepper.token[5]
    x0 = torch.zeros(1, stepper.hidden, dtype=torch.bfloat16)
    x1 = torch.zeros(1, 2 * stepper.hidden, dtype=torch.bfloat16)

    def products(_token, state):
        int8_product(x0, stepper.w_hh0.q, stepper.w_hh0.scale)
        int8_product(x1, stepper.w_upper[0].q, stepper.w_upper[0].scale)
        int8_product(x0, stepper.w_out.q, stepper.w_out.scale)
        return None, state

    # The same compiled step with each product's output made, not computed: what the rest costs.
    maths = stepper.maths
    canned = torch.jit.script(CannedProducts(stepper.hidden, stepper.input0,
                                             [[w.q] for w in (stepper.w_hh0, *stepper.w_upper, stepper.w_out)],
                                             stepper.b_upper, stepper.b_out, stepper.vocab_size))

    rounds = {"products": [], "overhead": [], "step": []}
    for _ in range(5):
        rounds["products"].append(per_step_us(products, None, token))
        stepper.maths = canned
        rounds["overhead"].append(per_step_us(stepper.step, stepper.zero(1), token))
        stepper.maths = maths
        rounds["step"].append(per_step_us(stepper.step, stepper.zero(1), token))
    _CACHE[loaded.model] = stepper
    chars, parts = breakdown(loaded, 4)
    _CACHE.pop(loaded.model, None)
    in_generator = parts["LSTM steps (prime, headers included)"] / chars * 1e6
    median = {k: statistics.median(v) for k, v in rounds.items()}
    print(f"  int8 step's three products alone, one after another {median['products']:7.1f} us")
    print(f"  the step with its products taken out                {median['overhead']:7.1f} us")
    print(f"  the whole step, tight loop                          {median['step']:7.1f} us")
    print(f"  the step inside the generator (4 tunes)             {in_generator:7.1f} us  "
          f"(what the composer reads between steps and the weights push each other out of the caches)")


def threads(loaded) -> None:
    """One torch thread against two, idle and with a busy process on the other core."""
    stepper = stepper_of(loaded)
    token = stepper.token[5]
    vocab = loaded.model.config.vocab_size
    for busy in (False, True):
        spinner = subprocess.Popen([sys.executable, "-c", "while True: pass"]) if busy else None
        try:
            time.sleep(0.2 if busy else 0)
            line = []
            for count in (1, 2):
                torch.set_num_threads(count)
                step = statistics.median(per_step_us(stepper.step, stepper.zero(1), token, 600) for _ in range(3))
                naive = 1e6 / naive_chars_per_second(loaded.model, vocab, 300)
                line.append(f"{count} thread{'s' if count > 1 else ''}: step {step:7.1f} us, naive loop {naive:7.1f} us")
            print(f"  {'a busy process beside it' if busy else 'idle machine':25s} " + ";  ".join(line))
        finally:
            torch.set_num_threads(1)
            if spinner is not None:
                spinner.kill()
                spinner.wait()


def worker_thread(loaded, work_us: float = 150.0, n: int = 800) -> None:
    """The step beside `work_us` of Python in this thread, against one after the other: on a
    plain thread handed each character by queue, and on the step worker (`bot.step_worker`)."""
    stepper = stepper_of(loaded, "w8a8" if w8a8_available()[0] else "int4" if int4_available() else "int8")
    token = stepper.token[5]
    python_work, loops = _python_loops(work_us)
    asks, answers = SimpleQueue(), SimpleQueue()

    def plain() -> None:
        state = stepper.zero(1)
        while asks.get() is not None:
            logits, state = stepper.step(token, state)
            answers.put(logits)

    thread = threading.Thread(target=plain, daemon=True)
    thread.start()
    start = time.perf_counter()
    for _ in range(n):
        asks.put(token)
        python_work(loops)
        answers.get()
    queued = (time.perf_counter() - start) / n * 1e6
    asks.put(None)
    thread.join()
    worker = StepWorker(stepper)
    worker.claim()
    try:
        state = stepper.zero(1)
        start = time.perf_counter()
        for _ in range(n):
            job = worker.submit([5], [state])
            python_work(loops)
            _, state = job.result(0)
        flagged = (time.perf_counter() - start) / n * 1e6
    finally:
        worker.release()
    serial = one_after_the_other(stepper, python_work, loops, n)
    print(f"  {stepper.path.name} step beside {work_us:.0f} us of Python: on a thread handed each character by "
          f"queue {queued:7.1f} us a character (its Python waits for the GIL); on the step worker {flagged:7.1f} us; "
          f"one after the other {serial:7.1f} us")


def _python_loops(work_us: float) -> tuple:
    """(a function doing Python work, the loop count that takes about `work_us` microseconds)."""
    table: dict[int, int] = {}

    def python_work(loops: int) -> None:
        for i in range(loops):
            table[i % 7] = i * 2

    start = time.perf_counter()
    python_work(100_000)
    return python_work, max(1, int(work_us / ((time.perf_counter() - start) / 100_000 * 1e6)))


def _shared(buffer, hidden: int, layers: int, vocab: int) -> tuple:
    """Views of the hand-off buffer: (request and reply counters, token, h as int16, c, logits)."""
    counters = np.ndarray((2,), np.int64, buffer, 0)
    token = np.ndarray((1,), np.int64, buffer, 64)
    h = np.ndarray((layers, 1, hidden), np.int16, buffer, 128)
    c = np.ndarray((layers, 1, hidden), np.float32, buffer, 128 + 2 * layers * hidden)
    logits = np.ndarray((vocab,), np.float32, buffer, 128 + 6 * layers * hidden)
    return counters, token, h, c, logits


def _step_process(connection, memory_name: str | None, setting: str) -> None:
    """A worker process's loop: step the character it is handed, by pipe or by polled shared memory."""
    torch.set_num_threads(1)
    from bot.checkpoint import load
    from bot.compute import inference_path
    from bot.stepper import State

    loaded = load()
    stepper = Stepper(loaded.model, inference_path(setting))
    config = loaded.model.config
    connection.send("ready")

    def step(token, h, c):
        # Copies into torch's own (aligned) memory: the int8 product crashed on a pickled buffer.
        state = State(torch.from_numpy(h).clone().view(torch.bfloat16), torch.from_numpy(c).clone())
        logits, state = stepper.step(torch.from_numpy(token.copy()), state)
        return logits[0].numpy(), state.h.view(torch.int16).numpy(), state.c.numpy()

    if memory_name is None:
        while (message := connection.recv()) is not None:
            connection.send(step(*message))
        return
    memory = shared_memory.SharedMemory(name=memory_name)
    counters, token, h, c, logits = _shared(memory.buf, config.hidden, config.layers, config.vocab_size)
    done = 0
    while True:
        while counters[0] == done:
            pass
        done = int(counters[0])
        if done < 0:
            break
        logits[:], h[:], c[:] = step(token, h, c)
        counters[1] = done
    del counters, token, h, c, logits
    memory.close()


def worker_process(loaded, setting: str, work_us: float = 150.0, n: int = 1500) -> None:
    """The step in another process, by pipe and by polled shared memory, beside `work_us` of Python."""
    python_work, loops = _python_loops(work_us)
    config = loaded.model.config
    context = multiprocessing.get_context("spawn")
    for polled in (False, True):
        mine, theirs = context.Pipe()
        memory = shared_memory.SharedMemory(create=True, size=65536) if polled else None
        worker = context.Process(target=_step_process, args=(theirs, memory and memory.name, setting), daemon=True)
        worker.start()
        try:
            mine.recv()  # loaded
            if polled:
                counters, token, h, c, _ = _shared(memory.buf, config.hidden, config.layers, config.vocab_size)
                counters[:], token[0], h[:], c[:] = 0, 5, 0, 0.0
                asked = 0

                def one(work: int) -> None:
                    nonlocal asked
                    asked += 1
                    counters[0] = asked
                    python_work(work)
                    while counters[1] != asked:
                        pass
            else:
                message = [np.array([5]), np.zeros((config.layers, 1, config.hidden), np.int16),
                           np.zeros((config.layers, 1, config.hidden), np.float32)]

                def one(work: int) -> None:
                    mine.send(message)
                    python_work(work)
                    _, message[1], message[2] = mine.recv()
            for _ in range(100):
                one(0)
            start = time.perf_counter()
            for _ in range(n):
                one(loops)
            per = (time.perf_counter() - start) / n * 1e6
            how = "shared memory, both sides polling" if polled else "a pipe"
            print(f"  step ({setting}) in a worker process, handed over {how:33s}: {per:7.1f} us a character "
                  f"beside {work_us:.0f} us of Python")
        finally:
            if polled:
                counters[0] = -1
                del counters, token, h, c
            else:
                mine.send(None)
            worker.join(timeout=10)
            if memory is not None:
                memory.close()
                memory.unlink()
    serial = one_after_the_other(stepper_of(loaded, setting), python_work, loops, n)
    print(f"  the same in this process, one after the other{'':19s}: {serial:7.1f} us a character")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tunes", type=int, default=12, help="tunes per weight format (default 12)")
    args = parser.parse_args(argv)
    print(machine(), flush=True)
    from bot.checkpoint import load

    torch.set_num_threads(1)
    loaded = load()
    print("weight formats, in turns:", flush=True)
    weight_formats(loaded, args.tunes)
    print("where an int8 step's time goes (medians of 5 rounds):", flush=True)
    step_parts(loaded)
    print("torch threads (int8 step; medians of 3 rounds):", flush=True)
    threads(loaded)
    print("overlapping the step with the composer:", flush=True)
    worker_thread(loaded)
    for setting in ("int8", "int4"):
        if (int8_available() if setting == "int8" else int4_available()) and cpu_bfloat16()[0]:
            worker_process(loaded, setting)
    return 0


if __name__ == "__main__":
    sys.exit(main())
