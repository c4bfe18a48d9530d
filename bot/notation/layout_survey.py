"""Measure how tunebooks lay each rhythm out (the numbers `bot.notation.layouts` holds).

    python -m bot.notation.layout_survey
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter

from bot.notation.form import read_form


def main(argv: list[str] | None = None) -> int:
    """Print each rhythm's layout as the NMD (all splits) and the corpus write it, then the NMD's
    layouts of the rhythms it has 20 tunes or more of (`layouts.WRITTEN`)."""
    argparse.ArgumentParser(prog="python -m bot.notation.layout_survey", description=main.__doc__).parse_args(argv)
    from bot import nmd
    from bot.corpus import load_corpus

    nmd_pairs = [(t.text, t.file) for t in nmd.read()]
    for name, pairs in (("NMD", nmd_pairs), ("corpus", [(t, "") for t in load_corpus().train])):
        print(name)
        for rhythm, row in sorted(measure(pairs).items(), key=lambda kv: -kv[1][0]):
            print(f"  {rhythm or '(none)':12s} tunes {row[0]:5d}  three or more parts {row[1]:5.1%}  "
                  f"unrepeated {row[2]:5.1%}  16-bar parts {row[3]:5.1%}")
    print("NMD layouts (each part's bars rounded, r: played twice; whole 4-bar multiples, 8 to 64 bars, 2 tunes or more)")
    for rhythm, counts in written(nmd_pairs).items():
        kept = {k: v for k, v in counts.most_common() if v >= 2}
        total = sum(kept.values())
        print(f"  {rhythm:10s} {total} tunes: " + ", ".join(f"{k} {v} ({v / total:.0%})" for k, v in kept.items()))
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


def layout_of(abc: str) -> str | None:
    """A tune's layout ("8r 16": an 8-bar part played twice, then 16 bars played once), each
    part's length rounded to whole bars, or None where its parts are not whole 4-bar multiples,
    8 to 64 written bars in all (a stray short bar, a 6-bar part).

    Rounded, because the NMD often writes the next part's pickup before the section line:
    `read_form` reads such 16-bar parts as 65/4 and 63/4 bars, a player hears 16 and 16."""
    parts = read_form(abc).parts
    bars = [round(p.bars) for p in parts]
    if not parts or any(b % 4 for b in bars) or not 8 <= sum(bars) <= 64:
        return None
    return " ".join(f"{b}{'r' if p.repeated else ''}" for b, p in zip(bars, parts))


def written(pairs, rhythms=("reel", "jig", "hornpipe", "waltz")) -> dict[str, Counter]:
    """{rhythm: Counter of layouts ("8r 16")} of (abc, NMD file) pairs, the tunes `layout_of`
    reads one of."""
    from bot.rhythm_labels import rhythm_of

    found = {r: Counter() for r in rhythms}
    for text, file in pairs:
        rhythm = rhythm_of(text, file)[0]
        layout = layout_of(text) if rhythm in found else None
        if layout:
            found[rhythm][layout] += 1
    return found


if __name__ == "__main__":
    sys.exit(main())
