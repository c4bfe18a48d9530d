"""`python -m bot.titles`: train the title model or print titles from it."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from bot.titles.model import DEFAULT_CHECKPOINT, load
from bot.titles.text import prompt_words


def main(argv: list[str] | None = None) -> None:
    """Parse the command line and train or sample."""
    argv = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(prog="python -m bot.titles", description=__doc__)
    parser.add_argument("--train", action="store_true", help="train on the corpus's titles and write --checkpoint")
    parser.add_argument("--checkpoint", type=Path, default=DEFAULT_CHECKPOINT,
                        help="the title model's JSON card (default: checkpoints/titles.json)")
    parser.add_argument("--sample", type=int, default=0, help="print this many titles (seeds 0..N-1)")
    parser.add_argument("--rhythm", default=None, help="the tune's rhythm, e.g. jig (default: none)")
    parser.add_argument("--prompt", default="", help="a prompt whose words the titles must not use")
    args = parser.parse_args(argv)
    if not args.train and not args.sample:
        parser.error("nothing to do: give --train and/or --sample N")
    if args.train:
        from bot.titles.train import train

        train(args.checkpoint, " ".join(["python -m bot.titles", *argv]))
    if args.sample:
        model = load(args.checkpoint)
        so_far: list[str] = []
        for seed in range(args.sample):
            so_far.append(model.make_title(seed, args.rhythm, so_far, prompt_words(args.prompt)))
            print(so_far[-1])


if __name__ == "__main__":
    main()
