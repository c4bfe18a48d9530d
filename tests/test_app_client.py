"""The running app through gradio_client: the /compose stream, its final ABC, audio and info;
/play with good and bad tunes; refusals."""

from __future__ import annotations

import json
import re
import subprocess
import wave
from pathlib import Path

import numpy as np
import pytest
from gradio_client import Client

from test_play import REEL  # 16 bars with repeats and first and second endings

ROOT = Path(__file__).resolve().parent.parent


def audio_samples(path: Path) -> np.ndarray:
    """Mono float samples of a WAV or (via sox) an OGG file."""
    if path.suffix == ".wav":
        with wave.open(str(path)) as audio:
            data = np.frombuffer(audio.readframes(audio.getnframes()), dtype="<i2")
        return data.astype(np.float32) / 32768
    raw = subprocess.run(["sox", str(path), "-t", "raw", "-e", "floating-point", "-b", "32", "-c", "1", "-"],
                         capture_output=True, check=True).stdout
    return np.frombuffer(raw, dtype=np.float32)


def test_compose_streams_growing_abc_and_ends_with_a_tune_and_its_audio(app_url, tmp_path):
    from music21 import converter

    client = Client(app_url, verbose=False, download_files=str(tmp_path))
    outputs = list(client.submit("a jig in D", 1.0, 8, 3, api_name="/compose"))
    streamed = [abc for abc, audio, info in outputs[:-1]]
    assert len(streamed) >= 2
    assert all(b.startswith(a) for a, b in zip(streamed, streamed[1:]))  # updates only grow
    assert all(audio is None and info is None for _, audio, info in outputs[:-1])

    final_abc, audio, info = outputs[-1]
    # 8 bars make no whole jig, so the tune takes a jig's usual form; the form is the plan's, not the model's.
    assert info["seed"] == 3 and info["audio_error"] is None
    assert info["form"] == "AABB: two 8-bar parts, each played twice"
    # The collection whose manner it is in: one the shipped model learned jigs from (its card's counts).
    card = json.loads((ROOT / "checkpoints" / "abc_lstm.json").read_text())
    assert info["style"] in {tag for tag, n in card["styles"]["counts"]["jig"].items() if n > 0}
    # A standalone file: number and a title in the tradition's manner added, never the prompt's words.
    title = final_abc.split("\n")[1]
    assert final_abc.startswith("X:1\nT:") and len(title) > 3
    assert not {"jig", "d"} & set(re.findall(r"[a-z]+", title[2:].lower()))
    assert [line for line in final_abc.splitlines() if not line.startswith("T:")] == streamed[-1].splitlines()
    score = converter.parseData(final_abc, format="abc")
    assert len(score.flatten().notes) >= 8

    samples = audio_samples(Path(audio))
    assert len(samples) > 8000 and float(np.sqrt(np.mean(samples**2))) > 0.01  # not silence


def test_same_seed_gives_the_same_tune(app_url):
    first = Client(app_url, verbose=False).predict("a reel in G", 1.0, 4, 11, api_name="/compose")
    again = Client(app_url, verbose=False).predict("a reel in G", 1.0, 4, 11, api_name="/compose")
    assert first[0] == again[0]


@pytest.mark.parametrize("prompt, says", [("x" * 50_000, "characters"), ("V:1\nV:2\nK:C\nabc|", "several voices")])
def test_a_bad_prompt_returns_a_message(app_url, prompt, says):
    client = Client(app_url, verbose=False)
    with pytest.raises(Exception, match=says):
        client.predict(prompt, 1.0, 8, 1, api_name="/compose")


def test_the_chat_answers_follow_ups_with_a_message(app_url):
    client = Client(app_url, verbose=False)
    steps = list(client.submit(
        "continue", [], 1.0, 8, None, True, 0, "Auto", "Auto", 0, "fiddle", "Off", api_name="/chat",
    ))
    history, _, seed = steps[-1]
    texts = [part["text"] for m in history for part in m["content"] if part.get("type") == "text"]
    assert texts[0] == "continue" and "no tune to continue" in texts[-1]
    assert any(box == "" for _, box, _ in steps)  # the message box was cleared on the way
    assert seed == {"__type__": "update"}  # no tune, no seed: the Seed box is left as it was


def test_play_renders_a_given_tune_moved_with_its_audio_midi_and_pdf(app_url, tmp_path):
    client = Client(app_url, verbose=False, download_files=str(tmp_path))
    abc, audio, midi, pdf = client.predict(REEL, 5, 120, "flute", api_name="/play")
    assert "\nK:G\n" in abc and "T:Test reel" in abc  # D moved up a fourth
    samples = audio_samples(Path(audio))
    assert len(samples) > 8000 and float(np.sqrt(np.mean(samples**2))) > 0.01
    assert Path(midi).read_bytes()[:4] == b"MThd" and Path(pdf).read_bytes()[:4] == b"%PDF"
    same, *_ = client.predict(REEL, 0, 0, "fiddle", api_name="/play")
    assert same == REEL  # as given: nothing moved, nothing added


@pytest.mark.parametrize("args, says", [
    ((REEL, 13, 0, "fiddle"), "from -12 to 12"),
    ((REEL, 0, 999, "fiddle"), "Tempo must be between"),
    ((REEL.replace("gege gege", "gege g/0ege"), 0, 0, "fiddle"), r"divided by zero \(line 8, column 18\)"),
    (("", 0, 0, "fiddle"), "no tune to play"),
])
def test_play_with_bad_input_says_why(app_url, args, says):
    client = Client(app_url, verbose=False)
    with pytest.raises(Exception, match=says):
        client.predict(*args, api_name="/play")


# An 8-bar repeated A part with no R: line, as people paste one (tests/test_continue.py's).
REEL_A = ("X:1\nT:The Bird in the Bush\nM:4/4\nL:1/8\nK:G\n"
          "|:GABc dBGB|ABcA BGEG|GABc dBGB|AGFA G2FG|\nGABc dBGB|ABcA BGEG|Bdgd edBG|AGFA G4:|\n")


@pytest.mark.parametrize("accompaniment", ["guitar", "Off"])
def test_compose_continues_a_paste_giving_it_back_byte_for_byte(app_url, accompaniment):
    abc, _, info = Client(app_url, verbose=False).predict(REEL_A, 1.0, 16, 4, accompaniment, api_name="/compose")
    assert abc.startswith(REEL_A)  # headers included: no T:, R: or chord written into it
    assert info["form"] == "AABB: two 8-bar parts, each played twice"
    assert ('"' in abc[len(REEL_A):]) == (accompaniment == "guitar")
