"""The reply's words and the card's data: headlines, the ABC block, notes, the "Link to this
tune" of a written tune, and the chat's words for a failure on our side."""

from __future__ import annotations

import logging
import re
import uuid
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

from bot import links, style
from bot.chat.intent import Intent, Session, asked_for, title_for
from bot.chat.options import Options
from bot.generate import Update
from bot.notation.abc import key_in_words, normalise_field, normalise_rhythm
from bot.notation.form import read_form, split_abc
from bot.render import DEFAULT_INSTRUMENT, Rendered, RenderError, RenderSettings, prepare_tune
from bot.web import cards
from bot.web.text import as_text, one_line, plain

log = logging.getLogger(__name__)


BUSY = "Busy, try again in a moment: I am writing as many tunes as I can right now."


@dataclass
class Reply:
    """One step of the streamed reply: what the page shows now."""

    history: list[dict]  # the chat messages, the reply last
    session: Session  # the conversation after this step
    abc: str = ""  # the tune so far, for the score
    done: bool = False  # True on the last step
    tune: str = ""  # when done: the finished tune as a standalone ABC file
    audio: Path | None = None  # when done: the audio file, if it could be made
    link: str = ""  # when done: the "Link to this tune" query string
    error: str | None = None  # when the reply is a refusal or a failure: its text
    form: str = ""  # when done: the tune's form in words ("AABB: ..."), "" when unknown
    audio_error: str | None = None  # when done without audio: the reason
    seed: int | None = None  # when done: the seed that wrote it
    style: str = ""  # when done: the collection the tune is in the manner of (bot.style tag), "" none

    def info(self) -> dict:
        """The /compose endpoint's third output."""
        return {"form": self.form, "audio_error": self.audio_error, "seed": self.seed, "style": self.style}


def our_failure(stage: str, err: BaseException) -> str:
    """The chat's words for a failure on our side: what failed, that it is not the person's
    input, and a reference to find the traceback (logged here) in the server log."""
    ref = uuid.uuid4().hex[:8]
    log.error("failure %s while %s", ref, stage, exc_info=err)
    # The exception's type and text stay in the log: the person gets what failed and the reference.
    return (f"Sorry: that failed on our side, while {stage}. It is not "
            f"your words or your tune; trying again with other words won't help. The server log "
            f"has the details under reference {ref}.")


def refusal(history: list[dict], session: Session, text: str) -> Reply:
    # A refusal often quotes the person's text (a bad note, a field): shown as text in the chat,
    # and without control characters in `error` (what /compose and /play answer).
    return Reply(history + [bot_message(as_text(text))], session, session.abc or "", done=True, error=plain(text))


def text_of(content) -> str:
    """The text of a message's content as Gradio sends it back (a string or a list of parts)."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(part.get("text", "") for part in content if isinstance(part, dict))
    return ""


def bot_message(content) -> dict:
    return {"role": "assistant", "content": content}


def writing_headline(intent: Intent, options: Options) -> str:
    what = {
        "continue": "Continuing the tune",
        "paste": "Continuing your tune",
        "another": "Another one",
        "seed": "Same words, new seed",
        "new": f"Writing a tune for “{one_line(asked_for(intent))}”" if intent.prompt else "Surprise!",
    }[intent.kind]
    length = f"{options.bars} bars" if options.bars else "its rhythm's usual length"
    return f"{what} (seed {intent.seed}, {length}, temperature {_num(options.temperature)})…"


def done_headline(title: str, options: Options, update: Update, continued: bool = False) -> str:
    bars = f"{update.bars} bars"
    written = sum((part.bars for part in read_form(update.abc).parts), Fraction(0))
    if continued and written:
        # Length is the whole tune's: say how much of it is the person's and how much is new.
        bars = f"{float(written):g} bars in all, {update.bars} of them new"
    # The model closed the tune early: say so, not the slider's number. (A tune in a form
    # has the bars of its form, which its notes and the form's name already say.)
    elif update.bars < options.bars and not update.form:
        bars += f", as it came to its close before the {options.bars} asked for"
    text = f"Here is “{one_line(title)}” (seed {update.seed}, {bars}, temperature {_num(options.temperature)})."
    what = "" if continued else what_it_is(update.abc)
    text = f"{text} {one_line(what)}." if what else text  # its M: and K: are the tune's own text
    form = update.form  # the generator's reading of the parts ("" when unknown)
    text = f"{text} Form: {form}." if form else text  # our own words about its parts: no user text
    # The collection whose manner the model wrote in (bot.style; "" for a continuation).
    manner = style.NAMES.get(update.style, "")
    return f"{text} In the manner of {manner}." if manner else text


def what_it_is(abc: str) -> str:
    """The rhythm, meter and key a tune's header gives, in words: "A jig in 6/8, in D major"."""
    fields, _ = split_abc(abc)
    rhythm = normalise_rhythm(fields.get("R", "")) if fields.get("R") else None
    kind = (("An " if rhythm[0] in "aeiou" else "A ") + rhythm) if rhythm else "A tune"
    meter = f" in {normalise_field('M', fields['M'])}" if fields.get("M") else ""
    key = f", in {key_in_words(normalise_field('K', fields['K']))}" if fields.get("K") else ""
    return f"{kind}{meter}{key}"


def _num(value: float) -> str:
    return f"{value:.1f}" if value == round(value, 1) else f"{value:g}"


def mark_new(abc: str, new_from: int) -> str:
    """The tune with a comment line showing where the new music starts (display only)."""
    if not 0 < new_from < len(abc):
        return abc
    before, after = abc[:new_from], abc[new_from:]
    return before.rstrip("\n") + "\n% ---- new music ----\n" + after.lstrip("\n")


def tune_link(intent: Intent, options: Options, seed: int, tune: str = "") -> str:
    """The "Link to this tune" query: the tune itself and what made it (v=2); for a tune too long
    for a link, the prompt and seed alone, which write it again."""
    prompt = intent.prompt
    settings = dict(
        seed=seed, temperature=options.temperature, bars=options.bars, top_k=options.top_k,
        meter=intent.meter, key=intent.key, tempo=options.tempo,
        instrument=None if options.instrument == DEFAULT_INSTRUMENT else options.instrument,
        accompaniment=options.accompaniment,
    )
    if tune:
        try:
            return links.TuneLink(prompt=prompt if len(prompt) <= links.MAX_LINK_PROMPT else "",
                                  abc=tune, **settings).to_query()
        except ValueError:  # a tune too long for a link: the seed link below still writes it again
            pass
    if len(prompt) > links.MAX_LINK_PROMPT:
        return ""
    return links.TuneLink(prompt=prompt, **settings).to_query()


# Said with a tune rewritten from an old link that kept only its seed and settings.
REGENERATED = ("This link is from before links kept the tune itself, so the tune was written "
               "again by the current model and may differ from the one first shared.")


def card_data(abc: str, abc_path: Path, rendered: Rendered | None, settings: RenderSettings,
               link: str, title: str, **extra) -> dict:
    """What tunes.js needs to show one tune: the ABC that sounds, its files' URLs, the audio's tempo."""
    return {
        "abc": abc, "title": title, "link": link, "instrument": settings.instrument,
        "accompaniment": settings.accompaniment,
        # The tempo the audio was rendered at: the highlight runs at this one.
        "tempo": rendered.tempo if rendered is not None else _tempo_of(abc, settings.tempo),
        "abc_url": cards.file_url(abc_path),
        "audio": cards.file_url(rendered.compressed or rendered.wav) if rendered is not None else None,
        "midi": cards.file_url(rendered.midi) if rendered is not None else None,
        "wav": cards.file_url(rendered.wav) if rendered is not None else None,
        # False when the renderer fell back to playing the repeats once through (the score
        # and the highlight then follow the music as heard).
        "repeats": rendered is None or not any("without expanding repeats" in note for note in rendered.notes),
        **extra,
    }


def plain_notes(notes: list[str]) -> list[str]:
    """The renderer's repairs for the person: without the technical detail in brackets."""
    return [re.sub(r"\s*\(.*", "", note) for note in notes]


def _tempo_of(abc: str, tempo: int | None) -> int:
    try:
        return prepare_tune(abc, tempo).tempo
    except RenderError:
        return tempo or 120


def final_text(headline: str, card: dict, tune: str, notes: list[str]) -> str:
    """The finished reply: headline, the ABC, notes, then the tune's card (score, player, tools)
    last, where the chat's scrolling to its end keeps it in view."""
    extra = f"\n\n*Note: {as_text('; '.join(notes))}.*" if notes else ""
    return f"{headline}\n\n{code_block(tune)}{extra}\n\n{cards.card_html(card)}"


def code_block(abc: str) -> str:
    # A fence longer than any backtick run inside keeps pasted text from closing it.
    fence = "```"
    while fence in abc:
        fence += "`"
    return f"{fence}abc\n{abc.rstrip()}\n{fence}"


def user_text(message: str) -> str:
    message = message.strip()
    if not message:
        return "Surprise me!"
    if "\n" in message:
        return code_block(message)
    return as_text(message)
