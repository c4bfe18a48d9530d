"""Train the title model on the corpus's training titles and write checkpoints/titles.json.

    python -m bot.titles --train                 # tune on a slice of training, fit, score, save
    python -m bot.titles --sample 20 --rhythm jig

Deterministic: the same corpus gives the same file, byte for byte (no times, sorted counts).
"""

from __future__ import annotations

import hashlib
import random
import statistics
from dataclasses import replace
from pathlib import Path

from bot.titles.data import Titles, read_titles
from bot.titles.model import GROUPS, TitleConfig, TitleModel
from bot.titles.ngram import Ngram
from bot.titles.text import key_hash, words_of

# The grid tried on the tuning slice; the held-out titles are only scored, never tuned on.
GRID = {"order": (2, 3, 4), "discount": (0.6, 0.75, 0.9), "rare": (1, 2),
        "rhythm_weight": (0.0, 0.15, 0.3, 0.5), "name_copy": (0.0, 0.25, 0.5, 0.75), "name_order": (4, 5, 6, 7)}
TUNED = tuple(GRID)
DEV_EVERY = 10  # one training title in DEV_EVERY (by a hash of its text) is the tuning slice
CHAR_ALPHABET = "abcdefghijklmnopqrstuvwxyz'- "


def is_dev(title: str) -> bool:
    """Whether a training title is in the tuning slice (stable across machines)."""
    return int(hashlib.sha1(title.encode()).hexdigest(), 16) % DEV_EVERY == 0


def char_ngram_bits_per_char(train: list[str], test: list[str], order: int) -> float:
    """The plain alternative, a letter n-gram over whole titles: its bits per char on `test`."""
    enc = lambda t: [CHAR_ALPHABET.index(c) + 2 for c in t.lower() if c in CHAR_ALPHABET]  # noqa: E731
    model = Ngram.fit([enc(t) for t in train], order, len(CHAR_ALPHABET) + 2, 0.75)
    return -sum(model.logprob(enc(t)) for t in test) / 0.6931471805599453 / sum(len(t) + 1 for t in test)


def tune(train: list[tuple[str, str]], log=print) -> tuple[TitleConfig, list[dict]]:
    """The grid's best config by bits per char on the tuning slice of `train`: the word counts
    first (order, discount, rare), then the mixing weights, then the name speller's order."""
    fit_part = [p for p in train if not is_dev(p[0])]
    dev = [p for p in train if is_dev(p[0])]
    rows: list[dict] = []

    def score(model: TitleModel) -> dict:
        c = model.config
        row = {k: getattr(c, k) for k in TUNED}
        row["dev_bits_per_char"] = round(model.bits_per_char(dev), 4)
        rows.append(row)
        return row

    config = TitleConfig()
    best = min((score(TitleModel.fit(fit_part, replace(config, order=o, discount=d, rare=r)))
                for o in GRID["order"] for d in GRID["discount"] for r in GRID["rare"]),
               key=lambda row: row["dev_bits_per_char"])
    config = replace(config, order=best["order"], discount=best["discount"], rare=best["rare"])
    base = TitleModel.fit(fit_part, config)
    best = min((score(base.with_config(rhythm_weight=w, name_copy=c))
                for w in GRID["rhythm_weight"] for c in GRID["name_copy"]), key=lambda row: row["dev_bits_per_char"])
    config = replace(config, rhythm_weight=best["rhythm_weight"], name_copy=best["name_copy"])
    best = min((score(TitleModel.fit(fit_part, replace(config, name_order=n))) for n in GRID["name_order"]),
               key=lambda row: row["dev_bits_per_char"])
    config = replace(config, name_order=best["name_order"])
    log(f"tuning on {len(dev)} of {len(train)} training titles: best {best}")
    return config, rows


def copy_share(model: TitleModel, n: int = 1000) -> float:
    """Share of raw draws (before any rejection) that repeat a known title: how much it copies."""
    rng = random.Random(0)
    hits = total = 0
    for _ in range(n):
        title = model._draw(rng, None, model._always_masked)
        if title:
            total += 1
            hits += key_hash(title) in model.known
    return hits / max(total, 1)


def train(out: Path, command: str, log=print) -> TitleModel:
    """Read the titles, tune, fit on all training titles, score on held-out ones, save to `out`."""
    titles: Titles = read_titles()
    log(f"titles: train {len(titles.train)}, held out {len(titles.held_out)}; read {dict(titles.counts)}; "
        f"dropped {dict(titles.dropped)}")
    config, grid = tune(titles.train, log)
    known = [t for t, _ in titles.train + titles.held_out]
    model = TitleModel.fit(titles.train, config, known)
    held = titles.held_out
    flat = model.with_config(rhythm_weight=0.0)
    by_group = {}
    for group in sorted(set(GROUPS.values())):
        mine = [p for p in held if GROUPS.get(p[1]) == group]
        if mine:
            by_group[group] = {"titles": len(mine), "with_rhythm": round(model.bits_per_char(mine), 4),
                               "without": round(flat.bits_per_char(mine), 4)}
    train_text = [t for t, _ in titles.train]
    chars = {f"letter {n}-gram": round(char_ngram_bits_per_char(train_text, [t for t, _ in held], n), 4)
             for n in (4, 5, 6, 7)}
    words_train = [len(words_of(t)) for t in train_text]
    metrics = {
        "held_out_bits_per_char": round(model.bits_per_char(held), 4),
        "held_out_bits_per_char_without_rhythm": round(flat.bits_per_char(held), 4),
        "held_out_bits_per_char_by_rhythm_group": by_group,
        "held_out_bits_per_char_of_alternatives": chars,
        "held_out_oov_word_share": round(sum(w not in model.index for t, _ in held for w in words_of(t))
                                         / sum(len(words_of(t)) for t, _ in held), 4),
        "raw_draws_repeating_a_corpus_title": round(copy_share(model), 4),
        "train_title_mean_chars": round(statistics.mean(len(t) for t in train_text), 2),
        "train_title_mean_words": round(statistics.mean(words_train), 2),
        "vocabulary_words": len(model.vocab) - 3,
    }
    from bot.corpus import load_corpus

    model.card = {
        "name": "abc-bot title model",
        "what": "word 3-gram (interpolated Kneser-Ney) over the corpus's titles; words seen once are "
                "<name>, spelled by a letter 5-gram; each word drawn from the asked-for rhythm's titles "
                "with probability rhythm_weight",
        "command": command,
        "data": {
            "titles_read_per_source": dict(titles.counts),
            "train_titles": len(titles.train),
            "held_out_titles": len(titles.held_out),
            "dropped": dict(titles.dropped),
            "train_titles_per_rhythm": dict(sorted(
                {r or "(none)": sum(1 for _, x in titles.train if x == r) for _, r in titles.train}.items())),
            "titles_fingerprint_sha256": titles.fingerprint(),
            "corpus_fingerprint_sha256": load_corpus().fingerprint(),
            "split": "the tunes' own split (bot.corpus: hash of the normalised tune; the NMD's own, its test "
                     "part never read); a title seen twice is kept once, where it was first read",
            "essen": "left out: German and Chinese song titles, not this tradition's; non-commercial terms",
            "known_titles": "known_title_hashes: sha1[:10] of text.key() of every training and held-out "
                            "title; a drawn title matching one is drawn again",
        },
        "tuning": {"grid": GRID, "dev_every": DEV_EVERY, "best": {k: getattr(config, k) for k in TUNED},
                   "rows": grid},
        "metrics": metrics,
    }
    model.save(out)
    log(f"metrics: {metrics}")
    log(f"wrote {out} ({out.stat().st_size:,} bytes)")
    return model
