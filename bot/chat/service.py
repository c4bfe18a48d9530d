"""The bot as a service: many people's replies on a small machine (admission, the batched
LSTM, render slots), the streamed reply of a written tune, warm-up and health, /compose.

(Over 400 lines: the reply's stream holds the admission, cancel and render-slot state its steps
share; `bot.chat.reply` and `bot.chat.play` hold the words and the given-tune requests.)"""

from __future__ import annotations

import logging
import math
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
from bot.chat.intent import Intent, Session, interpret, title_for, with_title
from bot.chat.options import OUTPUTS_DIR, ChatError, Options
from bot.chat.play import Player, with_accompaniment
from bot.chat.reply import (
    BUSY, REGENERATED, Reply, bot_message, card_data, code_block, done_headline, final_text, mark_new, our_failure,
    plain_notes, refusal, text_of, tune_link, user_text, writing_headline,
)
from bot.checkpoint import load_cached
from bot.compute import ComputeError, inference_path
from bot.engine import BatchEngine
from bot.generate import Settings, compose
from bot.longest_first import LongestFirst
from bot.notation.transpose import transpose_tune
from bot.prompt import PromptError, instrument_in
from bot.render import LONG_RENDER_COST, RenderError, RenderSettings, prepare_tune, render
from bot.stepper import stepper_for
from bot.web import cards
from bot.web.limits import trim_history
from bot.web.text import check_text
from bot.web.names import tune_stem
from bot.web.quota import DEFAULT_QUOTA_BYTES, OutputsQuota

log = logging.getLogger(__name__)


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


@dataclass
class ChatConfig:
    """How the chat serves many people on a small machine."""

    outputs: Path = OUTPUTS_DIR  # per-request folders go here
    max_age_s: float = 3600.0  # outputs older than this are deleted
    # The outputs folder's total size: past it the oldest request folders go (bot.web.quota).
    outputs_quota_bytes: int = DEFAULT_QUOTA_BYTES
    batch: bool = True  # step all tunes being written together in one batched LSTM step
    max_active: int = 16  # tunes written at once (the batched LSTM step serves them together)
    max_waiting: int = 16  # requests that may wait for a free place; beyond this: "busy"
    # Audio renders at once: one per core plus one, so a core never waits while a render starts
    # its processes or reads its files (bench/load.py, 16 users, alternating runs: p95 to
    # audio 3.12 and 3.08 s with 2, 2.93 and 3.04 s with 3).
    render_slots: int = 3
    # Estimated seconds of work (Prepared.cost) a job may have to use the last render slot: a
    # tune just written (16-32 bars: 0.5-1.5) or a PDF never waits behind a flood of long renders.
    short_render_cost: float = LONG_RENDER_COST
    # Sample rate of a render made while anyone else waits (None: always the render's own,
    # 44.1 kHz). At 32 kHz a render costs 11-15% less CPU and its WAV is 27% smaller; what is
    # lost lies above 16 kHz, where these tunes hold -45 to -50 dB of their energy (fiddle,
    # accordion, bagpipes) or less than -75 dB (whistle, flute, piano): bench/busy_rate.py.
    busy_sample_rate: int | None = 32_000
    min_interval_s: float = 0.15  # least time between two streamed updates (one person alone)
    busy_writers: int = 4  # beyond this many tunes at once, updates slow down in proportion
    poll_s: float = 0.25  # how often a waiting reply checks for Stop / a closed tab


class Chat(Player):
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
        # The longest tune first, within each session's share; one slot kept for short jobs.
        self._renders = LongestFirst(config.render_slots, name="render", short_cost=config.short_render_cost)
        self._renders_in_flight = 0  # submitted and not yet finished (waiting or running)
        self._engine: BatchEngine | None = None  # made with the model, on first use
        self._last_clean = -math.inf
        self.clean()
        self._quota = OutputsQuota(config.outputs, config.outputs_quota_bytes)  # oldest freed first

    # -- housekeeping -----------------------------------------------------------------------

    def clean(self) -> int:
        """Delete outputs older than the configured age (at most once a minute)."""
        now = time.time()
        with self._lock:
            if now - self._last_clean < 60:
                return 0
            self._last_clean = now
        removed = clean_outputs(self.config.outputs, self.config.max_age_s, now)
        quota = getattr(self, "_quota", None)  # made after the first clean, in __init__
        if removed and quota is not None:
            quota.rescan()
        return removed

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
        text = text_of(last["content"]) if last and last["role"] == "assistant" else ""
        if cancelled or (last and last["role"] == "user") or text.split("\n", 1)[0].endswith("…"):
            return [*history, bot_message("Stopped.")]
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
            stage = "making a test link (the links' prior, about a second)"
            links.TuneLink(abc="X:1\nK:C\nCDEF|]\n").to_query()
            stage = "transposing a test tune (music21)"
            transpose_tune("X:1\nK:C\nCDEF|]\n", 2)  # its music21 import, before the first card's transpose
            stage = "making test audio (music21, FluidSynth)"
            render("X:1\nM:4/4\nL:1/4\nK:C\nCDEF|]\n", folder, RenderSettings(compress=False))
        except Exception as err:
            log.exception("warm-up failed while %s", stage)
            self._warm = f"failed while {stage}"  # the exception is in the log, not in /health
        else:
            self._warm = "ready"
        finally:
            shutil.rmtree(folder, ignore_errors=True)

    def health(self) -> dict:
        """Whether the bot can answer: `ready` only after a warm-up that passed; the compute path;
        and, when the warm-up failed, what failed."""
        warm = self._warm
        try:
            path = inference_path().name  # the path's name only: no CPU features or versions
        except ComputeError as err:
            log.error("no compute path: %s", err)
            path, warm = "none", "failed: no way to run the model on this machine"
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
        history = trim_history(history) + [{"role": "user", "content": user_text(message or "")}]
        try:
            if isinstance(options, ChatError):
                raise options
            check_text(message or "", "message", ChatError)
            intent = interpret(message, session, options)
            intent.regenerated = regenerated
        except ChatError as err:
            yield refusal(history, session, str(err))
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
            yield refusal(history, session, BUSY)
            return
        try:
            waiting = Reply(history + [bot_message("Waiting for a free place (other tunes are being written)…")],
                            session, session.abc or "")
            while not self._slots.acquire(timeout=self.config.poll_s):
                if cancel.is_set():
                    return
                yield waiting
            try:
                if intent.kind == "play":
                    yield from self._play_reply(intent, history, session, options, owner=session_id)
                else:
                    yield from self._write(intent, history, session, options, cancel, owner=session_id)
            finally:
                self._slots.release()
        finally:
            with self._lock:
                self._admitted -= 1
                if session_id and self._cancels.get(session_id) is cancel:
                    del self._cancels[session_id]

    def _write(self, intent: Intent, history: list[dict], session: Session, options: Options,
               cancel: threading.Event, owner: str | None = None) -> Iterator[Reply]:
        asked = instrument_in(intent.prompt)
        if asked:  # "a reel for whistle": written in its range and played on it, whatever the page's
            options = replace(options, instrument=asked)
        headline = writing_headline(intent, options)
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
                        shown = mark_new(update.abc, update.new_from) if intent.continues else update.abc
                        live = cards.card_html({"abc": update.abc, "live": True})
                        # The score last: in view as the chat scrolls.
                        text = f"{headline}\n\n{code_block(shown)}\n\n{live}"
                        yield Reply(history + [bot_message(text)], session, update.abc)
            finally:
                stream.close()  # frees the generator's place in the batched LSTM step
                with self._lock:
                    self._generating -= 1
            if update is None or cancel.is_set():
                return

            stage = "saving the tune"
            title = title_for(intent, session, update.abc)
            # A continued paste comes back as the person wrote it: no title written into it.
            tune = update.abc if intent.kind == "paste" else with_title(update.abc, title)
            prompt = session.prompt if intent.kind == "continue" else intent.prompt
            pasted = intent.prompt if intent.kind == "paste" else session.pasted
            session = Session(abc=update.abc, prompt=prompt or "", seed=update.seed, title=title, pasted=pasted,
                              titles=(*session.titles, title))
            folder.mkdir(parents=True)
            abc_path = folder / f"{tune_stem(tune)}.abc"  # downloads are named for the tune
            abc_path.write_text(tune)
            headline = done_headline(title, options, update, continued=intent.continues)
            if intent.regenerated:
                headline += f" {REGENERATED}"
            live = cards.card_html({"abc": tune, "live": True})
            making = f"Making the audio…\n\n{headline}\n\n{code_block(tune)}\n\n{live}"
            working = Reply(history + [bot_message(making)], session, update.abc)
            yield working

            notes = list(update.notices)
            rendered, audio_error = None, None
            settings = options.render_settings()
            sounded = tune
            try:
                # Chords go into the new bars only: the pasted bars are heard with their own.
                sounded = with_accompaniment(tune, settings, fill_from=update.new_from if intent.kind == "paste" else None)
                if sounded != tune:  # the file offered for download is the one that sounds
                    abc_path.write_text(sounded)
                for rendered in self._render(sounded, folder, settings, cancel, owner):
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
                notes += plain_notes(rendered.notes)
                if rendered.sample_rate < settings.sample_rate:  # shed under load (_render_now): say so
                    notes.append(f"the audio is at {rendered.sample_rate / 1000:g} kHz, not "
                                 f"{settings.sample_rate / 1000:g}, as the server was busy")
            # With an accompaniment the tune's chords are part of it from here on: in the text
            # shown, the card, the downloads, the link and what /compose returns.
            self._counted(folder)
            stage = "making the tune's card"
            link = tune_link(intent, options, update.seed, sounded)
            card = card_data(sounded, abc_path, rendered, settings, link, title)
            text = final_text(headline, card, sounded, notes)
            finished = True
            yield Reply(history + [bot_message(text)], session, update.abc, done=True, tune=sounded, audio=audio,
                        link=link, form=update.form, audio_error=audio_error,
                        seed=update.seed, style=update.style)
        except PromptError as err:
            yield refusal(history, session, f"Sorry, I can't use that: {err}")
        except Exception as err:  # the page must stay usable whatever goes wrong underneath
            yield refusal(history, session, our_failure(stage, err))
        finally:
            if not finished:
                shutil.rmtree(folder, ignore_errors=True)

    def _update_interval(self) -> float:
        """Seconds between streamed updates: longer when many tunes are written at once, as
        every update costs the server time that the tunes themselves need."""
        crowd = self._generating / self.config.busy_writers
        return self.config.min_interval_s * max(1.0, crowd)

    def _render_now(self, abc: str, folder: Path, settings: RenderSettings, stop: threading.Event,
                    owner: str | None = None):
        """One render on a render worker thread, in room held for it in the outputs quota
        (`owner`'s share of it); setting `stop` kills it."""
        with self._lock:
            busy = self._renders_in_flight > 1 or self._generating > 0  # anyone but this one
        if busy:
            # Shed work while anyone else waits for audio or a tune: the top of the spectrum
            # (busy_sample_rate). The OGG stays: it is what the page plays, and a long tune's
            # only audio file within RenderSettings.max_bytes.
            if self.config.busy_sample_rate is not None:
                settings = replace(settings, sample_rate=min(settings.sample_rate, self.config.busy_sample_rate))
        # Room in the outputs quota first: whatever renders at once, the folder stays under it.
        if not self._quota.make_room(settings.max_bytes, owner):
            with self._lock:
                self._renders_in_flight -= 1
            raise RenderError("the server has no room for more audio just now (every file it keeps "
                              "is still being fetched); try again in a minute")
        try:
            return render(abc, folder, settings, tune_stem(abc), cancel=stop)
        finally:
            self._quota.add(folder, held=settings.max_bytes, owner=owner)
            with self._lock:
                self._renders_in_flight -= 1

    def _render(self, abc: str, folder: Path, settings: RenderSettings,
                cancel: threading.Event, owner: str | None = None) -> Iterator:
        """Render in a worker (render_slots at once, `owner`'s share of them: bot.longest_first),
        yielding None while it runs, then the result."""
        with self._lock:
            self._renders_in_flight += 1
        stop = threading.Event()
        try:
            cost = prepare_tune(abc, settings.tempo).cost  # the music's length and its notes, graces too
        except RenderError:
            cost = 0.0  # the render itself fails at once, with the same message
        job: Future = self._renders.submit(cost, self._render_now, abc, folder, settings, stop, owner, owner=owner)
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
        path or None, {"form", "audio_error", "seed", "style"}).

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
                # The audio named from the server's working folder: no server path in the answer.
                audio = Path(cards.served_path(step.audio)) if step.audio is not None else None
                yield step.tune, audio, step.info()
            elif step.abc and step.abc != sent:
                sent = step.abc
                yield step.abc, None, None
