"""The style line: written into training tunes, drawn for new ones, fed to the model only."""

from __future__ import annotations

from collections import Counter

import pytest
import torch

from bot import style
from bot.checkpoint import Loaded
from bot.generate import Settings, generate
from bot.model import CharLSTM, ModelConfig
from bot.train import TrainConfig, epoch_text

TUNE = "M:2/2\nL:1/8\nR:hornpipe\nK:G\nGABc dedB|\n"
CARD = {"styles": {"field": "S", "share": 0.7, "counts": {
    "hornpipe": {"ryan": 60, "oneill": 30, "nmd": 10},
    "polka": {"nmd": 5},
    "": {"aird": 40, "oneill": 40},
}}}


def test_the_style_line_goes_before_the_key_line():
    assert style.styled(TUNE, "ryan") == "M:2/2\nL:1/8\nR:hornpipe\nS:ryan\nK:G\nGABc dedB|\n"
    assert style.styled("M:6/8\nL:1/8\nK:D\n", "aird") == "M:6/8\nL:1/8\nS:aird\nK:D\n"
    with pytest.raises(ValueError, match="K:"):
        style.styled("M:6/8\nL:1/8\n", "aird")


def test_counts_read_each_tunes_rhythm_and_collection():
    tunes = [TUNE, TUNE, "M:6/8\nL:1/8\nK:D\nA|\n"]
    assert style.counts(tunes, ["ryansMammoth", "oneills1850", "airdsAirs"]) == {
        "": {"aird": 1}, "hornpipe": {"ryan": 1, "oneill": 1}}
    assert style.tag_of("user:/some/file.abc") == "user"
    # Every collection the corpus reads has a tag, and the chat a name for it.
    from bot.corpus import COLLECTIONS, ESSEN, NMD

    assert set(style.TAGS) == {*COLLECTIONS, ESSEN, NMD} and set(style.TAGS.values()) <= set(style.NAMES)


def test_a_style_is_drawn_by_seed_in_the_rhythms_shares():
    assert style.pick({}, "hornpipe", 1) is None and style.pick({"styles": {}}, "reel", 1) is None
    assert style.pick(CARD, "hornpipe", 7) == style.pick(CARD, "hornpipe", 7)
    drawn = Counter(style.pick(CARD, "hornpipe", seed) for seed in range(3000))
    assert set(drawn) == {"ryan", "oneill", "nmd"}
    assert abs(drawn["ryan"] / 3000 - 0.6) < 0.04 and abs(drawn["nmd"] / 3000 - 0.1) < 0.03
    # A rhythm with few tunes (5 polkas) draws from the whole corpus's mix, as does no rhythm.
    rare = Counter(style.pick(CARD, "polka", seed) for seed in range(500))
    assert {"aird", "ryan", "oneill"} <= set(rare)
    assert {style.pick(CARD, None, seed) for seed in range(200)} == {"aird", "oneill"}


def test_training_names_most_tunes_collections_and_leaves_the_rest_plain():
    tunes = [TUNE.replace("GABc", "GAB" + "cdefg"[i % 5]) for i in range(400)]
    collections = ["ryansMammoth" if i % 2 else "oneills1850" for i in range(400)]
    vocab = set("".join(tunes)) | set(style.line("oneill") + style.line("ryan"))
    text = epoch_text(tunes, 0, TrainConfig(transpose=0.0), vocab, collections)
    written = text.count("\nS:")
    assert 0.6 < written / 400 < 0.8  # the default share, 0.7
    for tune, collection in zip(tunes, collections):
        named = style.styled(tune, style.tag_of(collection))
        assert named in text or tune in text
    assert "S:" not in epoch_text(tunes, 0, TrainConfig(transpose=0.0, styles=0.0), vocab, collections)
    # Every line names the tune's own collection.
    for block in text.split("\n\n"):
        if "S:" in block:
            tag = block.split("S:")[1].split("\n")[0]
            assert tag in {"ryan", "oneill"}


VOCAB = "\n !\"#'()+,-./0123456789:<=>ABCDEFGHIJKLMNOPQRSTUVWXYZ[]^_abcdefghijklmnopqrstuvwxyz{|}~"


@pytest.fixture(scope="module")
def tiny_styled() -> Loaded:
    torch.manual_seed(0)
    model = CharLSTM(ModelConfig(vocab_size=len(VOCAB), embedding=8, hidden=32, layers=2, dropout=0.0))
    model.eval()
    return Loaded(model=model, vocab=VOCAB, card=CARD)


def test_a_new_tune_is_written_in_a_drawn_style_that_the_tune_does_not_print(tiny_styled, monkeypatch):
    from bot import generate as generation

    fed: list[str] = []
    feed = generation._Sequence.feed

    def spy(self, text):
        fed.append(text)
        return feed(self, text)

    monkeypatch.setattr(generation._Sequence, "feed", spy)
    update = generate("a dotted hornpipe in G", Settings(seed=3, bars=2, form=False), tiny_styled)
    # Pinned draws, not style.pick's own answer: the manner follows the seed, so a link (seed 3)
    # brings back the same manner; seed 0 lands in O'Neill's 30% of the hornpipes. (A dotted
    # hornpipe: a straight one is written in today's manner, bot.compose.headers.)
    assert update.style == "ryan"
    assert "S:ryan\nK:G\n" in "".join(fed)  # the model read the line before K:
    assert "S:" not in update.abc  # the tune shown names no source it does not come from
    assert generate("a dotted hornpipe in G", Settings(seed=0, bars=2, form=False), tiny_styled).style == "oneill"
    # A model trained without style lines (its card has none) is fed none.
    fed.clear()
    plain = Loaded(model=tiny_styled.model, vocab=VOCAB, card={})
    assert generate("a hornpipe in G", Settings(seed=3, bars=2, form=False), plain).style == ""
    assert "S:" not in "".join(fed)


def test_a_continued_tune_keeps_its_own_style(tiny_styled):
    pasted = "X:1\nM:2/2\nL:1/8\nR:hornpipe\nK:G\nGABc dedB|GABc dedB|\n"
    update = generate(pasted, Settings(seed=3, bars=2, form=False), tiny_styled)
    assert update.style == "" and "S:" not in update.abc


@pytest.mark.parametrize("words, tag", [
    ("a hornpipe like Ryan's", "ryan"), ("a hornpipe in Aird's manner", "aird"), ("reel from the Mammoth collection", "ryan"),
    ("a jig in the style of O'Neill's", "oneill"), ("oneills reel", "oneill"), ("an air from Aird", "aird"),
    ("a waltz like the Nottingham tunes", "nmd"), ("a reel in D", None), ("a jig in A dorian", None),
])
def test_words_can_ask_for_a_collections_manner(words, tag):
    from bot.prompt import parse_prompt

    prompt = parse_prompt(words, VOCAB)
    assert prompt.style == tag
    assert prompt.key in ("", "D", "Ador")  # "in Aird's", "in the style" name no key


def test_a_manner_asked_for_is_written_in_and_one_the_model_lacks_is_said(tiny_styled):
    asked = generate("a hornpipe in G like Aird's", Settings(seed=3, bars=2, form=False), tiny_styled)
    assert asked.style == "aird"  # asked for, though hornpipes draw from ryan, oneill and nmd
    lacking = Loaded(model=tiny_styled.model, vocab=VOCAB, card={})
    update = generate("a hornpipe in G like Aird's", Settings(seed=3, bars=2, form=False), lacking)
    assert update.style == "" and any("not trained to write in the manner of Aird's" in n for n in update.notices)
    pasted = "X:1\nM:2/2\nL:1/8\nK:G\nGABc dedB|GABc dedB|\nlike Ryan's"
    kept = generate(pasted, Settings(seed=3, bars=2, form=False), tiny_styled)
    assert kept.style == "" and any("keeps its own manner" in n for n in kept.notices)
