"""FluidSynth as the renderer runs it against midi2audio's plain command line, on the same MIDI.

    python bench/fluidsynth_start.py                 # 24 generated tunes, six instruments
    python bench/fluidsynth_start.py --tunes 48

The plain command names the soundfont as an argument. FluidSynth then selects piano on every
channel and the drum kit on channel 10, and on-demand loading reads their samples. The renderer
(render_worker.BoundedFluidSynth) loads the soundfont by a start-up command that selects
nothing, so only the tune's own instrument is read. For each tune this runs both, alternating
which goes first, and prints the CPU per render (FluidSynth's own, from the kernel) as a ratio
measured in this run, and whether the finished audio (render_worker.finish_audio) is the same.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.machine import describe as machine  # noqa: E402
from bench.render_corpus import generated_tunes  # noqa: E402
from bot import render_worker  # noqa: E402
from bot.render import INSTRUMENTS, find_soundfont, needs_chorus, prepare_tune  # noqa: E402

RATE = 44_100


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def plain(soundfont: Path, midi: Path, raw: Path, chorus: bool) -> None:
    """midi2audio's command line, with the renderer's other options (raw float, blocks, chorus)."""
    subprocess.run(
        ["fluidsynth", "-ni", "-q", "-z", "2048", "-o", "synth.dynamic-sample-loading=1",
         "-o", f"synth.chorus.active={int(chorus)}", "-T", "raw", "-O", "float", "-r", str(RATE),
         "-F", str(raw), str(soundfont), str(midi)],
        check=True, capture_output=True, env={**os.environ, "SDL_AUDIODRIVER": "dummy"},
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tunes", type=int, default=24, help="generated tunes (model seeds 0..N-1)")
    parser.add_argument("--instruments", default="fiddle,whistle,flute,accordion,piano,bagpipes",
                        help="comma-separated; the tunes are dealt out among them in turn")
    args = parser.parse_args()
    print(machine(), flush=True)
    soundfont = find_soundfont()
    instruments = args.instruments.split(",")
    tunes = generated_tunes(args.tunes)
    print(f"{len(tunes)} generated tunes, {soundfont.name}, each through both command lines")

    cpu = {"plain": 0.0, "renderer": 0.0}
    same = 0
    music = 0.0
    with tempfile.TemporaryDirectory(prefix="fluidsynth-start-") as tmp:
        out = Path(tmp)
        for index, (_label, abc) in enumerate(tunes):
            program = INSTRUMENTS[instruments[index % len(instruments)]]
            chorus = needs_chorus(soundfont, program)
            midi_file, _notes, _engine = render_worker.make_midi(
                {"abc": prepare_tune(abc).text, "max_seconds": 600.0, "abc2midi": None, "paths": {}}, float("inf"))
            render_worker.tidy_midi(midi_file, program)
            seconds, _ = render_worker.midi_seconds(midi_file)
            music += seconds
            midi = out / "tune.mid"
            render_worker.write_midi(midi_file, midi)
            synth = render_worker.BoundedFluidSynth("fluidsynth", str(soundfont), RATE, 120, chorus)
            runs = {
                "plain": lambda: plain(soundfont, midi, out / "plain.raw", chorus),
                "renderer": lambda: synth.midi_to_audio(str(midi), str(out / "renderer.raw")),
            }
            order = list(runs) if index % 2 == 0 else list(reversed(runs))
            for name in order:
                before = children_cpu()
                runs[name]()
                cpu[name] += children_cpu() - before
            audio = [render_worker.finish_audio(np.fromfile(out / f"{name}.raw", dtype=np.float32).reshape(-1, 2),
                                                RATE, seconds) for name in runs]
            same += np.array_equal(*audio)

    n = len(tunes)
    print(f"music: {music:.0f} s in all, {music / n:.1f} s a tune")
    print(f"FluidSynth CPU per render: plain command line {1000 * cpu['plain'] / n:.1f} ms, "
          f"renderer {1000 * cpu['renderer'] / n:.1f} ms: ratio {cpu['renderer'] / cpu['plain']:.2f}, "
          f"{1000 * (cpu['plain'] - cpu['renderer']) / n:.1f} ms less")
    print(f"finished audio the same: {same} of {n}")


if __name__ == "__main__":
    main()
