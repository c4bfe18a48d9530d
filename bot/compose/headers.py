"""The tune's header lines: those the prompt fixed, and those it left open written by the model
first, checked, and fixed if unusable; and the style line the model is fed for a new tune."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Generator

from bot import style
from bot.compose.sequence import Sequence
from bot.notation.abc import RHYTHMS, default_unit, parse_key
from bot.notation.syntax import SyntaxGuard
from bot.prompt import Prompt
from bot.stepper import Ask

# Meters the model may pick when nobody chose one: the common ones of the training tunes
# (the corpus also has 4/1, 3/1 and the like, which make poor surprises).
CHOSEN_METERS = {"2/4", "3/4", "4/4", "6/8", "2/2", "3/8", "9/8", "6/4", "3/2", "12/8", "4/2"}
CHOSEN_UNITS = {"1/4", "1/8", "1/16"}


@dataclass
class Heading:
    """What the header lines fixed."""

    headers: str  # the printed header lines
    meter: str
    unit: str
    rhythm: str | None
    key: str
    style: str  # the style tag the model was fed ("" none)


class HeaderWriter:
    """Writes one tune's header lines through its sequence (a coroutine of Asks)."""

    def __init__(self, seq: Sequence, syntax: SyntaxGuard, prompt: Prompt, card: dict, seed: int, notices: list[str]):
        self.seq, self.syntax, self.prompt = seq, syntax, prompt
        self.card, self.seed, self.notices = card, seed, notices

    def write(self) -> Generator[Ask, object, Heading]:
        """The header lines: fixed by the prompt or chosen by the model now."""
        p = self.prompt
        if p.complete:
            tag = self._style(p.rhythm)
            yield from self.seq.feed(style.styled(p.prime, tag) if tag else p.prime)
            return Heading(p.headers, p.meter, p.unit, p.rhythm, p.key, tag)
        meter = yield from self._field("M", p.meter, lambda v: v in CHOSEN_METERS, "4/4")
        unit = yield from self._field("L", p.unit, lambda v: v in CHOSEN_UNITS, default_unit(meter))
        rhythm = p.rhythm
        if rhythm:
            yield from self.seq.feed(f"R:{rhythm}\n")
        elif self.seq.draw(self.syntax.only("RK")) == "R":  # the model would name a rhythm
            rhythm = yield from self._choose_line("R:", lambda v: v in set(RHYTHMS.values()))
        tag = self._style(rhythm)
        if tag:
            yield from self.seq.feed(style.line(tag))
        key = yield from self._field("K", p.key, is_plain_key, "C")
        block = f"M:{meter}\nL:{unit}\n" + (f"R:{rhythm}\n" if rhythm else "") + f"K:{key}\n"
        shown = p.shown_block(block) if meter == p.meter else block  # the model chose no other meter
        return Heading("X:1\n" + shown, meter, unit, rhythm, key, tag)

    def _choose_line(self, prefix: str, valid: Callable[[str], bool]) -> Generator[Ask, object, str | None]:
        """Let the model write a header line after `prefix` until `valid`; None (state unchanged) if it never is."""
        before = self.seq.snapshot()
        yield from self.seq.feed(prefix)
        start = self.seq.snapshot()
        for _ in range(8):
            value, ended = "", False
            while len(value) < 16:
                ch = self.seq.draw(self.syntax.newline if not value else None)
                yield from self.seq.feed(ch)
                if ch == "\n":
                    ended = True
                    break
                value += ch
            if ended and valid(value):
                return value
            self.seq.restore(start)
        self.seq.restore(before)
        return None

    def _field(self, name: str, given: str, valid: Callable[[str], bool], default: str) -> Generator[Ask, object, str]:
        """A header value: the prompt's, else the model's choice, else `default`."""
        if not given:
            given = yield from self._choose_line(f"{name}:", valid)
            if given is not None:
                return given
            given = default
        yield from self.seq.feed(f"{name}:{given}\n")
        return given

    def _style(self, rhythm: str | None) -> str:
        """The style line's tag for a new tune (`bot.style`); "" for a continuation (the pasted
        music sets its style) or a model trained without style lines. Fed to the model only:
        the printed headers name no source the tune does not come from."""
        asked = self.prompt.style
        if self.prompt.is_continuation:
            if asked:
                self.notices.append(f"a continued tune keeps its own manner; {style.NAMES[asked]} is not asked of it")
            return ""
        if asked and asked in style.known(self.card):
            return asked
        if asked:
            self.notices.append(f"this model was not trained to write in the manner of {style.NAMES[asked]}; "
                                "it wrote in its own")
        if rhythm == "hornpipe" and not self.prompt.dotted and style.TODAY in style.known(self.card):
            # A straight hornpipe is today's books' (bot.compose.marks): the old books' are dotted,
            # and the model, primed with their manner, wrote their figures with the dots masked.
            return style.TODAY
        return style.pick(self.card, rhythm, self.seed) or ""


def is_plain_key(value: str) -> bool:
    """Whether `value` is a key written plainly (`D`, `Ador`), as a K: line the model may choose."""
    key = parse_key(value)
    return key is not None and key[0] + key[1] == value
