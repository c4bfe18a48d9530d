"""Measure how tunebooks lay each rhythm out (the numbers `bot.notation.layouts` holds).

    python -m bot.notation.layout_survey
"""

from __future__ import annotations

import argparse
import sys

from bot.notation.form import read_form


def main(argv: list[str] | None = None) -> int:
    """Print each rhythm's layout as the NMD (all splits) and the corpus write it."""
    argparse.ArgumentParser(prog="python -m bot.notation.layout_survey", description=main.__doc__).parse_args(argv)
    from bot import nmd
    from bot.corpus import load_corpus

    for name, pairs in (("NMD", [(t.text, t.file) for t in nmd.read()]), ("corpus", [(t, "") for t in load_corpus().train])):
        print(name)
        for rhythm, row in sorted(measure(pairs).items(), key=lambda kv: -kv[1][0]):
            print(f"  {rhythm or '(none)':12s} tunes {row[0]:5d}  three or more parts {row[1]:5.1%}  "
                  f"unrepeated {row[2]:5.1%}  16-bar parts {row[3]:5.1%}")
    return 0


def measure(pairs) -> dict[str | None, tuple[int, float, float, float]]:
    """{rhythm: (tunes, share with 3+ parts, share unrepeated, share in 16-bar parts)} of (abc, NMD file) pairs."""
    from bot.rhythm_labels import rhythm_of

    counts: dict = {}
    for text, file in pairs:
        reading = read_form(text)
        if not reading.parts:
            continue
        row = counts.setdefault(rhythm_of(text, file)[0], [0, 0, 0, 0])
        row[0] += 1
        row[1] += len(reading.parts) >= 3
        row[2] += not any(p.repeated for p in reading.parts)
        row[3] += all(p.bars == 16 for p in reading.parts)
    return {r: (n, a / n, b / n, c / n) for r, (n, a, b, c) in counts.items()}


if __name__ == "__main__":
    sys.exit(main())
