"""Do the tunes read like the ones session players write? Generated tunes beside human tunes of the same rhythms.

    python bench/session_style.py                          # 10 prompts x 10 seeds, the shipped model
    python bench/session_style.py --typography both        # also without the typography rules, in turns
    python bench/session_style.py --tunes-per-prompt 4     # a quicker run
    python bench/session_style.py --instrument whistle     # written for whistle: its range checked

Writes 10 seeds of each of 10 prompts ("a jig" ... "a strathspey", and "" for a surprise; T=1.0,
the Length's default: each rhythm's usual layout, `bot.notation.layouts`) with `bot.generate.generate`, each titled as the chat titles it (`bot.chat.intent.title_for`,
no conversation: the title model's own variety), and reads, in the same run, the human tunes of
the same rhythms: the NMD's test split (`bot.nmd`, never trained on) and the corpus's held-out
split (`bot.corpus.load_corpus().held_out`); a human tune's rhythm is its R: line, title or NMD
file (`bot.rhythm_labels.rhythm_of`).

Per rhythm and overall it prints the share of tunes with: a rest in the music (`z`, `x`), a
backtick, a rest among a tuplet's notes, a tie between them (`(3A-A-A`), a length not in
lowest terms (`G2/2`), a chord with one pitch twice (`[B4B4]`: one letter at one octave), a
chord whose notes differ in length (`[E4C6]`); and of the titles: present, unique in the run,
holding a word of the prompt (`bot.titles.prompt_words`), identical to a
training title (the title model's own key, `bot.titles.text.key`). A prompt word is matched
as the title model avoids it (`bot.titles.uses_words`: whole words, plurals and possessives).

Per prompt and overall it also prints, beside people's tunes of the rhythm:

* classifier accuracy: how well `bench.model_compare`'s classifier (`style_row`: a 5-fold
  logistic regression on pitch-class, interval and note-length histograms, 50% =
  indistinguishable) tells our tunes from the held-out split's, the NMD test split's and the
  whole NMD's (all splits: the test split has 6 waltzes), and the people-against-people
  baseline, NMD test against held-out. Ten tunes a prompt are too few for it, so
  `--classifier-tunes N` (default 80) writes N more of each of jig, reel, hornpipe and waltz,
  in four keys each (`CLASSIFIER_KEYS`: "a jig in D/G/A minor/E minor", N/4 seeds a key, each
  key its own seeds from 1000 on, so each tune draws its own layout),
  added to the run's own tunes of those prompts; goal line: at most 65% for each (against the
  held-out split, or the whole NMD where held-out has under 20 of the rhythm);
* meters (the first M: line, `C` as 4/4) with their shares, and the share of tunes with
  8-bar parts, 16-bar parts, AABB, AB unrepeated, three or more parts
  (`bot.notation.form.read_form`), against the held-out split and the whole NMD (all splits,
  the test split being too small per rhythm); goal line: meter and part-length shares within
  10 points of the whole NMD's, for rhythms with 20 or more NMD tunes, on the run's tunes and
  the --classifier-tunes ones (ten a prompt put a share within +-13 points by chance alone);
  parts counted in whole bars, rounded (the NMD writes pickups before its section lines);
* range: the share of notes outside the fiddle's range (`bot.instruments.range_for`), of tunes
  with any note outside it, and of tunes with one below it (G3), every chord note counted.

The default run (100 tunes and 320 for the classifier) takes about 70 s on 2 busy cores (the 160 extra tunes about 10 s of it);
reading people's tunes' forms and ranges adds about 10 s.

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
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from itertools import zip_longest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.machine import describe as machine  # noqa: E402
from bot.compose.rules.typography import EVEN_LENGTH  # noqa: E402
from bot.notation.abc import blank_comments, default_unit, normalise_field  # noqa: E402
from bot.notation.bars import note_length, read_body  # noqa: E402
from bot.notation.form import read_form, split_abc  # noqa: E402
from bot.notation.tokens import NOTE, tokenize  # noqa: E402

PROMPTS = ("a jig", "a reel", "a hornpipe", "a polka", "a slip jig", "a waltz", "a march", "a slow air",
           "a strathspey", "")
# The rhythm each prompt asks for, as human tunes are labelled (`bot.rhythm_labels`); "" a surprise.
RHYTHMS = {"a jig": "jig", "a reel": "reel", "a hornpipe": "hornpipe", "a polka": "polka", "a slip jig": "slip jig",
           "a waltz": "waltz", "a march": "march", "a slow air": "air", "a strathspey": "strathspey", "": ""}
# A tuplet mark's numbers: `(p:q:r` covers r notes, `(p` p.
_TUPLET_NUMBERS = re.compile(r"\((?P<p>\d+)(?::(?P<q>\d*))?(?::(?P<r>\d*))?")
# A length with an even number before its `/` (`G2/2`: `G`), as the composer's rule reads it.
_UNREDUCED = re.compile(EVEN_LENGTH + "/")
TRAITS = ("a rest in the music", "a double stop", "a backtick", "a rest in a tuplet", "a tie in a tuplet",
          "a length not in lowest terms", "a chord with a pitch twice", "chord notes of unequal lengths")


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
    for i, tok in enumerate(tokens):
        if tok.kind == "tuplet":
            match = _TUPLET_NUMBERS.match(tok.text)
            tuplet_left = int(match["r"] or match["p"])
            continue
        if tok.kind == "rest":
            found["a rest in the music"] = True
        if tok.kind in ("note", "rest", "chord"):
            if tuplet_left and (tok.kind == "rest" or (tok.kind == "chord" and "z" in tok.text)):
                found["a rest in a tuplet"] = True
            tied = i + 1 < len(tokens) and tokens[i + 1].kind == "text" and tokens[i + 1].text.startswith("-")
            if tuplet_left > 1 and tied:  # tied to the tuplet's next member (`(3A-A-A`)
                found["a tie in a tuplet"] = True
            if _UNREDUCED.search(tok.text):  # `G2/2`, `[GB]4/2`
                found["a length not in lowest terms"] = True
            tuplet_left = max(0, tuplet_left - 1)
        if tok.kind == "chord":
            found["a double stop"] = True
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

    return (by_rhythm((t.text, t.file) for t in nmd.read() if t.split == "test"),
            by_rhythm((tune, "") for tune in load_corpus().held_out))


def write_tunes(loaded, per_prompt: int, sides: dict[str, tuple | None], batch: int,
                prompts: tuple[str, ...] | list[str] = PROMPTS, instrument: str = "fiddle",
                first_seed: int = 0) -> tuple[dict, list[str]]:
    """({side: {prompt: [abc]}}, failures): per_prompt seeds of every prompt (PROMPTS unless
    given) with each side's rules (None: the composer's own, through `bot.generate.generate`),
    sides taking turns prompt by prompt; `batch` tunes written together through one BatchEngine.
    Seeds from `first_seed` on, a prompt's `per_prompt` after the previous prompt's where
    first_seed is given (distinct seeds draw distinct layouts: `bot.notation.layouts`)."""
    from bot.compose.loop import Composer
    from bot.engine import BatchEngine
    from bot.generate import Settings, generate
    from bot.prompt import parse_prompt
    from bot.stepper import stepper_for

    def one(prompt: str, seed: int, rules, engine):
        # bars None: the rhythm's usual length, as the page's default; the instrument's range
        settings = Settings(seed=seed, temperature=1.0, instrument=instrument)
        try:
            if rules is None:
                return generate(prompt, settings, loaded, engine=engine).abc
            update = None
            for update in Composer(loaded, parse_prompt(prompt, loaded.vocab), settings, seed, engine, rules=rules).run():
                pass
            return update.abc
        except Exception as err:  # a failure is a finding: reported with its prompt and seed
            return err

    made = {side: {p: [] for p in prompts} for side in sides}
    failed = []
    with BatchEngine(stepper_for(loaded.model)) as engine, ThreadPoolExecutor(batch) as pool:
        for at, prompt in enumerate(prompts):
            for side, rules in sides.items():
                start = first_seed + (at * per_prompt if first_seed else 0)
                seeds = range(start, start + per_prompt)
                results = pool.map(lambda seed: one(prompt, seed, rules, engine), seeds)
                for seed, result in zip(seeds, results):
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


# --- meters, forms and range (per rhythm, ours beside people's) ----------------------------

# Rhythms the classifier table writes extra tunes for (`--classifier-tunes`): four keys each,
# the keys the rhythm is most often played in.
CLASSIFIER_KEYS = {"jig": ("D", "G", "A minor", "E minor"), "reel": ("D", "G", "A", "E minor"),
                   "hornpipe": ("D", "G", "A", "F"), "waltz": ("D", "G", "C", "A minor")}
FORMS = ("8-bar parts", "16-bar parts", "AABB", "AB unrepeated", "3+ parts")
GOAL_CLASSIFIER = 0.65  # the accuracy our tunes of a rhythm should stay at or under
GOAL_POINTS = 10  # meter and part-length shares within this many points of the NMD's


def meter_of(abc: str) -> str:
    """The tune's first M: value in the model's form (`C` as 4/4, `C|` as 2/2); "none" without one."""
    for line in abc.splitlines():
        if line.startswith("M:"):
            return normalise_field("M", line[2:]) or "none"
    return "none"


def form_of(abc: str) -> dict[str, bool]:
    """Which of FORMS a tune has (`bot.notation.form.read_form`): every part 8 bars, every part
    16 bars, two parts each played twice (AABB), two parts neither repeated (AB), three or more.

    A part's length is counted in whole bars, rounded: the NMD often writes the next part's
    pickup before the section line, so `read_form` reads its 16-bar parts as 65/4 and 63/4 bars
    (a quarter of its reels); rounded, they are the 16 bars a player hears."""
    parts = read_form(abc).parts
    return {"8-bar parts": bool(parts) and all(round(p.bars) == 8 for p in parts),
            "16-bar parts": bool(parts) and all(round(p.bars) == 16 for p in parts),
            "AABB": len(parts) == 2 and all(p.repeated for p in parts),
            "AB unrepeated": len(parts) == 2 and not any(p.repeated for p in parts),
            "3+ parts": len(parts) >= 3}


def pitches_of(abc: str) -> list[int]:
    """Every sounding pitch of a tune, MIDI numbers (middle C 60), each note of a chord too;
    read as `read_form` reads a tune's melody (`bot.notation.bars.read_body`)."""
    fields, body = split_abc(abc)
    meter = normalise_field("M", fields.get("M", "none"))
    bars = read_body(blank_comments(body), meter, fields.get("L") or default_unit(meter), fields.get("K", "C"))
    return [p for bar in bars for event in bar.events for p in event.pitches]


def out_of_range(abc: str, low: int, high: int) -> tuple[int, int, int]:
    """(notes below `low`, notes above `high`, notes in all) of a tune; the range is inclusive."""
    pitches = pitches_of(abc)
    return sum(p < low for p in pitches), sum(p > high for p in pitches), len(pitches)


def meter_shares(tunes: list[str]) -> dict[str, float]:
    """{meter: share of tunes}, most common first."""
    counts = Counter(meter_of(t) for t in tunes)
    return {m: n / len(tunes) for m, n in counts.most_common()}


def meter_cell(tunes: list[str], width: int, top: int = 3) -> str:
    """The `top` commonest meters with their shares ("6/8 97% 9/8 3%"), and the tunes' count."""
    if not tunes:
        return "-".rjust(width)
    text = " ".join(f"{m} {100 * s:.0f}%" for m, s in list(meter_shares(tunes).items())[:top])
    return f"{text} ({len(tunes)})".rjust(width)


def by_rhythm(pairs) -> dict[str, list[str]]:
    """{rhythm: tunes} of (text, NMD file) pairs for the rhythms of RHYTHMS; "" holds every tune."""
    from bot.rhythm_labels import rhythm_of

    found: dict[str, list[str]] = {r: [] for r in set(RHYTHMS.values())}
    for text, file in pairs:
        rhythm = rhythm_of(text, file)[0]
        found[""].append(text)
        if rhythm in found:
            found[rhythm].append(text)
    return found


def nmd_all() -> dict[str, list[str]]:
    """{rhythm: tunes} of the whole NMD, all splits (the test split alone has few of most rhythms)."""
    from bot import nmd

    return by_rhythm((t.text, t.file) for t in nmd.read())


def classifier_prompts(per_rhythm: int) -> list[str]:
    """The prompts the classifier's extra tunes are written with: "a jig in D" ... (CLASSIFIER_KEYS)."""
    return [f"a {rhythm} in {key}" for rhythm, keys in CLASSIFIER_KEYS.items() for key in keys] if per_rhythm else []


def classifier_tunes(extra: dict[str, list[str]], per_rhythm: int) -> dict[str, list[str]]:
    """{rhythm: the first `per_rhythm` extra tunes of its prompts}, keys taking turns seed by seed."""
    found = {}
    for rhythm, keys in CLASSIFIER_KEYS.items():
        lists = [extra.get(f"a {rhythm} in {key}", []) for key in keys]
        turns = [t for row in zip_longest(*lists) for t in row if t is not None]
        found[rhythm] = turns[:per_rhythm]
    return found


def accuracy_cell(ours: list[str], human: list[str], width: int = 16) -> str:
    """model_compare's classifier accuracy (`style_row`) of `ours` against `human`, with the
    human count; `*` where either side has fewer than model_compare's FEW tunes."""
    from bench.model_compare import FEW, counts_of, style_row

    if not ours or not human:
        return "-".rjust(width)
    accuracy = style_row(ours, counts_of(human))["classifier"]
    mark = "*" if min(len(ours), len(human)) < FEW else " "
    text = "n/a" if accuracy != accuracy else f"{100 * accuracy:.1f}%"
    return f"{text}{mark}({len(human)})".rjust(width)


def print_classifier(ours: dict[str, list[str]], humans: dict[str, dict[str, list[str]]], side: str) -> None:
    """Per prompt and overall: how well model_compare's classifier tells our tunes from each
    human set's tunes of the rhythm, and NMD test against held-out (people against people)."""
    from bench.model_compare import FEW

    print(f"\nclassifier accuracy, {side}, against people's tunes of the rhythm (bench.model_compare: "
          "5-fold logistic regression on pitch-class/interval/length histograms; 50% = indistinguishable)")
    columns = list(humans) + ["NMD test vs held-out"]
    print(f"  {'prompt':16s}{'ours':>6s}" + "".join(f"{c:>22s}" for c in columns))
    for prompt in PROMPTS + ("overall",):
        rhythm = "" if prompt == "overall" else RHYTHMS[prompt]
        mine = ours[prompt]
        cells = "".join(accuracy_cell(mine, h[rhythm], 22) for h in humans.values())
        cells += accuracy_cell(humans["NMD test"][rhythm], humans["held-out"][rhythm], 22)
        print(f"  {prompt or 'surprise':16s}{len(mine):6d}{cells}")
    print(f"  (count of people's tunes in brackets; * fewer than {FEW} on one side: noise; "
          "the last column: NMD test tunes against held-out ones)")


def classifier_goal(ours: dict[str, list[str]], humans: dict[str, dict[str, list[str]]]) -> str:
    """The goal line: accuracy at most GOAL_CLASSIFIER for each CLASSIFIER_KEYS rhythm, against
    the held-out split where it has model_compare's FEW tunes of the rhythm, else the whole NMD."""
    from bench.model_compare import FEW, counts_of, style_row

    verdicts = []
    for rhythm in CLASSIFIER_KEYS:
        name = "held-out" if len(humans["held-out"][rhythm]) >= FEW else "NMD all"
        accuracy = style_row(ours[f"a {rhythm}"], counts_of(humans[name][rhythm]))["classifier"]
        if accuracy != accuracy:
            verdicts.append(f"{rhythm} n/a (too few tunes)")
            continue
        ok = accuracy <= GOAL_CLASSIFIER
        verdicts.append(f"{rhythm} {'met' if ok else 'NOT met'} ({100 * accuracy:.1f}% vs {name})")
    return f"  goal, classifier at most {100 * GOAL_CLASSIFIER:.0f}%: " + "; ".join(verdicts)


def print_meters_and_forms(ours: dict[str, dict[str, list[str]]], humans: dict[str, dict[str, list[str]]],
                           goal_tunes: dict[str, list[str]] | None = None) -> None:
    """Per prompt: the commonest first M: meters with their shares, then for each of FORMS the
    share of tunes with it, ours (each side) beside each human set; then the goal line, on
    `goal_tunes` where given (the last side's with the --classifier-tunes ones: ten tunes a
    prompt put a share within +-13 points by chance alone)."""
    columns = list(ours) + list(humans)
    print("\nmeters (first M: line), share of tunes; people's: held-out split and the whole NMD (all splits)")
    print(f"  {'prompt':16s}" + "".join(f"{c:>30s}" for c in columns))
    for prompt in PROMPTS + ("overall",):
        rhythm = "" if prompt == "overall" else RHYTHMS[prompt]
        cells = [meter_cell(o[prompt], 30) for o in ours.values()] + [meter_cell(h[rhythm], 30) for h in humans.values()]
        print(f"  {prompt or 'surprise':16s}" + "".join(cells))
    forms = {name: {k: [form_of(t) for t in tunes] for k, tunes in sets.items()}
             for name, sets in list(ours.items()) + list(humans.items())}
    for kind in FORMS:
        print(f"\nshare of tunes with {kind} (bot.notation.form.read_form); people's: held-out and the whole NMD")
        print(f"  {'prompt':16s}" + "".join(f"{c:>15s}" for c in columns))
        for prompt in PROMPTS + ("overall",):
            rhythm = "" if prompt == "overall" else RHYTHMS[prompt]
            cells = "".join(f"{share([f[kind] for f in forms[c][prompt]]):>15s}" for c in ours)
            cells += "".join(f"{share([f[kind] for f in forms[c][rhythm]])} ({len(forms[c][rhythm]):4d})".rjust(15)
                             for c in humans)
            print(f"  {prompt or 'surprise':16s}{cells}")
    print(meter_form_goal(goal_tunes or ours[list(ours)[-1]], humans["NMD all"]))


def meter_form_goal(ours: dict[str, list[str]], nmd: dict[str, list[str]]) -> str:
    """The goal line: per rhythm with at least 20 NMD tunes, the largest gap in points between
    our shares and the whole NMD's, over meters and over 8-bar/16-bar parts (at most GOAL_POINTS)."""
    verdicts = []
    for prompt in PROMPTS:
        rhythm = RHYTHMS[prompt]
        if not rhythm or len(nmd[rhythm]) < 20 or not ours[prompt]:
            continue
        mine, theirs = meter_shares(ours[prompt]), meter_shares(nmd[rhythm])
        meter_gap = max(abs(mine.get(m, 0) - theirs.get(m, 0)) for m in set(mine) | set(theirs))
        length_gap = max(abs(sum(form_of(t)[k] for t in ours[prompt]) / len(ours[prompt])
                             - sum(form_of(t)[k] for t in nmd[rhythm]) / len(nmd[rhythm]))
                         for k in ("8-bar parts", "16-bar parts"))
        ok = max(meter_gap, length_gap) * 100 <= GOAL_POINTS
        verdicts.append(f"{rhythm} {'met' if ok else 'NOT met'} (meter {100 * meter_gap:.0f}, lengths "
                        f"{100 * length_gap:.0f}; {len(ours[prompt])} tunes)")
    return (f"  goal, meter and part-length shares within {GOAL_POINTS} points of the whole NMD's "
            "(largest gap in points): " + "; ".join(verdicts))


def range_flags(tunes: list[str], low: int, high: int) -> tuple[list[bool], list[bool], list[bool]]:
    """(one flag per note: outside low..high; one per tune: any note outside; one per tune: any below low)."""
    notes, any_out, below = [], [], []
    for abc in tunes:
        under, over, total = out_of_range(abc, low, high)
        notes += [True] * (under + over) + [False] * (total - under - over)
        any_out.append(under + over > 0)
        below.append(under > 0)
    return notes, any_out, below


def print_range(ours: dict[str, dict[str, list[str]]], humans: dict[str, dict[str, list[str]]],
                instrument: str = "fiddle") -> None:
    """Per prompt: the share of notes outside the instrument's range (`bot.instruments.range_for`),
    of tunes with any note outside it, and of tunes with one below it, ours beside people's."""
    from bot.instruments import range_for

    low, high = range_for(instrument)
    columns = list(ours) + list(humans)
    flags = {c: {k: range_flags(t, low, high) for k, t in sets.items()}
             for c, sets in list(ours.items()) + list(humans.items())}
    titles = (f"share of notes outside the {instrument}'s range", f"share of tunes with a note outside the {instrument}'s range",
              f"share of tunes with a note below the {instrument}'s range")
    for i, title in enumerate(titles):
        print(f"\n{title} (MIDI {low}..{high}, bot.instruments; middle C 60)")
        print(f"  {'prompt':16s}" + "".join(f"{c:>15s}" for c in columns))
        for prompt in PROMPTS + ("overall",):
            rhythm = "" if prompt == "overall" else RHYTHMS[prompt]
            cells = "".join(f"{share(flags[c][prompt][i]):>15s}" for c in ours)
            cells += "".join(f"{share(flags[c][rhythm][i])} ({len(humans[c][rhythm]):4d})".rjust(15) for c in humans)
            print(f"  {prompt or 'surprise':16s}{cells}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tunes-per-prompt", type=int, default=10, help="seeds per prompt (default 10: 100 tunes)")
    parser.add_argument("--typography", choices=("on", "off", "both"), default="on",
                        help="with the typography rules (on, default), without (off), or both in turns")
    parser.add_argument("--checkpoint", default=None, help="checkpoint stem (default: the shipped one)")
    parser.add_argument("--batch", type=int, default=10, help="tunes written together through one BatchEngine (default 10)")
    parser.add_argument("--instrument", default="fiddle",
                        help="the instrument the tunes are written for, and whose range is checked (default fiddle)")
    parser.add_argument("--classifier-tunes", type=int, default=80, metavar="N",
                        help="extra tunes per rhythm for the classifier table: jig, reel, hornpipe and waltz, "
                             "4 keys x N/4 seeds (default 80; 0: only the run's own tunes)")
    args = parser.parse_args(argv)
    if args.classifier_tunes < 0:
        parser.error(f"--classifier-tunes must be 0 or more, got {args.classifier_tunes}")
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
    made, failed = write_tunes(loaded, args.tunes_per_prompt, sides, args.batch, instrument=args.instrument)
    written_s = time.perf_counter() - start
    last = "on" if "on" in sides else "off"  # the side the classifier's extra tunes are written with
    extra_s = time.perf_counter()
    extra, extra_failed = write_tunes(loaded, -(-args.classifier_tunes // 4), {last: sides[last]}, args.batch,
                                      classifier_prompts(args.classifier_tunes), instrument=args.instrument,
                                      first_seed=1000)  # seeds the run's own tunes do not use
    extra_s = time.perf_counter() - extra_s
    failed += extra_failed
    titles = titles_for(args.tunes_per_prompt)
    nmd_test, held_out = human_tunes()
    train_keys = {key(t) for t, _ in read_titles().train}

    names = {"off": "ours, before", "on": "ours, after"} if len(sides) == 2 else {s: "ours" for s in sides}
    order = [s for s in ("off", "on") if s in sides]
    print(f"{args.tunes_per_prompt} tunes per prompt x {len(PROMPTS)} prompts (T=1.0, Length: the rhythm's usual) per side; "
          f"sides: {', '.join(f'{names[s]} (typography rules {s})' for s in order)}; "
          f"written in {written_s:.0f} s ({args.batch} at a time)")
    if args.classifier_tunes:
        print(f"classifier: {args.classifier_tunes} more tunes of each of {', '.join(CLASSIFIER_KEYS)} "
              f"(\"a jig in D\" ..., 4 keys each), written in {extra_s:.0f} s")
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

    nmd_every = nmd_all()
    ours = {names[s]: {**made[s], "overall": [t for p in PROMPTS for t in made[s][p]]} for s in order}
    more = classifier_tunes(extra[last], args.classifier_tunes) if args.classifier_tunes else {}
    with_more = {p: made[last][p] + more.get(RHYTHMS[p], []) for p in PROMPTS}
    with_more["overall"] = [t for p in PROMPTS for t in with_more[p]]
    humans = {"held-out": held_out, "NMD test": nmd_test, "NMD all": nmd_every}
    print_classifier(with_more, humans, names[last] + (" with the --classifier-tunes ones" if more else ""))
    print(classifier_goal(with_more, humans))
    print_meters_and_forms(ours, {"held-out": held_out, "NMD all": nmd_every}, with_more)
    print_range(ours, humans, args.instrument)
    print(f"\nbench time {time.perf_counter() - start:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
