"""Score a checkpoint on held-out tunes (or given ABC files) and print one JSON line.

`bits_per_char` is scored on the tunes as the model reads a pasted tune: chord symbols,
annotations and `!decorations!` left out (`bot.notation.tokens.model_view`);
`bits_per_char_raw` on the tunes as written.

    python -m bot.evaluate                      # the shipped checkpoint on the held-out tunes
    python -m bot.evaluate --abc my_tunes.abc   # those tunes instead
    python -m bot.evaluate --checkpoint PATH    # another checkpoint
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F

from bot.notation.abc import AbcError, normalise
from bot.notation.tokens import model_view
from bot.corpus import CorpusError, abc_files, join_tunes, load_corpus, read_abc_file


@torch.no_grad()
def score(model: torch.nn.Module, ids: torch.Tensor, rows: int = 16, chunk: int = 512) -> dict:
    """Bits per character and next-character accuracy of `model` on one id stream.

    The stream is cut into `rows` contiguous rows scored side by side, carrying the LSTM
    state along each row, so only the first character of a row lacks context.
    """
    was_training = model.training
    model.eval()
    rows = max(1, min(rows, (len(ids) - 1) // 64 or 1))
    length = (len(ids) - 1) // rows
    if length < 1:
        raise ValueError("need at least two characters to score")
    x = ids[: rows * length].view(rows, length)
    y = ids[1 : rows * length + 1].view(rows, length)
    nll, correct, state = 0.0, 0, None
    for start in range(0, length, chunk):
        logits, state = model(x[:, start : start + chunk], state)
        target = y[:, start : start + chunk]
        nll += F.cross_entropy(logits.reshape(-1, logits.size(-1)), target.reshape(-1), reduction="sum").item()
        correct += (logits.argmax(-1) == target).sum().item()
    model.train(was_training)
    chars = rows * length
    return {"bits_per_char": nll / chars / math.log(2), "accuracy": correct / chars, "chars": chars}


def encodable(tunes: list[str], vocab: str) -> tuple[list[str], int]:
    """(tunes whose every character is in `vocab`, number of tunes skipped)."""
    alphabet = set(vocab)
    kept = [t for t in tunes if set(t) <= alphabet]
    return kept, len(tunes) - len(kept)


def tunes_from_files(paths: list[Path]) -> tuple[list[str], int]:
    """Normalised tunes from ABC files, plus how many tunes could not be normalised."""
    tunes, bad = [], 0
    for path in paths:
        for file in abc_files(Path(path)):
            for raw in read_abc_file(file):
                try:
                    tunes.append(normalise(raw))
                except AbcError:
                    bad += 1
    return tunes, bad


def evaluate(checkpoint: Path | str, abc: list[Path] | None = None) -> dict:
    """The JSON-ready result for a checkpoint on the held-out set or on `abc` files."""
    from bot.checkpoint import load  # here so `--help` stays fast

    loaded = load(checkpoint)
    if abc:
        tunes, unreadable = tunes_from_files(abc)
        source = [str(p) for p in abc]
    else:
        tunes, unreadable = load_corpus().held_out, 0
        source = "held-out"
    kept, oov = encodable(tunes, loaded.vocab)
    if not kept:
        raise CorpusError(f"no tune left to score ({oov} with unknown characters, {unreadable} unreadable)")
    raw = score(loaded.model, torch.tensor(loaded.encode(join_tunes(kept)), dtype=torch.long))
    viewed = [view_of(t) for t in kept]
    result = score(loaded.model, torch.tensor(loaded.encode(join_tunes(viewed)), dtype=torch.long))
    return {
        "checkpoint": str(checkpoint),
        "source": source,
        "bits_per_char": round(result["bits_per_char"], 4),
        "accuracy": round(result["accuracy"], 4),
        "chars": result["chars"],
        "bits_per_char_raw": round(raw["bits_per_char"], 4),
        "accuracy_raw": round(raw["accuracy"], 4),
        "chars_raw": raw["chars"],
        "tunes": len(kept),
        "tunes_changed_by_view": sum(a != b for a, b in zip(kept, viewed)),
        "skipped_tunes": oov + unreadable,
    }


def view_of(tune: str) -> str:
    """A normalised tune with its body as the model reads it (headers untouched)."""
    head, k_line, body = tune.partition("\nK:")
    key, newline, music = body.partition("\n")
    return head + k_line + key + newline + model_view(music)


def main(argv: list[str] | None = None) -> int:
    from bot.checkpoint import DEFAULT_CHECKPOINT, CheckpointError

    parser = argparse.ArgumentParser(prog="python -m bot.evaluate", description=__doc__.split("\n")[0])
    parser.add_argument("--checkpoint", default=str(DEFAULT_CHECKPOINT), help="checkpoint stem or file (default: the shipped one)")
    parser.add_argument("--abc", nargs="+", type=Path, help="ABC files or folders to score instead of the held-out tunes")
    args = parser.parse_args(argv)
    # One thread: with the other core busy, two OpenMP threads stall each other badly.
    torch.set_num_threads(1)
    start = time.perf_counter()
    try:
        result = evaluate(args.checkpoint, args.abc)
    except (CorpusError, CheckpointError, OSError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    result["seconds"] = round(time.perf_counter() - start, 1)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
