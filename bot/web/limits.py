"""Size limits on what the page and its API take in, each said aloud when it bites.

The server's own limits decide (bot.prompt.MAX_PROMPT_CHARS for a message, bot.render.LIMITS
for a tune); the browser's limits sit above them, so that what is too long reaches the server
and gets its message ("That is 200,000 characters; I can read up to 5,000") instead of being cut
without a word in the box.
"""

from __future__ import annotations

from bot.prompt import MAX_PROMPT_CHARS

# The chat box's max_length: above the server's limit, so that a paste too long arrives whole
# and is refused with its length, and still a bound on what one click sends.
MESSAGE_BOX_CHARS = 2 * MAX_PROMPT_CHARS
# Gradio's upload route (launch(max_file_size=)): the page uploads nothing, so anything
# sent there is refused beyond a small size.
MAX_UPLOAD_BYTES = 1 << 20
# The chat history the page sends back with each message: the newest messages within these
# bounds are kept (a reply with its card is 2-12 KB; 100 tunes is a long session).
MAX_HISTORY_MESSAGES = 200
MAX_HISTORY_CHARS = 2_000_000
# The tunebook: the page sends every card's ABC.
MAX_TUNEBOOK_TUNES = 200
MAX_TUNEBOOK_CHARS = 1_000_000


def trim_history(history) -> list[dict]:
    """The newest messages of `history` within MAX_HISTORY_MESSAGES and MAX_HISTORY_CHARS;
    anything that is not a chat message (a hostile client's JSON) is dropped."""
    if not isinstance(history, list):
        return []
    kept, size = [], 0
    for message in reversed(history[-MAX_HISTORY_MESSAGES:]):
        if not isinstance(message, dict) or message.get("role") not in ("user", "assistant"):
            continue
        size += len(str(message.get("content", "")))
        if size > MAX_HISTORY_CHARS:
            break
        kept.append(message)
    return kept[::-1]
