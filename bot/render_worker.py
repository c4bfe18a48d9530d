"""The render child: ABC -> MIDI (music21, repaired, abc2midi last) -> FluidSynth -> clean audio.

(Over 400 lines: the child's side of one protocol, run in a forked process that imports
music21 once; its repairs of music21's readings each need the score it is building.)

`python -m bot.render_worker SOCKET` runs the server that bot.render starts: it imports music21
once, listens on a Unix socket and forks one child per connection. The child leads its own
process group, sets its resource limits, reads one JSON job, and answers with its pid (so the
parent can kill the group) and then one JSON result. Nothing here is imported by the app.

Why one file of ~780 lines: it is the one program the render server runs, under one set of
limits, and its steps (MIDI from music21 or abc2midi, the MIDI's repairs, FluidSynth, the audio's
clean-up, MusicXML) share the job and its deadline. The first split, if it grows, is the MIDI
repairs (tidy_midi and the tick helpers) into a module of their own.
"""

from __future__ import annotations

import ctypes
import json
import os
import re
import resource
import select
import shlex
import signal
import socket
import subprocess
import sys
import time
import wave
from pathlib import Path

from midi2audio import FluidSynth

from bot.notation.form import explicit_repeats
from bot.notation.chords import parse_chord_symbol
from bot.notation.tokens import tokenize, without

PEAK_DBFS = -1.0  # loudness target: FluidSynth's default gain leaves the peak near -27 dBFS
TAIL_S = 1.0  # audio kept after the last note ends; FluidSynth renders reverb for seconds more
FADE_S = 0.5  # fade-out at the very end, inside the tail, so the cut never clicks
SILENCE = 1e-5  # a peak below this (-100 dBFS) is no audio at all
WARM_UP = "X:1\nM:6/8\nL:1/8\nQ:1/4=120\nK:D\n|:A|d2e f2d|[1e3 d2:|[2e3 d3|]\n"
# The MIDI track name of the accompaniment part (bot.accompaniment.PART_NAME, kept equal by a test).
ACCOMPANIMENT_TRACK = b"Accompaniment"


class JobError(Exception):
    """A render that failed for a reason the user should read (sent back as the error line)."""


class Deadline(BaseException):
    """The job's time ran out: raised by the alarm signal wherever the child is.

    A BaseException, so that no `except Exception` (ours or music21's) swallows it.
    """


# --- MIDI ------------------------------------------------------------------------------------


ABC_VERSION = "%abc-2.1\n"


def _music21_score(text: str):
    from music21 import converter, stream

    # music21's ABC reader beams every part, which only matters on paper: about a quarter of
    # the MIDI step's time. Skipped, the MIDI is byte for byte the same (166 tunes, 16
    # generated and 150 from the corpus; tests/test_render.py checks a few). Restored after,
    # as tests call this in their own process.
    make_beams = stream.Stream.makeBeams
    stream.Stream.makeBeams = _no_beams
    try:
        # The version line makes music21 read ABC 2.1, where an accidental holds to the end of
        # the bar (`^F G F` is F#, G, F#) as abc2midi, abcjs and the tunes' writers read it;
        # without it music21 reads ABC 1.x and plays the second F natural.
        return converter.parseData(ABC_VERSION + text, format="abc")
    finally:
        stream.Stream.makeBeams = make_beams


def _no_beams(self, *args, **kwargs):
    return self if not kwargs.get("inPlace") else None


def _dedupe_conductor_marks(score) -> int:
    """Keep one copy of each time/key signature and tempo mark object; the number removed.

    music21's ABC reader can put one TimeSignature object into several measures; MIDI export
    then fails with "StreamException: the object ... is already found in this Stream" (about
    8% of the corpus).
    """
    from music21 import key, meter, tempo

    marks = (meter.TimeSignature, key.KeySignature, tempo.MetronomeMark)
    seen: set[int] = set()
    removed = 0
    for container in list(score.recurse(streamsOnly=True, includeSelf=True)):
        for element in list(container.getElementsByClass(marks)):
            if id(element) in seen:
                container.remove(element)
                removed += 1
            else:
                seen.add(id(element))
    return removed


def _strip_repeats(score) -> None:
    """Turn repeat bar lines, first/second endings and D.C./segno marks into plain music."""
    from music21 import bar, repeat, spanner, stream

    for measure in score.recurse().getElementsByClass(stream.Measure):
        if isinstance(measure.leftBarline, bar.Repeat):
            measure.leftBarline = None
        if isinstance(measure.rightBarline, bar.Repeat):
            measure.rightBarline = bar.Barline("regular")
    marks = (spanner.RepeatBracket, repeat.RepeatExpression)
    for container in list(score.recurse(streamsOnly=True, includeSelf=True)):
        for element in list(container.getElementsByClass(marks)):
            container.remove(element)


def _to_midi(score, in_place: bool = False):
    """music21's MIDI for `score`. in_place: let the repeat expansion take the score's own
    measures instead of a deep copy of them, which leaves the score fit only for _strip_repeats
    and another _to_midi."""
    from music21 import repeat
    from music21.midi import translate

    if not in_place:
        return translate.streamToMidiFile(score)
    # MIDI export expands repeats, and music21's Expander first deep-copies every measure so
    # the score survives it: about a sixth of the MIDI step. Without the copy (the Expander's
    # own deepcopy=False), the MIDI was byte for byte the same for 1,200 tunes (1,000 from the
    # corpus, 200 generated, 12 of them through the fallback after it).
    # Restored after, as tests call this in their own process.
    process = repeat.Expander.process

    def without_copy(self, deepcopy: bool = True):
        return process(self, deepcopy=False)

    repeat.Expander.process = without_copy
    try:
        return translate.streamToMidiFile(score)
    finally:
        repeat.Expander.process = process


def midi_seconds(midi_file) -> tuple[float, int]:
    """(seconds until the last note ends, number of notes) of a music21 MidiFile, tempo map included."""
    last_tick = notes = 0
    for track in midi_file.tracks:
        for tick, event in timed_events(track):
            if event.isNoteOn() or event.isNoteOff():
                last_tick = max(last_tick, tick)
                notes += event.isNoteOn()
    return tick_seconds(midi_file)(last_tick), notes


def tick_seconds(midi_file):
    """A function from a tick of a music21 MidiFile to seconds, its tempo changes included."""
    from music21.midi import MetaEvents

    tpq = midi_file.ticksPerQuarterNote
    tempos = sorted((tick, int.from_bytes(event.data, "big")) for track in midi_file.tracks
                    for tick, event in timed_events(track) if event.type == MetaEvents.SET_TEMPO)

    def seconds(target: int) -> float:
        total, at, us = 0.0, 0, 500_000  # MIDI's default tempo is 120 quarter notes a minute
        for tick, new_us in tempos:
            if tick >= target:
                break
            total += (tick - at) / tpq * us / 1e6
            at, us = tick, new_us
        return total + (target - at) / tpq * us / 1e6

    return seconds


def timed_events(track) -> list[tuple[int, object]]:
    """(absolute tick, event) for each event of a music21 MidiTrack, delta times folded in."""
    tick, timed = 0, []
    for event in track.events:
        if event.isDeltaTime():
            tick += event.time
        else:
            timed.append((tick, event))
    return timed


def _set_timed_events(track, timed: list[tuple[int, object]]) -> None:
    from music21.midi import DeltaTime

    events, last = [], 0
    for tick, event in timed:
        events += [DeltaTime(track, time=tick - last, channel=event.channel), event]
        last = tick
    track.events = events


def tidy_midi(midi_file, program: int, accompaniment: int | None = None) -> int:
    """Set the instrument, drop zero-length notes and end every note with the music; notes dropped.

    - every melodic channel plays General MIDI `program`, set at its start, except the track of
      the accompaniment part (bot.accompaniment.PART_NAME), which plays `accompaniment`; drums on channel 10
      keep their kit, and get the standard kit (program 0) at the start when the file names
      none, as FluidSynth selects no instrument by itself (BoundedFluidSynth);
    - a zero-length note (music21 writes grace notes as a note-off and then a note-on of one
      pitch at one tick) is removed: left in, its note-on would sound to the end of the tune;
    - "all notes off" when the last note ends and "all sound off" TAIL_S later: FluidSynth
      renders until every voice is silent, so one stuck note would fill the disk.
    """
    from music21.midi import ChannelVoiceMessages, MetaEvents, MidiEvent

    end_tick = 0
    tempo_us = 500_000
    for track in midi_file.tracks:
        for tick, event in timed_events(track):
            if event.isNoteOn() or event.isNoteOff():
                end_tick = max(end_tick, tick)
            elif event.type == MetaEvents.SET_TEMPO and tick <= end_tick:
                tempo_us = int.from_bytes(event.data, "big")
    tail_ticks = int(TAIL_S * 1e6 / tempo_us * midi_file.ticksPerQuarterNote)

    dropped = 0
    for track in midi_file.tracks:
        timed = timed_events(track)
        track_program = program
        if accompaniment is not None and any(
                e.type == MetaEvents.SEQUENCE_TRACK_NAME and e.data == ACCOMPANIMENT_TRACK for _, e in timed):
            track_program = accompaniment
        zero: set[int] = set()
        active: dict[tuple[int, int], int] = {}
        orphan: dict[tuple[int, int], tuple[int, int]] = {}  # (channel, pitch) -> (tick, index)
        for i, (tick, event) in enumerate(timed):
            if not (event.isNoteOn() or event.isNoteOff()):
                continue
            key = (event.channel, event.pitch)
            if event.isNoteOff():
                if active.get(key, 0):
                    active[key] -= 1
                else:  # an off with no note sounding: the first half of a zero-length note
                    orphan[key] = (tick, i)
            elif orphan.get(key, (-1, -1))[0] == tick:
                zero.update((orphan.pop(key)[1], i))
                dropped += 1
            else:
                active[key] = active.get(key, 0) + 1
        timed = [item for i, item in enumerate(timed) if i not in zero]
        channels = sorted({e.channel for _, e in timed if e.isNoteOn()})
        kit = next((e.data for _, e in timed if e.type == ChannelVoiceMessages.PROGRAM_CHANGE and e.channel == 10), 0)
        for _, event in timed:
            if event.type == ChannelVoiceMessages.PROGRAM_CHANGE and event.channel != 10:
                event.data = track_program
        if not channels:
            _set_timed_events(track, timed)
            continue
        head, tail = [], []
        for channel in channels:
            change = MidiEvent(track, type=ChannelVoiceMessages.PROGRAM_CHANGE, channel=channel)
            change.data = kit if channel == 10 else track_program
            head.append((0, change))
            for tick, controller in ((end_tick, 123), (end_tick + tail_ticks, 120)):
                control = MidiEvent(track, type=ChannelVoiceMessages.CONTROLLER_CHANGE, channel=channel)
                control.parameter1, control.parameter2 = controller, 0
                tail.append((tick, control))
        body = [item for item in timed if item[1].type != MetaEvents.END_OF_TRACK]
        end = [item for item in timed if item[1].type == MetaEvents.END_OF_TRACK]
        merged = sorted(body + tail, key=lambda item: item[0])  # stable: tail after same-tick notes
        last = merged[-1][0] if merged else 0
        _set_timed_events(track, head + merged + [(max(last, tick), e) for tick, e in end])
    return dropped


def _abc2midi(job: dict, deadline: float) -> "object":
    """The MIDI file abc2midi writes for the tune (read back with music21); JobError if none."""
    binary = job["abc2midi"]
    if not binary:
        raise JobError("abc2midi is not installed")
    paths = job["paths"]
    abc_path = paths["abc"]
    # Chord symbols are text in music21's rendering; abc2midi would play them as an
    # accompaniment, so drop quoted strings for a like-for-like result.
    text = without(job["abc"], {"quote"})
    Path(abc_path).write_text(text, encoding="latin-1", errors="replace")  # abc2midi reads bytes
    try:
        result = subprocess.run(
            [binary, abc_path, "1", "-o", paths["mid"], "-silent", "-NGUI"],
            capture_output=True, text=True, errors="replace",
            timeout=max(0.1, deadline - time.monotonic()),
        )
    finally:
        os.unlink(abc_path)
    if not os.path.exists(paths["mid"]) or os.path.getsize(paths["mid"]) == 0:
        lines = (result.stdout + result.stderr).strip().splitlines()
        last = lines[-1] if lines else f"exit code {result.returncode}"
        raise JobError(f"abc2midi wrote no MIDI ({last})")
    return read_midi(paths["mid"])


def read_midi(path: str):
    """A MIDI file, read into a music21 MidiFile."""
    from music21 import midi

    midi_file = midi.MidiFile()
    midi_file.open(str(path))
    midi_file.read()
    midi_file.close()
    return midi_file


def write_midi(midi_file, path: str) -> None:
    """Write a music21 MidiFile to `path`."""
    midi_file.open(str(path), "wb")
    midi_file.write()
    midi_file.close()


def _reason(err: BaseException) -> str:
    text = str(err).splitlines()[0] if str(err) else ""
    return f"{type(err).__name__}: {text[:100]}" if text else type(err).__name__


def text_repairs(text: str, err: Exception) -> list[tuple[str, str]]:
    """(repair note, repaired ABC) to try in order after music21 failed to read `text`.

    First drop the token music21's message names (`cannot handle tuplet of form: '(0'`), then
    try the music with its ornaments, tuplet marks, slurs, endings and annotations removed.
    """
    head, sep, body = text.partition("\nK:")
    key_line, _, music = body.partition("\n")
    rebuild = lambda new_music: f"{head}{sep}{key_line}\n{new_music}"  # noqa: E731
    repairs = []
    named = re.search(r"'([^'\n]{1,20})'", str(err))
    if named and named.group(1).strip() and named.group(1) in music:
        repairs.append((f"dropped {named.group(1)!r}", rebuild(music.replace(named.group(1), ""))))
    # Annotations, decorations and graces go; tuplet marks too (their notes play at full
    # length), and first and second ending numbers.
    kept = []
    for tok in tokenize(music):
        if tok.inside or tok.kind in ("quote", "deco", "grace", "tuplet", "variant"):
            continue
        kept.append(tok.text.rstrip("0123456789,-") if tok.kind == "bar" else tok.text)
    simple = "".join(kept)
    simple = re.sub(r"[()~.y]|[HLMOPSTuv](?=[_^=A-Ga-g\[])", "", simple)  # slurs, one-letter ornaments, spacers
    simple = re.sub(r"/{3,}", "//", simple)
    if simple != music:
        repairs.append(("played without ornaments, tuplets, slurs and endings", rebuild(simple)))
    return repairs


def _score_midi(score, notes: list[str], max_seconds: float, unheard_chords: bool = False):
    """MIDI for a parsed score: repeats expanded, else played once as written.

    The duplicate marks are removed from every score and not listed as a repair: the music
    is unchanged, only music21's export is spared a crash.
    """
    _dedupe_conductor_marks(score)
    # music21 writes grace notes as zero-length notes, which tidy_midi removes: say so. (It
    # reads chord symbols with no length too, but a melody-only render reads the tune without
    # them, and with an accompaniment they are its own part's notes.)
    if any(note.duration.isGrace for note in score.recurse().notes):
        notes.append("grace notes not played (music21 gives them no length)")
    if unheard_chords:
        notes.append("chord symbols not played (choose an accompaniment to hear them)")
    try:
        midi_file = _to_midi(score, in_place=True)
        seconds, _ = midi_seconds(midi_file)
        if seconds <= max_seconds:
            return midi_file
        failure = f"expanded, the repeats last {seconds / 60:.0f} minutes"
    except MemoryError:
        raise
    except Exception as err:  # music21 raises many types (ExpanderException, StreamException, ...)
        failure = _reason(err)
    _strip_repeats(score)
    midi_file = _to_midi(score)
    notes.append(f"rendered without expanding repeats ({failure})")
    return midi_file


def make_midi(job: dict, deadline: float) -> tuple[object, list[str], str]:
    """(music21 MidiFile, repairs, engine) for the job's tune, trying each fallback in turn.

    1. music21, repeats expanded; 2. music21 with repeats played as written (badly formed
    repeats raise ExpanderException); 3. if music21 cannot read the text, the same after
    text_repairs; 4. abc2midi, which reads much that music21 cannot. Every step after the
    first is named in the repairs, so the chain stays visible.
    """
    head, key_line, body = job["abc"].partition("\nK:")
    key_value, newline, music = body.partition("\n")
    # A part repeated without its `|:` goes back to the last `:|`, as abcjs draws and plays it
    # (music21 alone would go back to the tune's start).
    music = explicit_repeats(music)
    accompaniment = job.get("accompaniment")
    unheard_chords = False
    if accompaniment is None:
        # Melody only: no quoted string sounds, and music21 drops the note after a `">text"`
        # annotation (`">"A2` loses its A), so the music is read without them.
        unheard_chords = any(tok.kind == "quote" and parse_chord_symbol(tok.text.strip('"')) is not None
                             for tok in tokenize(music))
        music = without(music, {"quote"})
    text = head + key_line + key_value + newline + music
    if accompaniment is not None:
        from bot.accompaniment import music21_text

        text = music21_text(text)  # chord symbols spelled as music21 reads them, annotations out
    notes: list[str] = []
    score = None
    try:
        score = _music21_score(text)
    except MemoryError:  # the limit, not the tune: no fallback would fit either
        raise
    except Exception as err:  # ABCHandlerException, ABCTokenException, ValueError, ...
        failure = f"music21 could not read the tune: {_reason(err)}"
        for note, repaired in text_repairs(text, err):
            try:
                score = _music21_score(repaired)
            except MemoryError:
                raise
            except Exception:
                continue
            notes.append(f"{note} ({failure})")
            break
    if score is not None:
        if accompaniment is not None:
            from bot.accompaniment import add_accompaniment

            if not add_accompaniment(score, accompaniment):
                notes.append("no chord symbols to accompany")
        try:
            return _score_midi(score, notes, job["max_seconds"], unheard_chords), notes, "music21"
        except MemoryError:
            raise
        except Exception as err:
            failure = f"music21 could not write MIDI: {_reason(err)}"
            notes = []
    try:
        midi_file = _abc2midi(job, deadline)
    except (JobError, OSError, subprocess.SubprocessError) as err:
        raise JobError(f"{failure}; {err}") from None
    notes.append(f"MIDI made by abc2midi ({failure})")
    if accompaniment is not None:
        notes.append("no accompaniment (abc2midi made the MIDI)")
    return midi_file, notes, "abc2midi"


# --- audio -----------------------------------------------------------------------------------


class BoundedFluidSynth(FluidSynth):
    """midi2audio's FluidSynth with midi2audio's command line plus what a server needs.

    midi2audio runs `fluidsynth -ni SF MIDI -F OUT -r RATE` through subprocess.call: no timeout
    and the exit code ignored (a bad soundfont gives a silent WAV). This subclass runs the same
    command with a timeout, raw float output (normalised later without 16-bit rounding), quiet
    logging, larger write blocks, on-demand sample loading (FluidR3_GM loads in 0.1 s and 45 MB
    instead of 0.3 s and 170 MB) and the soundfont loaded by a start-up command that selects no
    instrument, and raises JobError on failure. Resource limits come from the child process,
    which FluidSynth inherits.
    """

    def __init__(self, binary: str, sound_font: str, sample_rate: int, timeout_s: float,
                 chorus: bool = True, command_file: str | None = None) -> None:
        super().__init__(sound_font, sample_rate)
        self.binary = binary
        self.timeout_s = timeout_s
        self.chorus = chorus  # off only where the preset sends nothing to it (render.needs_chorus)
        self.command_file = command_file  # where to write FluidSynth's start-up commands

    def midi_to_samples(self, midi_file: str, fifo: str, max_frames: int):
        """The float32 stereo samples (frames, 2) of midi_file, read from FluidSynth through the
        named pipe `fifo`: ten minutes of float stereo is 212 MB, which never touches the disk.
        JobError when FluidSynth would write more than `max_frames` (it is killed at once)."""
        import numpy as np

        samples = np.empty((max_frames, 2), dtype=np.float32)
        view = memoryview(samples).cast("B")
        os.mkfifo(fifo, 0o600)
        got = 0
        try:
            command_file = self.command_file or fifo + ".cmd"
            with open(command_file, "w") as commands:
                commands.write(f"load {shlex.quote(self.sound_font)} 0\n")
            proc = subprocess.Popen(
                self._command(command_file, midi_file, fifo), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                env={**os.environ, "SDL_AUDIODRIVER": "dummy"},
            )
            deadline = time.monotonic() + self.timeout_s
            # Non-blocking: opening a FIFO for reading would wait for a writer that may never come.
            fd = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
            opened = False  # FluidSynth has the FIFO open (until then an empty read is not EOF)
            try:
                while True:
                    if time.monotonic() > deadline:
                        proc.kill()
                        raise JobError(f"FluidSynth took longer than {self.timeout_s:.1f} s")
                    ready, _, _ = select.select([fd], [], [], 0.05)
                    if not ready:
                        if proc.poll() is not None and not opened:
                            break  # it ended without writing (a failure, told below)
                        continue
                    if got >= len(view):
                        proc.kill()
                        raise JobError("the audio would be longer than the tune (FluidSynth kept sounding)")
                    try:
                        n = os.readv(fd, [view[got:]])
                    except BlockingIOError:
                        continue
                    if n == 0:
                        if opened or proc.poll() is not None:
                            break
                        time.sleep(0.005)
                        continue
                    opened = True
                    got += n
            finally:
                os.close(fd)
            try:
                output, _ = proc.communicate(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                proc.kill()
                raise JobError(f"FluidSynth took longer than {self.timeout_s:.1f} s") from None
            os.unlink(command_file)
        finally:
            os.unlink(fifo)
        text = output.decode("utf-8", "replace")
        if proc.returncode != 0 or "loaded SoundFont has ID" not in text:
            lines = text.strip().splitlines()
            raise JobError(f"FluidSynth failed ({lines[-1] if lines else f'exit code {proc.returncode}'})")
        return samples[: got // 8]

    def midi_to_audio(self, midi_file: str, audio_file: str) -> None:
        """Write raw 32-bit float stereo samples for midi_file to audio_file.

        Every channel that plays must select its instrument (tidy_midi sees to it).
        """
        # A soundfont named on the command line is loaded with a reset that selects piano on
        # every channel and the drum kit on channel 10, and on-demand loading then reads their
        # samples: about 20 ms of each render, for instruments a tune does not play. Loaded by
        # the "load FILE 0" command instead, it selects nothing, and the player must not reset
        # the synth either. Only the MIDI's own program changes load samples.
        command_file = self.command_file or audio_file + ".cmd"
        with open(command_file, "w") as commands:  # a file: FluidSynth reads no commands from a pipe
            commands.write(f"load {shlex.quote(self.sound_font)} 0\n")
        try:
            self._run(command_file, midi_file, audio_file)
        finally:
            os.unlink(command_file)

    def _command(self, command_file: str, midi_file: str, audio_file: str) -> list[str]:
        return [
            # -z 2048: bigger write blocks render a 30 s tune in 0.21 s instead of 0.31 s with
            # the same samples (events are still timed per 64-sample synth block).
            self.binary, "-ni", "-q", "-z", "2048", "-o", "synth.dynamic-sample-loading=1",
            "-o", f"synth.chorus.active={int(self.chorus)}",
            "-o", "synth.default-soundfont=", "-o", "player.reset-synth=0", "-f", command_file,
            "-T", "raw", "-O", "float", "-r", str(self.sample_rate), "-F", audio_file, midi_file,
        ]

    def _run(self, command_file: str, midi_file: str, audio_file: str) -> None:
        command = self._command(command_file, midi_file, audio_file)
        try:
            result = subprocess.run(
                command, capture_output=True, text=True, errors="replace", timeout=self.timeout_s,
                # FluidSynth starts SDL2's audio at launch even when it only writes a file, and
                # SDL's ALSA hotplug thread sleeps 100 ms at a time: FluidSynth could not exit
                # before the sleep ended, so every render idled 0-100 ms (a 15 s tune took 0.11 or
                # 0.21 s in turn). SDL's dummy driver has no such thread; the samples are the same.
                env={**os.environ, "SDL_AUDIODRIVER": "dummy"},
            )
        except subprocess.TimeoutExpired:
            raise JobError(f"FluidSynth took longer than {self.timeout_s:.1f} s") from None
        if result.returncode == -signal.SIGXFSZ:
            raise JobError("the audio would be larger than the file-size limit")
        if result.returncode != 0 or not os.path.exists(audio_file):
            lines = (result.stderr or result.stdout).strip().splitlines()
            last = lines[-1] if lines else f"exit code {result.returncode}"
            limit = resource.getrlimit(resource.RLIMIT_AS)[0]
            if "Failed to create the synthesizer" in last and limit != resource.RLIM_INFINITY:
                # Its allocations failed under the child's address-space limit (_limit): whether
                # music21 or FluidSynth runs out first depends on what the worker had loaded.
                raise JobError(f"FluidSynth could not get the memory it needs within {limit // 2**20} MB ({last})")
            raise JobError(f"FluidSynth failed ({last})")
        if "loaded SoundFont has ID" not in result.stdout:  # the "load" command says so, even with -q
            raise JobError(f"FluidSynth could not load the soundfont {self.sound_font}")


def finish_audio(samples, sample_rate: int, music_seconds: float):
    """Cut the reverb tail, normalise the peak to PEAK_DBFS and fade out; int16 stereo frames.

    `samples` is float32 of shape (frames, 2); JobError when it holds no sound.
    """
    import numpy as np

    keep = min(len(samples), int(round((music_seconds + TAIL_S) * sample_rate)))
    samples = samples[:keep]
    peak = float(np.max(np.abs(samples))) if len(samples) else 0.0
    if peak < SILENCE:
        raise JobError("the tune made no sound")
    # In place: ten minutes of float stereo is 212 MB, and the child runs under RLIMIT_AS.
    samples *= np.float32(10 ** (PEAK_DBFS / 20) / peak * 32767)
    fade = min(len(samples), int(FADE_S * sample_rate))
    if fade:
        samples[-fade:] *= np.linspace(1.0, 0.0, fade, dtype=np.float32)[:, None]
    np.rint(samples, out=samples)
    return samples.astype(np.int16)


def encode(template: list[str], frames, sample_rate: int, out: str, timeout_s: float) -> bool:
    """Compress int16 stereo `frames` to `out` with the encoder command `template` ({src},
    {dst}), fed through a pipe (no WAV on disk first); True when it wrote a non-empty file."""
    src = ["-t", "raw", "-e", "signed-integer", "-b", "16", "-c", "2", "-r", str(sample_rate), "-"]
    command = []
    for part in template:
        if part == "{src}":
            if not os.path.basename(template[0]).startswith("sox"):
                return False  # only sox reads raw samples from a pipe with these options
            command += src
        else:
            command.append(part.format(dst=out))
    data = frames if sys.byteorder == "little" else frames.byteswap()
    try:
        result = subprocess.run(command, input=memoryview(data).cast("B"), capture_output=True, timeout=timeout_s)
    except subprocess.TimeoutExpired:
        return False
    return result.returncode == 0 and os.path.exists(out) and os.path.getsize(out) > 0


def write_wav(path: str, frames, sample_rate: int) -> None:
    """16-bit PCM WAV of int16 frames shaped (frames, channels)."""
    import numpy as np

    with wave.open(path, "wb") as out:
        out.setnchannels(frames.shape[1])
        out.setsampwidth(2)
        out.setframerate(sample_rate)
        data = frames if sys.byteorder == "little" else frames.byteswap()  # WAV is little-endian
        out.writeframes(memoryview(np.ascontiguousarray(data)).cast("B"))


def run_job(job: dict) -> dict:
    """Do one render job in this (already limited) process; the result dict sent to the parent."""
    if job.get("kind") == "musicxml":
        return write_musicxml(job)
    import numpy as np

    deadline = time.monotonic() + job["timeout_s"]
    paths = job["paths"]
    clock = [time.perf_counter()]
    timings: dict[str, float] = {}

    def lap(name: str) -> None:
        now = time.perf_counter()
        timings[name] = now - clock[0]
        clock[0] = now

    midi_file, notes, engine = make_midi(job, deadline)
    tidy_midi(midi_file, job["program"], job.get("accompaniment"))
    music_seconds, count = midi_seconds(midi_file)
    if count == 0:
        raise JobError("the tune has no notes to play")
    if music_seconds > job["max_seconds"]:
        raise JobError(
            f"the tune lasts {music_seconds / 60:.0f} minutes (at most {job['max_seconds'] / 60:.0f})"
        )
    write_midi(midi_file, paths["mid"])
    lap("midi")

    rate = job["sample_rate"]
    left = max(0.1, deadline - time.monotonic())
    synth = BoundedFluidSynth(job["fluidsynth"], job["soundfont"], rate, left, job.get("chorus", True),
                              command_file=paths["cmd"])
    # Frames FluidSynth may write: the music, its tail (tidy_midi silences everything TAIL_S
    # after the last note) and a margin for the reverb's last block.
    max_frames = int((music_seconds + TAIL_S + 5.0) * rate)
    samples = synth.midi_to_samples(paths["mid"], paths["raw"], max_frames)
    lap("fluidsynth")
    frames = finish_audio(samples, rate, music_seconds)
    del samples
    lap("audio")

    # Every byte this request leaves on disk counts against job["max_bytes"] (default none):
    # the MIDI, then the compressed copy the page plays, then the WAV only if it still fits.
    budget = job.get("max_bytes") or float("inf")
    used_bytes = os.path.getsize(paths["mid"])
    compressed = False
    if job["encoder"]:
        compressed = encode(job["encoder"], frames, rate, paths["ogg"], max(0.1, deadline - time.monotonic()))
        if compressed:
            used_bytes += os.path.getsize(paths["ogg"])
        else:
            notes.append("no OGG copy (the encoder failed)")
        lap("encode")
    wav_bytes = 44 + frames.nbytes
    if not compressed and wav_bytes > job["file_bytes"]:  # said before writing, not as an EFBIG half-way
        raise JobError("the audio would be larger than the file-size limit")
    wrote_wav = used_bytes + wav_bytes <= budget and wav_bytes <= job["file_bytes"]
    if wrote_wav:
        write_wav(paths["wav"], frames, rate)
    elif not compressed:
        raise JobError(f"the audio would be {wav_bytes / 1e6:.0f} MB, more than the "
                       f"{budget / 1e6:.0f} MB one tune's audio may take")
    else:
        notes.append(f"no WAV download for a tune this long (it would be {wav_bytes / 1e6:.0f} MB); "
                     "the compressed audio is the download")
    # CPU seconds of this child and what it ran (FluidSynth, sox): the cost without the wait
    # for a busy machine's cores.
    used = [resource.getrusage(who) for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)]
    timings["cpu"] = sum(usage.ru_utime + usage.ru_stime for usage in used)
    return {
        "ok": True, "seconds": len(frames) / rate, "notes": notes,
        "engine": engine, "compressed": compressed, "wav": wrote_wav, "timings": timings,
    }


def write_musicxml(job: dict) -> dict:
    """The tune as MusicXML at paths["xml"] (job: abc, title); JobError when music21 cannot read it."""
    from music21 import converter, metadata

    try:
        # With music21's beams (unlike the MIDI's parse): a score is read on paper.
        score = converter.parseData(ABC_VERSION + job["abc"], format="abc")
    except Exception as err:
        raise JobError(f"music21 cannot read this tune ({_reason(err)})") from None
    from music21.musicxml.m21ToXml import GeneralObjectExporter

    if score.metadata is None:
        score.metadata = metadata.Metadata()
    score.metadata.title = job.get("title") or None
    # The composer only from the tune's own C: line: without one, music21 writes "Music21".
    score.metadata.composer = job.get("composer") or None
    text = GeneralObjectExporter(score).parse().decode("utf-8")
    if not job.get("composer"):
        text = re.sub(r'\s*<creator type="composer">Music21</creator>', "", text)
    # The file says abc-bot wrote it, not which music21 version (no tool versions go out).
    text = re.sub(r"<software>[^<]*</software>", "<software>abc-bot</software>", text)
    with open(job["paths"]["xml"], "w", encoding="utf-8") as out:
        out.write(text)
    return {"ok": True}


# --- the server and its children -------------------------------------------------------------


def _limit(job: dict) -> None:
    """Resource limits for this child and everything it starts (FluidSynth inherits them)."""
    memory, size = job["memory_bytes"], job["file_bytes"]
    cpu = int(job["timeout_s"]) + 2
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    resource.setrlimit(resource.RLIMIT_FSIZE, (size, size))
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu))  # also ends a child whose parent is gone
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    if job.get("nice"):  # a long render yields the cores to short ones (FluidSynth and sox inherit it)
        os.nice(int(job["nice"]))
    # An oversized write then raises OSError here instead of killing the process; subprocess
    # restores the default for FluidSynth, which dies with SIGXFSZ and is reported as such.
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)


def _on_alarm(signum, frame):
    raise Deadline()


def _child(conn: socket.socket) -> None:
    """One request: announce our pid, read the job, run it under limits, send the result."""
    conn.sendall(f"{os.getpid()}\n".encode())
    data = b""
    while not data.endswith(b"\n"):
        chunk = conn.recv(65536)
        if not chunk:
            break
        data += chunk
    job = json.loads(data)
    import warnings

    warnings.simplefilter("ignore")  # music21 warns on odd ABC; the notes list says what matters
    try:
        try:
            _limit(job)
            signal.signal(signal.SIGALRM, _on_alarm)
            signal.setitimer(signal.ITIMER_REAL, job["timeout_s"])
            result = run_job(job)
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
    except Deadline:
        error = f"rendering took longer than {job['timeout_s']:g} s and was stopped"
        result = {"ok": False, "error": error}
    except JobError as err:
        result = {"ok": False, "error": str(err)}
    except MemoryError:
        megabytes = job["memory_bytes"] // 2**20
        result = {"ok": False, "error": f"rendering needed more than {megabytes} MB of memory"}
    except Exception as err:  # anything else is a bug or a tool failure: report it, never hang
        result = {"ok": False, "error": f"rendering failed ({_reason(err)})"}
    conn.sendall(json.dumps(result).encode())


def serve(socket_path: str) -> None:
    """Preload music21, then fork a limited child for each connection until stdin closes."""
    import numpy  # noqa: F401  (preloaded so every child starts warm)

    import bot.accompaniment  # noqa: F401  (the accompaniment's tokenizer and patterns, also preloaded)

    # One small tune through the whole MIDI path: music21 builds caches on first use (0.25 s),
    # and every forked child inherits them.
    score = _music21_score(WARM_UP)
    _dedupe_conductor_marks(score)
    midi_seconds(_to_midi(score))

    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # children are reaped by the kernel
    try:
        # Orphans of a killed child (its FluidSynth) are re-parented here and reaped too.
        ctypes.CDLL(None, use_errno=True).prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER
    except (OSError, AttributeError):
        pass
    # SIGTERM and SIGHUP end the loop like EOF does, so the socket's folder is removed.
    signal.signal(signal.SIGTERM, _on_stop)
    signal.signal(signal.SIGHUP, _on_stop)
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    tmp_path = socket_path + ".tmp"
    try:
        listener.bind(tmp_path)
        os.chmod(tmp_path, 0o600)
        listener.listen(128)
        pid_path = os.path.join(os.path.dirname(socket_path), "server.pid")
        Path(pid_path).write_text(str(os.getpid()))  # lets a later parent find a dead folder
        os.rename(tmp_path, socket_path)  # the parent waits for this name: we are ready
        _accept_loop(listener)
    except KeyboardInterrupt:
        pass
    finally:
        listener.close()
        for path in (socket_path, tmp_path, os.path.join(os.path.dirname(socket_path), "server.pid")):
            if os.path.exists(path):
                os.unlink(path)
        try:
            os.rmdir(os.path.dirname(socket_path))
        except OSError:
            pass


def _on_stop(signum, frame):
    raise KeyboardInterrupt


def _accept_loop(listener: socket.socket) -> None:
    """Fork a child per connection until stdin reaches EOF (the parent has gone)."""
    stdin = sys.stdin.buffer
    while True:
        ready, _, _ = select.select([listener, stdin], [], [])
        if stdin in ready and not os.read(stdin.fileno(), 4096):
            return
        if listener not in ready:
            continue
        conn, _ = listener.accept()
        pid = os.fork()
        if pid == 0:
            code = 0
            try:
                listener.close()
                os.setpgid(0, 0)
                for signum in (signal.SIGTERM, signal.SIGHUP, signal.SIGCHLD):
                    signal.signal(signum, signal.SIG_DFL)  # subprocess waits for its children
                # music21 prints parser warnings itself; the result message carries what matters.
                devnull = os.open(os.devnull, os.O_WRONLY)
                os.dup2(devnull, 1)
                os.dup2(devnull, 2)
                _child(conn)
            except BaseException:
                code = 1
            finally:
                os._exit(code)
        conn.close()


if __name__ == "__main__":
    serve(sys.argv[1])
