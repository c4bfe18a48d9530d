"""How many parts of generated tunes leave a slur unbalanced (opened and not closed, or closed unopened)?

    python bench/slurs.py [--checkpoint STEM] [--tunes 100]

Tunes: 10 prompts x (tunes/10) seeds, 16 bars, the page's defaults otherwise. A part is the
text between part edges (`:|`, `|:`, `::`, `||`, `|]`), quoted strings and decorations left out.
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.machine import describe  # noqa: E402
from bot.checkpoint import DEFAULT_CHECKPOINT, load  # noqa: E402
from bot.generate import Settings, generate  # noqa: E402
from bot.notation.tokens import without  # noqa: E402

PROMPTS = ["a reel in D", "a jig in G", "a hornpipe in A", "a polka in D", "a waltz in G",
           "a slip jig in E minor", "an air in D", "a march in G", "a reel in A dorian", "a jig in E minor"]


def unbalanced_parts(abc: str) -> tuple[int, int]:
    """(parts, parts whose slurs do not balance) of one tune."""
    body = without(abc.split("\nK:", 1)[1].split("\n", 1)[1], {"quote", "deco"})
    parts = bad = 0
    for part in re.split(r":\||\|:|::|\|\||\|\]", body):
        if not part.strip():
            continue
        parts += 1
        depth, ok = 0, True
        for mark in re.findall(r"\((?![1-9])|\)", part):
            depth += 1 if mark == "(" else -1
            ok &= depth >= 0
        bad += not (ok and depth == 0)
    return parts, bad


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--checkpoint", default=str(DEFAULT_CHECKPOINT), help="checkpoint stem")
    parser.add_argument("--tunes", type=int, default=100, help="tunes to write (default 100)")
    args = parser.parse_args()
    print(describe())
    loaded = load(args.checkpoint)
    start = time.perf_counter()
    parts = bad = tunes_bad = 0
    for i in range(args.tunes):
        tune = generate(PROMPTS[i % len(PROMPTS)], Settings(seed=i // len(PROMPTS), bars=16), loaded)
        p, b = unbalanced_parts(tune.abc)
        parts, bad, tunes_bad = parts + p, bad + b, tunes_bad + bool(b)
    print(f"{args.tunes} tunes, {parts} parts: {bad} parts with an unbalanced slur, in {tunes_bad} tunes "
          f"({time.perf_counter() - start:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
