"""The step worker (bot.step_worker): the same bits as the Stepper's own step, whoever drives it;
no hang when its thread fails or leaves; one driver at a time; the setting that turns it on.

Every path's step is built here on any machine. The worker's flag hand-off is written for
x86-64 (`bot.compute.step_thread`); on another CPU the tests that run it check instead that
forcing it on is refused with a clear message.
"""

from __future__ import annotations

import platform
import threading
import time

import pytest
import torch

from bot import checkpoint
from bot import stepper as stepper_module
from bot.compute import ComputeError, ComputePath, cpu_bfloat16, step_thread, w8a8_available
from bot.engine import BatchEngine
from bot.generate import Settings, generate
from bot.step_worker import GONE, IDLE, StepWorker, WorkerError, worker_for
from bot.stepper import Stepper
from together import loaded_on, write_together

X86 = platform.machine().lower() in ("x86_64", "amd64")
NATIVE = cpu_bfloat16()[0]
PRIME = torch.bfloat16 if NATIVE else torch.float32
PATHS = {
    "float32": ComputePath("cpu", torch.float32, "test"),
    "bfloat16": ComputePath("cpu", torch.bfloat16, "test"),
    "int8": ComputePath("cpu", PRIME, "test", weights="int8"),
    "int4": ComputePath("cpu", PRIME, "test", weights="int4"),
}
if w8a8_available()[0]:  # only where the CPU has AVX-512 VNNI (elsewhere refused: tests/test_stepper.py)
    PATHS["w8a8"] = ComputePath("cpu", PRIME, "test", weights="w8a8")
# The paths a tune can be written on here: bfloat16 priming needs native bfloat16 (elsewhere that
# path is refused, `tests/test_compute.py`); its step alone runs anywhere (emulated).
WRITING = [name for name in PATHS if name != "bfloat16" or NATIVE]
PASTE = "X:1\nT:Test\nM:6/8\nL:1/8\nK:D\n|:A|dfa afd|ecA ABc|dfa afd|ecA d2:|\n"
CASES = [("a jig in G", 1), ("a reel in D", 2), (PASTE, 3)]


@pytest.fixture(scope="module")
def shipped():
    return checkpoint.load()


@pytest.mark.parametrize("name", WRITING)
def test_a_seed_writes_the_same_tune_with_the_step_worker_or_without(shipped, name, monkeypatch):
    loaded, stepper = loaded_on(shipped, PATHS[name])
    monkeypatch.setenv("ABC_BOT_STEP_THREAD", "off")
    without = [generate(text, Settings(seed=seed, bars=8), loaded).abc for text, seed in CASES]
    monkeypatch.setenv("ABC_BOT_STEP_THREAD", "on")
    if not X86:
        with pytest.raises(ComputeError, match="x86-64"):
            generate("a jig", Settings(seed=1, bars=2), loaded)
        return
    worker = worker_for(stepper)
    with_worker = [generate(text, Settings(seed=seed, bars=8), loaded).abc for text, seed in CASES]
    assert with_worker == without
    # The worker really stepped them: mostly going on from its own outputs, and afresh after
    # each bar taken back (rolled back to a state of its own an older step left).
    assert worker.steps > 300 and worker.went_on > worker.steps // 2 and worker.steps > worker.went_on
    assert not worker._alive() and worker.claim()  # each tune gave it back
    worker.release()


def test_the_batch_engine_writes_the_same_tunes_with_the_worker_or_without(shipped, monkeypatch):
    loaded, stepper = loaded_on(shipped, PATHS["w8a8" if "w8a8" in PATHS else "int4" if NATIVE else "float32"])
    monkeypatch.setenv("ABC_BOT_STEP_THREAD", "off")
    alone = [generate(text, Settings(seed=seed, bars=8), loaded).abc for text, seed in CASES]
    monkeypatch.setenv("ABC_BOT_STEP_THREAD", "on" if X86 else "off")
    together, engine = write_together(loaded, stepper, CASES, bars=8)
    assert together == alone
    if X86:
        worker = worker_for(stepper)
        assert worker.steps == engine.steps  # every batch went through the worker
        assert worker.went_on > 0 and worker.claim()  # the engine gave it back when done
        worker.release()


def reference(stepper: Stepper, tokens: list[int], state):
    logits, new = stepper.step(torch.tensor(tokens), state)
    return logits, new


@pytest.mark.parametrize("name", list(PATHS))
def test_steps_from_its_own_outputs_or_from_given_states_equal_the_steppers(shipped, name):
    if not X86:
        with pytest.raises(ComputeError, match="x86-64"):
            step_thread("on")
        return
    stepper = Stepper(shipped.model, PATHS[name])
    worker = StepWorker(stepper, max_rows=4)
    assert worker.claim()
    try:
        ours, theirs = stepper.zero(1), stepper.zero(1)
        kept = None
        for i in range(12):  # going on from its own outputs (and the look-ahead product)
            logits, ours = worker.submit([i + 3], [ours]).result(0)
            expected, theirs = reference(stepper, [i + 3], theirs)
            assert torch.equal(logits, expected[0]) and torch.equal(ours.h, theirs.h) and torch.equal(ours.c, theirs.c)
            if i == 4:
                kept = (ours, theirs)
        assert worker.went_on == 11
        # Back to an older state (a bar taken back): stepped afresh from the buffers.
        logits, ours = worker.submit([9], [kept[0]]).result(0)
        expected, theirs = reference(stepper, [9], kept[1])
        assert torch.equal(logits, expected[0]) and torch.equal(ours.h, theirs.h)
        assert worker.went_on == 11
        # Three rows, as the batch engine gives them, then going on from all three.
        states = [stepper.zero(1), ours, kept[0]]
        for _ in range(2):
            job = worker.submit([5, 6, 7], states)
            expected, stacked = reference(stepper, [5, 6, 7], stepper_module.State.stack(states))
            for row in range(3):
                logits, state = job.result(row)
                assert torch.equal(logits, expected[row]) and torch.equal(state.h, stacked.row(row).h)
            states = [job.result(row)[1] for row in range(3)]
        assert worker.went_on == 12
    finally:
        worker.release()


def run_or_refuse(fn):
    """Runs `fn` on x86; elsewhere checks that the worker is refused."""
    if X86:
        fn()
    else:
        with pytest.raises(ComputeError, match="x86-64"):
            step_thread("on")


def test_the_worker_leaves_when_idle_and_comes_back_for_the_next_step(shipped):
    def check():
        stepper = stepper_module.stepper_for(shipped.model)
        worker = StepWorker(stepper, idle_seconds=1e-4)
        assert worker.claim()
        try:
            state, ref = stepper.zero(1), stepper.zero(1)
            _, state = worker.submit([4], [state]).result(0)
            _, ref = reference(stepper, [4], ref)
            deadline = time.monotonic() + 5
            while worker._alive() and time.monotonic() < deadline:
                time.sleep(0.001)
            # It left by itself: saying GONE, or (its outputs still untaken when its idle spins
            # ran out, as on one core) without a word.
            assert not worker._alive() and worker._flag[0] in (GONE, IDLE)
            # The next step goes on from the outputs of a thread that has gone: they go in
            # through the buffers, and a new thread steps them.
            logits, state = worker.submit([5], [state]).result(0)
            expected, ref = reference(stepper, [5], ref)
            assert torch.equal(logits, expected[0]) and torch.equal(state.h, ref.h)
            assert worker.starts == 2
            # The race: the thread leaves just as a step is given (seen alive, then gone).
            while worker._alive():
                time.sleep(0.001)
            worker._alive = lambda: True
            job = worker.submit([6], [state])
            del worker._alive
            logits, state = job.result(0)
            expected, ref = reference(stepper, [6], ref)
            assert torch.equal(logits, expected[0]) and worker.starts == 3
        finally:
            worker.release()

    run_or_refuse(check)


def test_a_worker_that_fails_raises_in_the_composer_and_in_the_engine_never_hangs(shipped, monkeypatch):
    def check():
        loaded, stepper = loaded_on(shipped, PATHS["float32"])
        worker = worker_for(stepper)
        good = worker._h_out  # written by the worker's thread: a wrong width fails there
        worker._h_out = torch.zeros(good.shape[0], good.shape[1], good.shape[2] + 1, dtype=good.dtype)
        monkeypatch.setenv("ABC_BOT_STEP_THREAD", "on")
        result: dict = {}

        def write() -> None:
            try:
                generate("a jig in G", Settings(seed=1, bars=4), loaded)
            except BaseException as err:  # noqa: BLE001 - the test reads it
                result["error"] = err

        thread = threading.Thread(target=write)
        thread.start()
        thread.join(timeout=60)
        assert not thread.is_alive(), "the tune hung on a failed worker"
        assert isinstance(result.get("error"), WorkerError) and "step worker failed" in str(result["error"])
        with BatchEngine(stepper) as engine:
            errors = []
            for seed in (1, 2):
                try:
                    generate("a reel in D", Settings(seed=seed, bars=4), loaded, engine=engine)
                except WorkerError as err:
                    errors.append(err)
            assert len(errors) == 2
        worker._h_out = good  # mended, it serves again
        assert generate("a jig in G", Settings(seed=1, bars=4), loaded).abc

    run_or_refuse(check)


def test_one_driver_at_a_time_claims_the_worker(shipped):
    worker = StepWorker(stepper_module.stepper_for(shipped.model))
    assert worker.claim()
    assert not worker.claim()  # a second driver steps one character after the other
    worker.release()
    assert worker.claim()
    worker.release()


def test_the_step_thread_setting_is_read_printed_and_forceable(monkeypatch):
    monkeypatch.setattr(platform, "machine", lambda: "x86_64")
    monkeypatch.setattr("os.sched_getaffinity", lambda pid: {0, 1})
    auto = step_thread("auto")
    assert auto.on and not auto.forced and auto.reason.startswith("step thread on while a core is free: 2 cores")
    off = step_thread("off")
    assert not off.on and "forced" in off.reason
    monkeypatch.setenv("ABC_BOT_STEP_THREAD", "OFF")
    assert not step_thread().on
    monkeypatch.setattr("os.sched_getaffinity", lambda pid: {0})
    assert not step_thread("auto").on and "1 core" in step_thread("auto").reason
    forced = step_thread("on")
    assert forced.on and forced.forced  # forced on one core: it works, only no faster
    with pytest.raises(ComputeError, match="expected auto, on or off"):
        step_thread("yes")
    monkeypatch.setattr(platform, "machine", lambda: "aarch64")
    assert step_thread("auto") == (False, False, "step thread off: aarch64, not x86-64")
    with pytest.raises(ComputeError, match="written for x86-64"):
        step_thread("on")


def test_a_core_is_spare_while_the_running_tasks_leave_one_for_the_worker(monkeypatch):
    import io

    from bot import step_worker

    monkeypatch.setattr("os.cpu_count", lambda: 2)
    loads = {"idle": "0.10 0.20 0.30 1/210 4242\n", "two": "1.5 1.2 1.0 2/210 4242\n", "busy": "3.1 2.0 1.0 3/215 4243\n"}

    def reading(text):
        return lambda path, *args, **kwargs: io.StringIO(text) if path == "/proc/loadavg" else open(path, *args, **kwargs)

    expected = {("idle", False): True, ("idle", True): True, ("two", False): False, ("two", True): True,
                ("busy", False): False, ("busy", True): False}
    for (load, using), spare in expected.items():
        monkeypatch.setattr(step_worker, "open", reading(loads[load]), raising=False)
        assert step_worker.spare_core(using) is spare, (load, using)

    def missing(path, *args, **kwargs):
        raise FileNotFoundError(path)

    monkeypatch.setattr(step_worker, "open", missing, raising=False)
    assert step_worker.spare_core(False) is True  # no count (not Linux): the worker as measured


def test_a_seat_holds_the_worker_while_a_core_is_free_and_gives_it_back_when_the_cores_fill(shipped, monkeypatch):
    def check():
        from bot import step_worker

        stepper = Stepper(shipped.model, PATHS["float32"])
        monkeypatch.setenv("ABC_BOT_STEP_THREAD", "auto")
        monkeypatch.setattr("os.sched_getaffinity", lambda pid: {0, 1})
        spare = {"now": False}
        monkeypatch.setattr(step_worker, "spare_core", lambda using: spare["now"])
        seat = step_worker.Seat(stepper, every=3)
        assert seat.current() is None  # the cores are full: step here
        spare["now"] = True
        assert seat.current() is None and seat.current() is None  # asked again only every 3 steps
        worker = seat.current()
        assert worker is worker_for(stepper) and not worker.claim()  # held
        spare["now"] = False
        assert seat.current() is worker and seat.current() is worker
        assert seat.current() is None and worker.claim()  # given back when the cores filled
        worker.release()
        monkeypatch.setenv("ABC_BOT_STEP_THREAD", "on")
        forced = step_worker.Seat(stepper, every=3)
        assert forced.current() is worker  # forced on: held whatever else runs
        forced.release()
        assert worker.claim()
        worker.release()

    run_or_refuse(check)
