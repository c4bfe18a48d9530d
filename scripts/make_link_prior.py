"""How `bot/link_prior.abc`, the frozen prior of v=4 links, was made (at commit 2c270ab, model 4).

    PYTHONPATH=. python scripts/make_link_prior.py /tmp/prior.abc

It writes 1,600 tunes as the page writes them (20 prompts x seeds 200-279, every other seed
32 bars long, each titled by the title model and harmonised with the guitar's chords), then
appends `bot/link_dictionary.abc` (O'Neill's 1850), so pasted tunes of the old books pack well
too. The prior is frozen: a later model writes other tunes, so running this again makes a new
prior, and a new prior needs a new link version (every v=4 link is read against these bytes).
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

PROMPTS = ("a reel in D", "a jig in G", "a hornpipe in A", "a polka in D", "a waltz in G",
           "a slip jig in A minor", "a march in G", "a slow air in E minor", "a strathspey in A",
           "a reel in E minor", "a jig in D", "a mazurka in G", "a barn dance in C", "",
           "a reel in G", "a jig in A minor", "a hornpipe in D", "a waltz in D", "a polka in G",
           "a slide in D")


def main(out: str) -> None:
    from bot.checkpoint import load
    from bot.generate import Settings, generate
    from bot.harmonise import harmonise
    from bot.titles.model import make_title

    loaded, tunes = load(), []
    for seed in range(200, 280):
        for prompt in PROMPTS:
            abc = generate(prompt, Settings(seed=seed, bars=32 if seed % 2 else None), loaded).abc
            rhythm = re.search(r"^R:(.*)$", abc, re.M)
            title = make_title(seed, rhythm.group(1) if rhythm else None)
            tunes.append(harmonise(abc.replace("X:1\n", f"X:1\nT:{title}\n", 1)).strip("\n") + "\n")
        print(f"seed {seed}: {len(tunes)} tunes", file=sys.stderr)
    oneill = (Path(__file__).resolve().parent.parent / "bot" / "link_dictionary.abc").read_text(encoding="utf-8")
    Path(out).write_text("\n".join(tunes) + "\n" + oneill, encoding="utf-8")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "link_prior.abc")
