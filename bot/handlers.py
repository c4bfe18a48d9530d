"""The page's event handlers: each click, load and API call turned into a call on the Chat, and
the Chat's answer turned into the page's outputs (Gradio values: skips, updates, errors).

    handlers = Handlers(chat)
    generate.click(handlers.on_message, ...)   # app.py wires each one to its components

The one module of ours, beside app.py, that speaks Gradio: bot/chat knows nothing of the page,
and app.py holds only the layout and the wiring. Each handler's outputs are listed in its
docstring, in the order app.py wires them.
"""

from __future__ import annotations

from pathlib import Path

import gradio as gr

from bot import links
from bot.chat import ACCOMPANIMENTS, AUTO, INSTRUMENT_CHOICES, KEYS, METERS, OFF, Chat, ChatError, Options
from bot.render import DEFAULT_INSTRUMENT

# The settings the chat reads with every message, in the order of Options.from_controls and of
# app.py's `controls` list (on_load answers one value per name, in this order).
CONTROLS = ("temperature", "bars", "seed", "random_seed", "top_k", "meter", "key", "tempo", "instrument",
            "accompaniment")


def read_options(*values) -> Options | ChatError:
    """The page's settings as Options, or the ChatError that the chat then shows as its reply."""
    try:
        return Options.from_controls(*values)
    except ChatError as err:
        return err


def to_page(steps, show_seed: bool):
    """The chat's replies as the page's outputs (chatbot, session, message box, Stop, Seed): the
    message box is cleared once, Stop shows until the reply is done, and with "random" ticked the
    Seed box then shows the seed that wrote the tune (empty for a tune no seed wrote)."""
    yield gr.skip(), gr.skip(), gr.skip(), gr.update(visible=True), gr.skip()
    first, last = True, None
    for step in steps:
        yield step.history, step.session, ("" if first else gr.skip()), gr.skip(), gr.skip()
        first, last = False, step
    used = gr.skip()
    if show_seed and last is not None and not last.error:
        used = "" if last.seed is None else str(last.seed)
    # The last step again with Stop hidden: an API caller's final value is the whole chat.
    history, state = (last.history, last.session) if last is not None else (gr.skip(), gr.skip())
    yield history, state, gr.skip(), gr.update(visible=False), used


def _user_error(err: ChatError) -> gr.Error:
    """A ChatError as the message an API caller or the page's toast shows (no traceback in the log)."""
    return gr.Error(str(err), print_exception=False)


class Handlers:
    """Every handler of the page, bound to one Chat."""

    def __init__(self, bot: Chat):
        self.bot = bot

    # Gradio passes gr.Request only to a named parameter, so each control is named here.
    def on_message(self, message, history, state, temperature_, bars_, seed_, random_seed_, top_k_,
                   meter_, key_, tempo_, instrument_, accompaniment_, request: gr.Request):
        """A message sent: the reply streamed into (chatbot, session, message, stop, seed)."""
        options = read_options(temperature_, bars_, seed_, random_seed_, top_k_, meter_, key_,
                               tempo_, instrument_, accompaniment_)
        # The Seed box always shows the seed of the tune last written: "another" draws a new
        # one even with "random" unticked, and the box must not keep the old one (issue 27).
        yield from to_page(self.bot.reply(message, history, state, options, request.session_hash), True)

    def on_stop(self, history, request: gr.Request):
        """Stop pressed: (chatbot with the reply cut short, Stop hidden)."""
        stopped = self.bot.stop(request.session_hash, history)
        return (gr.skip() if stopped is None else stopped), gr.update(visible=False)

    def on_load(self, request: gr.Request):
        """A visit: (message, *CONTROLS, autostart) from the link it opened with, or skips."""
        link = links.from_query(request.query_params, METERS, KEYS, INSTRUMENT_CHOICES, ACCOMPANIMENTS)
        if link == links.TuneLink():  # an ordinary visit: leave whatever was typed alone
            return [gr.skip()] * (len(CONTROLS) + 1) + [None]
        return (
            link.prompt,
            link.temperature,
            link.bars,
            "" if link.seed is None else str(link.seed),
            link.seed is None,
            link.top_k,
            link.meter or AUTO,
            link.key or AUTO,
            link.tempo or 0,
            link.instrument or DEFAULT_INSTRUMENT,
            link.accompaniment or OFF,  # a link without one played the melody alone
            link if link.has_tune() or link.abc or link.problems else None,
        )

    def on_autostart(self, link, message, history, state, temperature_, bars_, seed_, random_seed_,
                     top_k_, meter_, key_, tempo_, instrument_, accompaniment_, request: gr.Request):
        """After on_load: the linked tune brought back into (chatbot, session, message, stop, seed)."""
        if link is None:  # an ordinary visit: nothing to bring back
            yield gr.skip(), gr.skip(), gr.skip(), gr.skip(), gr.skip()
            return
        options = read_options(temperature_, bars_, seed_, random_seed_, top_k_, meter_, key_,
                               tempo_, instrument_, accompaniment_)
        yield from to_page(self.bot.from_link(link, history, state, options, request.session_hash), False)

    def on_compose(self, prompt, temperature_, bars_, seed_, accompaniment_=OFF, request: gr.Request = None):
        """/compose: a new tune streamed as (abc, audio, info)."""
        try:
            yield from self.bot.compose_api(prompt, temperature_, bars_, seed_,
                                            request.session_hash if request else None, accompaniment_)
        except ChatError as err:
            raise _user_error(err) from None

    def on_play(self, abc, transpose, tempo_, instrument_, accompaniment_=OFF):
        """/play: a given tune as (abc as played, audio, midi, pdf)."""
        try:
            played = self.bot.play_api(abc, transpose, tempo_, instrument_, accompaniment_)
            return tuple(str(v) if isinstance(v, Path) else v for v in played)  # gr.File takes str
        except ChatError as err:
            raise _user_error(err) from None

    def on_health_banner(self):
        """A visit: the banner, shown only when the start-up check failed."""
        health = self.bot.health()
        if health["ready"] or health["status"] == "warming up":
            return gr.update(visible=False)
        return gr.update(value=f"**Not ready:** the start-up check {health['status']}. Tunes can't be "
                               "written until this is fixed; the server log has the details.", visible=True)

    def on_tunebook(self, tunes):
        """The Tunebook button: the .abc file of every card's tune, shown for download."""
        try:
            return gr.File(value=str(self.bot.tunebook(tunes)), visible=True)
        except ChatError as err:
            raise _user_error(err) from None

    def on_unload(self, request: gr.Request):
        """The tab closed: its tune stops."""
        self.bot.cancel(request.session_hash)
