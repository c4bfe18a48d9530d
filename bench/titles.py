"""How good are the generated titles? Uniqueness, copies of corpus titles, prompt words, length, speed.

    python bench/titles.py                     # 1,000 seeds x 10 rhythms, the shipped checkpoint
    python bench/titles.py --seeds 200 --checkpoint /tmp/titles.json

It prints, over seeds x rhythms: the share of distinct titles (with no `avoid`, so this is the
model's own variety; a conversation passes its titles so far and is 100% by construction, also
measured); the share identical to a training title, read here from the corpus's raw T: lines
(a loose comparison: letters only, "the" and a trailing rhythm word dropped) and by the model's
own key; the share holding a prompt word for 10 prompts (a whole-word match); mean length beside
the training titles' per rhythm; 20 samples beside 20 random held-out human titles; and the time
to load the model and to make one title.
"""

from __future__ import annotations

import argparse
import random
import re
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.titles import DEFAULT_CHECKPOINT, load, prompt_words  # noqa: E402
from bot.titles.data import read_titles  # noqa: E402
from bot.titles.model import GROUPS  # noqa: E402
from bot.titles.text import key  # noqa: E402

RHYTHMS = (None, "jig", "reel", "hornpipe", "polka", "waltz", "slip jig", "air", "march", "strathspey")
PROMPTS = ("a jig in D", "slow air in E minor", "a reel for whistle", "hornpipe", "a polka",
           "a waltz in G", "a slip jig in A minor", "a march in C, 32 bars", "a strathspey for fiddle in A",
           "a sad song about the sea")


def loose(title: str) -> str:
    """A title in the loose form the copy check compares: letters only, ", The" moved to the
    front and then dropped with any leading "the", a trailing rhythm word dropped."""
    text = title.lower().strip().rstrip(".")
    inverted = re.match(r"^(.*),\s*the$", text)
    text = "the " + inverted.group(1) if inverted else text
    text = re.sub(r"^the ", "", " ".join(re.findall(r"[a-z]+", text.replace("'", ""))))
    return re.sub(r" (reel|jig|hornpipe|march|strathspey|waltz|polka|clog)$", "", text)


def raw_training_titles() -> set[str]:
    """The training tunes' T: lines in `loose` form, read from the corpus without bot.titles's cleaning."""
    from bot.corpus import corpus_sources, is_held_out, raw_reads

    found = set()
    for _, raw, read in raw_reads(corpus_sources(with_nmd=True)):
        if read is None or ((read.part != "train") if read.part is not None else is_held_out(read.plain)):
            continue
        for value in re.findall(r"(?m)^T:(.*)$", raw.split("\nK:")[0]):
            for part in re.split(r",\s*or\s+", value.split(" -- ")[0]):
                found.add(loose(part))
    return found


def main() -> None:
    """Run the bench and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, default=1000, help="seeds per rhythm (default 1000)")
    parser.add_argument("--checkpoint", type=Path, default=DEFAULT_CHECKPOINT, help="the title model's JSON card")
    args = parser.parse_args()

    start = time.perf_counter()
    model = load(args.checkpoint)
    load_s = time.perf_counter() - start
    titles = read_titles()
    raw_train = raw_training_titles()
    train_keys = {key(t) for t, _ in titles.train}
    print(f"checkpoint {args.checkpoint} (held-out bits/char {model.card['metrics']['held_out_bits_per_char']}); "
          f"{len(titles.train)} training titles, {len(titles.held_out)} held out; "
          f"{len(raw_train)} raw training T: lines (loose form)")

    made: dict[str | None, list[str]] = {}
    start = time.perf_counter()
    for rhythm in RHYTHMS:
        made[rhythm] = [model.make_title(seed, rhythm) for seed in range(args.seeds)]
    per_title_ms = (time.perf_counter() - start) / (args.seeds * len(RHYTHMS)) * 1000
    every = [t for ts in made.values() for t in ts]

    conversation: list[str] = []
    for seed in range(args.seeds):
        conversation.append(model.make_title(seed, RHYTHMS[seed % len(RHYTHMS)], conversation))
    in_talk = len({t.lower() for t in conversation}) / len(conversation)

    prompt_hits = prompt_total = 0
    for prompt in PROMPTS:
        banned = prompt_words(prompt)
        rhythm = next((r for r in RHYTHMS[1:] if r in prompt), None)
        for seed in range(args.seeds // 10):
            title = model.make_title(seed, rhythm, banned_words=banned)
            words = set(re.findall(r"[a-z0-9]+", title.lower()))
            prompt_hits += bool(words & banned)
            prompt_total += 1

    def pct(x: float) -> str:
        return f"{100 * x:.1f}%"

    print(f"\n{len(every):,} titles ({args.seeds} seeds x {len(RHYTHMS)} rhythms)")
    print(f"  titled (non-empty, plain text, <= 50 chars): "
          f"{pct(sum(bool(re.fullmatch(r'[A-Za-z][A-Za-z -]*', t.replace(chr(39), ''))) and len(t) <= 50 for t in every) / len(every))}")
    print(f"  distinct, no avoid list, per rhythm (mean): "
          f"{pct(statistics.mean(len({t.lower() for t in ts}) / len(ts) for ts in made.values()))}; "
          f"over all rhythms: {pct(len({t.lower() for t in every}) / len(every))}")
    print(f"  distinct in one conversation of {args.seeds} (avoid = titles so far): {pct(in_talk)}")
    print(f"  identical to a training title: raw T: lines, loose {pct(sum(loose(t) in raw_train for t in every) / len(every))}; "
          f"cleaned titles, model's key {pct(sum(key(t) in train_keys for t in every) / len(every))}")
    print(f"  holding a prompt word ({len(PROMPTS)} prompts x {args.seeds // 10} seeds): "
          f"{pct(prompt_hits / prompt_total)} of {prompt_total}")
    train_len = [len(t) for t, _ in titles.train]
    print(f"  mean length: generated {statistics.mean(map(len, every)):.1f} chars "
          f"({statistics.mean(len(t.split()) for t in every):.2f} words); training {statistics.mean(train_len):.1f} chars "
          f"({statistics.mean(len(t.split()) for t, _ in titles.train):.2f} words)")
    print("  by rhythm: generated mean chars / training mean chars of the rhythm's group (titles)")
    for rhythm in RHYTHMS:
        group = GROUPS.get(rhythm) if rhythm else None
        human = [len(t) for t, r in titles.train if (GROUPS.get(r) == group if group else True)]
        print(f"    {str(rhythm):>10}: {statistics.mean(map(len, made[rhythm])):5.1f} / {statistics.mean(human):5.1f} "
              f"({len(human)})  e.g. {made[rhythm][0]!r}, {made[rhythm][1]!r}")
    print(f"  speed: load {load_s * 1000:.0f} ms once; {per_title_ms:.2f} ms per title")

    rng = random.Random(0)
    human = rng.sample([t for t, _ in titles.held_out], 20)
    ours = [made[RHYTHMS[i % len(RHYTHMS)]][100 + i] for i in range(20)]
    print(f"\n  {'generated':<42} held-out human")
    for a, b in zip(ours, human):
        print(f"  {a:<42} {b}")


if __name__ == "__main__":
    main()
