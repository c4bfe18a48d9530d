"""Tune titles in the tradition's manner, from a small model of the corpus's own titles.

    from bot.titles import make_title, prompt_words
    title = make_title(seed, rhythm="jig", avoid=titles_so_far, banned_words=prompt_words(prompt))
    # files are named for it by bot.web.names.slug

Nothing is loaded at import: the model (checkpoints/titles.json, ~1 MB of counts) is read on
the first `make_title` and kept (`load_cached`). Train it with `python -m bot.titles --train`.
"""

from bot.titles.model import (DEFAULT_CHECKPOINT, TitleCheckpointError, TitleConfig, TitleModel, load,
                              load_cached, make_title)
from bot.titles.text import MAX_CHARS, clean, is_plain, prompt_words, uses_words

__all__ = ["DEFAULT_CHECKPOINT", "MAX_CHARS", "TitleCheckpointError", "TitleConfig", "TitleModel", "clean",
           "is_plain", "load", "load_cached", "make_title", "prompt_words", "uses_words"]
