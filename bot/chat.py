"""What a chat message means, and the streamed reply (no Gradio here; app.py wires it up).

A message is one of:

- words ("a jig in D") or nothing at all ("surprise me"): a new tune;
- a pasted ABC tune: the bot continues it;
- "continue": the last tune of this conversation, continued;
- "another" / "again": a new tune from the same words and settings, with a fresh seed;
- "seed 42": the same words again with that seed.

The conversation's tune lives in a `Session` that the page keeps per browser tab (gr.State),
so one person's "continue" never touches another's tune. Every finished tune is written to
its own folder under `outputs/` (deleted after an hour): tune.abc, tune.mid and the audio.
"""

from __future__ import annotations

import json
import logging
import math
import re
import secrets
import shutil
import threading
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import Future
from dataclasses import dataclass, replace
from pathlib import Path

import torch

from bot import links
from bot.checkpoint import load_cached
from bot.web import cards
from bot.engine import BatchEngine
from bot.longest_first import LongestFirst
from bot.generate import Settings, Update, compose
from bot.prompt import MAX_PROMPT_CHARS, PromptError
from bot.notation.abc import parse_key, split_tunes
from bot.notation.transpose import semitones_to_key, transpose_tune
from bot.render import (
    ACCOMPANIMENT_INSTRUMENTS, DEFAULT_INSTRUMENT, INSTRUMENTS, LIMITS, Rendered, RenderError, RenderSettings,
    musicxml, prepare_tune, render,
)
from bot.stepper import stepper_for
from bot.compute import ComputeError, inference_path

log = logging.getLogger(__name__)

OUTPUTS_DIR = Path(__file__).resolve().parent.parent / "outputs"

# Choices the page offers for the Advanced pickers; AUTO lets the words or the model decide.
AUTO = "Auto"
METERS = (AUTO, "4/4", "3/4", "6/8", "2/4", "9/8", "12/8", "2/2", "3/2", "5/4")
KEYS = (AUTO, "C", "G", "D", "A", "E", "F", "Bb", "Eb",
        "Am", "Em", "Bm", "F#m", "Dm", "Gm", "Cm",
        "Ddor", "Edor", "Ador", "Gmix", "Dmix", "Amix")
INSTRUMENT_CHOICES = tuple(INSTRUMENTS)
# The accompaniment's instruments (chords realised under the melody); OFF: the melody alone.
OFF = "Off"
ACCOMPANIMENTS = (OFF, *ACCOMPANIMENT_INSTRUMENTS)
DEFAULT_ACCOMPANIMENT = "guitar"  # the page's choice until the person changes it
# Named keys the cards' transpose menu offers (the instruments' home keys).
NAMED_KEYS = ("C", "D", "G", "A", "E", "F", "Bb", "Amix", "Dmix", "Gmix", "Ador", "Edor", "Ddor")

BUSY = "Busy, try again in a moment: I am writing as many tunes as I can right now."

# Follow-up words, compared after lower-casing and dropping end punctuation.
CONTINUE_WORDS = {"continue", "continue it", "continue the tune", "keep going", "go on",
                  "carry on", "more", "longer", "extend", "extend it"}
ANOTHER_WORDS = {"another", "another one", "again", "once more", "one more", "try again",
                 "new tune", "another tune", "a new one", "something else"}
# "play" before or after a pasted tune: play it as it is instead of continuing it.
_PLAY_COMMAND = re.compile(r"^\s*(?:please\s+)?play(?:\s+(?:this|it|this tune))?\s*[.!:]?\s*$", re.IGNORECASE)
_SEED_COMMAND = re.compile(r"^(?:new |use |with )?seed\s*[:=#]?\s*(\d{1,10})$")
_LOOKS_LIKE_ABC = re.compile(r"(?m)^[A-Za-z]:|\|")


class ChatError(ValueError):
    """A message the bot cannot act on; the text is shown to the person as it is."""


@dataclass
class Options:
    """The page's settings for the next tune (sliders, seed box, Advanced section)."""

    temperature: float = 1.0  # sampling temperature, 0.1 (safe) to 2.0 (wild)
    bars: int = 16  # bars of new music
    seed: int | None = None  # None: draw a fresh seed for each tune
    top_k: int = 0  # sample among the k likeliest characters; 0: all of them
    meter: str | None = None  # force M: for a new tune; None: from the words or the model
    key: str | None = None  # force K: for a new tune; None: from the words or the model
    tempo: int | None = None  # beats per minute for the audio; None: the tune's own
    instrument: str = DEFAULT_INSTRUMENT  # General MIDI instrument name the audio uses
    accompaniment: str | None = None  # chords under the finished melody on this instrument; None: off

    @classmethod
    def from_controls(cls, temperature, bars, seed=None, random_seed=True, top_k=0,
                      meter=AUTO, key=AUTO, tempo=0, instrument=DEFAULT_INSTRUMENT,
                      accompaniment=None) -> Options:
        """Options from the page's raw control values; ChatError names a value out of range."""
        try:
            temperature = float(temperature)
            bars = int(bars)
            top_k = int(top_k or 0)
            tempo = int(tempo or 0)
        except (TypeError, ValueError) as err:
            raise ChatError(f"One of the settings is not a number ({err}).") from err
        seed = None if random_seed or seed is None or str(seed).strip() == "" else _seed_of(seed)
        checks = (
            ("Temperature", temperature, links.TEMPERATURE_RANGE),
            ("Length", bars, links.BARS_RANGE),
            ("Top-k", top_k, links.TOP_K_RANGE),
        )
        for name, value, (lo, hi) in checks:
            if not lo <= value <= hi:
                raise ChatError(f"{name} must be between {lo} and {hi}, not {value}.")
        if seed is not None and not links.SEED_RANGE[0] <= seed <= links.SEED_RANGE[1]:
            raise ChatError(f"The seed must be a whole number from 0 to {links.SEED_RANGE[1]}.")
        if tempo and not links.TEMPO_RANGE[0] <= tempo <= links.TEMPO_RANGE[1]:
            raise ChatError(f"Tempo must be between {links.TEMPO_RANGE[0]} and {links.TEMPO_RANGE[1]} BPM.")
        if instrument not in INSTRUMENTS:
            raise ChatError(f"I don't know the instrument {str(instrument)[:30]!r}.")
        for name, value, choices in (("meter", meter, METERS), ("key", key, KEYS)):
            if value not in choices:
                raise ChatError(f"Pick a {name} from the list ({str(value)[:20]!r} is not one).")
        return cls(
            temperature=temperature, bars=bars, seed=seed, top_k=top_k,
            meter=None if meter == AUTO else meter, key=None if key == AUTO else key,
            tempo=tempo or None, instrument=instrument, accompaniment=check_accompaniment(accompaniment),
        )

    def settings(self, seed: int) -> Settings:
        """The generator's settings for one tune."""
        return Settings(temperature=self.temperature, top_k=self.top_k, bars=self.bars, seed=seed)

    def render_settings(self) -> RenderSettings:
        """The renderer's settings for one tune."""
        return RenderSettings(tempo=self.tempo, instrument=self.instrument, accompaniment=self.accompaniment)


def _seed_of(value) -> int:
    """The Seed box's text as a seed; ChatError naming what was typed when it is not one."""
    try:
        number = float(str(value).strip())
        if number != int(number):
            raise ValueError(value)
        return int(number)
    except (TypeError, ValueError, OverflowError):
        raise ChatError(f"The seed must be a whole number from 0 to {links.SEED_RANGE[1]}, "
                        f"not {str(value)[:20]!r}.") from None


def check_accompaniment(value) -> str | None:
    """None for no accompaniment, else the instrument named; ChatError for one not offered."""
    if value in (None, "", OFF):
        return None
    if value not in ACCOMPANIMENTS:
        raise ChatError(f"Pick an accompaniment from the list ({str(value)[:20]!r} is not one).")
    return value


class PlayError(ChatError):
    """A tune that cannot be played as given: the reason, and where (line and column from 1)."""

    def __init__(self, message: str, line: int | None = None, column: int | None = None):
        if line is not None:
            message = f"{message.rstrip('.')} (line {line}, column {column})."
        super().__init__(message)
        self.line, self.column = line, column

    @classmethod
    def at(cls, abc, message: str) -> PlayError:
        """The error, placed in `abc` where the message's quoted text or field is found."""
        where = cards.locate(abc, message) if isinstance(abc, str) else None
        return cls(message, *(where or (None, None)))


@dataclass
class PlayRequest:
    """A checked request to play a given tune (the /play endpoint, a card, a link)."""

    abc: str
    transpose: int = 0  # semitones, -12..12
    tempo: int | None = None  # quarter notes a minute; None: the tune's own
    instrument: str = DEFAULT_INSTRUMENT
    accompaniment: str | None = None
    key: str | None = None  # a named key to move the tonic to (overrides transpose)

    @classmethod
    def checked(cls, abc, transpose=0, tempo=None, instrument=DEFAULT_INSTRUMENT, accompaniment=None,
                key=None) -> PlayRequest:
        """The request, or PlayError naming the bad value."""
        if not isinstance(abc, str) or not abc.strip():
            raise PlayError("There is no tune to play: give the tune in ABC (with K: and some notes).")
        limit = LIMITS.max_chars
        if len(abc) > limit:
            raise PlayError(f"That is {len(abc):,} characters; I can play tunes up to {limit:,}.")
        try:
            semitones = int(float(transpose or 0))
            tempo = int(float(tempo or 0))
        except (TypeError, ValueError, OverflowError):
            raise PlayError("Transpose and tempo must be numbers.") from None
        if semitones != float(transpose or 0) or not -12 <= semitones <= 12:
            raise PlayError(f"Transpose must be a whole number of semitones from -12 to 12, not {transpose}.")
        lo, hi = links.TEMPO_RANGE
        if tempo and not lo <= tempo <= hi:
            raise PlayError(f"Tempo must be between {lo} and {hi} BPM (0 for the tune's own), not {tempo}.")
        if instrument not in INSTRUMENTS:
            raise PlayError(f"I don't know the instrument {str(instrument)[:30]!r}; "
                            f"choose one of: {', '.join(INSTRUMENTS)}.")
        if key is not None and key not in NAMED_KEYS:
            raise PlayError(f"Pick a key from the list ({str(key)[:20]!r} is not one).")
        try:
            accompaniment = check_accompaniment(accompaniment)
        except ChatError as err:
            raise PlayError(str(err)) from None
        return cls(abc, semitones, tempo or None, instrument, accompaniment, key or None)


@dataclass
class Played:
    """A given tune, rendered: the ABC as played and its files."""

    abc: str  # as played: transposed, titled, with any accompaniment's chord symbols
    base: str  # the same before transposing: what a link carries and transpositions start from
    abc_path: Path
    rendered: Rendered
    semitones: int  # how far it was moved
    key: str | None  # the named key asked for, if any
    notes: list[str]  # repairs and remarks for the person
    request: PlayRequest
    chords_added: int = 0  # chord symbols the accompaniment wrote into the tune

    @property
    def audio(self) -> Path:
        return self.rendered.compressed or self.rendered.wav


# Semitones from a mode's tonic down to the major key with its signature (A mixolydian: D major).
_MODE_FROM_MAJOR = {"": 0, "m": 9, "dor": 2, "phr": 4, "lyd": 5, "mix": 7, "loc": 11}


def _semitones_to(tune: str, target: str) -> int:
    """Semitones (-5..6) that move `tune` to `target`: a plain key (D, G) moves the tonic there;
    a modal one (Amix, the pipes' scale) gives the tune that key's signature, so its notes fit
    the instrument (a D major tune already fits A mixolydian; a G major one moves to D)."""
    moved = semitones_to_key(tune, target)
    wanted = parse_key(target)
    if not wanted or not wanted[1]:
        return moved
    header = next((line[2:] for line in tune.splitlines() if line.startswith("K:")), "")
    have = parse_key(header) or ("C", "")
    shift = moved - _MODE_FROM_MAJOR.get(wanted[1], 0) + _MODE_FROM_MAJOR.get(have[1], 0)
    return 6 - (6 - shift) % 12


def _print(abc: str, out: Path) -> Path:
    from bot.printing import tune_pdf  # only when printing: it checks for abcm2ps and ghostscript

    return tune_pdf(abc, out)


def _play_link(played: Played) -> str:
    """A link that brings back exactly this card ("" for a tune longer than a link can carry): the
    tune with any chords written for it, before it moved, and how it moved, sounded and played."""
    request = played.request
    try:
        return links.TuneLink(abc=played.base, transpose=played.semitones, tempo=request.tempo,
                              instrument=None if request.instrument == DEFAULT_INSTRUMENT else request.instrument,
                              accompaniment=request.accompaniment).to_query()
    except ValueError:  # longer than a link can carry
        return ""


def _played_card(played: Played, title: str) -> dict:
    """The card of a given tune as played (a paste, a card's transpose or edit, a link)."""
    request = played.request
    settings = RenderSettings(tempo=request.tempo, instrument=request.instrument,
                              accompaniment=request.accompaniment)
    data = _card_data(played.abc, played.abc_path, played.rendered, settings, _play_link(played), title,
                      transpose=played.semitones, key=played.key, base=played.base)
    data["notes"] = ("Note: " + "; ".join(played.notes) + ".") if played.notes else ""
    return data


def _chord_count(abc: str) -> int:
    """Chord symbols in the tune (quoted text that names a chord; annotations do not count)."""
    from bot.notation.chords import parse_symbol
    from bot.notation.tokens import tokenize

    return sum(1 for tok in tokenize(abc) if tok.kind == "quote" and parse_symbol(tok.text.strip('"')) is not None)


# The transpose menu's named keys in words (the note that a tune already fits one names it so).
_MODE_WORDS = {"": "", "m": " minor", "dor": " dorian", "phr": " phrygian", "lyd": " lydian",
               "mix": " mixolydian", "loc": " locrian"}


def key_label(key: str) -> str:
    """A K: value in words: "Amix" -> "A mixolydian"."""
    parsed = parse_key(key)
    return f"{parsed[0]}{_MODE_WORDS[parsed[1]]}" if parsed else key


# A key named in a title ("A jig in D", "Air in G minor", "in F# dorian"): group 1 is the tonic.
_TITLE_KEY = re.compile(r"\b(?:in|In|IN) ([A-G](?:#|b|♯|♭)?)(?![\w#♯♭])")


def retitled(moved: str, base: str) -> str:
    """The moved tune with a key its T: lines name moved too ("A jig in D" +2 -> "A jig in E").

    Only a title naming the tune's own tonic changes: "The road to Lisdoonvarna" stays as it is.
    """
    old, new = _tonic(base), _tonic(moved)
    if not old or not new or old == new:
        return moved

    def fix(line: str) -> str:
        if not line.startswith("T:"):
            return line
        return _TITLE_KEY.sub(lambda m: m.group(0).replace(m.group(1), new) if m.group(1)
                              .replace("♯", "#").replace("♭", "b") == old else m.group(0), line)

    header, sep, body = moved.partition("\nK:")
    return "\n".join(fix(line) for line in header.split("\n")) + sep + body


def _tonic(abc: str) -> str | None:
    key = next((line[2:] for line in abc.splitlines() if line.startswith("K:")), "")
    parsed = parse_key(key)
    return parsed[0] if parsed else None


@dataclass
class Session:
    """One browser tab's conversation: the last finished tune and what made it."""

    abc: str | None = None  # the last tune as the generator wrote it
    prompt: str | None = None  # the words (or pasted tune) that started it
    seed: int | None = None  # the seed that made it
    title: str = ""  # its title (T:)


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
        if len(session.abc) > MAX_PROMPT_CHARS:
            raise ChatError("This tune is as long as I can continue. Say \"another\" for a new one.")
        return Intent("continue", session.abc, seed)
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


def clean_outputs(root: Path, max_age_s: float, now: float | None = None) -> int:
    """Delete per-request folders under `root` older than `max_age_s`; returns how many."""
    now = time.time() if now is None else now
    removed = 0
    if not root.is_dir():
        return 0
    for entry in root.iterdir():
        try:
            if entry.is_dir() and now - entry.stat().st_mtime > max_age_s:
                shutil.rmtree(entry, ignore_errors=True)
                removed += 1
        except FileNotFoundError:
            pass  # another request removed it first
    return removed


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


def title_for(intent: Intent, session: Session | None = None) -> str:
    """A short title for the tune from the words that asked for it."""
    if intent.kind == "continue" and session is not None and session.title:
        return session.title
    if intent.kind in ("paste", "continue"):
        return title_in(intent.prompt, "Your tune, continued")
    words = re.sub(r"[^\w #'-]+", " ", intent.prompt.splitlines()[0] if intent.prompt else "")
    words = re.sub(r"\s+", " ", words).strip()[:60]
    return words[:1].upper() + words[1:] if words else "A surprise tune"


def _code(abc: str) -> str:
    # A fence longer than any backtick run inside keeps pasted text from closing it.
    fence = "```"
    while fence in abc:
        fence += "`"
    return f"{fence}abc\n{abc.rstrip()}\n{fence}"


def _user_text(message: str) -> str:
    message = message.strip()
    if not message:
        return "Surprise me!"
    if "\n" in message:
        return _code(message)
    return message


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

    def info(self) -> dict:
        """The /compose endpoint's third output."""
        return {"form": self.form, "audio_error": self.audio_error, "seed": self.seed}


@dataclass
class ChatConfig:
    """How the chat serves many people on a small machine."""

    outputs: Path = OUTPUTS_DIR  # per-request folders go here
    max_age_s: float = 3600.0  # outputs older than this are deleted
    batch: bool = True  # step all tunes being written together in one batched LSTM step
    max_active: int = 16  # tunes written at once (the batched LSTM step serves them together)
    max_waiting: int = 16  # requests that may wait for a free place; beyond this: "busy"
    # Audio renders at once: one per core plus one, so a core never waits while a render starts
    # its processes or reads its files (bench/load.py, 16 users, alternating runs: p95 to
    # audio 3.12 and 3.08 s with 2, 2.93 and 3.04 s with 3).
    render_slots: int = 3
    # Sample rate of a render made while anyone else waits (None: always the render's own,
    # 44.1 kHz). At 32 kHz a render costs 11-15% less CPU and its WAV is 27% smaller; what is
    # lost lies above 16 kHz, where these tunes hold -45 to -50 dB of their energy (fiddle,
    # accordion, bagpipes) or less than -75 dB (whistle, flute, piano): bench/busy_rate.py.
    busy_sample_rate: int | None = 32_000
    min_interval_s: float = 0.15  # least time between two streamed updates (one person alone)
    busy_writers: int = 4  # beyond this many tunes at once, updates slow down in proportion
    poll_s: float = 0.25  # how often a waiting reply checks for Stop / a closed tab


class Chat:
    """The bot: turns messages into streamed replies, sharing the machine fairly."""

    def __init__(self, config: ChatConfig = ChatConfig()):
        self.config = config
        # One torch thread: the LSTM steps are small, and with renders busy on the other core
        # two OpenMP threads stall each other (measured: bench/generate_speed.py --threads 2).
        torch.set_num_threads(1)
        config.outputs.mkdir(parents=True, exist_ok=True)
        self._warm = "warming up"  # the warm-up's verdict: "ready", or what failed (see health)
        self._lock = threading.Lock()
        self._admitted = 0  # requests writing or waiting for a place
        self._generating = 0  # tunes being sampled right now
        self._slots = threading.Semaphore(config.max_active)
        self._cancels: dict[str, threading.Event] = {}
        self._renders = LongestFirst(config.render_slots, name="render")  # the longest tune first
        self._renders_in_flight = 0  # submitted and not yet finished (waiting or running)
        self._engine: BatchEngine | None = None  # made with the model, on first use
        self._last_clean = -math.inf
        self.clean()

    # -- housekeeping -----------------------------------------------------------------------

    def clean(self) -> int:
        """Delete outputs older than the configured age (at most once a minute)."""
        now = time.time()
        with self._lock:
            if now - self._last_clean < 60:
                return 0
            self._last_clean = now
        return clean_outputs(self.config.outputs, self.config.max_age_s, now)

    def cancel(self, session_id: str | None) -> bool:
        """Stop whatever the tab `session_id` is writing or rendering; False if nothing."""
        if not session_id:
            return False
        with self._lock:
            event = self._cancels.get(session_id)
        if event is None:
            return False
        event.set()
        return True

    def stop(self, session_id: str | None, history: list[dict]) -> list[dict] | None:
        """Stop the tab's tune; the chat with "Stopped." added, or None when nothing was running.

        The page's Stop may close the reply before this runs, so an unfinished reply (its
        first line still ends with "…") also counts as running.
        """
        cancelled = self.cancel(session_id)
        last = history[-1] if history else None
        text = _text_of(last["content"]) if last and last["role"] == "assistant" else ""
        if cancelled or (last and last["role"] == "user") or text.split("\n", 1)[0].endswith("…"):
            return [*history, _bot("Stopped.")]
        return None

    def close(self) -> None:
        """Wait for renders in flight to finish (and their stopped replies' files to go)."""
        self._renders.shutdown(wait=True)
        if self._engine is not None:
            self._engine.close()

    def _model(self):
        """(the loaded checkpoint, the shared batch engine or None), loaded on first use."""
        loaded = load_cached()
        with self._lock:
            if self._engine is None and self.config.batch:
                self._engine = BatchEngine(stepper_for(loaded.model))
            return loaded, self._engine

    def warm_up(self) -> None:
        """Load the model and start the renderer, so the first person waits no longer than the rest.

        What it found is kept (`health`): the page shows a failure as a banner and the health
        answer says not ready, so a broken start is never only a line in the log.
        """
        folder = self.config.outputs / f"warm-up-{uuid.uuid4().hex}"
        stage = "loading the model"
        try:
            loaded, engine = self._model()
            stage = f"writing a test tune ({stepper_for(loaded.model).path.describe()})"
            for _ in compose("", Settings(bars=1, seed=0), loaded, engine=engine):
                pass
            stage = "transposing a test tune (music21)"
            transpose_tune("X:1\nK:C\nCDEF|]\n", 2)  # its music21 import, before the first card's transpose
            stage = "making test audio (music21, FluidSynth)"
            render("X:1\nM:4/4\nL:1/4\nK:C\nCDEF|]\n", folder, RenderSettings(compress=False))
        except Exception as err:
            log.exception("warm-up failed while %s", stage)
            self._warm = f"failed while {stage}: {type(err).__name__}: {err}"
        else:
            self._warm = "ready"
        finally:
            shutil.rmtree(folder, ignore_errors=True)

    def health(self) -> dict:
        """Whether the bot can answer: `ready` only after a warm-up that passed; the compute path;
        and, when the warm-up failed, what failed."""
        warm = self._warm
        try:
            path = inference_path().describe()
        except ComputeError as err:
            path, warm = str(err), f"failed: {err}"
        return {"ready": warm == "ready", "status": warm, "compute_path": path}

    @property
    def capacity(self) -> int:
        """Requests the chat takes at once, writing or waiting (the page's concurrency limit)."""
        return self.config.max_active + self.config.max_waiting

    # -- the reply --------------------------------------------------------------------------

    def reply(self, message: str, history: list[dict], session: Session, options: Options | ChatError,
              session_id: str | None = None, regenerated: bool = False) -> Iterator[Reply]:
        """Answer one chat message, streaming: each step is the whole page state.

        `options` may be the ChatError raised while reading the page's settings; the reply
        is then that message.
        """
        self.clean()
        session = session if isinstance(session, Session) else Session()
        history = list(history or []) + [{"role": "user", "content": _user_text(message or "")}]
        try:
            if isinstance(options, ChatError):
                raise options
            intent = interpret(message, session, options)
            intent.regenerated = regenerated
        except ChatError as err:
            yield _refusal(history, session, str(err))
            return
        cancel = threading.Event()
        with self._lock:
            if self._admitted >= self.capacity:
                cancel = None
            else:
                self._admitted += 1
                if session_id:
                    self._cancels[session_id] = cancel
        if cancel is None:
            yield _refusal(history, session, BUSY)
            return
        try:
            waiting = Reply(history + [_bot("Waiting for a free place (other tunes are being written)…")],
                            session, session.abc or "")
            while not self._slots.acquire(timeout=self.config.poll_s):
                if cancel.is_set():
                    return
                yield waiting
            try:
                if intent.kind == "play":
                    yield from self._play_reply(intent, history, session, options)
                else:
                    yield from self._write(intent, history, session, options, cancel)
            finally:
                self._slots.release()
        finally:
            with self._lock:
                self._admitted -= 1
                if session_id and self._cancels.get(session_id) is cancel:
                    del self._cancels[session_id]

    def _write(self, intent: Intent, history: list[dict], session: Session, options: Options,
               cancel: threading.Event) -> Iterator[Reply]:
        headline = _headline(intent, options)
        folder = self.config.outputs / uuid.uuid4().hex  # never user text in a path
        finished = False
        stage = "loading the model"
        try:
            update = None
            loaded, engine = self._model()
            stage = "writing the tune with the model"
            stream = compose(intent.prompt, options.settings(intent.seed), loaded,
                             meter=intent.meter, key=intent.key, engine=engine)
            with self._lock:
                self._generating += 1
            try:
                last_sent = -math.inf
                for update in stream:
                    if cancel.is_set():
                        return
                    now = time.monotonic()
                    if update.done or now - last_sent >= self._update_interval():
                        last_sent = now
                        shown = _mark_new(update.abc, update.new_from) if intent.continues else update.abc
                        live = cards.card_html({"abc": update.abc, "live": True})
                        text = f"{headline}\n\n{_code(shown)}\n\n{live}"  # the score last: in view as the chat scrolls
                        yield Reply(history + [_bot(text)], session, update.abc)
            finally:
                stream.close()  # frees the generator's place in the batched LSTM step
                with self._lock:
                    self._generating -= 1
            if update is None or cancel.is_set():
                return

            stage = "saving the tune"
            title = title_for(intent, session)
            tune = with_title(update.abc, title)
            prompt = session.prompt if intent.kind == "continue" else intent.prompt
            session = Session(abc=update.abc, prompt=prompt or "", seed=update.seed, title=title)
            folder.mkdir(parents=True)
            abc_path = folder / "tune.abc"
            abc_path.write_text(tune)
            headline = _done_headline(title, options, update)
            if intent.regenerated:
                headline += f" {REGENERATED}"
            live = cards.card_html({"abc": tune, "live": True})
            working = Reply(history + [_bot(f"Making the audio…\n\n{headline}\n\n{_code(tune)}\n\n{live}")],
                            session, update.abc)
            yield working

            notes = list(update.notices)
            rendered, audio_error = None, None
            settings = options.render_settings()
            sounded = tune
            try:
                sounded = _with_accompaniment(tune, settings)
                if sounded != tune:  # the file offered for download is the one that sounds
                    abc_path.write_text(sounded)
                for rendered in self._render(sounded, folder, settings, cancel):
                    if rendered is None:  # still rendering: give the page a chance to Stop
                        yield working
            except RenderError as err:
                audio_error = str(err)
                notes.append(f"I couldn't make the audio: {err}")
            except Exception:
                log.exception("render failed")
                audio_error = "the audio could not be made (an error on the server)"
                notes.append("I couldn't make the audio for this one.")
            if cancel.is_set():
                return
            audio = None
            if rendered is not None:
                audio = rendered.compressed or rendered.wav  # the smaller file plays in the page
                notes += _plain(rendered.notes)
                if rendered.sample_rate < settings.sample_rate:  # shed under load (_render_now): say so
                    notes.append(f"the audio is at {rendered.sample_rate / 1000:g} kHz, not "
                                 f"{settings.sample_rate / 1000:g}, as the server was busy")
            # With an accompaniment the tune's chords are part of it from here on: in the text
            # shown, the card, the downloads, the link and what /compose returns.
            stage = "making the tune's card"
            link = _link(intent, options, update.seed, sounded)
            card = _card_data(sounded, abc_path, rendered, settings, link, title)
            text = _final_text(headline, card, sounded, notes)
            finished = True
            yield Reply(history + [_bot(text)], session, update.abc, done=True, tune=sounded, audio=audio,
                        link=link, form=update.form, audio_error=audio_error,
                        seed=update.seed)
        except PromptError as err:
            yield _refusal(history, session, f"Sorry, I can't use that: {err}")
        except Exception as err:  # the page must stay usable whatever goes wrong underneath
            yield _refusal(history, session, our_failure(stage, err))
        finally:
            if not finished:
                shutil.rmtree(folder, ignore_errors=True)

    def _play_reply(self, intent: Intent, history: list[dict], session: Session,
                    options: Options) -> Iterator[Reply]:
        """A pasted tune played as it is (the message said "play"): its card, or what is wrong."""
        yield Reply(history + [_bot("Playing your tune…")], session, session.abc or "")
        title = title_in(intent.prompt, "Your tune")
        try:
            played = self.play(intent.prompt, 0, options.tempo, options.instrument, options.accompaniment,
                               title=title)
        except PlayError as err:
            yield _refusal(history, session, str(err))
            return
        card = _played_card(played, title)
        session = Session(abc=played.abc, prompt=intent.prompt, title=title)
        headline = f"Here is “{title}”, played as you wrote it"
        if played.chords_added:  # the text below is not quite what was pasted: say what changed
            headline += (f", with {played.chords_added} chord symbol{'s' if played.chords_added > 1 else ''} "
                         f"added for the {played.request.accompaniment} accompaniment (your notes are unchanged)")
        text = _final_text(headline + ".", card, played.abc, played.notes)
        yield Reply(history + [_bot(text)], session, played.abc, done=True, tune=played.abc,
                    audio=played.audio, link=card["link"])

    def _update_interval(self) -> float:
        """Seconds between streamed updates: longer when many tunes are written at once, as
        every update costs the server time that the tunes themselves need."""
        crowd = self._generating / self.config.busy_writers
        return self.config.min_interval_s * max(1.0, crowd)

    def _render_now(self, abc: str, folder: Path, settings: RenderSettings, stop: threading.Event):
        """One render on a render worker thread; setting `stop` kills it."""
        with self._lock:
            busy = self._renders_in_flight > 1 or self._generating > 0  # anyone but this one
        if busy:
            # Shed work while anyone else waits for audio or a tune: the optional OGG copy (its
            # encoder takes as long as the synthesis; the WAV plays the same) and the top of the
            # spectrum (busy_sample_rate). Alone, a tune gets both.
            settings = replace(settings, compress=False)
            if self.config.busy_sample_rate is not None:
                settings = replace(settings, sample_rate=min(settings.sample_rate, self.config.busy_sample_rate))
        try:
            return render(abc, folder, settings, "tune", cancel=stop)
        finally:
            with self._lock:
                self._renders_in_flight -= 1

    def _render(self, abc: str, folder: Path, settings: RenderSettings,
                cancel: threading.Event) -> Iterator:
        """Render in a worker (render_slots at once), yielding None while it runs, then the result."""
        with self._lock:
            self._renders_in_flight += 1
        stop = threading.Event()
        try:
            cost = prepare_tune(abc, settings.tempo).seconds  # synthesis time follows the music's length
        except RenderError:
            cost = 0.0  # the render itself fails at once, with the same message
        job: Future = self._renders.submit(cost, self._render_now, abc, folder, settings, stop)
        delivered = False
        try:
            while True:
                try:
                    result = job.result(timeout=self.config.poll_s)
                except TimeoutError:
                    if cancel.is_set():
                        return
                    yield None
                    continue
                delivered = True
                yield result
                return
        finally:
            if not delivered and not job.done():
                if job.cancel():  # it was still waiting for a worker: it never starts
                    with self._lock:
                        self._renders_in_flight -= 1
                else:
                    # Running: kill it (within render.CANCEL_POLL_S) so its slot frees up for
                    # others, and delete whatever this stopped reply had written.
                    stop.set()
                    job.add_done_callback(lambda _: shutil.rmtree(folder, ignore_errors=True))

    # -- the API ----------------------------------------------------------------------------

    def compose_api(self, prompt: str, temperature: float, bars: int, seed: int | None,
                    session_id: str | None = None, accompaniment: str | None = None,
                    ) -> Iterator[tuple[str, Path | None, dict | None]]:
        """The /compose endpoint: (ABC so far, None, None) while writing, then (ABC file, audio
        path or None, {"form", "audio_error", "seed"}).

        ChatError carries the friendly message for a refused prompt or a busy server.
        """
        try:
            random_seed = seed is None or seed == "" or float(seed) < 0
        except (TypeError, ValueError):
            raise ChatError(f"The seed must be a whole number from 0 to {links.SEED_RANGE[1]}.") from None
        options = Options.from_controls(temperature, bars, seed, random_seed=random_seed,
                                        accompaniment=accompaniment)
        sent = ""
        for step in self.reply(prompt or "", [], Session(), options, session_id):
            if step.error:
                raise ChatError(step.error)
            if step.done:
                yield step.tune, step.audio, step.info()
            elif step.abc and step.abc != sent:
                sent = step.abc
                yield step.abc, None, None

    # -- playing a given tune (no generating): /play, the cards' transpose and edit, links -----

    def play(self, abc: str, transpose: int = 0, tempo: int | None = None,
             instrument: str = DEFAULT_INSTRUMENT, accompaniment: str | None = None,
             key: str | None = None, title: str = "") -> Played:
        """Render a given tune, moved `transpose` semitones or to `key`'s tonic, into a new folder.

        PlayError says what is wrong, and where in `abc` (line and column) when that can be found.
        """
        self.clean()
        request = PlayRequest.checked(abc, transpose, tempo, instrument, accompaniment, key)
        tunes = split_tunes(request.abc)
        tune = tunes[0] if tunes else request.abc
        notes = [f"played the first of {len(tunes)} tunes"] if len(tunes) > 1 else []
        if not re.search(r"(?m)^T:", tune):
            tune = with_title(tune, title or "Your tune")
        # No OGG copy: the page plays the WAV, and the encoder would double the wait.
        settings = RenderSettings(tempo=request.tempo, instrument=request.instrument,
                                  accompaniment=request.accompaniment, compress=False)
        # Chords are written before the tune moves, so the base that a link carries holds them:
        # opening the link (or moving the tune again) keeps these chords, whatever harmoniser
        # the server runs by then (the harmoniser never writes into a bar that has a chord).
        try:
            base = _with_accompaniment(tune, settings)
        except RenderError as err:
            raise PlayError.at(abc, f"I can't play this: {err}") from None
        semitones = request.transpose
        try:
            if request.key:
                semitones = _semitones_to(base, request.key)
            moved = transpose_tune(base, semitones) if semitones else base
        except ValueError as err:
            raise PlayError.at(abc, f"I can't transpose this tune: {err}") from None
        if semitones:
            moved = retitled(moved, base)
        elif request.key:  # asked for a key it already fits (a D tune on A pipes): say so
            notes.append(f"it already fits {key_label(request.key)}, with the same key signature, "
                         "so no notes moved")
        folder = self.config.outputs / uuid.uuid4().hex  # never user text in a path
        folder.mkdir(parents=True)
        abc_path = folder / "tune.abc"
        abc_path.write_text(moved)
        rendered = None
        try:
            for rendered in self._render(moved, folder, settings, threading.Event()):
                pass
        except RenderError as err:
            shutil.rmtree(folder, ignore_errors=True)
            raise PlayError.at(abc, f"I can't play this: {err}") from None
        except Exception as err:
            shutil.rmtree(folder, ignore_errors=True)
            raise PlayError(our_failure("making the audio", err)) from None
        notes += _plain(rendered.notes)
        return Played(moved, base, abc_path, rendered, semitones, request.key, notes, request,
                      chords_added=_chord_count(base) - _chord_count(tune))

    def play_api(self, abc: str, transpose, tempo, instrument: str, accompaniment: str | None = None,
                 ) -> tuple[str, Path, Path, Path | None]:
        """The /play endpoint: (ABC as played, audio, MIDI, PDF or None); PlayError for bad input."""
        played = self.play(abc, transpose, tempo, instrument, accompaniment)
        return played.abc, played.audio, played.rendered.midi, self._pdf(played.abc, played.abc_path.parent)

    def play_card(self, request: str) -> dict:
        """The page's cards (tunes.js): JSON in, a card's data or {"error", "line", "column"} out."""
        try:
            asked = json.loads(request) if isinstance(request, str) else None
            if not isinstance(asked, dict):
                raise PlayError("The page sent something that is not a tune.")
            played = self.play(asked.get("abc"), asked.get("transpose") or 0, asked.get("tempo"),
                               asked.get("instrument") or DEFAULT_INSTRUMENT, asked.get("accompaniment"),
                               asked.get("key"), str(asked.get("title") or "")[:80])
        except (PlayError, ValueError) as err:
            return {"error": str(err), "line": getattr(err, "line", None), "column": getattr(err, "column", None)}
        return _played_card(played, title_in(played.abc, str(asked.get("title") or "")))

    def print_card(self, abc: str) -> dict:
        """A PDF of one tune for the page: {"pdf": URL} or {"error": why}."""
        if not isinstance(abc, str) or not abc.strip():
            return {"error": "There is no tune to print."}
        folder = self.config.outputs / uuid.uuid4().hex
        folder.mkdir(parents=True)
        try:
            pdf = _print(abc, folder / "tune.pdf")
        except ValueError as err:
            shutil.rmtree(folder, ignore_errors=True)
            return {"error": f"I couldn't make a PDF of this tune: {err}"}
        return {"pdf": cards.file_url(pdf)}

    def musicxml_card(self, abc: str) -> dict:
        """One tune as MusicXML for the page (opens in MuseScore): {"musicxml": URL} or {"error": why}."""
        if not isinstance(abc, str) or not abc.strip():
            return {"error": "There is no tune to write as MusicXML."}
        if len(abc) > LIMITS.max_chars:
            return {"error": f"That is {len(abc):,} characters; I can write tunes up to {LIMITS.max_chars:,}."}
        folder = self.config.outputs / uuid.uuid4().hex
        folder.mkdir(parents=True)
        try:
            path = musicxml(abc, folder / "tune.musicxml")
        except RenderError as err:
            shutil.rmtree(folder, ignore_errors=True)
            return {"error": f"I couldn't write this tune as MusicXML: {err}"}
        except Exception as err:
            shutil.rmtree(folder, ignore_errors=True)
            return {"error": our_failure("writing the MusicXML", err)}
        return {"musicxml": cards.file_url(path)}

    def _pdf(self, abc: str, folder: Path) -> Path | None:
        try:
            return _print(abc, folder / "tune.pdf")
        except ValueError as err:  # PrintError: the audio and MIDI are still worth having
            log.warning("no PDF: %s", err)
            return None

    def tunebook(self, tunes) -> Path:
        """Every tune given (the page sends each card's ABC as it is now) as one ABC file."""
        if isinstance(tunes, str):
            try:
                tunes = json.loads(tunes) if tunes.strip() else []
            except ValueError:
                raise ChatError("The page sent a tunebook I cannot read.") from None
        tunes = [t for t in tunes or [] if isinstance(t, str) and t.strip()]
        if not tunes:
            raise ChatError("There are no tunes in this conversation yet.")
        from bot.tunebook import tunebook

        folder = self.config.outputs / uuid.uuid4().hex
        folder.mkdir(parents=True)
        path = folder / "tunebook.abc"
        path.write_text(tunebook(tunes))
        return path

    def from_link(self, link: links.TuneLink, history: list[dict], session: Session,
                  options: Options | ChatError, session_id: str | None = None) -> Iterator[Reply]:
        """Open a "Link to this tune": the tune the link carries, played as it was; or, for an old
        link that kept only its settings, the tune written again (and said so)."""
        abc = link.abc
        if not abc and not link.has_tune():
            history = list(history or []) + [{"role": "user", "content": "(a link to a tune)"}]
            yield _refusal(history, session, "This link could not be read ("
                           + "; ".join(link.problems or ["it names no tune"]) + "). Ask for a new tune below.")
            return
        if not abc:
            yield from self.reply(link.prompt, history, session, options, session_id,
                                  regenerated=link.regenerated)
            return
        history = list(history or []) + [{"role": "user", "content": "(a link to a tune)"}]
        try:
            played = self.play(abc, link.transpose, link.tempo, link.instrument or DEFAULT_INSTRUMENT,
                               link.accompaniment)
        except PlayError as err:
            yield _refusal(history, session, f"The tune in this link cannot be played: {err}")
            return
        title = title_in(played.abc, "Your tune")
        card = _played_card(played, title)
        session = Session(abc=played.abc, prompt=link.prompt or abc, seed=link.seed, title=title)
        text = _final_text(f"Here is “{title}”, as the link keeps it.", card, played.abc, played.notes)
        yield Reply(history + [_bot(text)], session, abc, done=True, tune=played.abc, audio=played.audio,
                    link=card["link"], seed=link.seed)


def our_failure(stage: str, err: BaseException) -> str:
    """The chat's words for a failure on our side: what failed, that it is not the person's
    input, and a reference to find the traceback (logged here) in the server log."""
    ref = uuid.uuid4().hex[:8]
    log.error("failure %s while %s", ref, stage, exc_info=err)
    return (f"Sorry: that failed on our side, while {stage} ({type(err).__name__}). It is not "
            f"your words or your tune; trying again with other words won't help. The server log "
            f"has the details under reference {ref}.")


def _refusal(history: list[dict], session: Session, text: str) -> Reply:
    return Reply(history + [_bot(text)], session, session.abc or "", done=True, error=text)


def _text_of(content) -> str:
    """The text of a message's content as Gradio sends it back (a string or a list of parts)."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(part.get("text", "") for part in content if isinstance(part, dict))
    return ""


def _bot(content) -> dict:
    return {"role": "assistant", "content": content}


def _headline(intent: Intent, options: Options) -> str:
    what = {
        "continue": "Continuing the tune",
        "paste": "Continuing your tune",
        "another": "Another one",
        "seed": "Same words, new seed",
        "new": f"Writing “{title_for(intent)}”" if intent.prompt else "Surprise!",
    }[intent.kind]
    return f"{what} (seed {intent.seed}, {options.bars} bars, temperature {_num(options.temperature)})…"


def _done_headline(title: str, options: Options, update: Update) -> str:
    bars = f"{update.bars} bars"
    # The model closed the tune early: say so, not the slider's number. (A tune in a form
    # has the bars of its form, which its notes and the form's name already say.)
    if update.bars < options.bars and not update.form:
        bars += f", as it came to its close before the {options.bars} asked for"
    text = f"Here is “{title}” (seed {update.seed}, {bars}, temperature {_num(options.temperature)})."
    form = update.form  # the generator's reading of the parts ("" when unknown)
    return f"{text} Form: {form}." if form else text


def _num(value: float) -> str:
    return f"{value:.1f}" if value == round(value, 1) else f"{value:g}"


def _mark_new(abc: str, new_from: int) -> str:
    """The tune with a comment line showing where the new music starts (display only)."""
    if not 0 < new_from < len(abc):
        return abc
    before, after = abc[:new_from], abc[new_from:]
    return before.rstrip("\n") + "\n% ---- new music ----\n" + after.lstrip("\n")


def _link(intent: Intent, options: Options, seed: int, tune: str = "") -> str:
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


def _with_accompaniment(tune: str, settings: RenderSettings) -> str:
    """The tune with chord symbols added where bars have none, when an accompaniment is asked for."""
    if not settings.accompaniment:
        return tune
    from bot.harmonise import harmonise  # only when an accompaniment is on

    try:
        return harmonise(tune)
    except ValueError as err:
        raise RenderError(f"no accompaniment could be written for this tune ({err})") from err


def _card_data(abc: str, abc_path: Path, rendered: Rendered | None, settings: RenderSettings,
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


def _plain(notes: list[str]) -> list[str]:
    """The renderer's repairs for the person: without the technical detail in brackets."""
    return [re.sub(r"\s*\(.*", "", note) for note in notes]


def _tempo_of(abc: str, tempo: int | None) -> int:
    try:
        return prepare_tune(abc, tempo).tempo
    except RenderError:
        return tempo or 120


def _final_text(headline: str, card: dict, tune: str, notes: list[str]) -> str:
    """The finished reply: headline, the ABC, notes, then the tune's card (score, player, tools)
    last, where the chat's scrolling to its end keeps it in view."""
    extra = f"\n\n*Note: {'; '.join(notes)}.*" if notes else ""
    return f"{headline}\n\n{_code(tune)}{extra}\n\n{cards.card_html(card)}"
