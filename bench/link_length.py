"""How long are the links to 32-bar tunes? The page's "Link to this tune" for generated tunes.

    python bench/link_length.py                 # 5 prompts x 4 seeds, 32 bars
    python bench/link_length.py --seeds 10

Each tune is written as the page writes one (`bot.generate.generate`, Length 32), titled and
harmonised (`bot.harmonise`, the guitar's chords the card carries), and its link query made by
`bot.links.TuneLink(abc=...).to_query()` (v=4, `bot.link_packing`, unless v=3 is shorter), beside
the v=3 link of the same tune in the same run. Prints the query lengths, their mean and how many
are under 300 characters (issue 27's goal), the tunes' bits per character in the link's `abc`
value, and the time to pack and unpack a tune. Then `--damaged` values (default 6,000): a third
the v=4 value of one of the tunes with 1-3 characters changed, the rest random base64url of
1-1,000 characters; every one must be refused, none opened as a tune.
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
    parser.add_argument("--damaged", type=int, default=6000, help="damaged or random v=4 values to try (default 6000)")
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
    opened, tried = damaged_values(tunes, args.damaged)
    print(f"damaged or random v=4 values: {opened} of {tried} opened as a tune (goal 0)")
    return 0


def damaged_values(tunes: list[str], count: int) -> tuple[int, int]:
    """(values that opened as a tune, values tried): a third real v=4 values with 1-3 characters
    changed, the rest random base64url; seeded, so a run can be repeated."""
    import random

    from bot import link_packing, links

    rng = random.Random(1)
    alphabet = link_packing._B64
    goods = [links.encode_abc(abc, 4) for abc in tunes]
    opened = tried = 0
    for i in range(count):
        if i % 3 == 0:
            value = list(rng.choice(goods))
            for _ in range(rng.randint(1, 3)):
                value[rng.randrange(len(value))] = rng.choice(alphabet)
            value = "".join(value)
            if value in goods:
                continue  # changed back to itself
        else:
            value = "".join(rng.choice(alphabet) for _ in range(rng.choice((1, 2, 5, 20, 60, 200, 1000))))
        tried += 1
        try:
            links.decode_abc(value, 4)
        except ValueError:
            continue
        opened += 1
    return opened, tried


if __name__ == "__main__":
    sys.exit(main())
