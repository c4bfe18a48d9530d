"""What one tune is asked with (`Settings`) and what its stream carries (`Update`)."""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.instruments import RANGES


@dataclass
class Settings:
    """How to sample one tune."""

    temperature: float = 1.0  # divides the logits: < 1 safer, > 1 wilder (0.1 .. 2.0)
    top_k: int = 0  # sample among the k likeliest characters only; 0 = all
    bars: int | None = None  # length in bars (1 .. 64; None: the rhythm's usual, `bot.notation.layouts`)
    max_chars: int = 3000  # hard cap on generated characters, whatever happens
    seed: int | None = None  # RNG seed: same seed, same prompt, same settings -> same tune; None = random
    bar_check: bool = True  # keep every bar in time (off: plain sampling, for comparison)
    form: bool = True  # write in the form of the tune's kind: whole parts, repeats, a tonic ending (needs bar_check)
    retries: int = 12  # resamplings of a bar of the wrong length before keeping the closest try
    instrument: str | None = "fiddle"  # the range the tune is written in (bot.instruments); None: any

    def __post_init__(self):
        if not 0.1 <= self.temperature <= 2.0:
            raise ValueError(f"temperature must be between 0.1 and 2.0, got {self.temperature}")
        if not isinstance(self.top_k, int) or self.top_k < 0:
            raise ValueError(f"top_k must be 0 (off) or a positive whole number, got {self.top_k!r}")
        if self.bars is not None and (not isinstance(self.bars, int) or not 1 <= self.bars <= 64):
            raise ValueError(f"bars must be None (the rhythm's usual length) or a whole number from 1 to 64, "
                             f"got {self.bars!r}")
        if not isinstance(self.max_chars, int) or not 50 <= self.max_chars <= 100_000:
            raise ValueError(f"max_chars must be from 50 to 100000, got {self.max_chars!r}")
        if self.seed is not None and (not isinstance(self.seed, int) or not 0 <= self.seed < 2**63):
            raise ValueError(f"seed must be None or a whole number from 0 to 2**63-1, got {self.seed!r}")
        if not isinstance(self.retries, int) or not 0 <= self.retries <= 100:
            raise ValueError(f"retries must be from 0 to 100, got {self.retries!r}")
        if self.instrument is not None and self.instrument not in RANGES:
            raise ValueError(f"instrument must be None (any range) or one of: {', '.join(RANGES)}; "
                             f"got {self.instrument!r}")


@dataclass
class Update:
    """The tune so far, as streamed to the page."""

    abc: str  # the whole tune so far: headers + music; only ever grows between updates
    new_from: int  # index in `abc` where newly generated music starts (after headers and pasted music)
    done: bool  # the last update: `abc` is a complete tune ending with a final bar line
    seed: int  # the seed used (reported so a tune can be made again)
    notices: list[str] = field(default_factory=list)  # things the person should know
    bars: int = 0  # new bars written so far (a pickup counts none); may end below Settings.bars
    form: str = ""  # on the last update: the tune's form as read from it ("AABB: two 8-bar parts, each played twice")
    style: str = ""  # the collection the tune is written in the manner of (`bot.style` tag; "" none)
