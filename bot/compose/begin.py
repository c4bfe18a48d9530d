"""The state a tune starts from: the pasted music read bar by bar, and the form planned."""

from __future__ import annotations

import re
from dataclasses import replace
from fractions import Fraction

from bot.compose.headers import Heading
from bot.compose.marks import absent_in_new, shortest_note
from bot.instruments import describe
from bot.compose.settings import Settings
from bot.compose.state import TuneState
from bot.notation.bars import BarRules, BarSplitter, Timing, measure, read_body
from bot.notation.layouts import usual_bars
from bot.notation.form import FormTracker, plan_continuation, plan_form, read_parts, strong_beat
from bot.notation.tokens import pitch_class, tokenize, tonic
from bot.prompt import Prompt


def begin(prompt: Prompt, settings: Settings, heading: Heading, notices: list[str], seed: int = 0) -> TuneState:
    """The state before the first sampled character (notes on the form go to `notices`); `seed`
    draws what a new tune may write (`bot.compose.marks`)."""
    if prompt.instrument:  # the words name one ("a reel for whistle"): its range, whatever the page's
        settings = replace(settings, instrument=prompt.instrument)
        notices.append(f"written for {prompt.instrument}, in its range ({describe(prompt.instrument)})")
    rules = BarRules(timing=Timing(heading.meter, unit_fraction(heading.unit)))
    splitter = BarSplitter()
    given = given_music(prompt)
    closed = 0  # length of the pasted music's closed bars
    for i, ch in enumerate(given):  # read the pasted music's bars: pickup, sections, the open bar
        if splitter.closes(ch):
            content, token = splitter.close()
            reading = measure(content, rules.timing)
            rules.commit(reading, token, rules.judge(reading, token))
            closed = i
        splitter.feed(ch)
    rules.bars = 0  # count new bars only
    state = TuneState(
        settings=settings, key=heading.key, rhythm=heading.rhythm, bar_rules=rules, splitter=splitter,
        form=None, beat=None, given=given,
        # A pasted bar still open (or whose bar line has not yet been read as closing it) is
        # closed by the first sampled characters: it is the paste's bar, not a new one.
        pasted_open=1 if (splitter.token or splitter.content.strip()) else 0,
        before_gen=given[-1:] or "\n",
        absent=(absent_marks(prompt.music) if prompt.is_continuation
                else absent_in_new(heading.rhythm, seed, prompt.style, prompt.dotted)),
        # A continuation keeps the paste's note values (its idiom); a new tune its rhythm's.
        shortest=None if prompt.is_continuation else shortest_note(heading.rhythm, seed),
    )
    state.form = _plan(state, prompt, given[:closed], heading, notices, seed)
    if settings.bars is None:  # the rhythm's usual length: the form's, or two 8-bar parts
        state.settings = replace(settings, bars=state.form.plan.bars if state.form else usual_bars(heading.rhythm))
    return state


def _plan(state: TuneState, prompt: Prompt, given: str, heading: Heading, notices: list[str],
          seed: int) -> FormTracker | None:
    """The form to write in (None: form control off, or a meter with no bars); sets the state's key and beat."""
    settings, timing = state.settings, state.bar_rules.timing
    if not (settings.form and settings.bar_check) or timing.bar is None:
        return None
    if prompt.is_continuation:
        given_bars = read_body(given, heading.meter, heading.unit, state.key)
        if given_bars:
            state.key = given_bars[-1].key  # the key the pasted music ends in (a `K:` may change it)
        parts, open_bars = read_parts(given_bars, timing.bar, close_last=False)
        bars = settings.bars if settings.bars is not None else usual_bars(state.rhythm)
        plan = plan_continuation(state.rhythm, parts, open_bars, bars, prompt.parts)
        # The part's last bar can only be whole or the complement of the pickup a repeat
        # goes back to (the bar rules, as abc2midi counts): where the pasted bars add up to
        # some other fraction (a half bar written as a bar), the part is counted from the
        # fraction those rules allow, so that its end can be reached. A paste that ends on a
        # part's closing line starts the next part afresh: its own pickup, if it writes one,
        # counts in it (A's pickup counted there overran B).
        allowed = state.bar_rules.repeat_pickup / timing.bar
        if open_bars and open_bars % 1 != allowed:
            open_bars = open_bars // 1 + allowed
    else:
        open_bars = 0
        plan = plan_form(state.rhythm, settings.bars, seed, prompt.parts)
    if plan.note:
        notices.append(plan.note)
    state.beat = strong_beat(timing.meter)
    root = tonic(state.key)
    # A paste ending on `::` or `|:` has opened the next part's repeat already.
    opened = prompt.is_continuation and given.rstrip().endswith(":")
    return FormTracker(plan, pitch_class(root) if root else None, length=open_bars, opened=opened)


def absent_marks(music: str) -> frozenset[str]:
    """Marks pasted `music` never writes (rests, decorations, bowings, backticks): its new bars
    write none either (`bot.compose.rules.idiom`)."""
    tokens = list(tokenize(music))
    kinds = {tok.kind for tok in tokens}
    bowed = any(tok.kind == "text" and set(tok.text) & {"u", "v"} for tok in tokens)
    absent = set()
    if not kinds & {"rest", "multirest"}:
        absent |= set("zxZX")
    if "deco" not in kinds:
        absent |= set("!+")
    if not bowed:
        absent |= set("uv")
    if "`" not in music:
        absent.add("`")  # beam spacing some old books typeset (Aird's): no reader plays it
    return frozenset(absent)


def given_music(prompt: Prompt) -> str:
    """The pasted music in model form: the prime after its header lines."""
    if not prompt.is_continuation:
        return ""
    k_line = re.search(r"(?m)^K:.*\n", prompt.prime)
    return prompt.prime[k_line.end():] if k_line else ""


def unit_fraction(unit: str) -> Fraction:
    """The L: field's value as a fraction of a whole note (1/8 when unreadable)."""
    match = re.fullmatch(r"\s*(\d+)/(\d+)\s*", unit)
    if match and int(match.group(1)) and int(match.group(2)):
        return Fraction(int(match.group(1)), int(match.group(2)))
    return Fraction(1, 8)


def replay(state: TuneState, text: str) -> TuneState:
    """Advance `state` over `text` written as new music, each bar accepted as it closes, as the
    loop accepts them (for tests and tools that read music as the composer would); returns it."""
    split, rules = state.splitter, state.bar_rules
    for ch in text:
        if split.closes(ch):
            content, token = split.close()
            reading = measure(content, rules.timing)
            verdict = rules.judge(reading, token)
            rules.commit(reading, token, verdict)
            if state.form is not None and reading.timing.bar is not None:
                state.form = state.form.after(verdict.duration / reading.timing.bar, token)
        split.feed(ch)
        state.gen += ch
    state.read(measure(split.content, rules.timing))
    return state
