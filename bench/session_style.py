"""Do the tunes read like the ones session players write? Generated tunes beside human tunes of the same rhythms.

    python bench/session_style.py                          # 10 prompts x 10 seeds, the shipped model
    python bench/session_style.py --typography both        # also without the typography rules, in turns
    python bench/session_style.py --tunes-per-prompt 4     # a quicker run

Writes 10 seeds of each of 10 prompts ("a jig" ... "a strathspey", and "" for a surprise; T=1.0,
16 bars) with `bot.generate.generate`, each titled as the chat titles it (`bot.chat.intent.title_for`,
no conversation: the title model's own variety), and reads, in the same run, the human tunes of
the same rhythms: the NMD's test split (`bot.nmd`, never trained on) and the corpus's held-out
split (`bot.corpus.load_corpus().held_out`); a human tune's rhythm is its R: line, title or NMD
file (`bot.rhythm_labels.rhythm_of`).

Per rhythm and overall it prints the share of tunes with: a rest in the music (`z`, `x`), a
backtick, a rest among a tuplet's notes, a chord with one pitch twice (`[B4B4]`: one letter at
one octave), a chord whose notes differ in length (`[E4C6]`); and of the titles: present,
unique in the run, holding a word of the prompt (`bot.titles.prompt_words`), identical to a
training title (the title model's own key, `bot.titles.text.key`). A prompt word is matched
as the title model avoids it (`bot.titles.uses_words`: whole words, plurals and possessives).

`--typography both` writes every tune twice, with and without the rules of
`bot.compose.rules.typography` (the composer given the rest of the rule list), tune by tune in
turns, so a before/after table comes from one run: about 25 s for both sides' 200 tunes on 2 busy
cores (the tunes of a prompt are written together, `--batch`).
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.machine import describe as machine  # noqa: E402
from bot.notation.bars import note_length  # noqa: E402
from bot.notation.tokens import NOTE, tokenize  # noqa: E402

PROMPTS = ("a jig", "a reel", "a hornpipe", "a polka", "a slip jig", "a waltz", "a march", "a slow air",
           "a strathspey", "")
# The rhythm each prompt asks for, as human tunes are labelled (`bot.rhythm_labels`); "" a surprise.
RHYTHMS = {"a jig": "jig", "a reel": "reel", "a hornpipe": "hornpipe", "a polka": "polka", "a slip jig": "slip jig",
           "a waltz": "waltz", "a march": "march", "a slow air": "air", "a strathspey": "strathspey", "": ""}
# A tuplet mark's numbers: `(p:q:r` covers r notes, `(p` p.
_TUPLET_NUMBERS = re.compile(r"\((?P<p>\d+)(?::(?P<q>\d*))?(?::(?P<r>\d*))?")
TRAITS = ("a rest in the music", "a backtick", "a rest in a tuplet", "a chord with a pitch twice",
          "chord notes of unequal lengths")


def body_of(abc: str) -> str:
    """The music of a tune: the lines after its K: line (`%` comments out)."""
    head, sep, body = abc.partition("\nK:")
    body = body.partition("\n")[2] if sep else abc
    return "\n".join(line.split("%", 1)[0] for line in body.splitlines() if not line[1:2] == ":")


def traits(abc: str) -> dict[str, bool]:
    """Which of TRAITS a tune shows."""
    tokens = [t for t in tokenize(body_of(abc)) if not t.inside]
    found = dict.fromkeys(TRAITS, False)
    found["a backtick"] = any(t.kind == "text" and "`" in t.text for t in tokens)
    tuplet_left = 0
    for tok in tokens:
        if tok.kind == "tuplet":
            match = _TUPLET_NUMBERS.match(tok.text)
            tuplet_left = int(match["r"] or match["p"])
            continue
        if tok.kind == "rest":
            found["a rest in the music"] = True
        if tok.kind in ("note", "rest", "chord"):
            if tuplet_left and (tok.kind == "rest" or (tok.kind == "chord" and "z" in tok.text)):
                found["a rest in a tuplet"] = True
            tuplet_left = max(0, tuplet_left - 1)
        if tok.kind == "chord":
            notes = list(NOTE.finditer(tok.text.split("]", 1)[0]))
            pitches = [(m["letter"].upper(), (m["letter"].islower()) + m["oct"].count("'") - m["oct"].count(","))
                       for m in notes]
            if len(set(pitches)) < len(pitches):
                found["a chord with a pitch twice"] = True
            if len({note_length(m["len"]) for m in notes}) > 1:
                found["chord notes of unequal lengths"] = True
    return found


def human_tunes() -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    """({rhythm: tunes} of the NMD test split, the same of the corpus's held-out split); "" holds them all."""
    from bot import nmd
    from bot.corpus import load_corpus
    from bot.rhythm_labels import rhythm_of

    wanted = set(RHYTHMS.values())
    sets = []
    for pairs in (((t.text, t.file) for t in nmd.read() if t.split == "test"),
                  ((tune, "") for tune in load_corpus().held_out)):
        found: dict[str, list[str]] = {r: [] for r in wanted}
        for text, file in pairs:
            rhythm = rhythm_of(text, file)[0]
            found[""].append(text)
            if rhythm in wanted:
                found[rhythm].append(text)
        sets.append(found)
    return sets[0], sets[1]


def write_tunes(loaded, per_prompt: int, sides: dict[str, tuple | None], batch: int) -> tuple[dict, list[str]]:
    """({side: {prompt: [abc]}}, failures): per_prompt seeds of every prompt with each side's
    rules (None: the composer's own, through `bot.generate.generate`), sides taking turns
    prompt by prompt; `batch` tunes written together through one BatchEngine."""
    from bot.compose.loop import Composer
    from bot.engine import BatchEngine
    from bot.generate import Settings, generate
    from bot.prompt import parse_prompt
    from bot.stepper import stepper_for

    def one(prompt: str, seed: int, rules, engine):
        settings = Settings(seed=seed, bars=16, temperature=1.0)
        try:
            if rules is None:
                return generate(prompt, settings, loaded, engine=engine).abc
            update = None
            for update in Composer(loaded, parse_prompt(prompt, loaded.vocab), settings, seed, engine, rules=rules).run():
                pass
            return update.abc
        except Exception as err:  # a failure is a finding: reported with its prompt and seed
            return err

    made = {side: {p: [] for p in PROMPTS} for side in sides}
    failed = []
    with BatchEngine(stepper_for(loaded.model)) as engine, ThreadPoolExecutor(batch) as pool:
        for prompt in PROMPTS:
            for side, rules in sides.items():
                results = pool.map(lambda seed: one(prompt, seed, rules, engine), range(per_prompt))
                for seed, result in enumerate(results):
                    if isinstance(result, Exception):
                        failed.append(f"{side} {prompt!r} seed {seed}: {type(result).__name__}: {result}")
                    else:
                        made[side][prompt].append(result)
    return made, failed


def titles_for(per_prompt: int) -> dict[str, list[str]]:
    """The chat's title for each prompt and seed (no conversation: each titled alone)."""
    from bot.chat.intent import Intent, title_for

    return {p: [title_for(Intent("new", p, seed)) for seed in range(per_prompt)] for p in PROMPTS}


def share(flags: list[bool]) -> str:
    return f"{100 * sum(flags) / len(flags):5.1f}%" if flags else "    -"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tunes-per-prompt", type=int, default=10, help="seeds per prompt (default 10: 100 tunes)")
    parser.add_argument("--typography", choices=("on", "off", "both"), default="on",
                        help="with the typography rules (on, default), without (off), or both in turns")
    parser.add_argument("--checkpoint", default=None, help="checkpoint stem (default: the shipped one)")
    parser.add_argument("--batch", type=int, default=10, help="tunes written together through one BatchEngine (default 10)")
    args = parser.parse_args(argv)
    print(machine(), flush=True)

    import torch

    from bot.checkpoint import DEFAULT_CHECKPOINT, load
    from bot.compose.rules import rules_for
    from bot.compose.rules import typography
    from bot.titles import prompt_words, uses_words
    from bot.titles.data import read_titles
    from bot.titles.text import key

    torch.set_num_threads(1)
    start = time.perf_counter()
    loaded = load(args.checkpoint or str(DEFAULT_CHECKPOINT))
    every = rules_for(loaded.vocab)
    without = tuple(r for r in every if type(r).__module__ != typography.__name__)
    sides = {"on": None, "off": without} if args.typography == "both" else {args.typography: None if args.typography == "on" else without}
    made, failed = write_tunes(loaded, args.tunes_per_prompt, sides, args.batch)
    written_s = time.perf_counter() - start
    titles = titles_for(args.tunes_per_prompt)
    nmd_test, held_out = human_tunes()
    train_keys = {key(t) for t, _ in read_titles().train}

    names = {"off": "ours, before", "on": "ours, after"} if len(sides) == 2 else {s: "ours" for s in sides}
    order = [s for s in ("off", "on") if s in sides]
    print(f"{args.tunes_per_prompt} tunes per prompt x {len(PROMPTS)} prompts (T=1.0, 16 bars) per side; "
          f"sides: {', '.join(f'{names[s]} (typography rules {s})' for s in order)}; "
          f"written in {written_s:.0f} s ({args.batch} at a time)")
    print(f"human tunes: NMD test split {len(nmd_test[''])}, corpus held-out split {len(held_out[''])}")
    for line in failed:
        print("  FAILED", line)

    read = {s: {p: [traits(t) for t in made[s][p]] for p in PROMPTS} for s in order}
    human = {name: {r: [traits(t) for t in tunes] for r, tunes in found.items()}
             for name, found in (("held-out", held_out), ("NMD test", nmd_test))}
    columns = [names[s] for s in order] + ["held-out", "NMD test"]
    for trait in TRAITS:
        print(f"\nshare of tunes with {trait}")
        print(f"  {'prompt':16s}" + "".join(f"{c:>15s}" for c in columns))
        for prompt in PROMPTS + ("overall",):
            rhythm = "" if prompt == "overall" else RHYTHMS[prompt]
            ours = [[x[trait] for p in PROMPTS for x in read[s][p]] if prompt == "overall"
                    else [x[trait] for x in read[s][prompt]] for s in order]
            people = [[x[trait] for x in human[h][rhythm]] for h in human]
            label = prompt or "surprise"
            cells = "".join(f"{share(o):>15s}" for o in ours)
            cells += "".join(f"{share(h)} ({len(h):4d})".rjust(15) for h in people)
            print(f"  {label:16s}{cells}")
        print("  (human columns: the rhythm's tunes, count in brackets; surprise and overall: all of them)")

    print("\ntitles (the chat's, each titled alone)")
    print(f"  {'prompt':16s}{'present':>9s}{'unique':>9s}{'prompt words':>14s}{'training title':>16s}  e.g.")
    all_titles = [t for p in PROMPTS for t in titles[p]]
    for prompt in PROMPTS + ("overall",):
        got = all_titles if prompt == "overall" else titles[prompt]
        asked = [(p, t) for p in PROMPTS for t in titles[p]] if prompt == "overall" else [(prompt, t) for t in got]
        words = [uses_words(t, prompt_words(p)) for p, t in asked]
        present = [bool(t.strip()) for t in got]
        unique = len({t.lower() for t in got}) / len(got)
        training = [key(t) in train_keys for t in got]
        print(f"  {prompt or 'surprise':16s}{share(present):>9s}{100 * unique:8.1f}%{share(words):>14s}{share(training):>16s}"
              f"  {got[0] if prompt != 'overall' else ''}")
    print(f"\nbench time {time.perf_counter() - start:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
