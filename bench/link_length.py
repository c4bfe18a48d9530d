"""How long are the links to 32-bar tunes? The page's "Link to this tune" for generated tunes.

    python bench/link_length.py                 # 5 prompts x 4 seeds, 32 bars
    python bench/link_length.py --seeds 10

Each tune is written as the page writes one (`bot.generate.generate`, Length 32), titled and
harmonised (`bot.harmonise`, the guitar's chords the card carries), and its link query made by
`bot.links.TuneLink(abc=...).to_query()` (the current format, v=3). Prints the query lengths,
their mean and how many are under 300 characters (issue 27's goal), and the tunes' bits per
character in the link's `abc` value.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.machine import describe  # noqa: E402

PROMPTS = ("a reel in D", "a jig in G", "a hornpipe in A", "a polka in D", "a waltz in G")
TITLE = "The Humours of Ballyconnell"  # a title of a usual length (the title model's mean is 16)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, default=4, help="seeds per prompt (default 4: 20 tunes)")
    args = parser.parse_args(argv)
    from bot import links
    from bot.checkpoint import load
    from bot.generate import Settings, generate
    from bot.harmonise import harmonise

    print(describe())
    loaded = load()
    started = time.perf_counter()
    lengths, bits = [], []
    for prompt in PROMPTS:
        for seed in range(args.seeds):
            abc = generate(prompt, Settings(seed=seed, bars=32), loaded).abc
            abc = harmonise(abc.replace("X:1\n", f"X:1\nT:{TITLE}\n", 1))
            query = links.TuneLink(abc=abc).to_query()
            lengths.append(len(query))
            bits.append(6 * len(links.encode_abc(abc)) / len(abc))  # base64: 6 bits a character
    print(f"{len(lengths)} tunes of 32 bars ({len(PROMPTS)} prompts x {args.seeds} seeds), titled and with chords, "
          f"in {time.perf_counter() - started:.0f} s")
    print(f"link query (v={links.LINK_VERSION}): {min(lengths)}-{max(lengths)} characters, mean "
          f"{statistics.mean(lengths):.0f}, under 300: {sum(n < 300 for n in lengths)} of {len(lengths)}")
    print(f"the abc value: {statistics.mean(bits):.2f} bits per character of the tune (mean)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
