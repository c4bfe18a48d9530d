"""Continuing a pasted tune as a musician means it: the paste untouched, its form completed.

    python bench/continue.py                # 100 pastes per case (50 NMD test, 50 held out)
    python bench/continue.py --tunes 20     # a quick look

The pastes come from tunes nothing was trained or tuned on: the NMD's test split and the
corpus's held-out split, each with a regular first part of 8 or 16 bars and a second part.
Each is continued at the page's defaults (temperature 1.0, Length 16, form on; seed = its
index) in six cases:

- part: cut after the first part's closing section line (`:|`, `||` ...);
- mid: cut mid-part after bar 4 (a pickup counts as a bar);
- no R: the part cut with its `R:` line removed;
- M/L after K: the part cut with its `M:` and `L:` lines moved after `K:`, as tunebooks do;
- w: line: the part cut with a lyrics line after its first music line;
- two tunes: the part cut followed by another whole tune in one paste.

Per case it prints:
- identical: the paste (the first tune, for two) comes back byte for byte as the tune's start,
  also once the harmoniser has added chords for the page's guitar (`fill_from`);
- form: for cuts at a part's end, the tune is AABB (AB where A is not repeated) with the new
  part as long as A; for mid cuts, the first part is completed to its length in the original
  (and, printed apart, to any regular length: a 16-bar part cut at bar 4 reads like half of an 8);
  the parts' bar counts are tallied against the paste's;
- meter kept (M/L after K: only): the prompt reads the paste's own M: and L:;
- tonic: the last note is the tonic of the key in force (`bot.notation.form.read_form`);
- bars exact: new bars abc2midi does not flag ("Bar N has X time units");
- rests: the share of new bars holding a rest against the pasted bars' share;
- first bar: time from the call to the first update holding a new bar (median, ms).
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.machine import describe  # noqa: E402
from bench.sample_quality import abc2midi_bad_bars  # noqa: E402
from bot.notation.abc import blank_comments, normalise_field  # noqa: E402
from bot.notation.bars import read_body  # noqa: E402
from bot.notation.form import is_section_line, read_form, split_abc  # noqa: E402
from bot.notation.tokens import tokenize  # noqa: E402

CASES = ("part", "mid", "no R", "M/L after K", "w: line", "two tunes")


def bars_of(abc: str) -> list:
    """The bars of a tune as read with its header (M:/L: after K: count)."""
    fields, body = split_abc(abc)
    meter = normalise_field("M", fields.get("M", "4/4"))
    return read_body(blank_comments(body), meter, fields.get("L") or "1/8", fields.get("K", "C"))


def cut_at_part(abc: str) -> str | None:
    """The tune up to the section line that closes its first part (at least one bar in)."""
    fields, body = split_abc(abc)
    head = abc[: len(abc) - len(body)]
    length = 0
    for bar in bars_of(abc):
        length += bool(bar.events)
        if length > 2 and is_section_line(bar.token):
            return head + body[: bar.end + len(bar.token)] + "\n"
    return None


def cut_after(abc: str, bars: int) -> str | None:
    """The tune up to the bar line ending its `bars`-th bar (a pickup counts)."""
    fields, body = split_abc(abc)
    head = abc[: len(abc) - len(body)]
    counted = 0
    for bar in bars_of(abc):
        counted += bool(bar.events)
        if counted == bars and bar.token:
            return head + body[: bar.end + len(bar.token)] + "\n"
    return None


def usable(abc: str) -> bool:
    """A single-voice tune with M:, L:, K:, a regular first part of 8 or 16 bars and a second part."""
    fields, body = split_abc(abc)
    if not all(name in fields for name in "MLK") or "V:" in abc or len(abc) > 4000:
        return False
    if fields["M"].strip() in ("none", "") or not body.strip():
        return False
    parts = read_form(abc).parts
    return len(parts) >= 2 and parts[0].regular and int(parts[0].bars) in (8, 16)


def source_tunes(count: int) -> list[tuple[str, str]]:
    """(source, tune): half from the NMD test split, half from the corpus's held-out split."""
    from bot import nmd
    from bot.corpus import load_corpus

    nmd_tunes = [t.text.strip("\n") + "\n" for t in nmd.read() if t.split == "test"]
    # The corpus keeps its tunes from X: on without the X: line: pasted, a tune has one.
    held = ["X:1\n" + t.strip("\n") + "\n" for t in load_corpus().held_out]
    picked: list[tuple[str, str]] = []
    for name, tunes, want in (("NMD test", nmd_tunes, count // 2), ("held out", held, count - count // 2)):
        good = [t for t in tunes if usable(t)]
        picked += [(name, t) for t in good[:want]]
    return picked


def move_timing_after_k(paste: str) -> str:
    """The paste with its M: and L: lines moved to just after K:."""
    lines = paste.split("\n")
    moved = [line for line in lines if re.match(r"^[ML]:", line)]
    rest = [line for line in lines if not re.match(r"^[ML]:", line)]
    k = next(i for i, line in enumerate(rest) if line.startswith("K:"))
    return "\n".join(rest[: k + 1] + moved + rest[k + 1:])


def with_lyrics(paste: str) -> str:
    """The paste with a `w:` line after its first music line."""
    lines = paste.split("\n")
    k = next(i for i, line in enumerate(lines) if line.startswith("K:"))
    # After a whole music line (not one a `\` continues: the lyrics would join its music).
    at = next((i for i in range(k + 1, len(lines)) if lines[i].strip() and not lines[i].rstrip().endswith("\\")), k + 1)
    return "\n".join(lines[: at + 1] + ["w: la la la la la la"] + lines[at + 1:])


def pastes(tune: str, other: str) -> dict[str, tuple[str, str] | None]:
    """Per case: (the paste, the text that must come back first), or None where the tune has no such cut."""
    part = cut_at_part(tune)
    mid = cut_after(tune, 4)
    if part is None:
        return dict.fromkeys(CASES)
    no_r = "\n".join(line for line in part.split("\n") if not line.startswith("R:"))
    after_k, lyric = move_timing_after_k(part), with_lyrics(part)
    return {
        "part": (part, part), "mid": (mid, mid) if mid else None, "no R": (no_r, no_r),
        "M/L after K": (after_k, after_k), "w: line": (lyric, lyric),
        "two tunes": (part + "\n" + other, part),
    }


def rest_bars(bars) -> tuple[int, int]:
    """(bars holding a rest, bars) among bars with music."""
    counted = [b for b in bars if b.events]
    rests = sum(1 for b in counted if any(t.kind in ("rest", "multirest") for t in tokenize(b.text)))
    return rests, len(counted)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tunes", type=int, default=100, help="pastes per case (half NMD test, half held out)")
    parser.add_argument("--bars", type=int, default=16, help="the page's Length: the whole tune's bars (default 16)")
    parser.add_argument("--show", type=int, default=0, help="print this many tunes whose form missed")
    args = parser.parse_args(argv)

    import torch

    from bot.checkpoint import load_cached
    from bot.generate import Settings, compose
    from bot.harmonise import harmonise
    from bot.prompt import parse_prompt

    torch.set_num_threads(1)
    print(describe())
    loaded = load_cached()
    tunes = source_tunes(args.tunes)
    print(f"{len(tunes)} source tunes: " + ", ".join(f"{n} {s}" for s, n in Counter(s for s, _ in tunes).items()))
    rows = {case: Counter() for case in CASES}
    shapes = {case: Counter() for case in CASES}
    first_bar_ms: dict[str, list[float]] = {case: [] for case in CASES}
    failures: list[str] = []
    shown: list[str] = []  # tunes whose form missed, printed with --show
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for index, (_, tune) in enumerate(tunes):
            other = tunes[(index + 1) % len(tunes)][1]
            original_a = read_form(tune).parts[0]
            for case, made in pastes(tune, other).items():
                if made is None:
                    continue
                paste, kept = made
                row = rows[case]
                row["pastes"] += 1
                started, first = time.perf_counter(), None
                update = None
                for update in compose(paste, Settings(seed=index, bars=args.bars), loaded):
                    if first is None and update.bars >= 1:
                        first = time.perf_counter() - started
                first_bar_ms[case].append(1000 * (first if first is not None else time.perf_counter() - started))
                out = update.abc
                head = kept.rstrip("\n")
                same = out.startswith(head)
                chorded = harmonise(out, fill_from=update.new_from)
                row["identical"] += same and chorded.startswith(head)
                if not same:
                    failures.append(f"{case} #{index}: paste changed")
                reading = read_form(out)
                paste_reading = read_form(kept)
                parts = reading.parts
                if case == "mid":
                    ok = bool(parts) and parts[0].bars == original_a.bars
                    # Finished to a regular length (4, 8, 12, 16 bars), whatever the original's was:
                    # four bars of a 16-bar part read as well as half of an 8-bar one.
                    row["regular"] += bool(parts) and parts[0].regular
                    shapes[case][f"A{original_a.bars} cut at 4 -> " + " ".join(str(p.bars) for p in parts)] += 1
                else:
                    a = paste_reading.parts[0] if paste_reading.parts else None
                    ok = (a is not None and len(parts) == 2 and parts[1].bars == a.bars
                          and parts[1].repeated == a.repeated)
                    shape = " ".join(f"{p.bars}{'x2' if p.repeated else ''}" for p in parts)
                    shapes[case][f"A{a.bars if a else '?'}{'x2' if a and a.repeated else ''} -> {shape}"] += 1
                row["form"] += ok
                if not ok and len(shown) < args.show:
                    shown.append(f"--- {case} #{index}: paste\n{paste}--- came back as\n{out}")
                row["tonic"] += reading.ends_on_tonic
                if case == "M/L after K":
                    fields = split_abc(tune)[0]
                    prompt = parse_prompt(paste, loaded.vocab)
                    row["meter kept"] += (prompt.meter == normalise_field("M", fields["M"])
                                          and prompt.written_unit == fields["L"].strip())
                # New bars: those after the paste's, by the same reader.
                all_bars, given_bars = bars_of(out), bars_of(kept)
                given = sum(1 for b in given_bars if b.events)
                new = [b for b in all_bars if b.start >= len(split_abc(kept)[1].rstrip("\n"))]
                new_rests, new_count = rest_bars(new)
                old_rests, old_count = rest_bars(given_bars)
                row["new bars"] += new_count
                row["new rest bars"] += new_rests
                row["pasted bars"] += old_count
                row["pasted rest bars"] += old_rests
                warned = abc2midi_bad_bars(out, folder)
                if warned is None:
                    row["abc2midi failed"] += 1
                    row["new bars flagged"] += new_count
                else:
                    row["new bars flagged"] += min(new_count, sum(1 for b in warned if b >= given))
    print(f"\nContinuations at Length {args.bars}, temperature 1.0, seed = paste index (bench/continue.py)")
    header = f"{'case':14s}{'pastes':>7s}{'identical':>10s}{'form':>7s}{'tonic':>7s}{'bars exact':>11s}" \
             f"{'rests new/pasted':>18s}{'first bar ms':>13s}"
    print(header)
    pct = lambda k, n: f"{100 * k / n:.1f}%" if n else "-"  # noqa: E731
    for case in CASES:
        r = rows[case]
        n = r["pastes"]
        rests = f"{pct(r['new rest bars'], r['new bars'])}/{pct(r['pasted rest bars'], r['pasted bars'])}"
        ms = statistics.median(first_bar_ms[case]) if first_bar_ms[case] else float("nan")
        print(f"{case:14s}{n:>7d}{pct(r['identical'], n):>10s}{pct(r['form'], n):>7s}{pct(r['tonic'], n):>7s}"
              f"{pct(r['new bars'] - r['new bars flagged'], r['new bars']):>11s}{rests:>18s}{ms:>13.0f}")
    r = rows["mid"]
    print(f"\nmid: the cut part finished to a regular length (4, 8, 12 or 16 bars) in {pct(r['regular'], r['pastes'])}; "
          f"to its length in the original tune in {pct(r['form'], r['pastes'])} (the form column)")
    r = rows["M/L after K"]
    print(f"\nM/L after K: meter and unit read as the paste's own in {pct(r['meter kept'], r['pastes'])}")
    for case in CASES:
        print(f"\n{case}: parts' bars (x2 = repeated), paste -> whole tune")
        for shape, n in shapes[case].most_common(6):
            print(f"  {n:4d}  {shape}")
    for text in shown:
        print("\n" + text)
    if failures:
        print("\n" + "\n".join(failures[:20]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
