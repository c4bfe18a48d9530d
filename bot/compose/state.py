"""The one state a tune is written in: rules read it, only the composer loop writes it.

`TuneState` holds the text so far, the bar being written (its splitter and reading), the bar
arithmetic (`BarRules`), the place in the form (`FormTracker`), the held bar and the tries.
Its methods are readings of it that several rules share (how long the bar may grow, whether it
ends the tune, how many slurs are open); they change nothing but their own caches.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from fractions import Fraction

from bot.compose.sequence import Snapshot
from bot.compose.settings import Settings
from bot.notation.bars import TICKS, BarRules, BarSplitter, Measure, Verdict, final_token, measure
from bot.notation.form import FormTracker
from bot.notation.tokens import without

_PART_EDGES = (":|", "|:", "::", "||", "|]")
_SLUR_OPEN = re.compile(r"\((?![1-9])")  # `(` of a slur, not of a tuplet like `(3`

# A bar's start, to roll back to: (LSTM snapshot, splitter, length of the generated text).
Start = tuple[Snapshot, BarSplitter, int]


@dataclass
class Try:
    """A closed bar that failed its check, kept in case every try fails."""

    gen: str  # generated text up to the bar line
    snap: Snapshot  # LSTM state after the bar line
    after: str  # the character that ended the bar line (first of the next bar)
    token: str
    reading: Measure
    verdict: Verdict


@dataclass
class HeldBar:
    """The newest accepted bar, held back from the stream."""

    start: Start | None  # where it began, to take it back (None: a last bar the model ended)
    rules: BarRules  # the bar rules before it was committed
    form: FormTracker | None  # the form tracker before it was committed
    end: int  # index in gen where its bar line starts
    token: str  # its bar line
    given: int  # leading characters of the bar line that belong to the pasted music


@dataclass
class Closing:
    """A bar being judged as closed by `token` (the rules' `judge`)."""

    reading: Measure
    token: str  # its bar line; the final one it will get, once judged as the tune's last bar
    final: bool = False  # judged as the tune's last bar


@dataclass(eq=False)
class TuneState:
    """Everything the rules may read about the tune being written."""

    settings: Settings
    key: str  # the key in force (a paste's last `K:`)
    rhythm: str | None
    bar_rules: BarRules  # the bar arithmetic so far: meter, pickups, debts, repeats, endings
    splitter: BarSplitter  # the bar being written, as text and reading mode
    form: FormTracker | None  # the place in the form (None: form control off)
    beat: Fraction | None  # the meter's strong beat (with a form only)
    given: str  # the pasted music in model form ("" for a new tune)
    pasted_open: int  # 1 when the paste's last bar is still open (the first sampled characters close it)
    before_gen: str  # the character before the first sampled one
    absent: frozenset[str] = frozenset()  # marks kept out of the new bars: the paste's idiom, or a new tune's (`rules.idiom`)
    shortest: Fraction | None = None  # the shortest note value a new bar may hold (None: any; `rules.note_values`)
    gen: str = ""  # generated text on the current path (model form)
    reading: Measure | None = None  # the bar being written, read before each draw (`read`)
    last: HeldBar | None = None  # the newest accepted bar, held back from the stream
    tries: list[Try | None] = field(default_factory=list)  # failed tries of this bar (None: nothing to keep)
    form_tries: int = 0  # tries of part-closing bars that missed the form
    retaken_at: int = -1  # gen length where a bar was taken back once already
    closing_bars: int = 0  # a last bar the model ended without a bar line
    # Caches of the readings below (not the tune's state: each is worked out again when stale).
    _left_of: object = field(default=None, init=False, repr=False)  # part_left's: the tracker it is for ...
    _left: Fraction | None = field(default=None, init=False, repr=False)  # ... and its value
    _slurs_of: str | None = field(default=None, init=False, repr=False)  # open_slurs': the text it is for ...
    _slurs: int = field(default=0, init=False, repr=False)  # ... and its value
    _limit_known: bool = field(default=False, init=False, repr=False)  # limit's: worked out for this reading ...
    _limit: Fraction | None = field(default=None, init=False, repr=False)  # ... and its value

    @property
    def new_bars(self) -> int:
        """Bars begun in the new music (the pasted music's last bar is not one of them)."""
        return max(0, self.bar_rules.bars - self.pasted_open)

    @property
    def complete(self) -> bool:
        """Whether the tune has all its bars: every part of its form, or the bars asked for."""
        return self.form.finished if self.form is not None else self.new_bars >= self.settings.bars

    def last_char(self) -> str:
        """The character before the next one."""
        return self.gen[-1] if self.gen else self.before_gen

    def at_closing_bar(self) -> bool:
        """Whether the bar being written closes its part: it gets the cadence's tries, whether its
        tries closed wrong or were lost before closing (a model that wants its bar line too soon)."""
        left, bar = self.part_left(), self.bar_rules.timing.bar
        return left is not None and bar is not None and left <= bar

    def cadence_start(self) -> Fraction | None:
        """Where the closing bar's cadence begins (offset in the bar, whole notes); None: the bar
        being written does not close its part. From there a note on a beat is the cadence's.

        In a closing bar of two beats or fewer (a pickup's complement) that is its start: held
        over the last beat (`B2 :|` in G, a waltz), its first note is the cadence.
        """
        length, bar, beat = self.part_left(), self.bar_rules.timing.bar, self.beat
        if length is None or bar is None or beat is None or length > bar:
            return None
        last_beat = (length - 1 / Fraction(TICKS)) // beat * beat
        return Fraction(0) if length <= 2 * beat else min(length / 2, last_beat)

    def part_left(self) -> Fraction | None:
        """Whole notes still to write in the current part (None: no form, or all written).

        Worked out once per accepted bar, not per character (Fraction arithmetic is slow).
        """
        form = self.form
        if form is not self._left_of:
            self._left_of = form
            bar = self.bar_rules.timing.bar
            done = form is None or form.finished or bar is None
            self._left = None if done else (form.phrase_end - form.length) * bar
        return self._left

    def read(self, reading: Measure) -> None:
        """Set the reading of the bar being written; what was worked out from the last one is forgotten."""
        self.reading, self._limit_known = reading, False

    def read_bar(self) -> Measure:
        """Read the bar being written (the loop, before each draw) and return its reading."""
        # Read afresh each time: readings kept across retries saved little (a retry's bar soon
        # differs from the try before) and, held, cost more in garbage collection than they saved.
        reading = measure(self.splitter.content, self.bar_rules.timing)
        self.read(reading)
        return reading

    def limit(self) -> Fraction | None:
        """The longest duration the bar being written may reach; None when unchecked."""
        if not self._limit_known:  # several rules ask at each draw: worked out once per reading
            self._limit, self._limit_known = self._work_out_limit(self.reading), True
        return self._limit

    def _work_out_limit(self, reading: Measure) -> Fraction | None:
        bar = reading.timing.bar
        if bar is None:
            return None
        debt = self.bar_rules.debt
        limit = debt if debt is not None and not self.bar_rules.replays(reading) else bar
        left = self.part_left()
        if left is not None and 0 < left < limit:
            limit = left  # the part's short last bar, the complement of its pickup
        return limit

    def is_full(self) -> bool:
        """Whether the bar being written is exactly full: only a bar line may follow."""
        reading = self.reading
        if not self.splitter.in_music or not reading.elements:
            return False
        limit = self.limit()
        return limit is not None and reading.duration == limit

    def final_token(self, token: str, reading: Measure | None = None) -> str:
        """The bar line that ends the tune in place of `token`: `:|` closes an open first ending."""
        in_ending = self.bar_rules.ending_open or (reading is not None and reading.ending.startswith("1"))
        return ":|" if in_ending and not token.startswith(":") else final_token(token)

    def closes_tune(self, reading: Measure) -> bool:
        """Whether the bar being written, full as it is now, would be the tune's last."""
        if self.form is not None and reading.timing.bar is not None:
            return self.form.closes_tune(reading.duration / reading.timing.bar)
        return self.new_bars + 1 >= self.settings.bars

    def ends_tune(self, reading: Measure, verdict: Verdict) -> bool:
        """Whether a bar read as `reading` (judged `verdict` as an inner bar) would be the tune's last."""
        if self.form is not None and reading.timing.bar is not None:
            return self.form.closes_tune(verdict.duration / reading.timing.bar)
        return bool(verdict.counts) and self.new_bars + verdict.counts >= self.settings.bars

    def open_slurs(self) -> int:
        """Slurs opened and not closed since the last part edge (`:|`, `|:`, `::`, `||`, `|]`)."""
        if self._slurs_of is not self.gen:  # several rules ask at each draw: counted once per text
            self._slurs, self._slurs_of = self._count_slurs(), self.gen
        return self._slurs

    def _count_slurs(self) -> int:
        # Called for every sampled character: look in the new music first (a part edge there is
        # the latest), and tokenize only a part that holds quoted text or decorations.
        text = self.gen
        cut = max(text.rfind(edge) for edge in _PART_EDGES)
        if cut < 0:
            text = self.given + self.gen
            cut = max(text.rfind(edge) for edge in _PART_EDGES)
        part = text[cut + 1 :] if cut >= 0 else text
        if '"' in part or "!" in part or "+" in part:
            part = without(part, {"quote", "deco"})
        return len(_SLUR_OPEN.findall(part)) - part.count(")")
