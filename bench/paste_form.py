"""Do pasted dance tunes without an R: line stay dances when continued?

    python bench/paste_form.py [--count 20]

Held-out corpus tunes that name a dance rhythm (reel, jig, hornpipe, polka) in R:, taken in
turn per rhythm; their R: and T: lines are removed (so nothing but the meter and the notes
tells the rhythm), the music is cut after 4 bars, and the bot continues each to 16 bars
(seed 0). Counted: tunes continued with repeated 8-bar parts (two or more parts, each 8 bars
and played twice), and what rhythm the prompt reader assumed.
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.machine import describe  # noqa: E402
from bot.checkpoint import load  # noqa: E402
from bot.corpus import load_corpus  # noqa: E402
from bot.generate import Settings, generate  # noqa: E402
from bot.notation.abc import read_tune, normalise_rhythm  # noqa: E402
from bot.notation.form import read_form  # noqa: E402
from bot.prompt import parse_prompt  # noqa: E402

RHYTHMS = ("reel", "jig", "hornpipe", "polka")


def cut_after(body: str, bars: int) -> str | None:
    """The body up to and including its `bars`-th bar line (None when it has fewer)."""
    count = 0
    for match in re.finditer(r"\|+|:\||\|:", body):
        count += 1
        if count == bars:
            return body[: match.end()]
    return None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--count", type=int, default=20, help="tunes (default 20, taken in turn per rhythm)")
    args = parser.parse_args()
    print(describe())
    loaded = load()
    by_rhythm: dict[str, list[str]] = {r: [] for r in RHYTHMS}
    for tune in load_corpus().held_out:
        rhythm = normalise_rhythm(read_tune(tune).get("R") or "")
        if rhythm in by_rhythm:
            by_rhythm[rhythm].append(tune)
    picked = []
    while len(picked) < args.count and any(by_rhythm.values()):
        for rhythm in RHYTHMS:
            if by_rhythm[rhythm] and len(picked) < args.count:
                picked.append((rhythm, by_rhythm[rhythm].pop(0)))
    start = time.perf_counter()
    kept, assumed = 0, Counter()
    for rhythm, tune in picked:
        lines = [line for line in tune.splitlines() if not re.match(r"^[RT]:", line)]
        head = [line for line in lines if re.match(r"^[A-Za-z]:", line)]
        body = cut_after("\n".join(lines[len(head):]), 4)
        if body is None:
            continue
        paste = "X:1\n" + "\n".join(head) + "\n" + body + "\n"
        prompt = parse_prompt(paste, loaded.vocab)
        assumed[(rhythm, prompt.rhythm)] += 1
        update = generate(prompt, Settings(seed=0, bars=16), loaded)
        ok = read_form(update.abc).two_repeated_eights
        kept += ok
        print(f"  {rhythm:9} read as {prompt.rhythm or '-':9} {'ok ' if ok else 'NO '} {update.form}")
    print(f"{kept} of {sum(assumed.values())} pasted dances without R: continued with repeated 8-bar parts "
          f"(goal >= 18 of 20); {time.perf_counter() - start:.0f} s")
    print("rhythm -> assumed: " + ", ".join(f"{a}->{b}: {n}" for (a, b), n in sorted(assumed.items(), key=str)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
