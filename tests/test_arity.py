"""The arity check's reading of a call's body (`bot.web.arity.shortfall`), without a server."""

from __future__ import annotations

import json

from bot.web.arity import Endpoint, shortfall

PLAY = Endpoint("play", ("abc", "transpose", "tempo", "instrument", "accompaniment"))
BY_NAME, BY_INDEX = {"play": PLAY}, {7: PLAY}


def test_too_few_values_are_named():
    body = json.dumps({"data": ["X:1", 0]}).encode()
    message = shortfall(body, "/gradio_api/call/play", BY_NAME, BY_INDEX)
    assert message == "/play takes 5 values (abc, transpose, tempo, instrument, accompaniment); this call sent 2"
    queued = json.dumps({"data": [], "fn_index": 7, "session_hash": "x"}).encode()
    assert "this call sent 0" in shortfall(queued, "/gradio_api/queue/join", BY_NAME, BY_INDEX)


def test_what_it_cannot_read_goes_on_to_gradio():
    for body in (b"{not json", b"[1, 2]", json.dumps({"data": 5}).encode(), b"[" * 100_000 + b"]" * 100_000,
                 json.dumps({"data": [1, 2, 3, 4, 5, 6]}).encode()):
        assert shortfall(body, "/gradio_api/call/play", BY_NAME, BY_INDEX) is None
    assert shortfall(json.dumps({"data": []}).encode(), "/gradio_api/call/other", BY_NAME, BY_INDEX) is None
