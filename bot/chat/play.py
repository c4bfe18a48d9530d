"""Playing a given tune, no generating: a pasted tune with "play", /play, the cards' transpose,
edit, PDF and MusicXML, the tunebook, and opening a "Link to this tune".

(Over 400 lines: every request on a given tune goes through one order of steps, so that a
card, its link and a move of either agree byte for byte; split, each would repeat it.)

A tune is played in one order, so that a card, its link and a move of either agree byte for
byte: the first tune of the text, titled; chords written for the accompaniment (before it
moves, so the chords are part of what the link carries); then moved by semitones or to a key.
"""

from __future__ import annotations

import json
import logging
import re
import shutil
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from bot import links
from bot.chat.intent import Intent, Session, title_in, with_title
from bot.chat.options import NAMED_KEYS, ChatError, Options, check_accompaniment
from bot.chat.reply import Reply, bot_message, card_data, final_text, our_failure, plain_notes, refusal
from bot.notation.abc import key_in_words, parse_key, split_tunes
from bot.notation.transpose import semitones_to_key, transpose_tune
from bot.render import (
    DEFAULT_INSTRUMENT, INSTRUMENTS, LIMITS, Rendered, RenderError, RenderSettings, musicxml, prepare_tune,
)
from bot.web import cards
from bot.web.limits import MAX_TUNEBOOK_CHARS, MAX_TUNEBOOK_TUNES
from bot.web.names import tune_stem
from bot.web.text import check_text, one_line, plain

log = logging.getLogger(__name__)


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
        try:
            check_text(abc, "tune")
        except ValueError as err:
            raise PlayError(str(err)) from None
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
    data = card_data(played.abc, played.abc_path, played.rendered, settings, _play_link(played), title,
                      transpose=played.semitones, key=played.key, base=played.base)
    data["notes"] = ("Note: " + "; ".join(played.notes) + ".") if played.notes else ""
    return data


def _chord_count(abc: str) -> int:
    """Chord symbols in the tune (quoted text that names a chord; annotations do not count)."""
    from bot.notation.chords import parse_symbol
    from bot.notation.tokens import tokenize

    return sum(1 for tok in tokenize(abc) if tok.kind == "quote" and parse_symbol(tok.text.strip('"')) is not None)


def key_label(key: str) -> str:
    """A K: value in words as the transpose menu names keys: "Amix" -> "A mixolydian", "D" -> "D"."""
    return key_in_words(key).removesuffix(" major")


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


def with_accompaniment(tune: str, settings: RenderSettings, fill_from: int | None = None) -> str:
    """The tune with chord symbols added where bars have none, when an accompaniment is asked for
    (with `fill_from`, an index into `tune`: only in the bars from there on, e.g. a continuation's)."""
    if not settings.accompaniment:
        return tune
    from bot.harmonise import harmonise  # only when an accompaniment is on

    try:
        return harmonise(tune, fill_from=fill_from)
    except ValueError as err:
        raise RenderError(f"no accompaniment could be written for this tune ({err})") from err


class Player:
    """The Chat's requests to play a given tune. Mixed into Chat, which gives it `config`,
    `clean()` (old outputs go), `_render()` (a render slot) and `reply()` (an old link's tune
    written again)."""

    def _counted(self, folder: Path) -> None:
        """Count a finished request's folder against the outputs quota (Chat's OutputsQuota)."""
        quota = getattr(self, "_quota", None)
        if quota is not None:
            quota.add(folder)

    def play(self, abc: str, transpose: int = 0, tempo: int | None = None,
             instrument: str = DEFAULT_INSTRUMENT, accompaniment: str | None = None,
             key: str | None = None, title: str = "", owner: str | None = None) -> Played:
        """Render a given tune, moved `transpose` semitones or to `key`'s tonic, into a new folder
        (`owner`: the session whose share of the render slots it takes; None for an API call).

        PlayError says what is wrong, and where in `abc` (line and column) when that can be found.
        """
        self.clean()
        request = PlayRequest.checked(abc, transpose, tempo, instrument, accompaniment, key)
        tunes = split_tunes(request.abc)
        tune = tunes[0] if tunes else request.abc
        notes = [f"played the first of {len(tunes)} tunes"] if len(tunes) > 1 else []
        if not re.search(r"(?m)^T:", tune):
            tune = with_title(tune, title or "Your tune")
        # The page plays the OGG: the WAV is only the download, and only while it fits the
        # render's byte budget (RenderSettings.max_bytes).
        settings = RenderSettings(tempo=request.tempo, instrument=request.instrument,
                                  accompaniment=request.accompaniment)
        # Chords are written before the tune moves, so the base that a link carries holds them:
        # opening the link (or moving the tune again) keeps these chords, whatever harmoniser
        # the server runs by then (the harmoniser never writes into a bar that has a chord).
        try:
            base = with_accompaniment(tune, settings)
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
        abc_path = folder / f"{tune_stem(moved)}.abc"  # named for the tune: its downloads are
        abc_path.write_text(moved)
        rendered = None
        try:
            for rendered in self._render(moved, folder, settings, threading.Event(), owner):
                pass
        except RenderError as err:
            shutil.rmtree(folder, ignore_errors=True)
            raise PlayError.at(abc, f"I can't play this: {err}") from None
        except Exception as err:
            shutil.rmtree(folder, ignore_errors=True)
            raise PlayError(our_failure("making the audio", err)) from None
        notes += plain_notes(rendered.notes)
        self._counted(folder)
        return Played(moved, base, abc_path, rendered, semitones, request.key, notes, request,
                      chords_added=_chord_count(base) - _chord_count(tune))

    def play_api(self, abc: str, transpose, tempo, instrument: str, accompaniment: str | None = None,
                 ) -> tuple[str, Path, Path, Path | None]:
        """The /play endpoint: (ABC as played, audio, MIDI, PDF or None); PlayError for bad input."""
        played = self.play(abc, transpose, tempo, instrument, accompaniment)
        pdf = self._pdf(played.abc, played.abc_path.parent)
        # Named from the server's working folder (outputs/...): the answer's file paths and URLs
        # then say nothing of where the server keeps its files.
        return (played.abc, *(Path(cards.served_path(p)) if p is not None else None
                              for p in (played.audio, played.rendered.midi, pdf)))

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
        except RecursionError:  # JSON nested deeper than Python reads
            return {"error": "The page sent something that is not a tune.", "line": None, "column": None}
        return _played_card(played, title_in(played.abc, str(asked.get("title") or "")))

    def print_card(self, abc: str) -> dict:
        """A PDF of one tune for the page: {"pdf": URL} or {"error": why}."""
        # tune_pdf refuses a tune too long to print itself (bot.printing.MAX_PRINT_CHARS).
        return self._file_card(abc, "pdf", "print", "make a PDF of this tune", "printing",
                               lambda folder: _print(abc, folder / f"{tune_stem(abc)}.pdf"))

    def musicxml_card(self, abc: str) -> dict:
        """One tune as MusicXML for the page (opens in MuseScore): {"musicxml": URL} or {"error": why}."""
        if isinstance(abc, str) and len(abc) > LIMITS.max_chars:
            return {"error": f"That is {len(abc):,} characters; I can write tunes up to {LIMITS.max_chars:,}."}
        return self._file_card(abc, "musicxml", "write as MusicXML", "write this tune as MusicXML",
                               "writing the MusicXML", lambda folder: musicxml(abc, folder / f"{tune_stem(abc)}.musicxml"))

    def _file_card(self, abc: str, field: str, verb: str, failed: str, stage: str, write) -> dict:
        """One tune written by `write(folder)` into a new output folder: {field: URL} or {"error": why}.

        The tune's own faults (ValueError: RenderError, PrintError) are told as such; anything
        else is ours (`our_failure`). The folder goes on any failure.
        """
        if not isinstance(abc, str) or not abc.strip():
            return {"error": f"There is no tune to {verb}."}
        folder = self.config.outputs / uuid.uuid4().hex
        folder.mkdir(parents=True)
        try:
            path = self._in_slot(abc, write, folder)
        except ValueError as err:
            shutil.rmtree(folder, ignore_errors=True)
            return {"error": f"I couldn't {failed}: {err}"}
        except Exception as err:
            shutil.rmtree(folder, ignore_errors=True)
            return {"error": our_failure(stage, err)}
        self._counted(folder)
        return {field: cards.file_url(path)}

    def _in_slot(self, abc: str, write, folder: Path):
        """write(folder) in one of the render slots (Chat's LongestFirst), as a render is: a flood
        of MusicXML or PDF requests takes the slots' share, not every core."""
        pool = getattr(self, "_renders", None)
        if pool is None:
            return write(folder)
        try:
            cost = prepare_tune(abc).cost  # music21 reads every note of it
        except RenderError:
            cost = 0.0  # the writer fails at once, with its own message
        return pool.submit(cost, write, folder).result()

    def _pdf(self, abc: str, folder: Path) -> Path | None:
        try:
            return self._in_slot(abc, lambda into: _print(abc, into / f"{tune_stem(abc)}.pdf"), folder)
        except ValueError as err:  # PrintError: the audio and MIDI are still worth having
            log.warning("no PDF: %r", plain(str(err), 300))  # quoted: the tune's text in it cannot forge a log line
            return None

    def tunebook(self, tunes) -> Path:
        """Every tune given (the page sends each card's ABC as it is now) as one ABC file."""
        if isinstance(tunes, str):
            if len(tunes) > MAX_TUNEBOOK_CHARS + 10 * MAX_TUNEBOOK_TUNES:  # before parsing it
                raise ChatError(f"The tunebook is longer than the {MAX_TUNEBOOK_CHARS:,} characters I can put in one file.")
            try:
                tunes = json.loads(tunes) if tunes.strip() else []
            except (ValueError, RecursionError):  # not JSON, or nested deeper than Python reads
                raise ChatError("The page sent a tunebook I cannot read.") from None
        if not isinstance(tunes, list):
            raise ChatError("The page sent a tunebook I cannot read (it should be a list of tunes).")
        tunes = [t for t in tunes if isinstance(t, str) and t.strip()]
        if not tunes:
            raise ChatError("There are no tunes in this conversation yet.")
        if len(tunes) > MAX_TUNEBOOK_TUNES or sum(map(len, tunes)) > MAX_TUNEBOOK_CHARS:
            raise ChatError(f"A tunebook can hold up to {MAX_TUNEBOOK_TUNES} tunes and "
                            f"{MAX_TUNEBOOK_CHARS:,} characters; this one has {len(tunes)} tunes and "
                            f"{sum(map(len, tunes)):,} characters.")
        from bot.tunebook import tunebook

        folder = self.config.outputs / uuid.uuid4().hex
        folder.mkdir(parents=True)
        path = folder / "tunebook.abc"
        path.write_text(tunebook(tunes))
        self._counted(folder)
        return path

    def from_link(self, link: links.TuneLink, history: list[dict], session: Session,
                  options: Options | ChatError, session_id: str | None = None) -> Iterator[Reply]:
        """Open a "Link to this tune": the tune the link carries, played as it was; or, for an old
        link that kept only its settings, the tune written again (and said so)."""
        abc = link.abc
        if not abc and not link.has_tune():
            history = list(history or []) + [{"role": "user", "content": "(a link to a tune)"}]
            yield refusal(history, session, "This link could not be read ("
                           + "; ".join(link.problems or ["it names no tune"]) + "). Ask for a new tune below.")
            return
        if not abc:
            yield from self.reply(link.prompt, history, session, options, session_id,
                                  regenerated=link.regenerated)
            return
        history = list(history or []) + [{"role": "user", "content": "(a link to a tune)"}]
        try:
            played = self.play(abc, link.transpose, link.tempo, link.instrument or DEFAULT_INSTRUMENT,
                               link.accompaniment, owner=session_id)
        except PlayError as err:
            yield refusal(history, session, f"The tune in this link cannot be played: {err}")
            return
        title = title_in(played.abc, "Your tune")
        card = _played_card(played, title)
        session = Session(abc=played.abc, prompt=link.prompt or abc, seed=link.seed, title=title)
        text = final_text(f"Here is “{one_line(title)}”, as the link keeps it.", card, played.abc, played.notes)
        yield Reply(history + [bot_message(text)], session, abc, done=True, tune=played.abc, audio=played.audio,
                    link=card["link"], seed=link.seed)

    def _play_reply(self, intent: Intent, history: list[dict], session: Session,
                    options: Options, owner: str | None = None) -> Iterator[Reply]:
        """A pasted tune played as it is (the message said "play"): its card, or what is wrong."""
        yield Reply(history + [bot_message("Playing your tune…")], session, session.abc or "")
        title = title_in(intent.prompt, "Your tune")
        try:
            played = self.play(intent.prompt, 0, options.tempo, options.instrument, options.accompaniment,
                               title=title, owner=owner)
        except PlayError as err:
            yield refusal(history, session, str(err))
            return
        card = _played_card(played, title)
        session = Session(abc=played.abc, prompt=intent.prompt, title=title)
        headline = f"Here is “{one_line(title)}”, played as you wrote it"
        if played.chords_added:  # the text below is not quite what was pasted: say what changed
            headline += (f", with {played.chords_added} chord symbol{'s' if played.chords_added > 1 else ''} "
                         f"added for the {played.request.accompaniment} accompaniment (your notes are unchanged)")
        text = final_text(headline + ".", card, played.abc, played.notes)
        yield Reply(history + [bot_message(text)], session, played.abc, done=True, tune=played.abc,
                    audio=played.audio, link=card["link"])
