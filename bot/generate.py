"""Sample tunes from the CharLSTM: a prompt in, a stream of growing, complete ABC tunes out.

(Over 600 lines, on purpose: the composer is one coroutine whose bar, form, cadence and slur
rules share one sampling loop and its take-back state; split, each part would need the others'
private state passed back and forth every character.)

    python -m bot.generate --prompt "a jig in D" --num 3 --out outputs/
    python -m bot.generate --prompt "$(cat my_tune.abc)" --bars 8 --seed 7

The model is primed once with the prompt (header lines and any pasted music, `bot.prompt`),
then samples one character per step carrying the LSTM state (`bot.stepper`); header fields
the prompt left open are written by the model first, checked, and fixed if unusable.

Every bar in time: while a bar is written its duration is tracked (`bot.notation.bars`). Once it is
exactly full only a bar line may follow; a bar line where no bar line is right is drawn
again; a note that runs past the bar, or a bar that closes wrong anyway, rolls the state back
to the bar's start and the bar is sampled again, up to `Settings.retries` times; then the bar
before is taken back once (a full bar before a section that wants a pickup is fixed there),
then the closest try is kept. Pickups and their complements are right as abc2midi counts
them. `bot.notation.syntax` keeps the text readable by abc2midi and music21 all along.

In form (`Settings.form`, `bot.notation.form`): the tune is planned as parts of its kind (a
dance: 8-bar parts each played twice; an air: phrases), sized by `Settings.bars`. A bar that
would end a part must close with the part's bar line (`:|` for a repeated part) and its cadence
(the tonic, or the fifth inside the tune, on a beat; the tune's last note the tonic); no
section line may fall inside a part. The closing bar is steered (see `_cadence_steer`) and,
when it still misses, sampled again like a bar of the wrong length. Pasted music is finished
to its part's whole length first.

Streaming: the newest bar is held back until the next one is accepted (it may still be taken
back), so text never retracts; the last update closes the tune with `|]` or `:|`.
"""

from __future__ import annotations

import argparse
import re
import secrets
import sys
from dataclasses import dataclass, field
from fractions import Fraction
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Generator, Iterator

import numpy as np
import torch

from bot import style
from bot.notation.abc import RHYTHMS, TUNE_END, default_unit, parse_key
from bot.notation.bars import (TICKS, BarRules, BarSplitter, Measure, Timing, Verdict, bar_events, final_token, measure,
                               read_body)
from bot.notation.form import FormTracker, plan_continuation, plan_form, read_form, read_parts, strong_beat
from bot.notation.tokens import ACCIDENTALS, NOTE, key_signature, note_pitch, pitch_class, tonic, without
from bot.prompt import Prompt, PromptError, parse_prompt
from bot.compute import ComputeError
from bot.stepper import Ask, State, Stepper, answer, stepper_for
from bot.notation.syntax import SyntaxGuard

if TYPE_CHECKING:
    from bot.engine import BatchEngine

# Meters the model may pick when nobody chose one: the common ones of the training tunes
# (the corpus also has 4/1, 3/1 and the like, which make poor surprises).
CHOSEN_METERS = {"2/4", "3/4", "4/4", "6/8", "2/2", "3/8", "9/8", "6/4", "3/2", "12/8", "4/2"}
CHOSEN_UNITS = {"1/4", "1/8", "1/16"}

# When a bar is exactly full only these may follow: a bar line, a space, a tie or a slur's
# end (and `/`, which can only shorten a note still being written).
_AFTER_FULL_BAR = set("|: -)")

# Longest bar text before a try counts as lost (a runaway without bar lines); the longest
# bars of the training tunes, with chord symbols and ornaments, stay well below it.
MAX_BAR_CHARS = 100

# Bars a first ending (`|1`) needs at least before the tune's end: it, `:|2` and its second.
ENDING_ROOM = 4

# A tune may sample this many times max_chars in all (tries included) before the rest of it
# is sampled without bar checks: an untrained model never gets stuck retrying.
RETRY_BUDGET = 4

# Tries of a bar that closes a part (it must land on the tonic, or the fifth for an inner
# part, on a beat): more than other bars get, as a cadence is what a listener hears first.
CADENCE_RETRIES = 40

# How far a bar that breaks the form (not its duration) is from right: the closest try kept
# after every try failed is then one with the right duration.
FORM_MISS = Fraction(1, 10_000)

# Failed tries of the closing bars beyond which the reply says how many it took.
TRIES_WORTH_SAYING = 12


@dataclass
class Settings:
    """How to sample one tune."""

    temperature: float = 1.0  # divides the logits: < 1 safer, > 1 wilder (0.1 .. 2.0)
    top_k: int = 0  # sample among the k likeliest characters only; 0 = all
    bars: int = 16  # length in bars (1 .. 64); the model may end the tune sooner
    max_chars: int = 3000  # hard cap on generated characters, whatever happens
    seed: int | None = None  # RNG seed: same seed, same prompt, same settings -> same tune; None = random
    bar_check: bool = True  # keep every bar in time (off: plain sampling, for comparison)
    form: bool = True  # write in the form of the tune's kind: whole parts, repeats, a tonic ending (needs bar_check)
    retries: int = 12  # resamplings of a bar of the wrong length before keeping the closest try

    def __post_init__(self):
        if not 0.1 <= self.temperature <= 2.0:
            raise ValueError(f"temperature must be between 0.1 and 2.0, got {self.temperature}")
        if not isinstance(self.top_k, int) or self.top_k < 0:
            raise ValueError(f"top_k must be 0 (off) or a positive whole number, got {self.top_k!r}")
        if not isinstance(self.bars, int) or not 1 <= self.bars <= 64:
            raise ValueError(f"bars must be a whole number from 1 to 64, got {self.bars!r}")
        if not isinstance(self.max_chars, int) or not 50 <= self.max_chars <= 100_000:
            raise ValueError(f"max_chars must be from 50 to 100000, got {self.max_chars!r}")
        if self.seed is not None and (not isinstance(self.seed, int) or not 0 <= self.seed < 2**63):
            raise ValueError(f"seed must be None or a whole number from 0 to 2**63-1, got {self.seed!r}")
        if not isinstance(self.retries, int) or not 0 <= self.retries <= 100:
            raise ValueError(f"retries must be from 0 to 100, got {self.retries!r}")


@dataclass
class Update:
    """The tune so far, as streamed to the page."""

    abc: str  # the whole tune so far: headers + music; only ever grows between updates
    new_from: int  # index in `abc` where newly generated music starts (after headers and pasted music)
    done: bool  # the last update: `abc` is a complete tune ending with a final bar line
    seed: int  # the seed used (reported so a tune can be made again)
    notices: list[str] = field(default_factory=list)  # things the person should know
    bars: int = 0  # new bars written so far (a pickup counts none); may end below Settings.bars
    form: str = ""  # on the last update: the tune's form as read from it ("AABB: two 8-bar parts, each played twice")
    style: str = ""  # the collection the tune is written in the manner of (`bot.style` tag; "" none)


# The composer is a coroutine: it yields an Ask whenever it reads characters and is sent the
# answer (logits, state); it yields an Update for the stream. Whoever drives it answers the
# Asks: `_alone` one at a time, `bot.engine.BatchEngine` many tunes' steps in one batch, on
# one thread, with no thread hand-off per character.
Reads = Generator[Ask, tuple[torch.Tensor, State], None]
Coroutine = Generator["Ask | Update", "tuple[torch.Tensor, State] | None", None]


class _Sequence:
    """One sequence being sampled: LSTM state, next-character logits, the RNG."""

    def __init__(self, stepper: Stepper, vocab: str, settings: Settings, seed: int):
        self.stepper = stepper
        self.vocab = vocab
        self.index = {c: i for i, c in enumerate(vocab)}
        self.settings = settings
        self.rng = np.random.default_rng(seed)
        self.inverse_temperature = np.float32(1 / settings.temperature)
        self.steps = 0  # characters fed so far, retries included
        self.state = stepper.zero(1)
        self.logits = np.zeros(len(vocab), dtype=np.float32)

    def feed(self, text: str) -> Reads:
        """Read fixed text (`yield from` it): asks for the step, or the prime of several characters."""
        if not text:
            return
        ids = [self.index[c] for c in text]
        self.steps += len(ids)
        logits, self.state = yield Ask(ids, self.state)
        self.logits = logits.reshape(-1).numpy()

    def draw(self, banned: np.ndarray | None = None) -> str:
        """Sample the next character (temperature, top-k, never a banned one)."""
        z = self.logits
        if banned is not None and not banned.all():
            z = np.where(banned, -np.inf, z)
        k = self.settings.top_k
        if 0 < k < len(z):
            kth = np.partition(z, len(z) - k)[len(z) - k]
            z = np.where(z >= kth, z, -np.inf)
        cdf = np.cumsum(np.exp((z - z.max()) * self.inverse_temperature))  # (V,) float32
        choice = int(cdf.searchsorted(self.rng.random() * cdf[-1], side="right"))
        return self.vocab[min(choice, len(self.vocab) - 1)]

    def snapshot(self) -> tuple[State, np.ndarray]:
        """The state to come back to (states are never changed in place)."""
        return self.state, self.logits

    def restore(self, snap: tuple[State, np.ndarray]) -> None:
        """Go back to a snapshot."""
        self.state, self.logits = snap


@dataclass
class _Try:
    """A closed bar that failed its check, kept in case every try fails."""

    gen: str  # generated text up to the bar line
    snap: tuple[State, np.ndarray]  # LSTM state after the bar line
    after: str  # the character that ended the bar line (first of the next bar)
    token: str
    reading: Measure
    verdict: Verdict


@dataclass
class _Bar:
    """The newest accepted bar, held back from the stream."""

    start: tuple | None  # (LSTM snapshot, splitter, gen length) at its start, to take it back
    rules: BarRules  # the bar rules before it was committed
    form: FormTracker | None  # the form tracker before it was committed
    end: int  # index in gen where its bar line starts
    token: str  # its bar line
    given: int  # leading characters of the bar line that belong to the pasted music


class _Composer:
    """Writes one tune: headers (choosing any the prompt left open), then bar after bar."""

    def __init__(self, loaded, prompt: Prompt, settings: Settings, seed: int, engine: BatchEngine | None):
        self.prompt = prompt
        self.settings = settings
        self.seed = seed
        self.vocab = loaded.vocab
        self.card = loaded.card
        self.style = ""  # chosen with the headers (`_headers`)
        self.engine = engine
        self.seq = _Sequence(stepper_for(loaded.model), loaded.vocab, settings, seed)
        self.notices = list(prompt.notices)
        self.syntax = _guard_for(loaded.vocab)
        self.first_ending = self.syntax.char("1")
        # Off the beat in the tune's last bar only rests, lengths, spaces and the bar line.
        self.no_new_note = self.syntax.only("zx0123456789/ |:])")
        self.key_change = self.syntax.char("K")
        self.quote = self.syntax.char('"')
        self.opening = self.syntax.only("|: \n")
        self.opening_colon = self.syntax.only(":")
        self.section_growth = self.syntax.char("|") | self.syntax.char("]") | self.syntax.char(":")
        self.part_edge = self.syntax.char("]") | self.syntax.char(":")  # what makes `:|`, `|:`, `|]`, `::`
        self.open_paren = self.syntax.char("(")
        self.bar_line = self.syntax.char("|")
        self.chord = self.syntax.char("[")
        self.octave_marks = self.syntax.char(",") | self.syntax.char("'")
        self.after_full_bar = self.syntax.only(_AFTER_FULL_BAR)
        self.after_full_bar_open = self.syntax.only(_AFTER_FULL_BAR | {"/"})
        # Characters sampled in all (tries rolled back included) before bar checks stop.
        self.budget = settings.max_chars * RETRY_BUDGET

    # -- headers ---------------------------------------------------------------------

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

    def _headers(self) -> Generator[Ask, object, tuple[str, str, str]]:
        """(printed header lines, meter, unit): fixed by the prompt or chosen by the model now."""
        p = self.prompt
        if p.complete:
            self.style = self._style(p.rhythm)
            yield from self.seq.feed(style.styled(p.prime, self.style) if self.style else p.prime)
            self.rhythm, self.key = p.rhythm, p.key
            return p.headers, p.meter, p.unit
        meter = yield from self._field("M", p.meter, lambda v: v in CHOSEN_METERS, "4/4")
        unit = yield from self._field("L", p.unit, lambda v: v in CHOSEN_UNITS, default_unit(meter))
        rhythm = p.rhythm
        if rhythm:
            yield from self.seq.feed(f"R:{rhythm}\n")
        elif self.seq.draw(self.syntax.only("RK")) == "R":  # the model would name a rhythm
            rhythm = yield from self._choose_line("R:", lambda v: v in set(RHYTHMS.values()))
        self.style = self._style(rhythm)
        if self.style:
            yield from self.seq.feed(style.line(self.style))
        key = yield from self._field("K", p.key, _is_plain_key, "C")
        self.rhythm, self.key = rhythm, key
        block = f"M:{meter}\nL:{unit}\n" + (f"R:{rhythm}\n" if rhythm else "") + f"K:{key}\n"
        return "X:1\n" + block, meter, unit

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
        return style.pick(self.card, rhythm, self.seed) or ""

    # -- music -----------------------------------------------------------------------

    def run(self) -> Iterator[Update]:
        """The tune's Updates: its coroutine driven alone, or by the shared batch engine."""
        if self.engine is None:
            return _alone(self._run(), self.seq.stepper)
        return self.engine.run(self._run())

    def _run(self) -> Coroutine:
        """Prime, write headers, then stream bars until the tune ends."""
        yield from self.seq.feed(TUNE_END)  # what precedes every tune in the training stream
        headers, meter, unit = yield from self._headers()
        self.head = headers + self.prompt.music
        self.new_from = len(self.head)
        yield Update(self.head, self.new_from, False, self.seed, list(self.notices), style=self.style)

        self.rules = BarRules(timing=Timing(meter, _unit_fraction(unit)))
        self.splitter = BarSplitter()
        given = self._given = self._given_music()
        closed = 0  # length of the pasted music's closed bars
        for i, ch in enumerate(given):  # read the pasted music's bars: pickup, sections, the open bar
            if self.splitter.closes(ch):
                content, token = self.splitter.close()
                reading = measure(content, self.rules.timing)
                self.rules.commit(reading, token, self.rules.judge(reading, token))
                closed = i
            self.splitter.feed(ch)
        self.rules.bars = 0  # count new bars only
        # A pasted bar still open (or whose bar line has not yet been read as closing it) is
        # closed by the first sampled characters: it is the paste's bar, not a new one.
        self.pasted_open = 1 if (self.splitter.token or self.splitter.content.strip()) else 0
        self.form = self._plan(given[:closed], meter, unit)
        self._left_of, self._left = None, None  # _part_left's cache: the tracker it is for, its value
        self.form_tries = 0  # tries of part-closing bars that missed the form
        self.before_gen = given[-1:] or "\n"  # the character before the first sampled one
        self.gen = ""  # generated text on the current path (model form)
        self.visible = 0  # gen[:visible] has been streamed
        # The newest accepted bar is held back: the next bar may still take it back (when no
        # try of its own fits), and the tune's last bar line may become a final one.
        self.last: _Bar | None = None
        # The bar line at the end of the streamed text, and how much of it is already shown
        # (a pasted tune may end on a bar line the first sampled character continues).
        self.shown_token = self.splitter.token
        self.retaken_at = -1  # gen length where a bar was taken back once already
        self.seq.steps = 0  # the retry budget counts sampled characters only
        self.closing_bars = 0  # a last bar the model ended without a bar line (_end_here)
        self.shown = None  # the text of the last Update
        yield from self._bars()

    def _plan(self, given: str, meter: str, unit: str) -> FormTracker | None:
        """The form to write in (None: form control off, or a meter with no bars)."""
        timing = self.rules.timing
        if not (self.settings.form and self.settings.bar_check) or timing.bar is None:
            return None
        if self.prompt.is_continuation:
            given_bars = read_body(given, meter, unit, self.key)
            if given_bars:
                self.key = given_bars[-1].key  # the key the pasted music ends in (a `K:` may change it)
            parts, open_bars = read_parts(given_bars, timing.bar, close_last=False)
            plan = plan_continuation(self.rhythm, parts, open_bars, self.settings.bars)
            # The part's last bar can only be whole or the complement of the pickup a repeat
            # goes back to (the bar rules, as abc2midi counts): where the pasted bars add up to
            # some other fraction (a half bar written as a bar), the part is counted from the
            # fraction those rules allow, so that its end can be reached.
            allowed = self.rules.repeat_pickup / timing.bar
            if open_bars % 1 != allowed:
                open_bars = open_bars // 1 + allowed
        else:
            open_bars = 0
            plan = plan_form(self.rhythm, self.settings.bars)
        if plan.note:
            self.notices.append(plan.note)
        self.beat = strong_beat(timing.meter)
        root = tonic(self.key)
        return FormTracker(plan, pitch_class(root) if root else None, length=open_bars)

    def _complete(self) -> bool:
        """Whether the tune has all its bars: every part of its form, or the bars asked for."""
        if self.form is not None:
            return self.form.finished
        return self.new_bars >= self.settings.bars

    @property
    def new_bars(self) -> int:
        """Bars begun in the new music (the pasted music's last bar is not one of them)."""
        return max(0, self.rules.bars - self.pasted_open)

    def _show(self, done: bool) -> Iterator[Update]:
        """An Update after an accepted bar (when the streamed text grew) or at the end."""
        text = self.head + self.gen[: self.visible] + (self._ending() + "\n" if done else "")
        if text != self.shown or done:
            self.shown = text
            bars = self.new_bars + self.closing_bars
            form = ""
            if done:
                if self.form_tries > TRIES_WORTH_SAYING:
                    self.notices.append(f"the parts' closing bars took {self.form_tries} extra tries to land on a cadence")
                form = read_form(text).describe() if self.rules.timing.bar is not None else ""
            yield Update(text, self.new_from, done, self.seed, list(self.notices), bars, form, self.style)

    def _open_slurs(self) -> int:
        """Slurs opened and not closed since the last part edge (`:|`, `|:`, `::`, `||`, `|]`)."""
        # Called for every sampled character: look in the new music first (a part edge there is
        # the latest), and tokenize only a part that holds quoted text or decorations.
        text = self.gen
        cut = max(text.rfind(edge) for edge in _PART_EDGES)
        if cut < 0:
            text = self._given + self.gen
            cut = max(text.rfind(edge) for edge in _PART_EDGES)
        part = text[cut + 1 :] if cut >= 0 else text
        if '"' in part or "!" in part or "+" in part:
            part = without(part, {"quote", "deco"})
        return len(_SLUR_OPEN.findall(part)) - part.count(")")

    def _given_music(self) -> str:
        """The pasted music in model form: the prime after its header lines."""
        if not self.prompt.is_continuation:
            return ""
        k_line = re.search(r"(?m)^K:.*\n", self.prompt.prime)
        return self.prompt.prime[k_line.end():] if k_line else ""

    def _ending(self) -> str:
        """Text after gen[:visible] that closes the tune: the last bar and a final bar line."""
        last = self.last
        if last is None:  # the streamed text ends on a bar line (or has none)
            token = self.shown_token
            final = self._final_token(token) if token else "|]"
            return final[len(token):] if final.startswith(token) else ""
        body = self.gen[self.visible : last.end]
        if body.rstrip().endswith("-"):
            # A tie into the tune's end joins nothing; the held bar is not shown yet, so the tie
            # goes (a last bar kept as the closest of its tries may still end on one).
            body = body.rstrip()[:-1]
        shown = last.token[: last.given]  # part of the bar line that is pasted music
        final = self._final_token(last.token)
        return body + (final[len(shown):] if final.startswith(shown) else last.token[len(shown):])

    def _last_char(self) -> str:
        return self.gen[-1] if self.gen else self.before_gen

    def _bars(self) -> Coroutine:
        """Sample bar after bar, with an Update after each accepted bar and one at the end."""
        check = self.settings.bar_check
        seq, split = self.seq, self.splitter
        start = (seq.snapshot(), split.clone(), len(self.gen))
        tries: list[_Try | None] = []  # failed tries of this bar (None: nothing to keep)
        strict = check  # bar checks on (until the retry budget is spent)
        lenient = not check  # no duration checks: plain sampling, or every try of this bar was lost
        while True:
            if self.seq.steps > self.budget and strict:
                # Retries have cost as much as several whole tunes: finish without bar checks.
                strict, lenient = False, True
            if len(self.gen) >= self.settings.max_chars:
                self.notices.append(f"stopped at the {self.settings.max_chars}-character cap")
                yield from self._show(done=True)
                return
            reading = measure(split.content, self.rules.timing)
            closed = None  # (after, token, reading, verdict) of a bar to accept
            lost = False
            if not lenient and self._overflows(reading, split):
                tries.append(None)
                lost = True
            else:
                banned = self._banned(reading, lenient) if check else None
                ch = seq.draw(banned) if banned is None or not banned.all() else None
                while ch is not None and not lenient and self._cannot_close(ch, reading):
                    banned = banned | self.syntax.char(ch)  # a bar line now would be wrong: draw again
                    ch = seq.draw(banned) if not banned.all() else None
                if ch is None:  # nothing may follow: this try is lost
                    tries.append(None)
                    lost = True
                elif ch == "\n" and self._last_char() == "\n":  # the model ends the tune
                    verdict = self.rules.judge(reading, self._final_token("", reading), final=True)
                    if verdict.kind == "empty" or verdict.ok or lenient:
                        self._end_here(verdict)
                        yield from self._show(done=True)
                        return
                    tries.append(None)
                    lost = True
                elif split.closes(ch):
                    content, token = split.close()
                    reading = measure(content, self.rules.timing)
                    verdict = self._judge(reading, token)
                    if not verdict.ok and len(self.gen) <= len(token):
                        verdict.ok = True  # the bar is all pasted music: not ours to judge
                    if verdict.ok or lenient:
                        closed = (ch, token, reading, verdict)
                    else:
                        tries.append(_Try(self.gen, seq.snapshot(), ch, token, reading, verdict))
                        lost = True
            if lost:
                start, lenient, closed = self._after_lost_try(start, tries)
                if closed is None:
                    if not tries:  # the bar before was taken back: its retries start afresh
                        lenient = not strict
                    continue
            if closed is not None:
                ch, token, reading, verdict = closed
                self._accept(start, reading, token, verdict)
                tries, lenient = [], not strict
                if self._complete():
                    yield from self._show(done=True)
                    return
                yield from self._show(done=False)
                start = (seq.snapshot(), split.clone(), len(self.gen))
            split.feed(ch)
            yield from seq.feed(ch)
            self.gen += ch

    def _after_lost_try(self, start, tries: list[_Try | None]) -> tuple[tuple, bool, tuple | None]:
        """Roll back after a try that failed: (bar start, go on unchecked?, a closed try to accept).

        Below the retry limit the bar is simply sampled again. At the limit the bar before it
        is taken back once (both are written again: a full bar before a section that wants a
        pickup is fixed there); after that the closest closed try is kept, or, if no try ever
        closed a bar, the next try runs unchecked, so the tune always moves on.
        """
        self._rollback(start)
        cadence = any(t is not None and t.verdict.kind == "form" for t in tries)
        if cadence:
            self.form_tries += 1
        if len(tries) <= (max(self.settings.retries, CADENCE_RETRIES) if cadence else self.settings.retries):
            return start, False, None
        last = self.last
        if last is not None and last.start[2] != self.retaken_at:
            self.retaken_at = last.start[2]
            self.rules = last.rules
            self.form = last.form
            self.last = None
            self._rollback(last.start)
            tries.clear()
            return last.start, False, None
        kept = [t for t in tries if t is not None]
        if not kept:
            return start, True, None
        best = min(kept, key=lambda t: t.verdict.miss)
        self.gen = best.gen
        self.seq.restore(best.snap)
        self.splitter.close()  # the bar is over: the splitter starts the next one
        self.splitter.mode, self.splitter.line_start, self.splitter.field_letter = "", False, False
        return start, False, (best.after, best.token, best.reading, best.verdict)

    def _end_here(self, verdict: Verdict) -> None:
        """The model ended the tune: after the last bar, or after a right unfinished one."""
        if verdict.kind == "empty":
            return  # the last bar's line becomes the final one
        # The unfinished bar is right as a last bar: it becomes the held bar, with no bar line.
        self._show_last()
        self.gen = self.gen.rstrip()
        self.last = _Bar(start=None, rules=self.rules, form=self.form, end=len(self.gen), token="", given=0)
        self.closing_bars = verdict.counts  # this last bar is not in rules.bars: it has no bar line

    def _judge(self, reading: Measure, token: str) -> Verdict:
        verdict = self.rules.judge(reading, token)
        if self._ends_tune(reading, verdict):
            # This bar ends the tune: judge it with the bar line it will get.
            token = self._final_token(token, reading)
            verdict = self.rules.judge(reading, token, final=True)
            if verdict.ok and (self._open_slurs() > 0 or reading.text.rstrip().endswith("-")):
                # A slur or a tie open at the final bar line would never close (`(d2 |]`, and
                # `g- |]` in a short last bar, which the full-bar ban on ties never sees): the
                # try is lost, as a missed cadence is (`_banned` steers away from most of them).
                return Verdict(False, verdict.duration, verdict.expected, verdict.counts, FORM_MISS, "form")
        if self.form is None or not verdict.ok or reading.timing.bar is None:
            return verdict
        bars = verdict.duration / reading.timing.bar
        notes = []
        if self.form.closes_part(bars) and self.form.tonic is not None:
            notes = [(e.melody, e.offset) for e in bar_events(reading.text, reading, self.key)[0] if e.pitches]
        why = self.form.judge(bars, token, notes, self.beat)
        if why:
            return Verdict(False, verdict.duration, verdict.expected, verdict.counts, FORM_MISS, "form")
        return verdict

    def _closes_tune(self, reading: Measure) -> bool:
        """Whether the bar being written, full as it is now, would be the tune's last."""
        if self.form is not None and reading.timing.bar is not None:
            return self.form.closes_tune(reading.duration / reading.timing.bar)
        return self.new_bars + 1 >= self.settings.bars

    def _ends_tune(self, reading: Measure, verdict: Verdict) -> bool:
        """Whether a bar read as `reading` (judged `verdict` as an inner bar) would be the tune's last."""
        if self.form is not None and reading.timing.bar is not None:
            return self.form.closes_tune(verdict.duration / reading.timing.bar)
        return bool(verdict.counts) and self.new_bars + verdict.counts >= self.settings.bars

    def _final_token(self, token: str, reading: Measure | None = None) -> str:
        """The bar line that ends the tune in place of `token`: `:|` closes an open first ending."""
        in_ending = self.rules.ending_open or (reading is not None and reading.ending.startswith("1"))
        return ":|" if in_ending and not token.startswith(":") else final_token(token)

    def _show_last(self) -> None:
        """Stream the held bar: a newer one follows it, so nothing can change it any more."""
        if self.last is not None:
            self.visible = self.last.end + len(self.last.token) - self.last.given
            self.shown_token, self.last = self.last.token, None

    def _accept(self, start, reading: Measure, token: str, verdict: Verdict) -> None:
        """Commit a closed bar: the one held before is streamed, this one is held."""
        rules_before, form_before = self.rules.clone(), self.form
        self.rules.commit(reading, token, verdict)
        if self.form is not None and reading.timing.bar is not None:
            self.form = self.form.after(verdict.duration / reading.timing.bar, token)
        self._show_last()
        in_gen = min(len(token), len(self.gen))
        self.last = _Bar(start=start, rules=rules_before, form=form_before, end=len(self.gen) - in_gen,
                         token=token, given=len(token) - in_gen)

    def _rollback(self, start) -> None:
        """Back to the state at the start of the bar."""
        snap, split, length = start
        self.seq.restore(snap)
        vars(self.splitter).update(vars(split))  # in place: callers hold the splitter
        self.gen = self.gen[:length]

    def _cannot_close(self, ch: str, reading: Measure) -> bool:
        """Whether `ch` would close the bar being written at a duration no bar line makes right.

        Checked only for the character drawn (a bar line is rare), which samples exactly as
        if every such character had been banned beforehand.
        """
        split = self.splitter
        if self.rules.timing.bar is None or not reading.elements or reading.rest_bars:
            return False
        if split.token:
            if not split.closes(ch) or len(self.gen) <= len(split.token):
                return False  # the bar line goes on, or the bar is pasted music
            return not self._judge(reading, split.token).ok
        if not split.in_music or ch not in "|:":
            return False
        tokens = (":|", "::") if ch == ":" else ("|", "||", "|:", "|]")
        return not any(self._judge(reading, token).ok for token in tokens)

    def _may_end(self, reading: Measure) -> bool:
        """Whether the tune may end before the bar being written goes on."""
        rules = self.rules
        if rules.bars == 0:
            return False  # not before a first new bar
        if self.form is not None:
            return False  # the form decides where the tune ends (an inner part may close on the fifth)
        if reading.elements:  # the open bar must be right as a last bar
            return rules.judge(reading, self._final_token("", reading), final=True).ok
        if rules.ending_open:
            return False  # not inside a first ending
        # A short bar before a section line left a debt: only a pickup's complement may end the tune.
        return rules.debt is None or rules.debt in (rules.pickup, rules.section_pickup, rules.repeat_pickup)

    def _limit(self, reading: Measure) -> Fraction | None:
        """The longest duration the bar being written may reach; None when unchecked."""
        bar = reading.timing.bar
        if bar is None:
            return None
        debt = self.rules.debt
        limit = debt if debt is not None and not self.rules.replays(reading) else bar
        left = self._part_left()
        if left is not None and 0 < left < limit:
            limit = left  # the part's short last bar, the complement of its pickup
        return limit

    def _part_left(self) -> Fraction | None:
        """Whole notes still to write in the current part (None: no form, or all written).

        Worked out once per accepted bar, not per character (Fraction arithmetic is slow).
        """
        form = self.form
        if form is not self._left_of:
            self._left_of = form
            bar = self.rules.timing.bar
            done = form is None or form.finished or bar is None
            self._left = None if done else (form.plan.parts[form.index] - form.length) * bar
        return self._left

    def _overflows(self, reading: Measure, split: BarSplitter) -> bool:
        """Whether the bar being written already runs past its longest right duration."""
        if len(split.content) > MAX_BAR_CHARS:
            return True
        limit = self._limit(reading)
        if limit is None:
            return False
        if reading.settled > limit:
            return True
        # An element still being written after the bar is full can only overrun it.
        return reading.open and reading.settled >= limit and reading.duration > reading.settled

    def _tie_steer(self) -> np.ndarray | bool:
        """Characters banned while a tie waits for its note: that note is the tied pitch (False: none).

        Model 3 tied to another pitch in 184 of 300 waltzes (`d/2-c/`): no tie at all, drawn
        as one and played as two notes; the training waltzes never do it. The note after the
        tie is the tied one's letter and octave, with an accidental written out wherever its
        pitch is not the key's (a bar line between would drop one carried from earlier in the
        bar); the model still chooses its length.
        """
        if self.splitter.mode in _NOT_MUSIC:
            return False  # a `-` in a quoted string or a field (`"FC-`) ties nothing
        text = (self._given[-64:] + self.gen)[-64:]  # a bar and what follows it, not the whole tune each draw
        tied = _TIED.search(text)
        if tied is None:
            return False
        # The pitch the tied note sounds, with the accidentals its bar carries to it (as the
        # tokenizer reads them); the partner writes any that differs from the key out in full.
        bar = without(text[: tied.end("len")].rsplit("|", 1)[-1], {"quote", "deco"})
        carried: dict = {}
        signature = key_signature(self.key)
        pitch = [note_pitch(note, signature, carried) for note in NOTE.finditer(bar)][-1]
        bare = NOTE.match(tied["letter"] + tied["oct"])
        accidental = ("" if pitch == note_pitch(bare, signature, {})
                      else _SPELLED[pitch - note_pitch(bare, _NATURALS, {})])
        spelling, sofar = accidental + tied["letter"] + tied["oct"], tied["sofar"]
        if not spelling.startswith(sofar):
            return False  # written before these bans (a paste, or an unchecked try): not ours
        if sofar == spelling:
            return self.octave_marks  # the note is spelled: another mark would move it
        following = spelling[len(sofar)]
        if sofar:
            return self.syntax.only({following})
        # Before the note: one bar line, a blank on either side of it, and nothing else
        # (a model pushed to tie wrote blank lines until the tie fell out of sight).
        gap = tied["gap"]
        allowed = {following}
        if "|" not in gap:
            allowed.add("|")
        if not gap.endswith(" ") and "\n" not in gap:
            allowed.add(" ")
        return self.syntax.only(allowed)

    def _cadence_steer(self, reading: Measure) -> np.ndarray | bool:
        """Characters banned to steer a part's closing bar to its cadence (False: none).

        A note starting on a beat in the bar's second half is the tonic (or, in an inner part,
        the fifth), and in the tune's last bar no note starts off the beat. The model still
        chooses the note, its octave and length, and whether a note falls there at all;
        without this, a closing bar missed its cadence in most tries.
        """
        form, bar, length = self.form, reading.timing.bar, self._part_left()
        if length is None or bar is None or length > bar:
            return False  # not the part's closing bar
        # `length` is this bar's: a full bar, or the complement of the part's pickup.
        offset = reading.duration
        last_beat = (length - 1 / Fraction(TICKS)) // self.beat * self.beat
        # In a closing bar of two beats or fewer (a pickup's complement) the first note is steered
        # too: held over the last beat (`B2 :|` in G, a waltz), it is the cadence, and no note
        # starts where the steer began.
        start = 0 if length <= 2 * self.beat else min(length / 2, last_beat)
        if offset < start:
            return False
        final = form.index == len(form.plan.parts) - 1
        if offset % self.beat:
            # Off the beat: the tune's last note must not fall here (rests may).
            return self.no_new_note if final else False
        # A chord here would put its notes past the mask (it is read by its top note, `[D2F2]`
        # ends on F): the cadence is a single note.
        return _cadence_mask(self.syntax, self.key, form.tonic, final) | self.chord

    def _banned(self, reading: Measure, lenient: bool) -> np.ndarray:
        """Characters that cannot be right next: bad syntax always, wrong durations unless `lenient`."""
        banned = self.syntax.banned(self.splitter, self.rules, self._last_char())
        if self.form is not None or self.settings.bars - self.new_bars <= ENDING_ROOM:
            # Too near the end for a first ending to get its `:|2` before the tune stops; and
            # a form's parts are repeated with `:|` (endings would make the parts' lengths
            # depend on which ending is counted).
            split = self.splitter
            if split.token == "|" or (split.mode == "[" and split.content.endswith("[")):
                banned |= self.first_ending
        slurs = self._open_slurs()
        if slurs <= 0:
            banned |= self.syntax.close_slur  # a `)` with no slur open in its part
        else:
            banned |= self.open_paren  # no slur inside a slur (`((GAB)` left one open to the tune's end)
        tie = self._tie_steer()
        if tie is not False and not (banned | tie).all():
            # A tie's partner is notation, not timing: steered even once a bar's retries are
            # spent and durations go unchecked (unless nothing would be left to draw).
            banned = banned | tie
        if lenient:
            return banned
        if slurs > 0:
            # A slur is closed inside its part: no repeat sign, double or final bar while one
            # is open (in 100 tunes 11 had a part with a slur left open or crossing a repeat).
            banned |= self.part_edge | (self.section_growth if self.splitter.token else False)
        if self.splitter.content.rstrip().endswith("-"):
            # A tie joins the next bar's note: not across a repeat sign or a part's end, where
            # abc2midi ties it to the note after the repeat and miscounts both bars.
            banned |= self.part_edge | (self.section_growth if self.splitter.token else False)
        if self.form is not None and self.splitter.token and reading.elements and reading.timing.bar is not None:
            bars = reading.duration / reading.timing.bar
            pickup = self.form.at_part_start and bars < 1
            if not pickup and not self.form.closes_part(bars):
                banned |= self.section_growth  # inside a part `|` may not grow into `||`, `|]` or `|:`
        if self.form is not None and self.splitter.mode in ("", "["):
            banned |= self.key_change  # the tune stays in its key: the form ends it on that key's tonic
        if self.form is not None and self.splitter.mode in ("", "("):  # in music, after a bar line or `(`
            # No quoted strings in new music, nor after a tuplet mark (`(3"_4"fec`, a fingering):
            # chords are the harmoniser's (a stray "F" in D would pass for the tune's own and stop
            # it filling the bars), annotations are noise.
            banned |= self.quote
        if self.form is not None and not self.gen.strip() and not self._given.strip() and self.splitter.in_music:
            # A new tune opens on its first note, not on a bar line: after an opening `|`
            # (`|A|B3/2A/2G|...|BF:|`, model 4) abc2midi reads the pickup as a whole bar, and the
            # repeat back to it as two short ones.
            banned |= self.bar_line
        if self.form is not None and self.form.needs_opening and not reading.elements:
            # `|:` before the part's first note (and not `||` first: `:| || |:` is no better).
            if self.splitter.in_music:
                banned |= self.opening
            elif self.splitter.token == "|":
                banned |= self.opening_colon
        if self.form is not None and self.form.tonic is not None and (self.splitter.in_music or self.splitter.mode == "("):
            # After `(` comes a tuplet's digit or the slurred note, which must be the cadence's
            # (unsteered there, `(F` dodged the tonic, and the try wrote `F////...` to undo it).
            steer = self._cadence_steer(reading)
            if steer is not False:
                # A tie here would fix the cadence note's pitch before the cadence chose it
                # (`=f- | =f` against an F# tonic: no try could close the bar).
                banned |= steer | self.syntax.tie
        if self._last_char() == "\n" and not self._may_end(reading):
            banned |= self.syntax.newline  # a second newline would end the tune here
        limit = self._limit(reading)
        if self.splitter.in_music and limit is not None and reading.duration == limit and reading.elements:
            # The bar is full: only a bar line (or what may stand before one) may follow.
            banned |= self.after_full_bar_open if reading.open else self.after_full_bar
            if self.form is not None and reading.timing.bar and self.form.closes_part_soon(reading.duration / reading.timing.bar):
                # The part ends with this bar (nothing to tie into), or with the next, whose
                # cadence note the form chooses: tied from here (`F-F-F-|` on, in a waltz in Bb
                # pushed to tie) it could only be an F, no try could close the part, and once
                # the retries were spent the bars went unchecked.
                banned |= self.syntax.tie
            if slurs > 0 and self._closes_tune(reading):
                # The tune's last bar line is written `|` and made final afterwards (`_final_token`):
                # close the slur first, or it runs off the end (`(d2 |]`).
                banned |= self.bar_line
        return banned


_PART_EDGES = (":|", "|:", "::", "||", "|]")
# BarSplitter modes whose text is no music: a quoted string, a decoration, a field line.
_NOT_MUSIC = ('"', "!", "+", "F")
# A tied note (the tokenizer's NOTE), then what has followed it: blanks and bar lines, and as
# much of the next note's spelling (accidental, letter, octave marks) as is written. A tie joins
# two notes of one pitch.
_TIED = re.compile(rf"(?:{NOTE.pattern})-(?P<gap>[ \n|]*)(?P<sofar>[\^_=]*[A-Ga-g]?[,']*)$")
# The accidental that raises or lowers a natural letter by so many semitones.
_SPELLED = {shift: acc for acc, shift in ACCIDENTALS.items()}
_NATURALS = dict.fromkeys("CDEFGAB", 0)
_SLUR_OPEN = re.compile(r"\((?![1-9])")  # `(` of a slur, not of a tuplet like `(3`


@lru_cache(maxsize=256)
def _cadence_mask(syntax: SyntaxGuard, key: str, root: int, final: bool) -> np.ndarray:
    """Note letters (and accidentals) that cannot make a cadence on `root` in `key`: True where banned."""
    signature = key_signature(key)
    allowed = {root} if final else {root, (root + 7) % 12}
    wrong = {c for letter in "CDEFGAB" if (pitch_class(letter) + signature[letter]) % 12 not in allowed
             for c in (letter, letter.lower())}
    return syntax.banned_set(wrong | set("^_="))


@lru_cache(maxsize=8)
def _guard_for(vocab: str) -> SyntaxGuard:
    """One SyntaxGuard per alphabet (its masks are built once and shared by every tune)."""
    return SyntaxGuard(vocab)


def _alone(coroutine: Coroutine, stepper: Stepper) -> Iterator[Update]:
    """Drive one tune's coroutine in the caller's thread, answering each Ask as it comes."""
    try:
        reply = None
        while True:
            try:
                item = coroutine.send(reply)
            except StopIteration:
                return
            if isinstance(item, Ask):
                reply = answer(stepper, item)
            else:
                reply = None
                yield item
    finally:
        coroutine.close()


def _is_plain_key(value: str) -> bool:
    key = parse_key(value)
    return key is not None and key[0] + key[1] == value


def _unit_fraction(unit: str) -> Fraction:
    match = re.fullmatch(r"\s*(\d+)/(\d+)\s*", unit)
    if match and int(match.group(1)) and int(match.group(2)):
        return Fraction(int(match.group(1)), int(match.group(2)))
    return Fraction(1, 8)


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
    return _Composer(loaded, prompt, settings, seed, engine).run()


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
