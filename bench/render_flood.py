"""Load test: 12 clients flood /play with the worst tunes they can write within the limits while
one user composes. Is the composer still served, and does the disk stay bounded?

    python bench/render_flood.py                     # 12 flooders, 60 s of flood, 300 MB quota
    python bench/render_flood.py --clients 12 --seconds 90 --quota-mb 300

Starts the app in a child process with its own outputs folder (a temporary one, so that the
quota frees nothing of anyone else's) and a small quota, then:

1. the composer alone: /compose ("a jig in D", 16 bars), `--composes` times;
2. the same composes while `--clients` sessions call /play in a loop with the worst tunes
   (ten minutes of whole notes in 41 characters; 4,000 notes with grace notes; 400 bars);
3. prints the composer's times alone and under the flood (time to the tune written, and to its
   audio) with their ratio, /play's answers, the largest request folder (bytes one request
   wrote), the outputs folder's peak size against its quota, and the machine.

Goals (issue 27): the composer gets its tune in <= 3 s; no request writes more than 20 MB; the
outputs folder never exceeds its quota.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.machine import describe as machine  # noqa: E402

# The worst tunes a client can write inside every limit (bot.render_bounds.LIMITS).
WORST = {
    # 41 characters, 9.4 minutes of audio: a 99.7 MB WAV before the byte budget.
    "ten minutes of whole notes": "X:1\nM:4/4\nL:1\nQ:1/4=20\nK:C\nC16|C16|C15|]",
    # The most notes music21 is asked to read (max_notes), two grace notes to each note.
    "4,000 notes with graces": "X:1\nM:4/4\nL:1/16\nQ:1/4=240\nK:C\n" + "{ga}C4{ga}D4{ga}E4{ga}F4|" * 330,
    # The most bars (max_bars), each a chord of four notes held a whole bar.
    "400 bars of chords": "X:1\nM:4/4\nL:1/4\nQ:1/4=160\nK:C\n" + "[CEGc]4|" * 399,
}
PROMPT = "a jig in D"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def serve(port: int, outputs: Path, quota_bytes: int) -> None:
    """The app as app.py runs it, with its own outputs folder and quota (the child process)."""
    import gradio as gr

    import app
    from bot import page, serving
    from bot.chat import Chat, ChatConfig
    from bot.web.limits import MAX_UPLOAD_BYTES

    serving.tune()
    bot = Chat(ChatConfig(outputs=outputs, outputs_quota_bytes=quota_bytes))
    bot.warm_up()
    gr.set_static_paths([*page.SERVED_DIRS, outputs])
    demo = app.build(bot)
    demo.launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, css=page.PAGE_CSS,
                head=page.page_head(), max_threads=2 * bot.capacity + 8, show_error=False,
                max_file_size=MAX_UPLOAD_BYTES, app_kwargs=serving.app_kwargs())
    print("READY", flush=True)
    demo.block_thread()


class DiskWatch(threading.Thread):
    """Polls the outputs folder: its peak total, and the most bytes any one request folder held."""

    def __init__(self, root: Path, every_s: float = 0.05):
        super().__init__(daemon=True)
        self.root, self.every_s = root, every_s
        self.peak_total = self.peak_folder = 0
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            total = 0
            for folder in list(self.root.iterdir()) if self.root.is_dir() else []:
                size = 0
                try:
                    for entry in folder.iterdir():
                        try:
                            size += entry.stat().st_size
                        except FileNotFoundError:
                            pass
                except (FileNotFoundError, NotADirectoryError):
                    continue
                total += size
                self.peak_folder = max(self.peak_folder, size)
            self.peak_total = max(self.peak_total, total)
            time.sleep(self.every_s)


def compose_once(url: str, seed: int) -> tuple[float, float]:
    """(seconds to the tune written, seconds to its audio) of one /compose."""
    from gradio_client import Client

    client = Client(url, verbose=False, download_files=False)
    start = time.monotonic()
    written = None
    for abc, audio, info in client.submit(PROMPT, 1.0, 16, seed, "Off", api_name="/compose"):
        if audio is None:
            written = time.monotonic() - start
        else:
            return (written or time.monotonic() - start), time.monotonic() - start
    raise RuntimeError("/compose ended without its audio")


def flood(url: str, stop: threading.Event, tally: dict, lock: threading.Lock, n: int) -> None:
    """One flooding client: /play with the worst tunes in turn until `stop`."""
    from gradio_client import Client

    client = Client(url, verbose=False, download_files=False)
    names = list(WORST)
    i = n
    while not stop.is_set():
        name = names[i % len(names)]
        i += 1
        start = time.monotonic()
        try:
            client.predict(WORST[name], 0, 0, "fiddle", "Off", api_name="/play")
            outcome = "played"
        except Exception as err:  # the app's message for a refused or failed request
            outcome = "refused: " + str(err).split("\n")[0][:70]
        with lock:
            tally.setdefault((name, outcome), []).append(time.monotonic() - start)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clients", type=int, default=12, help="flooding sessions (default 12)")
    parser.add_argument("--seconds", type=float, default=60, help="how long the flood runs (default 60)")
    parser.add_argument("--composes", type=int, default=3, help="composes alone and under the flood (default 3)")
    parser.add_argument("--quota-mb", type=int, default=300, help="the outputs folder's quota in MB (default 300)")
    parser.add_argument("--serve", nargs=3, metavar=("PORT", "OUTPUTS", "QUOTA"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(int(args.serve[0]), Path(args.serve[1]), int(args.serve[2]))
        return 0

    print(machine(), flush=True)
    outputs = Path(tempfile.mkdtemp(prefix="abc-bot-flood-"))
    quota = args.quota_mb * 1_000_000
    port = free_port()
    proc = subprocess.Popen([sys.executable, __file__, "--serve", str(port), str(outputs), str(quota)],
                            cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            start_new_session=True, env=dict(os.environ, GRADIO_ANALYTICS_ENABLED="False"))
    log: list[str] = []
    ready = threading.Event()

    def pump():
        for line in proc.stdout:
            log.append(line)
            if line.startswith("READY"):
                ready.set()

    threading.Thread(target=pump, daemon=True).start()
    try:
        if not ready.wait(180):
            print("the app did not start:\n" + "".join(log[-20:]))
            return 1
        url = f"http://127.0.0.1:{port}/"
        watch = DiskWatch(outputs)
        watch.start()
        compose_once(url, 99)  # the first compose loads what the later ones find loaded: not counted
        alone = [compose_once(url, 100 + i) for i in range(args.composes)]

        stop, lock, tally = threading.Event(), threading.Lock(), {}
        flooders = [threading.Thread(target=flood, args=(url, stop, tally, lock, n), daemon=True)
                    for n in range(args.clients)]
        for thread in flooders:
            thread.start()
        time.sleep(min(10.0, args.seconds / 4))  # the flood in full swing: every render slot asked for
        loaded, flood_end = [], time.monotonic() + args.seconds
        for i in range(args.composes):
            loaded.append(compose_once(url, 100 + i))
        while time.monotonic() < flood_end:
            time.sleep(0.5)
        stop.set()
        for thread in flooders:
            thread.join(timeout=120)
        watch.stop.set()
        watch.join()
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)

    def med(values):
        return statistics.median(values)

    print(f"\ncomposer ({PROMPT!r}, 16 bars, {args.composes} runs each; median seconds):")
    print(f"  alone:        tune written {med([w for w, _ in alone]):.2f}   with audio {med([a for _, a in alone]):.2f}")
    print(f"  under flood:  tune written {med([w for w, _ in loaded]):.2f}   with audio {med([a for _, a in loaded]):.2f}"
          f"   (worst {max(a for _, a in loaded):.2f})")
    print(f"  ratio under flood / alone (with audio): {med([a for _, a in loaded]) / med([a for _, a in alone]):.2f}x")
    print(f"\n/play by {args.clients} flooding clients over {args.seconds:.0f} s:")
    for (name, outcome), times in sorted(tally.items()):
        print(f"  {name:28s} {outcome:40s} {len(times):4d} answers, median {med(times):.1f} s")
    print(f"\nlargest request folder: {watch.peak_folder / 1e6:.1f} MB (goal <= 20 MB)")
    print(f"outputs folder peak: {watch.peak_total / 1e6:.1f} MB against a quota of {quota / 1e6:.0f} MB")
    # What the server logged as failing (the last line of each traceback), to explain refusals.
    failures = sorted({line.strip()[:160] for i, line in enumerate(log)
                       if i and log[i - 1].startswith("  ") and not line.startswith(" ") and "Error" in line})
    print("server failures logged: " + ("; ".join(failures) if failures else "none"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
