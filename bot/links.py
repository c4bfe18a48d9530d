"""The "Link to this tune": the page's settings as URL query parameters, and back.

A link such as `?prompt=a+jig+in+D&seed=42&temperature=0.9&bars=16` reopens the page with
those settings and regenerates the same tune. Reading a link never fails: a value that is
missing, malformed or out of range falls back to its default (and is named in `problems`),
because a link is user text from anywhere.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from urllib.parse import urlencode

# Ranges the page's controls allow; the same bounds are enforced on the server.
TEMPERATURE_RANGE = (0.1, 2.0)
BARS_RANGE = (1, 64)
TOP_K_RANGE = (0, 100)
TEMPO_RANGE = (30, 300)
SEED_RANGE = (0, 2**31 - 1)
MAX_LINK_PROMPT = 4000  # characters of prompt a link may carry (a short pasted tune fits)


@dataclass
class TuneLink:
    """Everything that decides a tune: the prompt and every setting on the page."""

    prompt: str = ""  # words or pasted ABC; "" means "surprise me"
    seed: int | None = None  # None: a random seed is drawn when generating
    temperature: float = 1.0  # sampling temperature
    bars: int = 16  # length of the new music in bars
    top_k: int = 0  # 0: sample from the whole alphabet
    meter: str | None = None  # None: the prompt or the model decides
    key: str | None = None  # None: the prompt or the model decides
    tempo: int | None = None  # beats per minute; None: the tune's own Q: or the default
    instrument: str | None = None  # None: the renderer's default
    problems: list[str] = field(default_factory=list, compare=False)  # values ignored on reading

    def has_tune(self) -> bool:
        """True when the link names a tune to regenerate (it has a prompt or a seed)."""
        return bool(self.prompt) or self.seed is not None

    def to_query(self) -> str:
        """The query string (without `?`); settings at their default are left out."""
        default = TuneLink()
        params = {}
        for f in fields(self):
            if f.name == "problems":
                continue
            value = getattr(self, f.name)
            if value == getattr(default, f.name) or value is None:
                continue
            params[f.name] = _format(value)
        return urlencode(params)


def _format(value) -> str:
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def _number(raw: str, kind, lo, hi):
    value = kind(float(raw)) if kind is int else kind(raw)
    if value != value or not lo <= value <= hi:  # NaN or out of range
        raise ValueError(raw)
    return value


def from_query(params: Mapping[str, str], meters=(), keys=(), instruments=()) -> TuneLink:
    """A TuneLink from query parameters; bad values are dropped and listed in `problems`.

    `meters`, `keys` and `instruments` are the choices the page offers; a value outside a
    non-empty choice list is dropped.
    """
    link = TuneLink()
    numbers = {
        "seed": (int, *SEED_RANGE),
        "temperature": (float, *TEMPERATURE_RANGE),
        "bars": (int, *BARS_RANGE),
        "top_k": (int, *TOP_K_RANGE),
        "tempo": (int, *TEMPO_RANGE),
    }
    for name, (kind, lo, hi) in numbers.items():
        raw = params.get(name)
        if raw is None or raw == "":
            continue
        try:
            setattr(link, name, _number(str(raw), kind, lo, hi))
        except (ValueError, OverflowError):
            link.problems.append(f"{name}={str(raw)[:20]!r} (expected {lo} to {hi})")
    prompt = params.get("prompt")
    if prompt:
        link.prompt = str(prompt)[:MAX_LINK_PROMPT]
    for name, choices in (("meter", meters), ("key", keys), ("instrument", instruments)):
        raw = params.get(name)
        if not raw:
            continue
        if choices and raw not in choices:
            link.problems.append(f"{name}={str(raw)[:20]!r} (not one of the choices)")
            continue
        setattr(link, name, str(raw))
    return link
