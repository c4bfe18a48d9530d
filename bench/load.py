"""Load test: many concurrent gradio_client sessions against the page's /compose endpoint.

    python bench/load.py                      # starts app.py on a free loopback port
    python bench/load.py --url http://127.0.0.1:7860 --users 16 --bars 16

Measures the same requests (prompt, seed) sent one at a time and then by `--users` sessions at
once, in the same round so the figures compare: time to the first streamed update and time to
the audio file (fetched in full). Prints p50/p95, errors, temp files before/after, and the
ratio of the loaded p95 time-to-audio to the single-user figure (the goal is <= 4x; serving 16
one after another would be about 8x), for each of `--rounds` rounds and their median.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from gradio_client import Client

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.machine import describe as machine  # noqa: E402
# How often a session looks for new updates: the times measured are late by half of it on average,
# alone and under load alike.
POLL_S = 0.005
PROMPTS = ["a jig in D", "a reel in G", "a slow air in A minor", "a hornpipe in C", "a polka in D",
           "a waltz in G", "a march in A", "a slip jig in E minor"]


@dataclass
class Result:
    """One request's timings (seconds from submit) or its error."""

    first: float | None = None  # first streamed update
    written: float | None = None  # last ABC update before the audio (the tune is written)
    audio: float | None = None  # final output with the audio file
    error: str | None = None
    updates: int = 0


@dataclass
class Run:
    """The app under test: its URL and, when we started it, its process."""

    url: str
    proc: subprocess.Popen | None = None
    tmp: Path = Path(tempfile.gettempdir())  # the app's temp folder, where its temp files go
    log: list[str] = field(default_factory=list)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_app(timeout_s: float = 120) -> Run:
    """Start app.py on a free loopback port and wait until it serves."""
    port = free_port()
    # A temp folder of its own, so the count sees the app's files and nobody else's.
    tmp = Path(tempfile.mkdtemp(prefix="abc-bot-bench-app-"))
    env = dict(os.environ, GRADIO_ANALYTICS_ENABLED="False", PYTHONUNBUFFERED="1",
               TMPDIR=str(tmp), GRADIO_TEMP_DIR=str(tmp / "gradio"))
    proc = subprocess.Popen(
        [sys.executable, str(REPO / "app.py"), "--host", "127.0.0.1", "--port", str(port)],
        cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        start_new_session=True,
    )
    run = Run(f"http://127.0.0.1:{port}/", proc, tmp)
    ready = threading.Event()

    def pump():
        for line in proc.stdout:
            run.log.append(line.rstrip())
            if "Running on local URL" in line:
                ready.set()

    threading.Thread(target=pump, daemon=True).start()
    if not ready.wait(timeout_s):
        stop_app(run)
        raise SystemExit("app did not start:\n" + "\n".join(run.log[-20:]))
    return run


def stop_app(run: Run) -> None:
    if run.proc is not None and run.proc.poll() is None:
        os.killpg(run.proc.pid, signal.SIGTERM)
        try:
            run.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(run.proc.pid, signal.SIGKILL)
        shutil.rmtree(run.tmp, ignore_errors=True)


def machine_busy_s() -> float:
    """Core-seconds the whole machine has spent busy since boot (Linux /proc/stat)."""
    with open("/proc/stat") as stat:
        fields = [int(v) for v in stat.readline().split()[1:]]
    idle = fields[3] + fields[4]  # idle + iowait
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def process_cpu_s(pid: int) -> float:
    """Core-seconds the process's own threads have used (not its children's), from /proc."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def temp_files(folder: Path) -> int:
    """Files under the app's temp folder (Gradio's cache, render scratch files, ...)."""
    count = 0
    for _root, _dirs, files in os.walk(folder):
        count += len(files)
    return count


def one_request(client: Client, prompt: str, bars: int, seed: int, timeout_s: float,
                ready: threading.Barrier | None = None) -> Result:
    """Submit one /compose request and time it from the submit (as a click on Generate)."""
    result = Result()
    try:
        if ready is not None:
            ready.wait()  # every session submits at the same moment
        start = time.monotonic()
        job = client.submit(prompt, 1.0, bars, seed, api_name="/compose")
        seen = 0
        while True:
            # The documented polling of job.outputs() and job.done(), every POLL_S: iterating
            # the Job polls every millisecond, and 16 sessions doing so took 0.6-0.8 core-s
            # of this 2-core machine from the app under test (py-spy: Job.__next__).
            finished = job.done()
            outputs = job.outputs()
            for abc, audio, *_ in outputs[seen:]:
                result.updates += 1
                now = time.monotonic() - start
                if result.first is None:
                    result.first = now
                if audio:
                    fetch_audio(audio)  # the clock stops when the whole file is here
                    result.audio = time.monotonic() - start
                else:
                    result.written = now
            seen = len(outputs)
            if finished:
                break
            if time.monotonic() - start > timeout_s:
                job.cancel()
                raise TimeoutError(f"no audio after {timeout_s:.0f} s")
            time.sleep(POLL_S)
        if job.exception() is not None:
            raise job.exception()
        if result.audio is None:
            raise RuntimeError(f"finished without audio after {result.updates} updates")
    except Exception as err:  # counted and printed, never hidden
        result.error = f"{type(err).__name__}: {str(err)[:200]}"
    return result


def fetch_audio(audio: dict) -> int:
    """Download the finished tune's audio file in one read; its size, or an error if it isn't audio.

    A browser fetches the file natively. gradio_client's own download reads 8 KB at a time in
    Python and hashes each piece, and on this shared 2-core machine that client CPU is time the
    app under test cannot use, so the bench fetches the file itself.
    """
    with urllib.request.urlopen(audio["url"], timeout=60) as response:
        data = response.read()
    if data[:4] not in (b"RIFF", b"OggS"):
        raise RuntimeError(f"the audio file {audio.get('orig_name')} is not WAV or OGG ({len(data)} bytes)")
    return len(data)


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0-100) by linear interpolation."""
    values = sorted(values)
    if len(values) == 1:
        return values[0]
    pos = (len(values) - 1) * q / 100
    lo = int(pos)
    hi = min(lo + 1, len(values) - 1)
    return values[lo] + (values[hi] - values[lo]) * (pos - lo)


def summary(name: str, results: list[Result]) -> dict:
    ok = [r for r in results if r.error is None]
    firsts = [r.first for r in ok if r.first is not None]
    audios = [r.audio for r in ok if r.audio is not None]
    row = {"name": name, "n": len(results), "errors": len(results) - len(ok)}
    written = [r.written for r in ok if r.written is not None]
    for key, values in (("first", firsts), ("written", written), ("audio", audios)):
        row[f"{key}_p50"] = percentile(values, 50) if values else float("nan")
        row[f"{key}_p95"] = percentile(values, 95) if values else float("nan")
    print(f"{name:>12}: n={row['n']:2d} errors={row['errors']}  "
          f"first update p50 {row['first_p50']:5.2f} s p95 {row['first_p95']:5.2f} s | "
          f"written p50 {row['written_p50']:5.2f} s p95 {row['written_p95']:5.2f} s | "
          f"audio p50 {row['audio_p50']:5.2f} s p95 {row['audio_p95']:5.2f} s", flush=True)
    for r in results:
        if r.error:
            print(f"{'':>14}error: {r.error}")
    return row


def one_round(run: Run, client, alone: list[tuple[str, int]], requests: list[tuple[str, int]],
              args: argparse.Namespace) -> tuple[dict, dict]:
    """The requests one at a time, then all at once, one session each; the two summaries."""
    single = [one_request(client(), prompt, args.bars, seed, args.timeout) for prompt, seed in alone]
    # One session (Client) per user, each connected before the clock starts.
    clients = [client() for _ in range(args.users)]
    barrier = threading.Barrier(args.users)
    results: list[Result | None] = [None] * args.users

    def user(i: int) -> None:
        prompt, seed = requests[i]
        results[i] = one_request(clients[i], prompt, args.bars, seed, args.timeout, barrier)

    threads = [threading.Thread(target=user, args=(i,)) for i in range(args.users)]
    app_pid = run.proc.pid if run.proc is not None else None
    app0 = process_cpu_s(app_pid) if app_pid else 0.0
    busy0, wall0, mine0 = machine_busy_s(), time.monotonic(), time.process_time()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    busy, wall, mine = machine_busy_s() - busy0, time.monotonic() - wall0, time.process_time() - mine0
    app = process_cpu_s(app_pid) - app0 if app_pid else None

    one = summary("single user", single)
    many = summary(f"{args.users} users", [r for r in results if r is not None])
    # The clients share the machine with the app: their CPU is time the app could not use.
    print(f"  CPU during the {args.users}-user run: {busy:.1f} of {wall * os.cpu_count():.1f} core-seconds busy "
          f"({os.cpu_count()} cores, {wall:.1f} s); these load clients used {mine:.1f}")
    if app is not None:
        # The app's own threads write the tunes and serve the page; its render children
        # (music21, FluidSynth) are reaped by the kernel, so they are the busy time left.
        print(f"  the app process's threads (writing, serving): {app:.1f} core-s; "
              f"audio renders and the rest: {busy - app - mine:.1f} core-s")
    return one, many


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--url", default=None, help="app to test (default: start app.py on a free loopback port)")
    parser.add_argument("--users", type=int, default=16, help="concurrent sessions in the loaded run")
    parser.add_argument("--single", type=int, default=0,
                        help="one-at-a-time requests for the single-user figure (default 0: all of the "
                             "loaded run's requests, so both figures time the same tunes)")
    parser.add_argument("--bars", type=int, default=16, help="bars per tune")
    parser.add_argument("--timeout", type=float, default=240, help="seconds before a request counts as failed")
    parser.add_argument("--settle", type=float, default=5, help="seconds to wait before counting temp files after")
    parser.add_argument("--rounds", type=int, default=3,
                        help="rounds of (one at a time, then all at once); the ratio printed last is "
                             "their median, as this shared machine's speed drifts from second to second")
    args = parser.parse_args(argv)
    print(machine(), flush=True)

    run = start_app() if args.url is None else Run(args.url)
    try:
        print(f"app: {run.url}  users: {args.users}  bars: {args.bars}", flush=True)
        def client() -> Client:
            # gradio_client makes a new httpx client, and with it an SSL context that parses the
            # whole CA bundle (about 25 ms of CPU), for every request it sends. Over plain HTTP
            # there is nothing to verify, and on a shared 2-core machine that client CPU is
            # time the app under test cannot use.
            plain_http = run.url.startswith("http://")
            return Client(run.url, verbose=False, download_files=False,  # fetch_audio downloads
                          ssl_verify=not plain_http)

        warm = one_request(client(), "a jig in D", args.bars, 1, args.timeout)  # loads model, renderer
        if warm.error:
            print(f"warm-up failed: {warm.error}")
            return 1
        before = temp_files(run.tmp)
        outputs_before = len(list((REPO / "outputs").glob("*")))

        # The same (prompt, seed) requests alone and then together: a slow air's audio takes
        # longer to make than a polka's, so the two figures must time the same tunes.
        requests = [(PROMPTS[i % len(PROMPTS)], 200 + i) for i in range(args.users)]
        alone = requests[: args.single] if args.single > 0 else requests
        ratios, errors = [], 0
        for round_ in range(1, args.rounds + 1):
            if args.rounds > 1:
                print(f"round {round_} of {args.rounds}", flush=True)
            one, many = one_round(run, client, alone, requests, args)
            errors += one["errors"] + many["errors"]
            ratios.append(many["audio_p95"] / one["audio_p50"])
            print(f"  p95 time to audio with {args.users} users / single-user time to audio: {ratios[-1]:.2f}x")
        time.sleep(args.settle)
        after = temp_files(run.tmp)
        print(f"errors: {errors}")
        print(f"temp files in {run.tmp}: before {before}, after {after} ({after - before:+d})")
        outputs_after = len(list((REPO / "outputs").glob("*")))
        print(f"outputs/ folders: {outputs_after - outputs_before:+d} (one per tune, kept for an hour)")
        if args.rounds > 1:
            print("ratio in each round: " + ", ".join(f"{r:.2f}x" for r in ratios))
        print(f"p95 time to audio with {args.users} users / single-user time to audio: "
              f"{statistics.median(ratios):.2f}x{' (median of the rounds)' if args.rounds > 1 else ''} (goal <= 4x)")
        return 0 if errors == 0 else 1
    finally:
        stop_app(run)


if __name__ == "__main__":
    sys.exit(main())
