"""ABC text -> MIDI -> audio: bound the tune, then parse and synthesise it in a child process.

    prepare_tune(abc, tempo)     fast bounds check in this process (no music21, no FluidSynth)
    render(abc, out_dir)         -> Rendered(midi, wav, compressed, seconds, notes)
    python -m bot.render IN.abc OUT.wav [--tempo BPM] [--instrument NAME] [--midi OUT.mid]

The music21 parse, the MIDI repairs, FluidSynth and the audio clean-up run in bot.render_worker,
in a child process forked per request from a small server that has music21 already imported
(a fresh interpreter would spend ~0.5 s importing it, more than the whole render should take).
The child runs under a timeout and memory, CPU and file-size limits, in its own process group
so that a timed-out request is killed together with its FluidSynth.

Why one file of ~800 lines: every part here (the bounds a tune must meet, finding FluidSynth
and a soundfont, the forked child with its limits, render() and musicxml() that use them) is one
safety story, the limits a hostile tune meets before and while music21 and FluidSynth run; the
work itself lives in bot.render_worker. The first split, if it grows, is the bounds check
(prepare_tune and its helpers, about 270 lines) into a module of its own.
"""

from __future__ import annotations

import argparse
import atexit
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from fractions import Fraction
from functools import lru_cache
from pathlib import Path

from bot.notation.abc import key_problem, normalise_rhythm, parse_meter, read_tune, split_tunes
from bot.notation.check import bar_length_problems
from bot.notation.tokens import NOTE, tokenize

INSTRUMENTS: dict[str, int] = {
    # name -> General MIDI program (0-based, as written in a MIDI program change)
    "fiddle": 40, "violin": 40, "viola": 41, "cello": 42, "strings": 48,
    "flute": 73, "whistle": 78, "piccolo": 72, "recorder": 74, "panpipes": 75,
    "accordion": 21, "concertina": 23, "harmonica": 22, "bagpipes": 109,
    "piano": 0, "harpsichord": 6, "harp": 46, "dulcimer": 15,
    "guitar": 24, "banjo": 105, "clarinet": 71, "oboe": 68, "organ": 20,
}
DEFAULT_INSTRUMENT = "fiddle"
# The instruments offered for the accompaniment (any key of INSTRUMENTS is accepted).
ACCOMPANIMENT_INSTRUMENTS = ("guitar", "piano", "accordion")

# Quarter notes a minute when neither the caller nor the tune's Q: sets a tempo: a relaxed
# session pace for each rhythm (R:), slower than dance speed so the tune can be followed.
DEFAULT_TEMPOS: dict[str, int] = {
    "reel": 180, "jig": 165, "slip jig": 165, "slide": 180, "hornpipe": 140, "polka": 140,
    "waltz": 150, "mazurka": 140, "march": 120, "strathspey": 120, "schottische": 140,
    "barndance": 140, "fling": 140, "set dance": 140, "country dance": 150, "minuet": 120,
    "air": 80,
}
DEFAULT_TEMPO = 120

REPO_DIR = Path(__file__).resolve().parents[1]

# Where find_soundfont looks, in order: a folder means every *.sf2 in it (sorted by name).
SOUNDFONT_SEARCH: tuple[Path, ...] = (
    REPO_DIR / "soundfonts",
    Path("/usr/share/sounds/sf2/FluidR3_GM.sf2"),  # Debian fluid-soundfont-gm (MIT)
    Path("/usr/share/sounds/sf2/TimGM6mb.sf2"),  # Debian timgm6mb-soundfont (GPL-2)
    Path("/usr/share/sounds/sf2/default-GM.sf2"),  # Debian's alternatives link
    Path("/usr/share/soundfonts/FluidR3_GM.sf2"),  # Arch, Fedora
    Path("/usr/share/soundfonts/default.sf2"),
)
# General MIDI programs whose FluidR3_GM presets send sound to the chorus: dulcimer and
# bagpipes. Rendered with the chorus on and off, the other 21 instruments came out bit for bit
# the same (tests/test_render.py checks each). FluidSynth's chorus costs about 0.8 ms of CPU per
# second of music even when nothing reaches it (a quarter of a 53 s tune's synthesis), so it
# runs only where it is heard. Other soundfonts keep it on: their presets are not known here.
FLUIDR3_CHORUS_PROGRAMS = frozenset({15, 109})


def needs_chorus(soundfont: Path, program: int) -> bool:
    """Whether FluidSynth's chorus can be heard for `program` with `soundfont`."""
    return not Path(soundfont).name.startswith("FluidR3_GM") or program in FLUIDR3_CHORUS_PROGRAMS


FLUIDSYNTH = "fluidsynth"  # binary name, looked up on PATH at each render
ABC2MIDI = "abc2midi"  # optional last fallback for the MIDI step


class RenderError(ValueError):
    """A tune that cannot be rendered, or a missing tool; the message is one user-facing line."""


class RenderStopped(RenderError):
    """The caller's cancel event was set: the render was killed and its files removed."""


@dataclass(frozen=True)
class Limits:
    """Bounds a tune must meet before any parsing or synthesis (hostile or runaway input)."""

    max_chars: int = 20_000  # 8x the longest tune in music21's corpus (2,439)
    max_digits: int = 16  # longest digit run (corpus: 14, in Z:); int() refuses 5,000 digits
    max_bars: int = 400  # music21's parse is quadratic in bars: 250 bars 1.3 s, 1,000 bars 17.6 s
    max_notes: int = 4_000  # same reason for a tune written without bar lines
    max_note_wholes: int = 16  # longest note in whole notes: C40000 is minutes; Essen's typo c442 is 14
    max_seconds: float = 600.0  # ten minutes of audio, repeats included
    min_tempo: int = 20  # quarter notes a minute; Q:1/4=0 would divide by zero
    max_tempo: int = 480
    min_unit: Fraction = Fraction(1, 64)  # L: bounds: L:1/0 divides by zero
    max_unit: Fraction = Fraction(1)


LIMITS = Limits()


@dataclass(frozen=True)
class RenderSettings:
    """How to render one tune (frozen: the default instance is shared by every call)."""

    tempo: int | None = None  # quarter notes a minute; None: the tune's Q:, else DEFAULT_TEMPOS
    instrument: str = DEFAULT_INSTRUMENT  # a key of INSTRUMENTS
    timeout_s: float = 60.0  # parse + synthesis + OGG; 10 minutes of music took 20 s on 2 busy cores
    memory_mb: int = 1024  # address-space limit (RLIMIT_AS) of the child and its FluidSynth
    max_file_mb: int = 256  # RLIMIT_FSIZE of the child: 10 minutes of float stereo is 212 MB
    sample_rate: int = 44_100  # Hz
    soundfont: Path | None = None  # None: find_soundfont()
    compress: bool = True  # also write an OGG copy for the browser when an encoder exists
    # A key of INSTRUMENTS that plays the tune's chord symbols under the melody (bass then
    # chord in the meter's pattern, quieter); None: the melody alone, as before.
    accompaniment: str | None = None


@dataclass
class Rendered:
    """The files a render wrote and what it had to repair to get there."""

    midi: Path
    wav: Path
    compressed: Path | None  # OGG copy for the browser, None without an encoder
    seconds: float  # audio duration
    sample_rate: int = 44_100  # Hz, of the WAV and the OGG
    notes: list[str] = field(default_factory=list)  # repairs applied, in order
    tempo: int = DEFAULT_TEMPO  # quarter notes a minute actually used
    engine: str = "music21"  # what made the MIDI: "music21" or "abc2midi"
    timings: dict[str, float] = field(default_factory=dict)  # seconds per step in the child


@dataclass
class Prepared:
    """A tune that passed the bounds: cleaned ABC for the parsers plus what the checks learned."""

    text: str  # one tune: X:1, M:, L:, Q:1/4=tempo, K: and the music; metadata dropped
    tempo: int  # quarter notes a minute
    seconds: float  # estimated length with repeats, at `tempo`
    bars: int
    notes: list[str] = field(default_factory=list)  # repairs made to the text


# --- bounds ----------------------------------------------------------------------------------

_BINARY = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffd\ud800-\udfff]")
_LONG_NUMBER = re.compile(r"\d{%d,}" % (LIMITS.max_digits + 1))
_FIELD = re.compile(r"^([A-Za-z]):")
_SEMITONES = {"C": 0, "D": 2, "E": 4, "F": 5, "G": 7, "A": 9, "B": 11}


def _check_pitch(note: str, token: str) -> None:
    """RenderError for a written pitch outside MIDI's 0-127 (music21 would write a corrupt file)."""
    letter = next(c for c in note if c.isalpha())
    if letter.upper() not in _SEMITONES:
        return  # a rest
    pitch = 60 + _SEMITONES[letter.upper()] + (12 if letter.islower() else 0)
    pitch += note.count("^") - note.count("_") + 12 * (note.count("'") - note.count(","))
    if not 0 <= pitch <= 127:
        raise RenderError(f"note {token!r} is outside the range of MIDI notes")


def _length(text: str, token: str) -> Fraction:
    """The multiplier written after a note (`3`, `/`, `3/2`, `//`); RenderError for `/0`."""
    match = re.fullmatch(r"(\d*)(/*)(\d*)", text)
    assert match is not None, text
    num = int(match.group(1)) if match.group(1) else 1
    if not match.group(2):
        den = 1
    elif match.group(3):
        den = int(match.group(3))
    else:
        den = 2 ** len(match.group(2))
    if den == 0:
        raise RenderError(f"note {token!r} has a length divided by zero")
    return Fraction(num, den)


def _clean_meter(value: str) -> str:
    """An M: value as music21 reads it (`none`, `6/8`); RenderError naming a value that is no meter."""
    value = value.strip()
    if value.lower() in ("", "none"):
        return "none"
    if value in ("C", "c"):
        return "4/4"
    if value in ("C|", "c|"):
        return "2/2"
    # Collections write `M:FREI4/4` or `M:2/2]`: keep the fraction in it.
    match = re.search(r"\d+(?:\+\d+)*/\d+", value)
    if match is None:
        raise RenderError(f"M:{value} is not a meter (write it like M:6/8)")
    if parse_meter(match.group(0)) is None:
        raise RenderError(f"M:{value} is not a meter that can be played (numbers 1 to 64, like M:6/8)")
    return match.group(0)


def _clean_unit(value: str) -> Fraction:
    """An L: value as a fraction of a whole note; RenderError naming a value outside the bounds."""
    match = re.fullmatch(r"\s*(\d+)\s*(?:/\s*(\d+))?\s*", value)
    if match is None:
        raise RenderError(f"L:{value.strip()} is not a note length (write it like L:1/8)")
    num, den = int(match.group(1)), int(match.group(2) or 1)
    if den == 0 or num == 0 or not LIMITS.min_unit <= Fraction(num, den) <= LIMITS.max_unit:
        raise RenderError(
            f"L:{value.strip()} is not a unit note length that can be played (1/1 to 1/64)"
        )
    return Fraction(num, den)


def _tempo_from_q(value: str) -> int | None:
    """Quarter notes a minute for a Q: value, None for a tempo in words only."""
    text = re.sub(r'"[^"]*"', " ", value)  # Q:1/4=80 "Slow"
    match = re.search(r"((?:\d+/\d+\s*)+)=\s*(\d+)", text)
    if match:
        beat = Fraction(0)
        for part in match.group(1).split():
            num, den = (int(n) for n in part.split("/"))
            if den == 0:
                raise RenderError(f"Q:{value.strip()} has a beat divided by zero")
            beat += Fraction(num, den)
        quarters = beat * 4 * int(match.group(2))
    else:
        match = re.search(r"(?:^|=)\s*(\d+)\s*$", text.strip())
        if match is None:
            return None
        # A bare number (Q:120, Q:C=120) meant unit notes a minute in old ABC, but the
        # collections that write it mean beats; reading it as quarter notes sounds right.
        quarters = Fraction(int(match.group(1)))
    if not LIMITS.min_tempo <= quarters <= LIMITS.max_tempo:
        raise RenderError(
            f"Q:{value.strip()} is {float(quarters):g} quarter notes a minute; the tempo must be "
            f"{LIMITS.min_tempo} to {LIMITS.max_tempo}"
        )
    return round(quarters)


def _check_tempo(tempo: int) -> int:
    if isinstance(tempo, bool) or not isinstance(tempo, int):
        raise RenderError(f"tempo {tempo!r} is not a whole number of beats a minute")
    if not LIMITS.min_tempo <= tempo <= LIMITS.max_tempo:
        raise RenderError(
            f"tempo {tempo} is outside {LIMITS.min_tempo} to {LIMITS.max_tempo} beats a minute"
        )
    return tempo


def prepare_tune(abc: str, tempo: int | None = None) -> Prepared:
    """Bound one tune and rewrite it for the parsers; RenderError names the first problem.

    Pure Python and linear in the text: a hostile tune is refused in milliseconds.
    """
    if not isinstance(abc, str):
        raise RenderError(f"ABC must be text, not {type(abc).__name__}")
    if len(abc) > LIMITS.max_chars:
        raise RenderError(f"the tune is {len(abc):,} characters long (at most {LIMITS.max_chars:,})")
    if not abc.strip():
        raise RenderError("the tune is empty")
    bad = _BINARY.search(abc)
    if bad:
        raise RenderError(
            f"the text holds binary data (character {ord(bad.group()):#04x} at position {bad.start()})"
        )
    long_number = _LONG_NUMBER.search(abc)
    if long_number:
        raise RenderError(f"the tune holds a {len(long_number.group()):,}-digit number")
    if tempo is not None:
        tempo = _check_tempo(tempo)

    notes: list[str] = []
    tunes = split_tunes(abc)
    if len(tunes) > 1:
        notes.append(f"rendered the first of {len(tunes)} tunes")
    text = tunes[0] if tunes else abc
    if not re.search(r"(?m)^\s*K:", text):
        # A fragment without K: (pasted music): the music starts at the first non-field line.
        lines = text.splitlines()
        music = [i for i, line in enumerate(lines) if line.strip() and not _FIELD.match(line.strip())]
        first = music[0] if music else len(lines)
        text = "\n".join(lines[:first] + ["K:C"] + lines[first:])
        notes.append("no K: line, played in C major")
    tune = read_tune(text)
    if not tune.body:
        raise RenderError("the tune has no music after its K: line")

    header: dict[str, str] = {}
    for name, value in tune.headers:
        if name in "MLQKR" and name not in header:
            header[name] = value
    if "K" in header and key_problem(header["K"]):
        raise RenderError(key_problem(header["K"]))
    written = header["M"].strip() if "M" in header else None
    meter = _clean_meter(written) if written is not None else None
    if written not in (None, "", meter, "C", "C|", "c", "c|"):
        notes.append(f"read M:{written} as M:{meter}")
    unit = _clean_unit(header["L"]) if "L" in header else None
    if unit is None:
        bar = parse_meter(meter) if meter else None
        unit = Fraction(1, 16) if bar is not None and bar < Fraction(3, 4) else Fraction(1, 8)
    q_tempo = _tempo_from_q(header["Q"]) if "Q" in header else None
    if tempo is None:
        tempo = q_tempo
    if tempo is None:
        rhythm = normalise_rhythm(header["R"]) if "R" in header else None
        tempo = DEFAULT_TEMPOS.get(rhythm or "", DEFAULT_TEMPO)

    wholes, bars, body = _scan_body(tune.body, meter, unit)
    # A bar of the wrong length still plays (as written), but never silently.
    notes += bar_length_problems("\n".join(tune.body), meter or "", f"{unit.numerator}/{unit.denominator}",
                                 header.get("K", "C"))
    seconds = float(wholes) * 4 * 60 / tempo
    if seconds > LIMITS.max_seconds:
        raise RenderError(
            f"the tune lasts about {seconds / 60:.0f} minutes at {tempo} beats a minute "
            f"(at most {LIMITS.max_seconds / 60:.0f})"
        )
    if wholes == 0:
        raise RenderError("the tune has no notes")

    lines = ["X:1"]
    if meter is not None:
        lines.append(f"M:{meter}")
    lines.append(f"L:{unit.numerator}/{unit.denominator}")
    lines.append(f"Q:1/4={tempo}")
    lines.extend(f"V:{value}" for name, value in tune.headers if name == "V")
    lines.append(f"K:{header.get('K', 'C')}")
    return Prepared("\n".join(lines + body) + "\n", tempo, seconds, bars, notes)


def _scan_body(body: list[str], meter: str | None, unit: Fraction) -> tuple[Fraction, int, list[str]]:
    """(whole notes played with repeats, bar count, cleaned body lines); RenderError on a bound."""
    bar_length = (parse_meter(meter) if meter else None) or Fraction(1)
    total = section = Fraction(0)
    bars = count = 0
    out: list[str] = []

    def field_value(name: str, value: str) -> str | None:
        """Check an M:/L:/Q: field inside the music; the value to keep (None drops it)."""
        nonlocal unit, bar_length
        if name == "M":
            value = _clean_meter(value)
            bar_length = parse_meter(value) or Fraction(1)
        elif name == "L":
            unit = _clean_unit(value)
            value = f"{unit.numerator}/{unit.denominator}"
        elif name == "Q":
            _tempo_from_q(value)  # bounds only: the whole tune plays at one tempo
            return None
        return value

    for line in body:
        match = _FIELD.match(line)
        if match and not line.startswith("|"):
            value = field_value(match.group(1), line[2:])
            if value is not None:
                out.append(f"{match.group(1)}:{value}")
            continue

        # One pass over the line's elements (the notation package's tokenizer): inline fields
        # are checked in order with the notes around them, as L: changes lengths.
        kept: list[str] = []
        last = 0
        accidentals = ""  # accidentals just before a note beyond the one the tokenizer reads (`^^^C`)
        for tok in tokenize(line):
            if tok.kind == "text":
                accidentals = tok.text[len(tok.text.rstrip("^_=")):]
                continue
            run, accidentals = accidentals, ""
            if tok.kind == "inline":
                name, _, value = tok.text[1:].rstrip("]").partition(":")
                kept.append(line[last:tok.start])
                last = tok.end
                value = field_value(name, value)
                if value is not None:
                    kept.append(f"[{name}:{value}]")
                continue
            if tok.kind == "bar":
                bars += 1
                if bars > LIMITS.max_bars:
                    raise RenderError(f"the tune has more than {LIMITS.max_bars} bars")
                if tok.text.startswith(":"):  # end of a repeat: play the section again
                    total += section
                    section = Fraction(0)
                if tok.text.rstrip("0123456789,-").endswith(":"):
                    section = Fraction(0)
                continue
            if tok.inside == "chord":
                _check_pitch(run + tok.text, tok.text)
                continue
            if tok.inside or tok.kind not in ("note", "chord", "rest", "multirest"):
                continue  # grace notes, chord symbols, decorations: no time
            if tok.kind == "chord":
                inner = list(NOTE.finditer(tok.text))
                if not inner:
                    continue  # `[]`: nothing sounds
                closed = tok.text.rfind("]")
                length = _length(inner[0].group("len"), tok.text) * _length(tok.text[closed + 1:] if closed > 0 else "", tok.text) * unit
            elif tok.kind == "multirest":  # Z4 is four bars
                length = int(tok.text[1:] or 1) * bar_length
            else:
                if tok.kind == "note":
                    _check_pitch(run + tok.text, tok.text)
                length = _length(tok.text.lstrip("^_=zxABCDEFGabcdefg,'"), tok.text) * unit
                if length > LIMITS.max_note_wholes:
                    raise RenderError(
                        f"note {tok.text!r} lasts {float(length):g} whole notes "
                        f"(at most {LIMITS.max_note_wholes})"
                    )
            count += 1
            if count > LIMITS.max_notes:
                raise RenderError(f"the tune has more than {LIMITS.max_notes:,} notes")
            total += length
            section += length
        kept.append(line[last:])
        out.append("".join(kept))
    return total, bars, out


# --- tools -----------------------------------------------------------------------------------


def find_soundfont() -> Path:
    """The General MIDI soundfont: soundfonts/*.sf2 first, then the system's; RenderError if none."""
    for place in SOUNDFONT_SEARCH:
        candidates = sorted(place.glob("*.sf2")) if place.is_dir() else [place]
        for path in candidates:
            if path.is_file() and _is_sf2(path):
                return path
    raise RenderError(
        "no General MIDI soundfont found: put an .sf2 file in soundfonts/ or install "
        "Debian's fluid-soundfont-gm"
    )


def _is_sf2(path: Path) -> bool:
    # A RIFF 'sfbk' header: rejects empty files and Git LFS pointers named *.sf2.
    try:
        with path.open("rb") as handle:
            head = handle.read(12)
    except OSError:
        return False
    return head[:4] == b"RIFF" and head[8:12] == b"sfbk"


def _fluidsynth() -> str:
    path = shutil.which(FLUIDSYNTH)
    if path is None:
        raise RenderError(f"{FLUIDSYNTH} is not installed (Debian package fluidsynth)")
    return path


@lru_cache(maxsize=1)
def ogg_encoder() -> tuple[str, ...] | None:
    """Command template ({src}, {dst}) that writes an OGG Vorbis file, or None without an encoder."""
    sox = shutil.which("sox")
    if sox:
        # Debian's sox writes OGG through libsox-fmt-base; check rather than assume.
        help_text = subprocess.run([sox, "-h"], capture_output=True, text=True, timeout=10).stdout
        formats = re.search(r"AUDIO FILE FORMATS:(.*)", help_text)
        if formats and "ogg" in formats.group(1).split():
            return (sox, "-q", "{src}", "-C", "4", "{dst}")
    oggenc = shutil.which("oggenc")
    if oggenc:
        return (oggenc, "-Q", "-q", "4", "-o", "{dst}", "{src}")
    ffmpeg = shutil.which("ffmpeg")
    if ffmpeg:
        return (ffmpeg, "-loglevel", "error", "-y", "-i", "{src}", "-c:a", "libvorbis", "{dst}")
    return None


# --- the child process -----------------------------------------------------------------------


class _Server:
    """One long-lived process with music21 imported; it forks a child for each render request.

    multiprocessing's forkserver would do the same, but its children re-import the caller's
    __main__ (app.py with gradio and torch) on every request.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._proc: subprocess.Popen | None = None
        self._socket_path: str | None = None

    def connect(self, timeout_s: float) -> socket.socket:
        """A connection to the server, (re)starting it first if needed."""
        for _ in range(2):
            with self._lock:
                if self._proc is None or self._proc.poll() is not None:
                    self._start()
                path = self._socket_path
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            sock.settimeout(timeout_s)
            try:
                sock.connect(path)
                return sock
            except (FileNotFoundError, ConnectionRefusedError):
                sock.close()
                with self._lock:  # the server died since we checked: start a new one once
                    if self._proc is not None and self._socket_path == path:
                        self._proc.kill()
                        self._proc.wait()
        raise RenderError("cannot reach the render server")

    def _start(self) -> None:
        _remove_dead_sockets()
        folder = tempfile.mkdtemp(prefix=_SOCKET_PREFIX)
        path = os.path.join(folder, "server.sock")
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO_DIR), env.get("PYTHONPATH")) if p)
        # One BLAS thread: the children do no linear algebra, and idle BLAS threads cost
        # address space under RLIMIT_AS.
        env.update(OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
        # stdin stays open: the server exits when it reads EOF, i.e. when this process ends.
        # Its own session: a signal to our process group (Ctrl-C) does not kill it mid-request;
        # it sees EOF on stdin when we are gone and cleans up.
        proc = subprocess.Popen(
            [sys.executable, "-m", "bot.render_worker", path],
            stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, env=env, cwd=str(REPO_DIR),
            start_new_session=True,
        )
        deadline = time.monotonic() + 60
        while not os.path.exists(path):
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                raise RenderError(f"the render server did not start (exit code {proc.poll()})")
            time.sleep(0.02)
        if self._proc is None:
            atexit.register(self.stop)
        self._proc, self._socket_path = proc, path

    def stop(self) -> None:
        """Stop the server (requests in flight finish on their own limits)."""
        with self._lock:
            proc, self._proc = self._proc, None
            if proc is not None and proc.poll() is None:
                proc.stdin.close()
                try:
                    proc.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
            if self._socket_path:  # normally gone already: the server removes it on exit
                shutil.rmtree(os.path.dirname(self._socket_path), ignore_errors=True)


_SERVER = _Server()  # started by the first render, not at import
_SOCKET_PREFIX = "abc-bot-render-"


def _remove_dead_sockets() -> None:
    """Remove socket folders of servers that were killed (SIGKILL leaves them no chance)."""
    for folder in Path(tempfile.gettempdir()).glob(_SOCKET_PREFIX + "*"):
        try:
            if folder.stat().st_uid != os.getuid():
                continue
            pid = int((folder / "server.pid").read_text())
        except (OSError, ValueError):
            continue  # not ours, or a server still starting
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            shutil.rmtree(folder, ignore_errors=True)
        except PermissionError:
            pass


CANCEL_POLL_S = 0.05  # how often a waiting render looks at its cancel event


def _run_child(job: dict, timeout_s: float, cancel: threading.Event | None = None) -> dict:
    """Send one job to a forked child and wait for its result; kill its process group on
    timeout or when `cancel` is set (RenderStopped)."""
    sock = _SERVER.connect(timeout_s)
    deadline = time.monotonic() + timeout_s + 2.0  # the child enforces timeout_s itself first
    pid = None
    try:
        sock.sendall(json.dumps(job).encode() + b"\n")
        sock.shutdown(socket.SHUT_WR)
        data = b""
        while True:
            # The child sends its pid first thing: until then there is nothing to kill yet.
            if cancel is not None and cancel.is_set() and pid is not None:
                _kill_group(pid)
                raise RenderStopped("the render was stopped")
            left = deadline - time.monotonic()
            if left <= 0:
                _kill_group(pid)
                raise RenderError(f"rendering took longer than {timeout_s:g} s and was stopped")
            sock.settimeout(min(left, CANCEL_POLL_S) if cancel is not None else left)
            try:
                chunk = sock.recv(65536)
            except (socket.timeout, TimeoutError):
                continue
            if not chunk:
                break
            data += chunk
            if pid is None and b"\n" in data:
                first, data = data.split(b"\n", 1)
                pid = int(first)
    finally:
        sock.close()
    if cancel is not None and cancel.is_set():
        raise RenderStopped("the render was stopped")
    try:
        return json.loads(data)
    except ValueError:  # nothing or half a message: the child died (memory limit, CPU limit, crash)
        _kill_group(pid)
        raise RenderError("the renderer stopped without a result (out of memory or crashed)") from None


def _kill_group(pid: int | None, wait_s: float = 1.0) -> None:
    # The child leads its own process group, so this also ends its FluidSynth or abc2midi.
    if pid is None:
        return
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        return
    # SIGKILL lands when the kernel next schedules each process (a FluidSynth in the middle of
    # a large write takes a few milliseconds): wait until the group is gone, so that a stopped
    # render has really given its core back when this returns.
    deadline = time.monotonic() + wait_s
    while time.monotonic() < deadline:
        try:
            os.killpg(pid, 0)
        except (ProcessLookupError, PermissionError):
            return
        time.sleep(0.005)


# --- render ----------------------------------------------------------------------------------

_STEM = re.compile(r"[A-Za-z0-9_-]{1,64}")


def render(
    abc: str, out_dir: Path, settings: RenderSettings = RenderSettings(), stem: str = "tune",
    cancel: threading.Event | None = None,
) -> Rendered:
    """Render one ABC tune to out_dir/{stem}.mid, .wav and (with an encoder) .ogg; RenderError if
    not. Setting `cancel` kills the render within CANCEL_POLL_S (RenderStopped), leaving no files."""
    if not _STEM.fullmatch(stem):
        raise ValueError(f"stem {stem!r} must be 1-64 letters, digits, '_' or '-'")
    fluidsynth = _fluidsynth()
    soundfont = Path(settings.soundfont) if settings.soundfont is not None else find_soundfont()
    if not soundfont.is_file() or not _is_sf2(soundfont):
        raise RenderError(f"soundfont {soundfont} is missing or is not an .sf2 file")
    instrument = settings.instrument.strip().lower()
    if instrument not in INSTRUMENTS:
        raise RenderError(
            f"unknown instrument {settings.instrument!r}; choose one of: {', '.join(INSTRUMENTS)}"
        )
    accompaniment = None
    if settings.accompaniment is not None:
        accompaniment = str(settings.accompaniment).strip().lower()
        if accompaniment not in INSTRUMENTS:
            raise RenderError(
                f"unknown accompaniment instrument {settings.accompaniment!r}; choose one of: "
                f"{', '.join(ACCOMPANIMENT_INSTRUMENTS)} (or any of: {', '.join(INSTRUMENTS)})"
            )
    if not settings.timeout_s > 0:
        raise ValueError(f"timeout_s must be positive, not {settings.timeout_s!r}")
    prepared = prepare_tune(abc, settings.tempo)

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    token = secrets.token_hex(4)
    # Partial files carry the real extension (sox picks the format by it) and are renamed
    # into place only when the child succeeds.
    # abc: abc2midi's input, if it comes to that; cmd: FluidSynth's start-up commands.
    kinds = ("abc", "mid", "cmd", "raw", "wav", "ogg")
    part = {kind: out_dir / f".{stem}.{token}.part.{kind}" for kind in kinds}
    encoder = ogg_encoder() if settings.compress else None
    job = {
        "abc": prepared.text,
        "tempo": prepared.tempo,
        "program": INSTRUMENTS[instrument],
        "fluidsynth": fluidsynth,
        "abc2midi": shutil.which(ABC2MIDI),
        "soundfont": str(soundfont),
        "chorus": needs_chorus(soundfont, INSTRUMENTS[instrument]) or (
            accompaniment is not None and needs_chorus(soundfont, INSTRUMENTS[accompaniment])),
        "accompaniment": INSTRUMENTS[accompaniment] if accompaniment is not None else None,
        "sample_rate": settings.sample_rate,
        "max_seconds": LIMITS.max_seconds,
        "timeout_s": settings.timeout_s,
        "memory_bytes": settings.memory_mb * 2**20,
        "file_bytes": settings.max_file_mb * 2**20,
        "encoder": list(encoder) if encoder else None,
        "paths": {kind: str(path) for kind, path in part.items()},
    }
    try:
        result = _run_child(job, settings.timeout_s, cancel)
        if not result.get("ok"):
            raise RenderError(result.get("error") or "rendering failed")
        final = {kind: out_dir / f"{stem}.{kind}" for kind in ("mid", "wav", "ogg")}
        os.replace(part["mid"], final["mid"])
        os.replace(part["wav"], final["wav"])
        compressed = None
        if result.get("compressed"):
            os.replace(part["ogg"], final["ogg"])
            compressed = final["ogg"]
    finally:
        for path in part.values():
            path.unlink(missing_ok=True)
    return Rendered(
        midi=final["mid"], wav=final["wav"], compressed=compressed, seconds=result["seconds"],
        sample_rate=settings.sample_rate,
        notes=prepared.notes + result["notes"], tempo=prepared.tempo, engine=result["engine"],
        timings=result["timings"],
    )


def musicxml(abc: str, out: Path, timeout_s: float = 30.0) -> Path:
    """Write one ABC tune to `out` as MusicXML (music21's writer: the score MuseScore opens, its
    chord symbols as harmony); RenderError saying why not. It runs in a render child, with the
    same bounds and limits as a render, as music21 may take long over a hostile tune."""
    if not timeout_s > 0:
        raise ValueError(f"timeout_s must be positive, not {timeout_s!r}")
    prepared = prepare_tune(abc)  # its text drops the title: the child puts it back
    title = next((line[2:].strip() for line in abc.splitlines() if line.startswith("T:")), "")
    out = Path(out)
    part = out.with_name(f".{out.stem}.{secrets.token_hex(4)}.part.musicxml")
    job = {
        "kind": "musicxml", "abc": prepared.text, "title": title[:200], "timeout_s": timeout_s,
        "memory_bytes": RenderSettings().memory_mb * 2**20, "file_bytes": 64 * 2**20,
        "paths": {"xml": str(part)},
    }
    try:
        result = _run_child(job, timeout_s)
        if not result.get("ok"):
            raise RenderError(result.get("error") or "the MusicXML could not be written")
        os.replace(part, out)
    finally:
        part.unlink(missing_ok=True)
    return out


def main(argv: list[str] | None = None) -> int:
    """Command line: render one ABC file to WAV (and MIDI); prints one line, non-zero exit on failure."""
    parser = argparse.ArgumentParser(description="Render an ABC tune to audio (music21 + FluidSynth).")
    parser.add_argument("abc", type=Path, help="ABC file (the first tune in it is rendered)")
    parser.add_argument("wav", type=Path, help="WAV file to write")
    parser.add_argument(
        "--tempo", type=int, default=None,
        help="quarter notes a minute (default: the tune's Q:, else a pace for its R: rhythm)",
    )
    parser.add_argument(
        "--instrument", default=DEFAULT_INSTRUMENT,
        help=f"one of: {', '.join(INSTRUMENTS)} (default {DEFAULT_INSTRUMENT})",
    )
    parser.add_argument(
        "--accompaniment", default=None,
        help=f"play the tune's chord symbols on this instrument too ({', '.join(ACCOMPANIMENT_INSTRUMENTS)}); "
             "default: melody only",
    )
    parser.add_argument("--midi", type=Path, default=None, help="also write the MIDI file here")
    args = parser.parse_args(argv)
    try:
        try:
            data = args.abc.read_bytes()
        except OSError as err:
            raise RenderError(f"{args.abc}: cannot read ({err.strerror})") from None
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            text = data.decode("latin-1")  # older collections, music21's own included
        settings = RenderSettings(tempo=args.tempo, instrument=args.instrument, compress=False,
                                  accompaniment=args.accompaniment)
        with tempfile.TemporaryDirectory(prefix="abc-bot-cli-") as tmp:
            done = render(text, Path(tmp), settings)
            shutil.move(done.wav, args.wav)
            if args.midi is not None:
                shutil.move(done.midi, args.midi)
    except RenderError as err:
        print(f"render: {err}", file=sys.stderr)
        return 1
    repairs = f" ({'; '.join(done.notes)})" if done.notes else ""
    print(f"wrote {args.wav}: {done.seconds:.1f} s at {done.tempo} BPM, {args.instrument}{repairs}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
