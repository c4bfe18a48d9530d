"""Add guitar chords to ABC tunes: `python -m bot.harmonise FILE... --out DIR`.

Each input file is written to DIR under the same name with chord symbols added to every
tune in it (bot.harmony.harmonise); the melody is not changed, and tunes that already have
chords keep them. The library function is `harmonise(abc) -> str`, re-exported here.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from bot.harmony.harmonise import HarmonyError, harmonise, strip_chords
from bot.harmony.model import load

__all__ = ["HarmonyError", "harmonise", "main", "strip_chords"]


def main(argv: list[str] | None = None) -> int:
    """Command line: harmonise each file into --out; one line per file, non-zero exit if any failed."""
    parser = argparse.ArgumentParser(description="Add chord symbols to ABC tunes (the melody is unchanged).")
    parser.add_argument("files", type=Path, nargs="+", help="ABC files (every tune in each is harmonised)")
    parser.add_argument("--out", type=Path, required=True, help="folder to write the harmonised files to")
    parser.add_argument("--model", type=Path, default=None,
                        help="harmony model JSON (default checkpoints/harmony.json, else the hand-set model)")
    args = parser.parse_args(argv)
    import torch

    # One thread, as the page runs it: the ensemble's small GRU steps stall for a core another
    # process holds (330 ms a tune on 2 threads with the other core busy, 23 ms on one).
    torch.set_num_threads(1)
    model = load(str(args.model) if args.model else None)
    args.out.mkdir(parents=True, exist_ok=True)
    failed = 0
    for path in args.files:
        target = args.out / path.name
        if target.resolve() == path.resolve():
            print(f"{path}: --out would overwrite the input; choose another folder", file=sys.stderr)
            failed += 1
            continue
        try:
            data = path.read_bytes()
        except OSError as err:
            print(f"{path}: cannot read ({err.strerror})", file=sys.stderr)
            failed += 1
            continue
        try:
            text, encoding = data.decode("utf-8"), "utf-8"
        except UnicodeDecodeError:
            text, encoding = data.decode("latin-1"), "latin-1"  # older collections
        started = time.perf_counter()
        try:
            result = harmonise(text, model)
        except HarmonyError as err:
            print(f"{path}: {err}", file=sys.stderr)
            failed += 1
            continue
        target.write_bytes(result.encode(encoding))
        added = result.count('"') // 2 - text.count('"') // 2
        print(f"wrote {target}: {added} chord symbols added in {(time.perf_counter() - started) * 1000:.0f} ms")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
