"""The page's settings for the next tune, checked: the pickers' choices, the Seed box, and the
one error type whose text the chat shows as it is (ChatError)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from bot import links
from bot.generate import Settings
from bot.render import ACCOMPANIMENT_INSTRUMENTS, DEFAULT_INSTRUMENT, INSTRUMENTS, RenderSettings


OUTPUTS_DIR = Path(__file__).resolve().parents[2] / "outputs"  # the repository's outputs/

# Choices the page offers for the Advanced pickers; AUTO lets the words or the model decide.
AUTO = "Auto"
METERS = (AUTO, "4/4", "3/4", "6/8", "2/4", "9/8", "12/8", "2/2", "3/2", "5/4")
KEYS = (AUTO, "C", "G", "D", "A", "E", "F", "Bb", "Eb",
        "Am", "Em", "Bm", "F#m", "Dm", "Gm", "Cm",
        "Ddor", "Edor", "Ador", "Gmix", "Dmix", "Amix")
INSTRUMENT_CHOICES = tuple(INSTRUMENTS)
# The accompaniment's instruments (chords realised under the melody); OFF: the melody alone.
OFF = "Off"
ACCOMPANIMENTS = (OFF, *ACCOMPANIMENT_INSTRUMENTS)
DEFAULT_ACCOMPANIMENT = "guitar"  # the page's choice until the person changes it
# Named keys the cards' transpose menu offers (the instruments' home keys).
NAMED_KEYS = ("C", "D", "G", "A", "E", "F", "Bb", "Amix", "Dmix", "Gmix", "Ador", "Edor", "Ddor")


class ChatError(ValueError):
    """A message the bot cannot act on; the text is shown to the person as it is."""


@dataclass
class Options:
    """The page's settings for the next tune (sliders, seed box, Advanced section)."""

    temperature: float = 1.0  # sampling temperature, 0.1 (safe) to 2.0 (wild)
    bars: int = 0  # the whole tune's length in bars; 0: the rhythm's usual (`bot.notation.layouts`)
    seed: int | None = None  # None: draw a fresh seed for each tune
    top_k: int = 0  # sample among the k likeliest characters; 0: all of them
    meter: str | None = None  # force M: for a new tune; None: from the words or the model
    key: str | None = None  # force K: for a new tune; None: from the words or the model
    tempo: int | None = None  # beats per minute for the audio; None: the tune's own
    instrument: str = DEFAULT_INSTRUMENT  # General MIDI instrument name the audio uses
    accompaniment: str | None = None  # chords under the finished melody on this instrument; None: off

    @classmethod
    def from_controls(cls, temperature, bars, seed=None, random_seed=True, top_k=0,
                      meter=AUTO, key=AUTO, tempo=0, instrument=DEFAULT_INSTRUMENT,
                      accompaniment=None) -> Options:
        """Options from the page's raw control values; ChatError names a value out of range."""
        try:
            temperature = float(temperature)
            bars = int(bars)
            top_k = int(top_k or 0)
            tempo = int(tempo or 0)
        except (TypeError, ValueError) as err:
            raise ChatError(f"One of the settings is not a number ({err}).") from err
        seed = None if random_seed or seed is None or str(seed).strip() == "" else _seed_of(seed)
        checks = (
            ("Temperature", temperature, links.TEMPERATURE_RANGE),
            ("Length", bars, links.BARS_RANGE),
            ("Top-k", top_k, links.TOP_K_RANGE),
        )
        for name, value, (lo, hi) in checks:
            if not lo <= value <= hi:
                raise ChatError(f"{name} must be between {lo} and {hi}, not {value}.")
        if seed is not None and not links.SEED_RANGE[0] <= seed <= links.SEED_RANGE[1]:
            raise ChatError(f"The seed must be a whole number from 0 to {links.SEED_RANGE[1]}.")
        if tempo and not links.TEMPO_RANGE[0] <= tempo <= links.TEMPO_RANGE[1]:
            raise ChatError(f"Tempo must be between {links.TEMPO_RANGE[0]} and {links.TEMPO_RANGE[1]} BPM.")
        if instrument not in INSTRUMENTS:
            raise ChatError(f"I don't know the instrument {str(instrument)[:30]!r}.")
        for name, value, choices in (("meter", meter, METERS), ("key", key, KEYS)):
            if value not in choices:
                raise ChatError(f"Pick a {name} from the list ({str(value)[:20]!r} is not one).")
        return cls(
            temperature=temperature, bars=bars, seed=seed, top_k=top_k,
            meter=None if meter == AUTO else meter, key=None if key == AUTO else key,
            tempo=tempo or None, instrument=instrument, accompaniment=check_accompaniment(accompaniment),
        )

    def settings(self, seed: int) -> Settings:
        """The generator's settings for one tune."""
        return Settings(temperature=self.temperature, top_k=self.top_k, bars=self.bars or None, seed=seed,
                        instrument=self.instrument)

    def render_settings(self) -> RenderSettings:
        """The renderer's settings for one tune."""
        return RenderSettings(tempo=self.tempo, instrument=self.instrument, accompaniment=self.accompaniment)


def _seed_of(value) -> int:
    """The Seed box's text as a seed; ChatError naming what was typed when it is not one."""
    try:
        number = float(str(value).strip())
        if number != int(number):
            raise ValueError(value)
        return int(number)
    except (TypeError, ValueError, OverflowError):
        raise ChatError(f"The seed must be a whole number from 0 to {links.SEED_RANGE[1]}, "
                        f"not {str(value)[:20]!r}.") from None


def check_accompaniment(value) -> str | None:
    """None for no accompaniment, else the instrument named; ChatError for one not offered."""
    if value in (None, "", OFF):
        return None
    if value not in ACCOMPANIMENTS:
        raise ChatError(f"Pick an accompaniment from the list ({str(value)[:20]!r} is not one).")
    return value
