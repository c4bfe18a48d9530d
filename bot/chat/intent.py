"""What a chat message means: a new tune from words, a pasted tune to continue or to play as
it is, "continue", "another" or "seed 42"; and the session those follow-ups read."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass

from bot import links
from bot.chat.options import ChatError, Options
from bot.prompt import MAX_PROMPT_CHARS, MAX_TUNE_CHARS


# Follow-up words, compared after lower-casing and dropping end punctuation.
CONTINUE_WORDS = {"continue", "continue it", "continue the tune", "keep going", "go on",
                  "carry on", "more", "longer", "extend", "extend it"}
ANOTHER_WORDS = {"another", "another one", "again", "once more", "one more", "try again",
                 "new tune", "another tune", "a new one", "something else"}
# "play" before or after a pasted tune: play it as it is instead of continuing it.
_PLAY_COMMAND = re.compile(r"^\s*(?:please\s+)?play(?:\s+(?:this|it|this tune))?\s*[.!:]?\s*$", re.IGNORECASE)
# "continue tune 3": another of the tunes pasted together in the last paste.
_TUNE_COMMAND = re.compile(r"^(?:continue|carry on with|go on with)\s+(?:tune|number|no\.?)\s*#?\s*(\d{1,4})$")
_SEED_COMMAND = re.compile(r"^(?:new |use |with )?seed\s*[:=#]?\s*(\d{1,10})$")
_LOOKS_LIKE_ABC = re.compile(r"(?m)^[A-Za-z]:|\|")


@dataclass
class Session:
    """One browser tab's conversation: the last finished tune and what made it."""

    abc: str | None = None  # the last tune as the generator wrote it
    prompt: str | None = None  # the words (or pasted tune) that started it
    seed: int | None = None  # the seed that made it
    title: str = ""  # its title (T:)
    pasted: str | None = None  # the last pasted tune or tunes as sent, for "continue tune 3"
    titles: tuple[str, ...] = ()  # the titles given so far, so that no two are the same


@dataclass
class Intent:
    """What one message asks for."""

    kind: str  # "new", "paste", "continue", "another", "seed" or "play" (a pasted tune, as it is)
    prompt: str  # what the generator is primed with
    seed: int  # the seed to use
    meter: str | None = None
    key: str | None = None
    regenerated: bool = False  # from an old link that kept only the seed: written again, may differ

    @property
    def continues(self) -> bool:
        """True when the prompt is a tune to continue (pasted, or this conversation's)."""
        return self.kind in ("paste", "continue")


def fresh_seed() -> int:
    """A random seed short enough to read and share."""
    return secrets.randbelow(1_000_000)


def _words(message: str) -> str:
    return re.sub(r"\s+", " ", message.strip().lower()).strip(" .!?")


def interpret(message: str, session: Session, options: Options) -> Intent:
    """What `message` asks for in this conversation; ChatError explains what it cannot do."""
    message = (message or "").strip()
    if len(message) > MAX_PROMPT_CHARS:
        raise ChatError(
            f"That is {len(message):,} characters; I can read up to {MAX_PROMPT_CHARS:,}. "
            "Paste a shorter tune, or just the first few bars."
        )
    words = _words(message)
    seed = options.seed if options.seed is not None else fresh_seed()
    if words in CONTINUE_WORDS:
        if not session.abc:
            raise ChatError("There is no tune to continue yet. Ask for one first, e.g. \"a jig in D\".")
        if len(session.abc) > MAX_TUNE_CHARS:
            raise ChatError("This tune is as long as I can continue. Say \"another\" for a new one.")
        return Intent("continue", session.abc, seed)
    match = _TUNE_COMMAND.match(words)
    if match:
        pasted = session.pasted or ""
        first = re.search(r"(?m)^X:", pasted)
        if first is None or len(re.findall(r"(?m)^X:", pasted)) < 2:
            raise ChatError("There is no paste of several tunes to choose from. Paste them (each starting with X:), "
                            f"then say \"continue tune {match.group(1)}\".")
        return Intent("paste", f"tune {match.group(1)}\n{pasted[first.start():]}", seed, options.meter, options.key)
    if words in ANOTHER_WORDS:
        # Same words and settings, but always a new seed: the same seed gives the same tune.
        return Intent("another", session.prompt or "", fresh_seed(), options.meter, options.key)
    match = _SEED_COMMAND.match(words)
    if match:
        seed = int(match.group(1))
        if seed > links.SEED_RANGE[1]:
            raise ChatError(f"The seed must be a whole number from 0 to {links.SEED_RANGE[1]}.")
        return Intent("seed", session.prompt or "", seed, options.meter, options.key)
    lines = message.split("\n")
    for command, rest in ((lines[0], lines[1:]), (lines[-1], lines[:-1])):
        if len(lines) > 1 and _PLAY_COMMAND.match(command):
            tune = "\n".join(rest).strip("\n")
            if not _LOOKS_LIKE_ABC.search(tune):
                raise ChatError("To hear a tune as it is, paste the whole tune in ABC and say \"play\".")
            return Intent("play", tune, seed)
    if _PLAY_COMMAND.match(message):
        raise ChatError("To hear a tune as it is, paste the whole tune in ABC with the word \"play\" "
                        "(each tune above also has its own player).")
    kind = "paste" if "\n" in message and _LOOKS_LIKE_ABC.search(message) else "new"
    return Intent(kind, message, seed, options.meter, options.key)


def with_title(abc: str, title: str) -> str:
    """The tune as a standalone ABC file: `X:1` first and a `T:` title after it, when missing."""
    lines = abc.strip("\n").split("\n")
    if not lines[0].startswith("X:"):
        lines.insert(0, "X:1")
    header_end = next((i for i, line in enumerate(lines) if line.startswith("K:")), len(lines))
    if not any(line.startswith("T:") for line in lines[:header_end]):
        lines.insert(1, f"T:{title}")
    return "\n".join(lines) + "\n"


def title_in(abc: str, default: str) -> str:
    """The tune's own title (its first T: line, shortened), or `default`."""
    match = re.search(r"(?m)^T:\s*(.+)$", abc)
    return match.group(1).strip()[:60] if match else default


def title_for(intent: Intent, session: Session | None = None, tune: str = "") -> str:
    """A short title: a continued tune's own (from `tune`, the one continued), else from the words that asked."""
    if intent.kind == "continue" and session is not None and session.title:
        return session.title
    if intent.kind in ("paste", "continue"):
        return title_in(tune or intent.prompt, "Your tune, continued")
    # A new tune is named in the tradition's manner by the title model (bot.titles), never with
    # the words that asked for it, and never twice in one conversation.
    from bot.prompt import read_words  # here: the chat's import of this module stays light
    from bot.titles import make_title, prompt_words

    words = intent.prompt or ""
    return make_title(intent.seed, read_words(words).rhythm, avoid=session.titles if session else (),
                      banned_words=prompt_words(words))


def asked_for(intent: Intent) -> str:
    """The words that asked for a new tune, on one line (for the headline while it is written)."""
    words = re.sub(r"\s+", " ", intent.prompt.splitlines()[0] if intent.prompt else "").strip()
    return words[:60]
