"""An API call with too few values gets a message naming what the endpoint takes.

Gradio checks a call's values only after it has queued it, and then answers `error: null` (and
logs a traceback): `/play` sent 3 of its 5 values said nothing of why. This ASGI middleware
reads the JSON body of `POST .../gradio_api/call/<name>` and `.../gradio_api/queue/join`, and
where its `data` list is shorter than the endpoint's inputs answers HTTP 422 at once:
"/play takes 5 values (abc, transpose, tempo, instrument, accompaniment); this call sent 3".
Anything it cannot read (not JSON, a body over MAX_BODY) goes on to Gradio, which answers it.
Extra values are Gradio's to ignore, as it does.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

MAX_BODY = 4 * 1024 * 1024  # bytes of a call's body read here; a larger one goes on unread


@dataclass(frozen=True)
class Endpoint:
    name: str  # its api_name ("play")
    inputs: tuple[str, ...]  # the labels of the values it takes, in order


def endpoints(demo) -> tuple[dict[str, Endpoint], dict[int, Endpoint]]:
    """({api_name: Endpoint}, {fn_index: Endpoint}) of a built gr.Blocks."""
    by_name, by_index = {}, {}
    for index, fn in demo.fns.items():
        labels = tuple(str(getattr(block, "label", None) or type(block).__name__.lower()) for block in fn.inputs)
        endpoint = Endpoint(str(fn.api_name or fn.name), labels)
        by_index[index] = endpoint
        if fn.api_name:
            by_name[str(fn.api_name)] = endpoint
    return by_name, by_index


def shortfall(body: bytes, path: str, by_name: dict[str, Endpoint], by_index: dict[int, Endpoint]) -> str | None:
    """The message for a call whose `data` is too short; None when it is not one (or unreadable)."""
    try:
        sent = json.loads(body)
    except (ValueError, RecursionError):
        return None
    if not isinstance(sent, dict) or not isinstance(sent.get("data"), list):
        return None
    if "/call/" in path:
        endpoint = by_name.get(path.rsplit("/call/", 1)[1].strip("/"))
    else:
        index = sent.get("fn_index")
        endpoint = by_index.get(index) if isinstance(index, int) else None
    if endpoint is None or len(sent["data"]) >= len(endpoint.inputs):
        return None
    return (f"/{endpoint.name} takes {len(endpoint.inputs)} values ({', '.join(endpoint.inputs)}); "
            f"this call sent {len(sent['data'])}")


class CheckArity:
    """ASGI middleware: calls with too few values are answered with a message (see module)."""

    def __init__(self, app, demo=None):
        self.app, self.demo, self._tables = app, demo, None

    async def __call__(self, scope, receive, send):
        path = scope.get("path", "") if scope["type"] == "http" else ""
        if scope.get("method") != "POST" or not ("/gradio_api/call/" in path or path.endswith("/gradio_api/queue/join")):
            await self.app(scope, receive, send)
            return
        chunks, size, more = [], 0, True
        while more and size <= MAX_BODY:
            message = await receive()
            if message["type"] != "http.request":
                break
            chunks.append(message.get("body", b""))
            size += len(chunks[-1])
            more = message.get("more_body", False)
        body = b"".join(chunks)
        problem = None if more or self.demo is None else shortfall(body, path, *self._endpoints())
        if problem:
            payload = json.dumps({"detail": problem, "error": problem}).encode()
            await send({"type": "http.response.start", "status": 422,
                        "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode())]})
            await send({"type": "http.response.body", "body": payload})
            return
        replayed = False

        async def replay():
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": more}
            return await receive()

        await self.app(scope, replay, send)

    def _endpoints(self):
        if self._tables is None:  # worked out at the first call: the app is built by then
            self._tables = endpoints(self.demo)
        return self._tables
