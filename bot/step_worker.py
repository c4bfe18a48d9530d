"""The step worker: a thread that runs the LSTM step while the composer's Python runs beside it.

A sampled character needs two things before the next can be drawn: the LSTM's step on it (the
logits) and the rules' mask for the tune as it now stands. Neither needs the other, so they can
run at once, the step on one core and the rules on another. Python threads cannot share the
interpreter, but a TorchScript call runs without the GIL: the worker's thread calls
`StepMaths.serve` once, and inside it spins on a flag, steps what it is given, and says done,
never touching Python. The composer writes the character into shared input tensors, raises the
flag, works out its rules, and then reads the outputs (`bot.compose.sequence.Pending`).

Measured (`python bench/generate_speed.py`, which times the generator with and without it):
see docs/benchmarks.md. The steps are the same compiled ops as `Stepper.step`, so a seed writes
the same tune with the worker or without it (tests/test_step_worker.py).

Costs, and what bounds them:
- the worker spins a core while it serves; it leaves after IDLE_SECONDS with nothing asked, and
  is started again (about a tenth of a millisecond) by the next step;
- one worker per model, used by one tune driver at a time (`claim`): the batch engine while it
  has tunes, or one tune written alone; any other steps one after the other, as before;
- a spinning thread only pays where it has a core to itself. With renders or other work filling
  the cores it would take a share of them and leave the composer waiting on a step the OS has
  set aside (`python bench/render_flood.py`: a composer under a flood of renders wrote its tune
  in 1.63 s with the worker held throughout, 1.20 s without). So under `auto` a driver holds
  it only while a core is free (`spare_core`, asked every few hundred steps: `Seat`);
- the flag hand-off relies on x86's store order (outputs written before the flag is seen), so
  `bot.compute.step_thread` turns the worker on only on x86-64, and only with 2 or more cores.
"""

from __future__ import annotations

import os
import threading
import time
import weakref

import torch

from bot.compute import step_thread
from bot.step_maths import DONE, GO, GONE, IDLE, STOP
from bot.stepper import State, Stepper

FAILED = 5  # the worker's thread raised: its error is kept on the worker

# How long the worker spins with nothing asked before it leaves: long enough to stay through a
# tune's pauses (its headers, an Update streamed), short enough that a finished tune frees the core.
IDLE_SECONDS = 0.05
SPINS_PER_SECOND = 1_600_000  # the serving loop's idle reads of its flag a second (an Intel Xeon: 1.6M)

# The composer spins on the flag too; past this many reads (about 0.15 us each, so some 0.6 ms:
# twice the longest step measured) it yields its core at each read, so that a worker the OS has
# set aside (a busy machine, or one core) can run.
POLITE_AFTER = 4_000


class WorkerError(RuntimeError):
    """The worker's thread failed; the message carries its error."""


class Job:
    """One step given to the worker: its outputs once `StepWorker.finish` has copied them."""

    __slots__ = ("worker", "rows", "logits", "states", "error")

    def __init__(self, worker: StepWorker, rows: int):
        self.worker, self.rows = worker, rows
        self.logits: torch.Tensor | None = None  # (rows, V) float32 once done
        self.states: list[State] = []  # each row's batch-1 state once done
        self.error: WorkerError | None = None  # the worker failed on it

    @property
    def done(self) -> bool:
        """Whether the outputs are here (copied out of the worker's buffers)."""
        return self.logits is not None

    def result(self, row: int) -> tuple[torch.Tensor, State]:
        """Row `row`'s logits (V,) and batch-1 state, waiting for the worker if need be. The
        state is the same object each time: given back to `submit`, it tells the worker that
        the step goes on from its own last outputs."""
        if self.logits is None and self.error is None:
            self.worker.finish()
        if self.error is not None:
            raise self.error
        return self.logits[row], self.states[row]


class StepWorker:
    """Serves one Stepper's steps on a thread of its own (see the module's text)."""

    def __init__(self, stepper: Stepper, max_rows: int = 32, idle_seconds: float = IDLE_SECONDS):
        self.stepper, self.max_rows = stepper, max_rows
        self.idle_spins = max(1, int(idle_seconds * SPINS_PER_SECOND))
        layers, hidden = stepper.layers, stepper.hidden
        self._ctrl = torch.zeros(4, dtype=torch.int64)  # [flag, rows, serving, spare]
        self._flag = self._ctrl.numpy()  # the same memory: a read costs ~0.1 us, not a torch call
        self._tokens = torch.zeros(max_rows, dtype=torch.int64)
        self._tokens_np = self._tokens.numpy()
        self._h = torch.zeros(layers, max_rows, hidden, dtype=stepper.dtype)
        self._c = torch.zeros(layers, max_rows, hidden)
        self._logits = torch.zeros(max_rows, stepper.vocab_size)
        self._h_out, self._c_out = torch.zeros_like(self._h), torch.zeros_like(self._c)
        self._thread: threading.Thread | None = None
        self._error: BaseException | None = None
        self._job: Job | None = None  # the step given and not yet copied out
        self._last: Job | None = None  # the last step given: the worker holds its outputs
        self._given: list[State] = []  # the states of the step given
        self._claim = threading.Lock()
        self.starts = 0  # threads started (for tests and benchmarks)
        self.steps = 0  # steps given
        self.went_on = 0  # of them, steps that went on from the worker's own last outputs

    # -- who drives it ---------------------------------------------------------------------

    def claim(self) -> bool:
        """Take the worker for one driver (a tune alone, or the batch engine); False if taken."""
        return self._claim.acquire(blocking=False)

    def release(self) -> None:
        """Give the worker back: any step given is finished first, and the thread told to stop."""
        try:
            self.finish()
        finally:
            self._stop()
            self._claim.release()

    # -- steps ---------------------------------------------------------------------------------

    def submit(self, tokens: list[int], states: list[State]) -> Job:
        """Start stepping `tokens`, one per batch-1 state of `states`; returns at once."""
        rows = len(tokens)
        if not 0 < rows <= self.max_rows or len(states) != rows:
            raise ValueError(f"a worker step takes 1 to {self.max_rows} rows, one token each; got "
                             f"{rows} tokens for {len(states)} states")
        last = self._last
        self.finish()  # the buffers are free only once the last step's outputs are copied out
        self._tokens_np[:rows] = tokens
        # Going on from the worker's own last outputs (the usual case: the composer drew from
        # them) needs no copy in, and the worker has the next recurrent product ready.
        goes_on = last is not None and last.rows == rows and all(a is b for a, b in zip(states, last.states))
        if not goes_on:
            self._load(states)
        self._flag[3] = int(goes_on)
        self.steps += 1
        self.went_on += goes_on
        self._flag[1] = rows
        self._given = states
        self._job = self._last = Job(self, rows)
        self._flag[0] = GO  # after the inputs: the worker reads them once it sees GO
        if not self._alive():
            self._start()
        return self._job

    def _load(self, states: list[State]) -> None:
        """The rows' states into the input buffers."""
        for i, state in enumerate(states):
            self._h[:, i : i + 1] = state.h
            self._c[:, i : i + 1] = state.c

    def finish(self) -> None:
        """Wait for the step given (if any) and copy its outputs into its Job."""
        job = self._job
        if job is None:
            return
        flag, spins = self._flag, 0
        while flag[0] != DONE:
            if flag[0] == FAILED:
                self._job = None
                job.error = self._failure()
                raise job.error
            spins += 1
            if flag[0] == GONE or (spins % 1024 == 0 and not self._alive()):
                # It left (idle) just as the step was given, so never saw it: start it again.
                self._start()
            elif spins > POLITE_AFTER:
                os.sched_yield()
        rows = job.rows
        h, c = self._h_out[:, :rows].clone(), self._c_out[:, :rows].clone()
        job.states = [State(h, c)] if rows == 1 else [State(h[:, i : i + 1], c[:, i : i + 1]) for i in range(rows)]
        job.logits = self._logits[:rows].clone()
        flag[0] = IDLE
        self._job = None

    # -- the thread ----------------------------------------------------------------------------

    def _alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def _start(self) -> None:
        """Start the serving thread (the last one has left); return once it is in the loop."""
        if self._thread is not None:
            self._thread.join()  # it has said GONE or ended: it is returning
        if self._job is not None and self._flag[3] == 1:
            self._load(self._given)  # a new thread holds no last outputs: the states go in the buffers
        self._flag[3] = 0
        self._flag[0] = GO if self._job is not None else IDLE
        self._flag[2] = 0
        self._thread = threading.Thread(target=self._serve, name="step-worker", daemon=True)
        self._thread.start()
        self.starts += 1
        # Sleep (which frees the GIL) until the thread is in the scripted loop: held by this
        # thread's Python, the GIL would keep it out for the interpreter's 5 ms switch interval.
        while self._flag[2] == 0 and self._thread.is_alive():
            time.sleep(20e-6)

    def _serve(self) -> None:
        try:
            self.stepper.maths.serve(self._ctrl, self._tokens, self._h, self._c, self._logits,
                                     self._h_out, self._c_out, self.idle_spins)
        except BaseException as err:  # handed to the composer waiting on the step
            self._error = err
            self._flag[0] = FAILED

    def _failure(self) -> WorkerError:
        """The thread's error, as the WorkerError to raise; the worker is ready to start again."""
        error, self._error = self._error, None
        self._flag[0] = IDLE
        self._thread.join()
        self._thread = None
        self._last = None
        failure = WorkerError(f"the step worker failed: {error!r}")
        failure.__cause__ = error
        return failure

    def _stop(self) -> None:
        if self._alive():
            self._flag[0] = STOP
            self._thread.join()
        self._thread = None
        self._flag[0] = IDLE
        self._last = None


def spare_core(using: bool) -> bool:
    """Whether the machine has a core for the worker: the tasks running or ready to run now
    (the kernel's count in /proc/loadavg, this thread among them, and the worker when `using`)
    are at most its cores. True where there is no such count (the worker was measured to pay)."""
    try:
        with open("/proc/loadavg") as file:
            running = int(file.read().split()[3].split("/")[0])
    except (OSError, ValueError, IndexError):
        return True
    return running <= (os.cpu_count() or 1) - (0 if using else 1)


class Seat:
    """One driver's hold on a Stepper's worker: taken while `bot.compute.step_thread` allows and
    (under auto) a core is free, given back when the cores fill; asked again every `every`
    steps. The tunes are the same whichever way each step goes."""

    def __init__(self, stepper: Stepper, every: int):
        self.stepper, self.every = stepper, every
        self.mode = step_thread()
        self.worker: StepWorker | None = None
        self._countdown = 0

    def current(self) -> StepWorker | None:
        """The worker for the next step (None: step it here). Call it only with no step of the
        worker's unread (a driver asks before it submits, once the last answer is taken)."""
        if not self.mode.on:
            return None
        self._countdown -= 1
        if self._countdown <= 0:
            self._countdown = self.every
            if self.worker is not None:
                if not self.mode.forced and not spare_core(using=True):
                    self.release()
            elif self.mode.forced or spare_core(using=False):
                worker = worker_for(self.stepper)
                self.worker = worker if worker.claim() else None  # another driver may hold it
        return self.worker

    def release(self) -> None:
        """Give the worker back (its thread stops); the next `current` asks afresh."""
        self._countdown = 0
        if self.worker is not None:
            worker, self.worker = self.worker, None
            worker.release()


_WORKERS: "weakref.WeakKeyDictionary[Stepper, StepWorker]" = weakref.WeakKeyDictionary()
_LOCK = threading.Lock()


def worker_for(stepper: Stepper) -> StepWorker:
    """The one StepWorker of `stepper`, made once."""
    with _LOCK:
        worker = _WORKERS.get(stepper)
        if worker is None:
            worker = _WORKERS[stepper] = StepWorker(stepper)
        return worker
