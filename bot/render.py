"""ABC text -> MIDI -> audio: bound the tune, then parse and synthesise it in a child process.

(Over 400 lines: the parent's side of one protocol: bounds, the worker's start, its socket, its
kill on cancel and the outputs' byte limits share the same request state.)

    prepare_tune(abc, tempo)     fast bounds check in this process (no music21, no FluidSynth)
    render(abc, out_dir)         -> Rendered(midi, wav, compressed, seconds, notes)
    python -m bot.render IN.abc OUT.wav [--tempo BPM] [--instrument NAME] [--midi OUT.mid]

The music21 parse, the MIDI repairs, FluidSynth and the audio clean-up run in bot.render_worker,
in a child process forked per request from a small server that has music21 already imported
(a fresh interpreter would spend ~0.5 s importing it, more than the whole render should take).
The child runs under a timeout and memory, CPU and file-size limits, in its own process group
so that a timed-out request is killed together with its FluidSynth.

The bounds check (prepare_tune, LIMITS, RenderError) lives in bot.render_bounds and is
re-exported here.
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
from functools import lru_cache
from pathlib import Path

# The bounds check has its own module; its names are the renderer's too.
from bot.render_bounds import (  # noqa: F401
    DEFAULT_TEMPO, DEFAULT_TEMPOS, LIMITS, Limits, Prepared, RenderError, prepare_tune,
)

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


# Estimated seconds of work (Prepared.cost) beyond which a render is long, and the niceness
# it then runs at (the service's short render slot takes jobs up to the same cost).
LONG_RENDER_COST = 2.0
LONG_RENDER_NICE = 10


class RenderStopped(RenderError):
    """The caller's cancel event was set: the render was killed and its files removed."""


@dataclass(frozen=True)
class RenderSettings:
    """How to render one tune (frozen: the default instance is shared by every call)."""

    tempo: int | None = None  # quarter notes a minute; None: the tune's Q:, else DEFAULT_TEMPOS
    instrument: str = DEFAULT_INSTRUMENT  # a key of INSTRUMENTS
    timeout_s: float = 60.0  # parse + synthesis + OGG; 10 minutes of music took 20 s on 2 busy cores
    memory_mb: int = 1024  # address-space limit (RLIMIT_AS) of the child and its FluidSynth
    # Bytes one render may leave on disk, all files together (MIDI, OGG, WAV): a 41-character
    # tune of ten minutes made a 99.7 MB WAV. The OGG the page plays comes first (ten minutes
    # is about 10 MB); the WAV download is written only while it fits (about 100 s of music).
    max_bytes: int = 20_000_000
    max_file_mb: int = 20  # RLIMIT_FSIZE of the child: no one file past this, whatever goes wrong
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
    wav: Path | None  # None for a tune whose WAV would not fit RenderSettings.max_bytes
    compressed: Path | None  # OGG copy for the browser, None without an encoder
    seconds: float  # audio duration
    sample_rate: int = 44_100  # Hz, of the WAV and the OGG
    notes: list[str] = field(default_factory=list)  # repairs applied, in order
    tempo: int = DEFAULT_TEMPO  # quarter notes a minute actually used
    engine: str = "music21"  # what made the MIDI: "music21" or "abc2midi"
    timings: dict[str, float] = field(default_factory=dict)  # seconds per step in the child


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
# Characters XML 1.0 cannot hold (music21 would write them and MuseScore refuse the file).
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


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
        "max_bytes": settings.max_bytes,
        # A long render runs at a lower CPU priority: on two cores busy with minutes of music, a
        # tune just written still gets its audio in about a second (bench/render_flood.py).
        "nice": LONG_RENDER_NICE if prepared.cost > LONG_RENDER_COST else 0,
        "encoder": list(encoder) if encoder else None,
        "paths": {kind: str(path) for kind, path in part.items()},
    }
    try:
        result = _run_child(job, settings.timeout_s, cancel)
        if not result.get("ok"):
            raise RenderError(result.get("error") or "rendering failed")
        final = {kind: out_dir / f"{stem}.{kind}" for kind in ("mid", "wav", "ogg")}
        os.replace(part["mid"], final["mid"])
        if result.get("wav", True):
            os.replace(part["wav"], final["wav"])
        else:
            final["wav"] = None
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
    composer = next((line[2:].strip() for line in abc.splitlines() if line.startswith("C:")), "")
    out = Path(out)
    part = out.with_name(f".{out.stem}.{secrets.token_hex(4)}.part.musicxml")
    job = {
        "kind": "musicxml", "abc": prepared.text, "title": _CONTROL.sub("", title)[:200],
        "composer": _CONTROL.sub("", composer)[:200], "timeout_s": timeout_s,
        "memory_bytes": RenderSettings().memory_mb * 2**20, "file_bytes": RenderSettings().max_file_mb * 2**20,
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
        # A WAV of any length the command line asks for (the server's byte budget is for the page).
        settings = RenderSettings(tempo=args.tempo, instrument=args.instrument, compress=False,
                                  accompaniment=args.accompaniment, max_bytes=1 << 40, max_file_mb=1024)
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
