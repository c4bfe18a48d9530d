"""An n-gram model over integer tokens: interpolated Kneser-Ney counts, absolute discounting.

One class serves both of the title model's parts: words of a title (order 3) and letters of a
name (order 5). Pure Python, no dependencies; the counts travel as flat integer lists in JSON.

    P(w | h) = max(c(h, w) - D, 0) / c(h)  +  D * types(h) / c(h) * P(w | h minus its first token)

down to a uniform distribution over the alphabet, so every token has some probability. Lower
orders count the distinct contexts a token follows (Kneser-Ney), not its occurrences.
"""

from __future__ import annotations

import bisect
import math
import random
from collections import defaultdict
from typing import Callable, Iterable

BOS, EOS = 0, 1  # token ids every alphabet reserves: start (context padding) and end


class Ngram:
    """Counts of next tokens by context (tuples of 0..order-1 token ids) and their sampler."""

    def __init__(self, order: int, size: int, discount: float, counts: dict[tuple, dict[int, int]],
                 sample_discount: float | None = None):
        assert order >= 1 and 0 < discount < 1 and size > 2, (order, discount, size)
        self.order, self.size, self.discount = order, size, discount
        # The sampler may back off less than the scorer does: a context seen once backs off with
        # probability `sample_discount`, and each back-off mid-title is where titles stop reading
        # as titles ("The Black Over Young to Marry"). Scoring always uses `discount`.
        self.sample_discount = discount if sample_discount is None else sample_discount
        assert 0 < self.sample_discount < 1, self.sample_discount
        self.counts = counts
        # Per context: (tokens, cumulative discounted weights, total count, distinct next tokens).
        self._tables: dict[tuple, tuple[list[int], list[float], int, int]] = {}
        for ctx, table in counts.items():
            tokens = sorted(table)
            cumulative, running = [], 0.0
            for t in tokens:
                running += max(table[t] - self.sample_discount, 0.0)
                cumulative.append(running)
            self._tables[ctx] = (tokens, cumulative, sum(table.values()), len(tokens))

    @classmethod
    def fit(cls, sequences: Iterable[list[int]], order: int, size: int, discount: float) -> "Ngram":
        """Count `sequences` (token ids without BOS/EOS; both are added here)."""
        full: dict[tuple, dict[int, int]] = defaultdict(lambda: defaultdict(int))
        for seq in sequences:
            padded = [BOS] * (order - 1) + list(seq) + [EOS]
            for i in range(order - 1, len(padded)):
                full[tuple(padded[i - order + 1: i])][padded[i]] += 1
        counts: dict[tuple, dict[int, int]] = {ctx: dict(t) for ctx, t in full.items()}
        # Lower orders: how many distinct one-longer contexts each (shorter context, token) ends.
        longer = counts
        for k in range(order - 2, -1, -1):
            lower: dict[tuple, dict[int, int]] = defaultdict(lambda: defaultdict(int))
            for ctx, table in longer.items():
                if len(ctx) != k + 1:
                    continue
                for token in table:
                    lower[ctx[1:]][token] += 1
            for ctx, table in lower.items():
                counts[ctx] = dict(table)
            longer = {ctx: t for ctx, t in counts.items() if len(ctx) == k}
        return cls(order, size, discount, counts)

    def sampling_with(self, sample_discount: float) -> "Ngram":
        """The same counts with the sampler's back-off set to `sample_discount`."""
        return Ngram(self.order, self.size, self.discount, self.counts, sample_discount)

    def _contexts(self, history: list[int]) -> list[tuple]:
        """The seen contexts of `history`, shortest first (the empty one always)."""
        padded = [BOS] * (self.order - 1) + list(history)
        out = []
        for k in range(self.order):
            ctx = tuple(padded[len(padded) - k:]) if k else ()
            if ctx not in self._tables:
                break  # a longer context holding this one was never seen either
            out.append(ctx)
        return out

    def prob(self, history: list[int], token: int) -> float:
        """P(token | history), history being the ids so far (no BOS)."""
        p = 1.0 / self.size
        for ctx in self._contexts(history):
            _, _, total, types = self._tables[ctx]
            p = (max(self.counts[ctx].get(token, 0) - self.discount, 0.0) + self.discount * types * p) / total
        return p

    def logprob(self, seq: list[int]) -> float:
        """Natural log-probability of a whole sequence, its end included."""
        return sum(math.log(self.prob(seq[:i], t)) for i, t in enumerate(list(seq) + [EOS]))

    def sample(self, history: list[int], rng: random.Random, allowed: Callable[[int], bool],
               tries: int = 64) -> int | None:
        """One next token drawn from P(. | history) among `allowed` ones (drawn again when not
        allowed: an exact draw from the allowed part); None when `tries` draws all fail."""
        contexts = self._contexts(history)
        for _ in range(tries):
            token = self._draw(contexts, rng)
            if token != BOS and allowed(token):
                return token
        return None

    def _draw(self, contexts: list[tuple], rng: random.Random) -> int:
        """A token from the interpolated distribution: from the longest context's seen tokens
        with their discounted mass, else (the back-off mass) from the next shorter one."""
        for ctx in reversed(contexts):
            tokens, cumulative, total, _ = self._tables[ctx]
            u = rng.random() * total
            if u < cumulative[-1]:
                return tokens[bisect.bisect_right(cumulative, u)]
        return rng.randrange(self.size)

    def to_json(self) -> dict:
        """The counts as flat integer lists by context length: [ctx..., token, count, ...]."""
        flat: dict[str, list[int]] = {str(k): [] for k in range(self.order)}
        for ctx in sorted(self.counts, key=lambda c: (len(c), c)):
            for token in sorted(self.counts[ctx]):
                flat[str(len(ctx))] += [*ctx, token, self.counts[ctx][token]]
        return {"order": self.order, "size": self.size, "discount": self.discount, "counts": flat}

    @classmethod
    def from_json(cls, data: dict) -> "Ngram":
        """The model `to_json` wrote."""
        counts: dict[tuple, dict[int, int]] = defaultdict(dict)
        for k, flat in data["counts"].items():
            step = int(k) + 2
            if len(flat) % step:
                raise ValueError(f"n-gram counts of context length {k}: {len(flat)} ints, not a multiple of {step}")
            for i in range(0, len(flat), step):
                counts[tuple(flat[i: i + step - 2])][flat[i + step - 2]] = flat[i + step - 1]
        return cls(int(data["order"]), int(data["size"]), float(data["discount"]), dict(counts))
