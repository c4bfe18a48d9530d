"""What a busy server's lower sample rate saves, and what it leaves out.

    python bench/busy_rate.py                    # 12 generated tunes, six instruments
    python bench/busy_rate.py --tunes 24 --instruments fiddle,flute

While anyone else waits, the chat renders at ChatConfig.busy_sample_rate (32 kHz) instead of
44.1 kHz. For tunes the shipped model writes, this renders each one both ways, one render at a
time, and prints:

- the render CPU (music21, FluidSynth and the audio clean-up, in the child) at the busy rate
  as a ratio of the same renders at 44.1 kHz, measured in this run;
- the WAV bytes, both ways;
- the part of each 44.1 kHz render's energy that lies above half the busy rate (what a
  busy-rate render cannot hold), in dB relative to the whole.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import wave
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.machine import describe as machine  # noqa: E402
from bench.render_corpus import generated_tunes  # noqa: E402
from bot.chat import ChatConfig  # noqa: E402
from bot.render import RenderSettings, render  # noqa: E402


def energy_above_db(path: Path, cutoff_hz: float) -> float:
    """Energy above cutoff_hz as dB relative to the whole signal (both channels)."""
    with wave.open(str(path)) as audio:
        rate = audio.getframerate()
        frames = np.frombuffer(audio.readframes(audio.getnframes()), dtype="<i2")
    samples = frames.reshape(-1, 2).astype(np.float64).T
    power = np.abs(np.fft.rfft(samples, axis=1)) ** 2
    freqs = np.fft.rfftfreq(samples.shape[1], 1 / rate)
    return 10 * np.log10(power[:, freqs > cutoff_hz].sum() / power.sum())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tunes", type=int, default=12, help="generated tunes (model seeds 0..N-1)")
    parser.add_argument("--instruments", default="fiddle,whistle,flute,accordion,piano,bagpipes",
                        help="comma-separated; the tunes are dealt out among them in turn")
    args = parser.parse_args()
    print(machine(), flush=True)
    busy = ChatConfig().busy_sample_rate
    full = RenderSettings().sample_rate
    if busy is None:
        sys.exit("ChatConfig.busy_sample_rate is None: every render is at the full rate")
    instruments = args.instruments.split(",")
    tunes = generated_tunes(args.tunes)
    print(f"{len(tunes)} generated tunes at {full} Hz and at {busy} Hz, one render at a time")

    cpu = {full: 0.0, busy: 0.0}
    synth = {full: 0.0, busy: 0.0}
    size = {full: 0, busy: 0}
    above: dict[str, list[float]] = {name: [] for name in instruments}
    with tempfile.TemporaryDirectory(prefix="busy-rate-") as tmp:
        out = Path(tmp)
        render(tunes[0][1], out, RenderSettings(compress=False), stem="warm")  # start the server
        for index, (label, abc) in enumerate(tunes):
            instrument = instruments[index % len(instruments)]
            # Alternate which rate goes first, so neither always finds the caches warm.
            rates = (full, busy) if index % 2 == 0 else (busy, full)
            for rate in rates:
                done = render(abc, out, RenderSettings(compress=False, sample_rate=rate, instrument=instrument),
                              stem=f"t{index}-{rate}")
                cpu[rate] += done.timings["cpu"]
                synth[rate] += done.timings["fluidsynth"]
                size[rate] += done.wav.stat().st_size
                if rate == full:
                    above[instrument].append(energy_above_db(done.wav, busy / 2))
                for path in (done.midi, done.wav):
                    path.unlink()

    print(f"render CPU: {cpu[full]:.2f} s at {full} Hz, {cpu[busy]:.2f} s at {busy} Hz: "
          f"ratio {cpu[busy] / cpu[full]:.2f}")
    print(f"  of it FluidSynth (wall, in the child): {synth[full]:.2f} s and {synth[busy]:.2f} s: "
          f"ratio {synth[busy] / synth[full]:.2f}")
    print(f"WAV bytes: {size[full] / 2**20:.1f} MiB and {size[busy] / 2**20:.1f} MiB: "
          f"ratio {size[busy] / size[full]:.2f}")
    print(f"energy above {busy / 2000:g} kHz in the {full} Hz renders, relative to the whole:")
    for instrument, values in above.items():
        if values:
            print(f"  {instrument:10s} n={len(values):2d}  max {max(values):6.1f} dB  "
                  f"median {statistics.median(values):6.1f} dB")


if __name__ == "__main__":
    main()
