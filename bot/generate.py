"""Sample tunes from the CharLSTM: a prompt in, a stream of growing, complete ABC tunes out.

    python -m bot.generate --prompt "a jig in D" --num 3 --out outputs/
    python -m bot.generate --prompt "$(cat my_tune.abc)" --bars 8 --seed 7

The model is primed once with the prompt (header lines and any pasted music, `bot.prompt`),
then samples one character per step carrying the LSTM state (`bot.stepper`); header fields
the prompt left open are written by the model first, checked, and fixed if unusable
(`bot.compose.headers`).

The composer (`bot.compose`) is a loop over one tune state and a list of rules: the loop
(`bot.compose.loop`) samples, rolls back, retries and streams; each rule (`bot.compose.rules`)
says what may not come next and whether a closed bar stands. Every bar is kept in time as
abc2midi counts it (bar length), in readable ABC (syntax), in the form of the tune's kind when
`Settings.form` is on (dance tunes: 8-bar parts each played twice; airs: phrases), each part
closed on its cadence; ties join notes of one pitch and slurs close inside their part. Pasted
music is finished to its part's whole length first.

Streaming: the newest bar is held back until the next one is accepted (it may still be taken
back), so text never retracts; the last update closes the tune with `|]` or `:|`.
"""

from __future__ import annotations

import argparse
import secrets
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Iterator

import torch

from bot.compose.loop import Composer
from bot.compose.rules import guard_for
from bot.compose.rules.form import cadence_mask
from bot.compose.sequence import Sequence
from bot.compose.settings import Settings, Update
from bot.compute import ComputeError, step_thread
from bot.prompt import Prompt, PromptError, parse_prompt
from bot.stepper import stepper_for

if TYPE_CHECKING:
    from bot.engine import BatchEngine

__all__ = ["Settings", "Update", "compose", "generate", "main"]

# The old private names, kept for callers and tests that reach for them.
_Composer, _Sequence, _guard_for, _cadence_mask = Composer, Sequence, guard_for, cadence_mask


def compose(prompt: str | Prompt, settings: Settings, loaded=None, meter: str | None = None,
            key: str | None = None, engine: BatchEngine | None = None) -> Iterator[Update]:
    """Stream one tune for a prompt (text, or a parsed Prompt) as Updates; the last has done=True.

    `loaded` is a checkpoint.Loaded (None: the shipped checkpoint, loaded once). `meter` and
    `key` are the page's pickers for a text prompt. `engine`, a `bot.engine.BatchEngine`
    shared by threads, writes this tune on its thread together with other tunes (a reader
    that falls behind then gets the newest Update, as each holds the whole tune so far). Raises
    PromptError (bad prompt) or ValueError (bad settings) here, before the first update.
    """
    if loaded is None:
        from bot.checkpoint import load_cached  # here: importing this module loads nothing

        loaded = load_cached()
    if isinstance(prompt, str):
        prompt = parse_prompt(prompt, loaded.vocab, meter=meter, key=key)
    seed = settings.seed if settings.seed is not None else secrets.randbelow(2**31)
    return Composer(loaded, prompt, settings, seed, engine).run()


def generate(prompt: str | Prompt, settings: Settings, loaded=None, **kwargs) -> Update:
    """The finished tune (the last Update of `compose`)."""
    update = None
    for update in compose(prompt, settings, loaded, **kwargs):
        pass
    return update


def main(argv: list[str] | None = None) -> int:
    """CLI: write --num tunes into --out and print them."""
    parser = argparse.ArgumentParser(prog="python -m bot.generate", description=__doc__.split("\n")[0])
    parser.add_argument("--prompt", default="", help='words ("a reel in G"), a tune to continue, or "" to be surprised')
    parser.add_argument("--meter", default=None, help="time signature, e.g. 6/8 (overrides the words)")
    parser.add_argument("--key", default=None, help="key, e.g. D, Em, A dorian (overrides the words)")
    defaults = Settings()
    parser.add_argument("--temperature", type=float, default=defaults.temperature, help="sampling temperature, 0.1 .. 2.0 (default 1.0)")
    parser.add_argument("--top-k", type=int, default=defaults.top_k, help="sample among the k likeliest characters; 0 = off (default)")
    parser.add_argument("--bars", type=int, default=defaults.bars, help="length in bars, 1 .. 64 (default 16)")
    parser.add_argument("--max-chars", type=int, default=defaults.max_chars, help="hard cap on generated characters (default 3000)")
    parser.add_argument("--seed", type=int, default=None, help="seed of the first tune; tune i uses seed+i (default: random)")
    parser.add_argument("--num", type=int, default=1, help="how many tunes (default 1)")
    parser.add_argument("--out", default=None, help="folder for the .abc files (default: print only)")
    parser.add_argument("--no-bar-check", action="store_true", help="plain sampling, no bar-duration control")
    parser.add_argument("--no-form", action="store_true", help="no form control: stop where the bar count runs out")
    parser.add_argument("--chords", action="store_true",
                        help="add chord symbols to the finished tune (bot.harmonise; a pasted tune keeps its own)")
    parser.add_argument("--checkpoint", default=None, help="checkpoint stem (default: the shipped one)")
    parser.add_argument("--threads", type=int, default=1, help="torch threads (default 1: one sequence is faster on one core)")
    args = parser.parse_args(argv)

    from bot.checkpoint import DEFAULT_CHECKPOINT, CheckpointError, load_cached

    torch.set_num_threads(max(1, args.threads))
    if args.num < 1:
        parser.error(f"--num must be at least 1, got {args.num}")
    try:
        loaded = load_cached(str(args.checkpoint or DEFAULT_CHECKPOINT))
        print(f"% {stepper_for(loaded.model).path.describe()}", file=sys.stderr)  # ABC_BOT_PRECISION overrides
        print(f"% {step_thread().reason}", file=sys.stderr)  # ABC_BOT_STEP_THREAD overrides
        prompt = parse_prompt(args.prompt, loaded.vocab, meter=args.meter, key=args.key)
        first_seed = args.seed if args.seed is not None else secrets.randbelow(2**31)
        out = Path(args.out) if args.out else None
        if out:
            out.mkdir(parents=True, exist_ok=True)
        for i in range(args.num):
            settings = Settings(
                temperature=args.temperature, top_k=args.top_k, bars=args.bars, max_chars=args.max_chars,
                seed=first_seed + i, bar_check=not args.no_bar_check, form=not args.no_form,
            )
            tune = generate(prompt, settings, loaded)
            if args.chords:
                from bot.harmonise import harmonise  # only when asked for

                tune.abc = harmonise(tune.abc)
            if out:
                path = out / f"tune_{tune.seed}.abc"
                path.write_text(tune.abc)
                print(f"% {path}")
            if tune.form:
                print(f"% form: {tune.form}")
            for notice in tune.notices:
                print(f"% {notice}")
            print(tune.abc)
    except (PromptError, ValueError, CheckpointError, ComputeError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
