"""The page's handlers (bot/handlers.py) on made-up replies: what the message box, Stop and
the Seed box show while a tune is written and after it."""

from __future__ import annotations

from types import SimpleNamespace

import gradio as gr

from bot.handlers import CONTROLS, Handlers, to_page

SKIP = gr.skip()


def step(text: str, seed: int | None = 7, error: str | None = None) -> SimpleNamespace:
    """A reply's step as the Chat streams it: the chat so far, the session, the tune's seed."""
    return SimpleNamespace(history=[{"role": "assistant", "content": text}], session=f"session {text}",
                           seed=seed, error=error)


def visible(update) -> bool | None:
    return update.get("visible") if isinstance(update, dict) else None


def test_stop_shows_while_writing_the_box_clears_once_and_the_seed_used_shows_after():
    out = list(to_page(iter([step("X:1"), step("X:1\nK:D"), step("done")]), show_seed=True))
    assert visible(out[0][3]) is True  # Stop appears before the first line of the tune
    assert [o[2] for o in out[1:3]] == ["", SKIP]  # the message box is cleared once, then left alone
    history, session, message, stop, seed = out[-1]
    assert history == [{"role": "assistant", "content": "done"}] and session == "session done"
    assert visible(stop) is False and seed == "7" and message == SKIP


def test_the_seed_box_is_left_alone_after_an_error_or_with_a_fixed_seed():
    failed = list(to_page(iter([step("sorry", error="bad key")]), show_seed=True))
    assert failed[-1][4] == SKIP and visible(failed[-1][3]) is False
    fixed = list(to_page(iter([step("done", seed=42)]), show_seed=False))
    assert fixed[-1][4] == SKIP
    unseeded = list(to_page(iter([step("played", seed=None)]), show_seed=True))
    assert unseeded[-1][4] == ""  # a tune no seed wrote (a pasted tune played) empties the box


def test_an_ordinary_visit_leaves_every_setting_alone():
    request = SimpleNamespace(query_params={})
    answer = Handlers(bot=None).on_load(request)
    # The message box, each control, then no link to bring back.
    assert answer == [SKIP] * (len(CONTROLS) + 1) + [None]
