"""What a chat message means, and the streamed reply (no Gradio here; app.py wires it up).

A message is one of:

- words ("a jig in D") or nothing at all ("surprise me"): a new tune;
- a pasted ABC tune: the bot continues it;
- "continue": the last tune of this conversation, continued;
- "another" / "again": a new tune from the same words and settings, with a fresh seed;
- "seed 42": the same words again with that seed;
- a pasted tune with "play": played as it is.

The conversation's tune lives in a `Session` that the page keeps per browser tab (gr.State),
so one person's "continue" never touches another's tune. Every finished tune is written to
its own folder under `outputs/` (deleted after an hour): tune.abc, tune.mid and the audio.

One module per job, in the order a message meets them:

- `options`: the page's settings, checked (and ChatError, whose text the chat shows);
- `intent`: what a message asks for, and the session that follow-ups read;
- `service`: the Chat, sharing the machine among many replies, and the reply of a written tune;
- `play`: a given tune played (a paste with "play", the cards' moves and edits, links, files);
- `reply`: the reply's words and the card's data.
"""


from bot.chat.intent import Intent, Session, fresh_seed, interpret, title_for, title_in, with_title
from bot.chat.options import (
    ACCOMPANIMENTS, AUTO, DEFAULT_ACCOMPANIMENT, INSTRUMENT_CHOICES, KEYS, METERS, NAMED_KEYS, OFF, OUTPUTS_DIR,
    ChatError, Options, check_accompaniment,
)
from bot.chat.play import Played, PlayError, PlayRequest, key_label, retitled
from bot.chat.reply import BUSY, REGENERATED, Reply, our_failure
from bot.chat.service import Chat, ChatConfig, clean_outputs

__all__ = [
    "ACCOMPANIMENTS", "AUTO", "BUSY", "DEFAULT_ACCOMPANIMENT", "INSTRUMENT_CHOICES", "KEYS", "METERS", "NAMED_KEYS",
    "OFF", "OUTPUTS_DIR", "REGENERATED", "Chat", "ChatConfig", "ChatError", "Intent", "Options", "PlayError",
    "PlayRequest", "Played", "Reply", "Session", "check_accompaniment", "clean_outputs", "fresh_seed", "interpret",
    "key_label", "our_failure", "retitled", "title_for", "title_in", "with_title",
]

