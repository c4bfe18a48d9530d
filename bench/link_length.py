"""How long are the links to 32-bar tunes? The page's "Link to this tune" for generated tunes.

    python bench/link_length.py                 # 5 prompts x 4 seeds, 32 bars
    python bench/link_length.py --seeds 10

Each tune is written as the page writes one (`bot.generate.generate`, Length 32), titled and
harmonised (`bot.harmonise`, the guitar's chords the card carries), and its link query made by
`bot.links.TuneLink(abc=...).to_query()` (v=4, `bot.link_packing`, unless v=3 is shorter), beside
the v=3 link of the same tune in the same run. Prints the query lengths, their mean and how many
are under 300 characters (issue 27's goal), the tunes' bits per character in the link's `abc`
value, and the time to pack and unpack a tune.
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
    tunes = []
    for prompt in PROMPTS:
        for seed in range(args.seeds):
            abc = generate(prompt, Settings(seed=seed, bars=32), loaded).abc
            tunes.append(harmonise(abc.replace("X:1\n", f"X:1\nT:{TITLE}\n", 1)))
    print(f"{len(tunes)} tunes of 32 bars ({len(PROMPTS)} prompts x {args.seeds} seeds), titled and with chords, "
          f"{statistics.mean(map(len, tunes)):.0f} characters on average, written in {time.perf_counter() - started:.0f} s")
    links.TuneLink(abc=tunes[0]).to_query()  # builds v=4's prior once (the chat's warm-up does)
    for name, version in (("v=3", 3), ("the page's link (v=4, or v=3 where shorter)", None)):
        started = time.perf_counter()
        queries = [links.TuneLink(abc=abc).to_query(version) for abc in tunes]
        made = (time.perf_counter() - started) / len(tunes)
        lengths = [len(q) for q in queries]
        value = [q.split("&abc=")[1] for q in queries]
        bits = [6 * len(v) / len(abc) for v, abc in zip(value, tunes)]  # base64: 6 bits a character
        started = time.perf_counter()
        assert all(links.from_query(dict([q.split("=", 1) for q in query.split("&")])).abc == abc
                   for query, abc in zip(queries, tunes))
        opened = (time.perf_counter() - started) / len(tunes)
        print(f"{name}: {min(lengths)}-{max(lengths)} characters, mean {statistics.mean(lengths):.0f}, "
              f"under 300: {sum(n < 300 for n in lengths)} of {len(lengths)}; "
              f"{statistics.mean(bits):.2f} bits a character of the tune; "
              f"made in {1000 * made:.1f} ms, opened in {1000 * opened:.1f} ms (mean)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
