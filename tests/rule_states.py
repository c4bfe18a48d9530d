"""Tune states built by hand for the rules' tests (tests/test_rules_*.py): no model, a tiny alphabet."""

from __future__ import annotations

import numpy as np

from bot.compose.begin import begin, replay
from bot.compose.headers import Heading
from bot.compose.rules import rules_for
from bot.compose.settings import Settings
from bot.notation.form import plan_form
from bot.compose.state import TuneState
from bot.prompt import Prompt

VOCAB = "\n" + "".join(chr(i) for i in range(32, 127))  # a tiny alphabet: every printable character


def tune(text: str = "", meter: str = "4/4", key: str = "D", rhythm: str | None = "reel", bars: int = 16,
         form: bool = True, paste: str = "") -> TuneState:
    """The state after `text` written as new music (after pasted `paste`, if any)."""
    prompt = Prompt(headers="X:1\n", prime=f"M:{meter}\nL:1/8\nK:{key}\n{paste}" if paste else "", music=paste,
                    meter=meter, unit="1/8", key=key, rhythm=rhythm, is_continuation=bool(paste))
    heading = Heading("X:1\n", meter, "1/8", rhythm, key, "")
    # A seed whose layout is the plain one the tests read: parts of 8 bars, each repeated.
    seed = next((s for s in range(200) if (plan := plan_form(rhythm, bars, s)).repeated
                 and plan.parts == (8,) * len(plan.parts)), 0)  # a tune of no rhythm: phrases, any seed
    return replay(begin(prompt, Settings(bars=bars, form=form), heading, [], seed), text)


def chars(mask) -> set[str]:
    """The characters a mask bans."""
    return set() if mask is False else {VOCAB[i] for i in np.flatnonzero(mask)}


def rule(cls):
    """The shared instance of a rule class."""
    return next(r for r in rules_for(VOCAB) if type(r) is cls)
