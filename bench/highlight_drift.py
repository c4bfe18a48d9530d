"""How closely the score's highlight follows the server's audio, in headless chromium.

    python bench/highlight_drift.py                 # starts app.py on a free port
    python bench/highlight_drift.py --url http://127.0.0.1:7860/

Pastes a 16-bar jig with repeats and first and second endings into the chat with "play",
plays its audio through once in the page, then seeks back into the repeat and plays on. Every
time the highlight moves to a note, tunes.js logs the audio element's clock. The note's true
start is read from the MIDI the audio was synthesised from (the nearest note-on). Drift =
the note's start in the audio minus the audio clock when it lit up (negative: lit late).
The first highlight after a seek is left out: it marks a note already sounding, not a start.

Then transposes (named keys and semitones) and edits the tune, timing each from the click to
the new audio ready to play in the page (one user).

Prints the drift's p50, p95 and largest size in ms, before and after the seek, how many
highlights matched a MIDI note-on (the rest are rests), and how far abcjs's own note times
(converted at the audio's tempo) are from the MIDI's, which shows whether repeats and endings
were laid out in the order the audio plays them.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import unquote

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.machine import describe as machine  # noqa: E402
from tests.browser import chromium_executable  # noqa: E402  (Debian's chromium, else Playwright's)
TUNE = """X:1
T:Drift test jig
M:6/8
L:1/8
R:jig
K:D
A|:d2f edB|AFD DFA|d2f edB|AFE E2A|d2f edB|AFD DFA|Bcd AFE|1 FDD D2A:|2 FDD D2z||
|:f2g afd|g2e cBA|f2g afd|ecA A2g|f2g afd|gfe dcB|Bcd AFE|1 FDD D2z:|2 FDD D3|]
"""


def onsets_from_midi(path: Path) -> list[float]:
    """Seconds of every distinct note-on in a MIDI file, tempo map included."""
    from bot.render_worker import read_midi, tick_seconds, timed_events

    midi = read_midi(str(path))
    seconds = tick_seconds(midi)
    ticks = {tick for track in midi.tracks for tick, event in timed_events(track)
             if event.isNoteOn() and event.velocity > 0}
    return [seconds(t) for t in sorted(ticks)]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


def start_app() -> tuple[subprocess.Popen, str]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    proc = subprocess.Popen(
        [sys.executable, "app.py", "--port", str(port)], cwd=ROOT, text=True, start_new_session=True,
        env=dict(os.environ, GRADIO_ANALYTICS_ENABLED="False", PYTHONUNBUFFERED="1"),
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )
    ready = threading.Event()

    def pump():
        for line in proc.stdout:
            if "Running on local URL" in line:
                ready.set()

    threading.Thread(target=pump, daemon=True).start()
    if not ready.wait(120):
        os.killpg(proc.pid, signal.SIGTERM)
        raise SystemExit("app.py did not start")
    return proc, f"http://127.0.0.1:{port}/"


def measure(url: str, seek_to: float, after_seek_s: float) -> dict:
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_executable(p), headless=True,
                                    args=["--no-sandbox", "--disable-gpu", "--autoplay-policy=no-user-gesture-required"])
        page = browser.new_page(viewport={"width": 1200, "height": 1000})
        page.goto(url)
        page.locator("#message textarea").fill("play\n" + TUNE)
        page.locator("#generate").click()
        expect(page.locator(".tune-card audio")).to_have_count(1, timeout=120_000)
        card = "document.querySelector('.tune-card:has(audio)')"
        page.wait_for_function(f"{card}.querySelector('audio').readyState >= 3", timeout=30_000)
        data = page.evaluate(f"({{...{card}.__card.current, timeline: {card}.__card.timeline.map(e => e.t)}})")
        page.evaluate(f"window.__tcLog = true; {card}.querySelector('audio').play()")
        page.wait_for_function(f"{card}.querySelector('audio').ended", timeout=300_000, polling=200)
        first = page.evaluate(f"{card}.__card.log")
        page.evaluate(f"{card}.__card.log = []; const a = {card}.querySelector('audio'); "
                      f"a.currentTime = {seek_to}; a.play()")
        time.sleep(after_seek_s)
        page.evaluate(f"{card}.querySelector('audio').pause()")
        second = page.evaluate(f"{card}.__card.log")
        # Transpose and edit to new audio, as a person would: from the menu's change (or the
        # edit's Play click) until the page has the new audio ready to play.
        changes = []
        select = page.locator(".tune-card:has(audio) select.tc-transpose")
        for target in ("key:G", "key:A", "-2", "3", "key:Dmix", "5"):
            src = page.evaluate(f"{card}.querySelector('audio').getAttribute('src')")
            start = time.monotonic()
            select.select_option(target)
            page.wait_for_function(f"{card}.querySelector('audio').getAttribute('src') !== {json.dumps(src)} "
                                   f"&& {card}.querySelector('audio').readyState >= 3", timeout=30_000, polling=10)
            changes.append(("transpose " + target, time.monotonic() - start))
        page.locator(".tune-card:has(audio) button.tc-edit").click()
        for note in ("e", "f", "g"):
            src = page.evaluate(f"{card}.querySelector('audio').getAttribute('src')")
            page.locator(".tune-card:has(audio) textarea.tc-editor").fill(TUNE.replace("|:d2f edB|", f"|:{note}2f edB|"))
            start = time.monotonic()
            page.locator(".tune-card:has(audio) button.tc-play-edit").click()
            page.wait_for_function(f"{card}.querySelector('audio').getAttribute('src') !== {json.dumps(src)} "
                                   f"&& {card}.querySelector('audio').readyState >= 3", timeout=30_000, polling=10)
            changes.append((f"edit (first note {note})", time.monotonic() - start))
        browser.close()
    return {"data": data, "first": first, "second": second[1:], "changes": changes}  # second[0]: the seek's jump


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--url", default=None, help="a running app (default: start app.py on a free port)")
    parser.add_argument("--seek", type=float, default=8.0, help="seconds to seek to after the first play-through")
    parser.add_argument("--after-seek", type=float, default=10.0, help="seconds to play after the seek")
    args = parser.parse_args(argv)
    print(machine(), flush=True)
    proc = None
    url = args.url
    if url is None:
        proc, url = start_app()
    try:
        result = measure(url, args.seek, args.after_seek)
    finally:
        if proc is not None:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=20)
    data = result["data"]
    midi_path = Path(unquote(data["midi"].split("file=", 1)[1]))
    truth = onsets_from_midi(midi_path)

    def nearest(t: float) -> float:
        return min(truth, key=lambda m: abs(m - t))

    model = [abs(nearest(t) - t) * 1000 for t in data["timeline"]]
    notes = [t for t, err in zip(data["timeline"], model) if err < 30]
    report = {"tempo": data["tempo"], "events": len(data["timeline"]), "midi_note_ons": len(truth),
              "events_on_a_midi_note_on": len(notes),
              "abcjs_vs_midi_ms_p95": round(percentile([e for e in model if e < 30], 95), 2),
              "abcjs_vs_midi_ms_max_matched": round(max((e for e in model if e < 30), default=0), 2)}
    for name in ("first", "second"):
        drifts = []
        for entry in result[name]:
            start = nearest(entry["t"])
            if abs(start - entry["t"]) >= 0.03:
                continue  # a rest: no note-on to compare with
            drifts.append((start - entry["clock"]) * 1000)
        sizes = [abs(d) for d in drifts]
        label = "play_through" if name == "first" else "after_seek"
        report[label] = {"highlights": len(result[name]), "compared": len(drifts),
                         "drift_ms_p50": round(percentile(sizes, 50), 1),
                         "drift_ms_p95": round(percentile(sizes, 95), 1),
                         "drift_ms_max": round(max(sizes, default=float("nan")), 1),
                         "mean_signed_ms": round(sum(drifts) / len(drifts), 1) if drifts else None}
    times = [seconds for _, seconds in result["changes"]]
    report["to_new_audio_s"] = {name: round(seconds, 3) for name, seconds in result["changes"]}
    report["to_new_audio_s_max"] = round(max(times), 3)
    print(json.dumps(report, indent=1))
    ok = all(report[k]["drift_ms_p95"] <= 50 for k in ("play_through", "after_seek"))
    print("drift p95 <= 50 ms:", "yes" if ok else "NO")
    print("transpose or edit to new audio <= 1 s:", "yes" if max(times) <= 1.0 else "NO")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
