"""Odd input posted to each endpoint of the running app (gradio_client, as any caller would):
a lone surrogate, JSON of the wrong type, 100,000-deep JSON, a huge string. Each gets a message
that names the problem, never `error: null`, a traceback, a path or a tool's version."""

from __future__ import annotations

import json
import re

import pytest
import requests
from gradio_client import Client

DEEP = "[" * 100_000 + "]" * 100_000
ODD = {
    "surrogate": "X:1\nT:\ud800\nK:D\nDFA|]\n",
    "wrong type": '"5"',
    "deep json": DEEP,
    "huge": "A" * 300_000,
}
# Things an answer must never hold: a server path, a tool version, Python's own words.
LEAKS = re.compile(r"/(?:home|root|work|tmp|usr)/|Ghostscript \d|music21 v\.|Traceback|Error:|\bline \d+, in\b")


def call(app_url: str, endpoint: str, data: list) -> tuple[str, str]:
    """(event, data text) of one call over Gradio's REST API, the way any caller may post: JSON
    with `\\ud800` escapes (gradio_client cannot even encode a lone surrogate)."""
    started = requests.post(f"{app_url}gradio_api/call/{endpoint}", data=json.dumps({"data": data}),
                            headers={"Content-Type": "application/json"}, timeout=60)
    if started.status_code != 200:
        return "http", f"{started.status_code} {started.text}"
    event_id = started.json()["event_id"]
    stream = requests.get(f"{app_url}gradio_api/call/{endpoint}/{event_id}", timeout=120).text
    events = re.findall(r"^event: (\w+)\ndata: (.*)$", stream, re.M)
    return events[-1] if events else ("none", stream)


@pytest.mark.parametrize("name", list(ODD))
def test_play_answers_each_odd_input_with_a_message(app_url, name):
    event, text = call(app_url, "play", [ODD[name], 0, 0, "fiddle", "Off"])
    assert event == "error" and text not in ("null", "", "None"), (event, text[:300])
    assert not LEAKS.search(text), text[:300]
    assert re.search(r"tune|characters|text|ABC", text), text[:300]


@pytest.mark.parametrize("endpoint", ["play_card", "print_card", "musicxml_card"])
@pytest.mark.parametrize("name", list(ODD))
def test_the_cards_endpoints_answer_each_odd_input_with_an_error_field(app_url, endpoint, name):
    event, text = call(app_url, endpoint, [ODD[name]])
    assert event == "complete", (event, text[:300])
    answer = json.loads(text)[0]
    assert isinstance(answer, dict) and isinstance(answer.get("error"), str) and answer["error"], answer
    assert not LEAKS.search(answer["error"]), answer["error"][:300]


@pytest.mark.parametrize("name", ["surrogate", "huge"])
def test_compose_answers_each_odd_prompt_with_a_message(app_url, name):
    event, text = call(app_url, "compose", [ODD[name], 1.0, 4, 1, "Off"])
    assert event == "error" and ("characters" in text or "surrogate" in text), (event, text[:300])
    assert not LEAKS.search(text), text[:300]


def test_health_lists_no_cpu_features_or_paths(app_url):
    health = Client(app_url, verbose=False).predict(api_name="/health")
    assert set(health) == {"ready", "status", "compute_path"}
    assert not re.search(r"AVX|avx|/|ATen", json.dumps(health)), health


def test_a_damaged_or_oversized_link_opens_a_page_that_says_so(app_url):
    # The link's own reading (bot.links) names the damage; the page must still load (not 500).
    for query in ("?v=2&abc=!!!***", "?v=2&abc=" + "A" * 6_000, "?v=2&abc=" + "A" * 100_000):
        page = requests.get(app_url + query, timeout=30)
        assert page.status_code == 200, (query[:40], page.status_code)  # 100 KB gave HTTP 500
    # The overlong one is sent on to an address the page reads as a link it cannot open.
    moved = requests.get(app_url + "?abc=" + "A" * 100_000, timeout=30, allow_redirects=False)
    assert moved.status_code == 303 and moved.headers["location"].endswith("?link=too-long")


def test_the_upload_route_refuses_a_large_file(app_url):
    files = {"files": ("big.abc", b"X" * (2 << 20), "text/plain")}
    answer = requests.post(app_url + "gradio_api/upload", files=files, timeout=30)
    assert answer.status_code == 413 and "maximum allowed size" in answer.text, (answer.status_code, answer.text[:200])


def test_the_page_names_no_server_folder(app_url):
    from pathlib import Path

    root = str(Path(__file__).resolve().parent.parent)
    page = requests.get(app_url, timeout=30).text
    assert "gradio_api/file=" in page and root not in page  # its scripts load by relative paths
    event, text = call(app_url, "play_card", [json.dumps({"abc": "X:1\nT:Paths\nM:2/4\nL:1/8\nK:D\nDFAd|fdAF|]\n"})])
    card = json.loads(text)[0]
    assert card["audio"].startswith("gradio_api/file=outputs/") and root not in text, card["audio"]
    assert requests.get(app_url + card["audio"], timeout=30).status_code == 200  # and it is served
    event, text = call(app_url, "play", ["X:1\nT:Paths\nM:2/4\nL:1/8\nK:D\nDFAd|fdAF|]\n", 0, 0, "fiddle", "Off"])
    assert event == "complete" and root not in text and '"path": "outputs/' in text, text[:300]
    audio = json.loads(text)[1]
    assert audio["path"].endswith("/paths.ogg") and requests.get(audio["url"], timeout=30).status_code == 200


@pytest.mark.parametrize("endpoint,sent", [("play", []), ("play", ["X:1\nK:D\nDFA|]\n", 0, 0]), ("compose", ["a jig"])])
def test_a_call_with_too_few_values_is_told_what_the_endpoint_takes(app_url, endpoint, sent):
    event, text = call(app_url, endpoint, sent)  # Gradio itself answered `error: null`
    assert event == "http" and text.startswith("422 "), (event, text[:300])
    message = json.loads(text[4:])["detail"]
    assert f"/{endpoint} takes" in message and f"this call sent {len(sent)}" in message, message
    assert not LEAKS.search(message)


def test_a_call_with_every_value_still_runs(app_url):
    event, text = call(app_url, "play", ["X:1\nM:2/4\nL:1/8\nK:D\nDFA2|]\n", 0, 0, "fiddle", "Off"])
    assert event == "complete", (event, text[:300])
