"""The composer loop: sampling, rollback, retries and streaming. What may be drawn, and whether a
bar stands, is the rules' (`bot.compose.rules`), read from the one TuneState this loop writes.

Every bar is sampled character by character under the rules' masks. A bar that closes wrong, or
runs past its length, rolls back to its start and is sampled again, up to `Settings.retries`
times (CADENCE_RETRIES for a part's closing bar); then the bar before is taken back once; then
the closest try is kept. Streaming: the newest bar is held back until the next one is accepted
(it may still be taken back), so text never retracts; the last update closes the tune.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Iterator

from bot.compose.begin import begin
from bot.compose.headers import HeaderWriter
from bot.compose.rules import Rule, Rulebook, guard_for, rules_for
from bot.compose.sequence import Coroutine, Sequence, alone
from bot.compose.settings import Settings, Update
from bot.compose.state import Closing, HeldBar, Start, Try
from bot.notation.abc import TUNE_END
from bot.notation.bars import Verdict
from bot.notation.form import read_form
from bot.prompt import Prompt
from bot.stepper import stepper_for

if TYPE_CHECKING:
    from bot.engine import BatchEngine

# A tune may sample this many times max_chars in all (tries included) before the rest of it
# is sampled without bar checks: an untrained model never gets stuck retrying.
RETRY_BUDGET = 4

# Tries of a bar that closes a part (it must land on the tonic, or the fifth for an inner
# part, on a beat): more than other bars get, as a cadence is what a listener hears first.
CADENCE_RETRIES = 40

# Failed tries of the closing bars beyond which the reply says how many it took.
TRIES_WORTH_SAYING = 12


class Composer:
    """Writes one tune: headers (choosing any the prompt left open), then bar after bar."""

    def __init__(self, loaded, prompt: Prompt, settings: Settings, seed: int, engine: BatchEngine | None,
                 rules: tuple[Rule, ...] | None = None):
        self.prompt, self.settings, self.seed, self.engine = prompt, settings, seed, engine
        self.card = loaded.card
        self.seq = Sequence(stepper_for(loaded.model), loaded.vocab, settings, seed)
        self.notices = list(prompt.notices)
        self.syntax = guard_for(loaded.vocab)
        self.rules = rules if rules is not None else rules_for(loaded.vocab)  # a bench may pass timed ones
        # Characters sampled in all (tries rolled back included) before bar checks stop.
        self.budget = settings.max_chars * RETRY_BUDGET

    def run(self) -> Iterator[Update]:
        """The tune's Updates: its coroutine driven alone, or by the shared batch engine."""
        if self.engine is None:
            return alone(self._run(), self.seq.stepper)
        return self.engine.run(self._run())

    def _run(self) -> Coroutine:
        """Prime, write headers, then stream bars until the tune ends."""
        yield from self.seq.feed(TUNE_END)  # what precedes every tune in the training stream
        heading = yield from HeaderWriter(self.seq, self.syntax, self.prompt, self.card, self.seed, self.notices).write()
        self.style = heading.style
        self.head = heading.headers + self.prompt.music
        self.new_from = len(self.head)
        yield Update(self.head, self.new_from, False, self.seed, list(self.notices), style=self.style)
        self.state = begin(self.prompt, self.settings, heading, self.notices, self.seed)
        self.book = Rulebook(self.rules, self.state)
        self.visible = 0  # gen[:visible] has been streamed
        # The bar line at the end of the streamed text, and how much of it is already shown
        # (a pasted tune may end on a bar line the first sampled character continues).
        self.shown_token = self.state.splitter.token
        self.seq.steps = 0  # the retry budget counts sampled characters only
        self.shown = None  # the text of the last Update
        yield from self._bars()

    def _show(self, done: bool) -> Iterator[Update]:
        """An Update after an accepted bar (when the streamed text grew) or at the end."""
        state = self.state
        # New music is shown in the paste's own unit where the model reads it in another (`Prompt.shown`).
        text = self.head + self.prompt.shown(state.gen[: self.visible] + (self._ending() + "\n" if done else ""))
        if text != self.shown or done:
            self.shown = text
            form = ""
            if done:
                if state.form_tries > TRIES_WORTH_SAYING:
                    self.notices.append(f"the parts' closing bars took {state.form_tries} extra tries to land on a cadence")
                form = read_form(text).describe() if state.bar_rules.timing.bar is not None else ""
            bars = state.new_bars + state.closing_bars
            yield Update(text, self.new_from, done, self.seed, list(self.notices), bars, form, self.style)

    def _ending(self) -> str:
        """Text after gen[:visible] that closes the tune: the last bar and a final bar line."""
        state, last = self.state, self.state.last
        if last is None:  # the streamed text ends on a bar line (or has none)
            token = self.shown_token
            final = state.final_token(token) if token else "|]"
            return final[len(token):] if final.startswith(token) else ""
        body = state.gen[self.visible : last.end]
        if body.rstrip().endswith("-"):
            # A tie into the tune's end joins nothing; the held bar is not shown yet, so the tie
            # goes (a last bar kept as the closest of its tries may still end on one).
            body = body.rstrip()[:-1]
        shown = last.token[: last.given]  # part of the bar line that is pasted music
        final = state.final_token(last.token)
        return body + (final[len(shown):] if final.startswith(shown) else last.token[len(shown):])

    def _bars(self) -> Coroutine:
        """Sample bar after bar, with an Update after each accepted bar and one at the end."""
        check = self.settings.bar_check
        seq, state, book = self.seq, self.state, self.book
        split = state.splitter
        start = (seq.snapshot(), split.clone(), len(state.gen))
        tries = state.tries
        strict = check  # bar checks on (until the retry budget is spent)
        lenient = not check  # no duration checks: plain sampling, or every try of this bar was lost
        while True:
            if seq.steps > self.budget and strict:
                # Retries have cost as much as several whole tunes: finish without bar checks.
                strict, lenient = False, True
            if len(state.gen) >= self.settings.max_chars:
                self.notices.append(f"stopped at the {self.settings.max_chars}-character cap")
                yield from self._show(done=True)
                return
            reading = state.read_bar()
            closed = None  # (after, token, reading, verdict) of a bar to accept
            lost = False
            if not lenient and book.lost(state):
                tries.append(None)
                lost = True
            else:
                banned = book.banned(state, lenient) if check else None
                yield from seq.ready()  # the rules ran while the step did; now its logits
                ch = seq.draw(banned)  # None: everything is banned
                while ch is not None and not lenient and book.redraw(state, ch):
                    banned = banned | self.syntax.char(ch)  # a bar line now would be wrong: draw again
                    ch = seq.draw(banned)
                if ch is None:  # nothing may follow: this try is lost
                    tries.append(None)
                    lost = True
                elif ch == "\n" and state.last_char() == "\n":  # the model ends the tune
                    verdict = state.bar_rules.judge(reading, state.final_token("", reading), final=True)
                    if verdict.kind == "empty" or verdict.ok or lenient:
                        self._end_here(verdict)
                        yield from self._show(done=True)
                        return
                    tries.append(None)
                    lost = True
                elif split.closes(ch):
                    _, token = split.close()  # the bar's text is the one `reading` read
                    verdict = book.judge(state, Closing(reading, token))
                    if not verdict.ok and len(state.gen) <= len(token):
                        verdict.ok = True  # the bar is all pasted music: not ours to judge
                    if verdict.ok or lenient:
                        closed = (ch, token, reading, verdict)
                    else:
                        tries.append(Try(state.gen, seq.snapshot(), ch, token, reading, verdict))
                        lost = True
            if lost:
                start, lenient, closed = self._after_lost_try(start)
                if closed is None:
                    if not tries:  # the bar before was taken back: its retries start afresh
                        lenient = not strict
                    continue
            if closed is not None:
                ch, token, reading, verdict = closed
                self._accept(start, reading, token, verdict)
                tries.clear()
                lenient = not strict
                if state.complete:
                    yield from self._show(done=True)
                    return
                yield from self._show(done=False)
                start = (seq.snapshot(), split.clone(), len(state.gen))
            split.feed(ch)
            yield from seq.feed(ch)
            state.gen += ch

    def _after_lost_try(self, start: Start) -> tuple[Start, bool, tuple | None]:
        """Roll back after a try that failed: (bar start, go on unchecked?, a closed try to accept).

        Below the retry limit the bar is simply sampled again. At the limit the bar before it
        is taken back once (both are written again: a full bar before a section that wants a
        pickup is fixed there); after that the closest closed try is kept, or, if no try ever
        closed a bar, the next try runs unchecked, so the tune always moves on.
        """
        state, tries = self.state, self.state.tries
        self._rollback(start)
        cadence = state.at_closing_bar() or any(t is not None and t.verdict.kind == "form" for t in tries)
        if cadence:
            state.form_tries += 1
        if len(tries) <= (max(self.settings.retries, CADENCE_RETRIES) if cadence else self.settings.retries):
            return start, False, None
        last = state.last
        if last is not None and last.start[2] != state.retaken_at:
            state.retaken_at = last.start[2]
            state.bar_rules, state.form, state.last = last.rules, last.form, None
            self._rollback(last.start)
            tries.clear()
            return last.start, False, None
        kept = [t for t in tries if t is not None]
        if not kept:
            return start, True, None
        best = min(kept, key=lambda t: t.verdict.miss)
        state.gen = best.gen
        self.seq.restore(best.snap)
        split = state.splitter
        split.close()  # the bar is over: the splitter starts the next one
        split.mode, split.line_start, split.field_letter = "", False, False
        return start, False, (best.after, best.token, best.reading, best.verdict)

    def _end_here(self, verdict: Verdict) -> None:
        """The model ended the tune: after the last bar, or after a right unfinished one."""
        if verdict.kind == "empty":
            return  # the last bar's line becomes the final one
        # The unfinished bar is right as a last bar: it becomes the held bar, with no bar line.
        state = self.state
        self._show_last()
        state.gen = state.gen.rstrip()
        state.last = HeldBar(start=None, rules=state.bar_rules, form=state.form, end=len(state.gen), token="", given=0)
        state.closing_bars = verdict.counts  # this last bar is not in bar_rules.bars: it has no bar line

    def _show_last(self) -> None:
        """Stream the held bar: a newer one follows it, so nothing can change it any more."""
        last = self.state.last
        if last is not None:
            self.visible = last.end + len(last.token) - last.given
            self.shown_token, self.state.last = last.token, None

    def _accept(self, start: Start, reading, token: str, verdict: Verdict) -> None:
        """Commit a closed bar: the one held before is streamed, this one is held."""
        state = self.state
        rules_before, form_before = state.bar_rules.clone(), state.form
        state.bar_rules.commit(reading, token, verdict)
        if state.form is not None and reading.timing.bar is not None:
            state.form = state.form.after(verdict.duration / reading.timing.bar, token)
        self._show_last()
        in_gen = min(len(token), len(state.gen))
        state.last = HeldBar(start=start, rules=rules_before, form=form_before, end=len(state.gen) - in_gen,
                             token=token, given=len(token) - in_gen)

    def _rollback(self, start: Start) -> None:
        """Back to the state at the start of the bar."""
        snap, split, length = start
        self.seq.restore(snap)
        vars(self.state.splitter).update(vars(split))  # in place: the loop holds the splitter
        self.state.gen = self.state.gen[:length]
