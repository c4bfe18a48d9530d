"""How long printing one tune to PDF takes, against abcm2ps alone measured in the same run.

    python bench/print_speed.py               # a 16-bar reel with chord symbols, 20 rounds
    python bench/print_speed.py --rounds 50 --repeat 4   # a tune four times as long

The baseline is `abcm2ps -q -O - tune.abc` on the same text (engraving only, no PDF); the
ratio says what ghostscript and the Python around it add. The target is 0.5 s per 16-bar tune.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.machine import cpu_model  # noqa: E402
from bot.printing import tune_pdf  # noqa: E402

# The reel tests/test_printing.py prints: 16 bars, chord symbols, endings.
REEL = """X:3
T:The Ríl Mór Test Reel
M:4/4
L:1/8
R:reel
K:Ador
|:"Am"EAAB cBAc|"G"BGGA BGdB|"Am"EAAB cBcd|"Em"eaged "Am"cAA2:|
|:"Am"eaag a2ge|"G"dggf gfed|"Am"eaag a2ge|"Em"dBGB "Am"A3B:|
|:"Am"cAAB cBAc|"G"BGGA BGdB|"Am"cAAB cBcd|"Em"eaged "Am"cAA2:|
|:"Am"eaag a2ge|"G"dggf gfed|"Am"eaag a2ge|1"Em"dBGB "Am"A3B:|2"Em"dBGB "Am"A4|]
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=20, help="timed runs of each (after one warm-up)")
    parser.add_argument("--repeat", type=int, default=1, help="print the reel's music this many times over")
    args = parser.parse_args()
    music = "\n".join(REEL.splitlines()[6:])
    tune = REEL + "\n".join([music] * (args.repeat - 1))
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "tune.abc"
        source.write_text(tune, encoding="utf-8")
        out = Path(tmp) / "tune.pdf"
        baseline, full = [], []
        for round_ in range(args.rounds + 1):
            start = time.perf_counter()
            subprocess.run(["abcm2ps", "-q", "-O", "-", str(source)], capture_output=True, check=False)
            middle = time.perf_counter()
            tune_pdf(tune, out)
            end = time.perf_counter()
            if round_:  # the first round reads the programs and fonts from disk
                baseline.append(middle - start)
                full.append(end - middle)
        size = out.stat().st_size
    bars = 16 * args.repeat
    print(f"cpu: {cpu_model()} ({platform.machine()})")
    print(f"tune: {bars} bars, {len(tune):,} characters; PDF {size:,} bytes; {args.rounds} rounds, medians")
    print(f"abcm2ps alone (baseline): {statistics.median(baseline) * 1000:7.1f} ms")
    print(f"tune_pdf (abcm2ps + gs):  {statistics.median(full) * 1000:7.1f} ms "
          f"(max {max(full) * 1000:.1f} ms), {statistics.median(full) / statistics.median(baseline):.1f}x the baseline")


if __name__ == "__main__":
    main()
