"""Tune titles: seeded, plain, never the prompt's words, never twice in a conversation, rarely a
corpus title (checked against the corpus's own T: lines, read here without bot.titles)."""

from __future__ import annotations

import json
import random
import re
import subprocess
import sys
from pathlib import Path

import pytest

from bot.titles import (DEFAULT_CHECKPOINT, TitleCheckpointError, clean, load, load_cached, make_title,
                        prompt_words, uses_words)
from bot.titles.model import TitleConfig, TitleModel
from bot.titles.ngram import EOS, Ngram

from bench.titles import loose, raw_training_titles  # the copy check's own reading of the T: lines

ROOT = Path(__file__).resolve().parent.parent
RHYTHMS = (None, "jig", "reel", "hornpipe", "polka", "waltz", "slip jig", "air", "march", "strathspey")

# Ten prompts and, written out by hand, the words each must never lend its title.
PROMPTS = {
    "a jig in D": {"jig", "d"},
    "slow air in E minor": {"slow", "air", "e", "minor"},
    "a reel for whistle": {"reel", "whistle"},
    "hornpipe": {"hornpipe"},
    "a polka": {"polka"},
    "a waltz in G": {"waltz", "g"},
    "a slip jig in A minor": {"slip", "jig", "minor"},
    "a march in C, 32 bars": {"march", "c", "32", "bars"},
    "a strathspey for fiddle in A": {"strathspey", "fiddle"},
    "a sad song about the sea": {"sad", "song", "sea"},
}


def _words(title: str) -> set[str]:
    return set(re.findall(r"[a-z0-9]+", title.lower()))


def test_same_seed_same_title_and_seeds_differ():
    assert make_title(7) == make_title(7)
    assert make_title(7, "jig", ["X"], {"d"}) == make_title(7, "jig", ["X"], {"d"})
    assert len({make_title(s) for s in range(50)}) >= 45


def test_a_conversation_of_200_titles_never_repeats():
    so_far: list[str] = []
    for seed in range(200):
        title = make_title(1000 + seed, RHYTHMS[seed % len(RHYTHMS)], avoid=so_far,
                           banned_words=prompt_words("a jig in D"))
        assert title and title.lower() not in {t.lower() for t in so_far}
        so_far.append(title)
    assert len({t.lower() for t in so_far}) == 200


def test_avoid_is_case_insensitive():
    title = make_title(3)
    assert make_title(3, avoid=[title.upper()]) != title


@pytest.mark.parametrize("prompt", sorted(PROMPTS))
def test_never_the_prompts_words(prompt):
    assert PROMPTS[prompt] <= prompt_words(prompt) | {"c"}
    rhythm = next((r for r in RHYTHMS if r and r in prompt), None)
    for seed in range(60):
        title = make_title(seed, rhythm, banned_words=prompt_words(prompt))
        assert not (_words(title) & PROMPTS[prompt]), (prompt, title)


def test_prompt_words_keeps_content_words_and_single_letters():
    assert prompt_words("a jig in D") == {"jig", "d"}
    assert prompt_words("Slow air in E minor, please") == {"slow", "air", "e", "minor"}
    assert "the" not in prompt_words("The Humours of Ennis") and "humours" in prompt_words("The Humours of Ennis")


def test_a_single_letter_bans_a_whole_word_only():
    assert not uses_words("The Road to Dublin", {"d"})
    assert uses_words("D'Arcy's Fancy", {"d"})
    assert uses_words("The Jigs of Clare", {"jig"})
    titles = [make_title(s, banned_words={"d", "e", "g"}) for s in range(100)]
    assert any("d" in t.lower() for t in titles)  # the letter inside words is still allowed


def test_titles_never_name_a_rhythm_and_are_plain_text():
    for seed in range(300):
        title = make_title(seed, RHYTHMS[seed % len(RHYTHMS)])
        assert re.fullmatch(r"[A-Za-z][A-Za-z' -]*", title), title
        assert len(title) <= 50 and "\n" not in title and title == title.strip()
        assert not _words(title) & {"reel", "jig", "hornpipe", "waltz", "polka", "march", "strathspey"}


def test_at_most_five_percent_are_a_training_title():
    training = raw_training_titles()
    assert len(training) > 3000
    titles = [make_title(seed, RHYTHMS[seed % len(RHYTHMS)]) for seed in range(500)]
    copies = [t for t in titles if loose(t) in training]
    assert len(copies) / len(titles) <= 0.05, copies


@pytest.mark.parametrize("raw, titles", [
    ("Spotted Cow, The", ["The Spotted Cow"]),
    ("Maloney's Fancy -- Jig", ["Maloney's Fancy"]),
    ("BILLY O'ROURKE'S -- JIG", ["Billy O'Rourke's"]),
    ("The Boys of Ballinamore.", ["The Boys of Ballinamore"]),
    ("Miss McLeod's Reel", ["Miss McLeod's"]),
    ("Ballydesmond Polka No. 2", ["Ballydesmond"]),
    ("North Skelton 1, v 2", ["North Skelton"]),
    ("The Lady's play thing, or Gen Howe's March.", ["The Lady's Play Thing", "Gen Howe's"]),
    ("maire albana.c.", []),
    ("Jig", []),
    ("OLD ZIP COON -- REEL", []),
])
def test_cleaning_a_books_title(raw, titles):
    assert clean(raw) == titles


def test_nothing_is_loaded_at_import():
    code = "import sys, bot.titles as t; print(t.load_cached.cache_info().currsize, 'torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True,
                         env={"PYTHONPATH": str(ROOT), "PATH": ""})
    assert out.stdout.split() == ["0", "False"]


def test_checkpoint_describes_itself():
    assert DEFAULT_CHECKPOINT.stat().st_size < 2_000_000
    card = json.loads(DEFAULT_CHECKPOINT.read_text())
    assert card["command"].startswith("python -m bot.titles --train")
    assert card["data"]["train_titles"] > 3000 and len(card["data"]["corpus_fingerprint_sha256"]) == 64
    assert card["metrics"]["held_out_bits_per_char"] < min(card["metrics"]["held_out_bits_per_char_of_alternatives"].values())
    assert load_cached().config.order == card["config"]["order"]


def test_a_missing_or_foreign_checkpoint_names_its_path(tmp_path):
    with pytest.raises(TitleCheckpointError, match="missing"):
        load(tmp_path / "none.json")
    (tmp_path / "other.json").write_text('{"format": "something else"}')
    with pytest.raises(TitleCheckpointError, match="other.json"):
        load(tmp_path / "other.json")


def test_ngram_is_a_distribution_and_survives_json():
    model = Ngram.fit([[2, 3, 4], [2, 3, 5], [4, 4]], order=3, size=6, discount=0.75)
    for history in ([], [2], [2, 3], [5, 5]):
        assert sum(model.prob(history, t) for t in range(1, 6)) + model.prob(history, 0) == pytest.approx(1.0)
    again = Ngram.from_json(json.loads(json.dumps(model.to_json())))
    assert again.prob([2, 3], 4) == model.prob([2, 3], 4)
    rng = random.Random(0)
    assert {model.sample([2, 3], rng, lambda t: t != 4) for _ in range(50)} <= {1, 2, 3, 5} | {EOS}


def test_a_tiny_model_round_trips_and_obeys_the_rules(tmp_path):
    titles = [("The Humours of Ennis", "jig"), ("The Humours of Glin", "jig"), ("Miss Kelly's Fancy", "reel"),
              ("Miss Brown's Fancy", "reel"), ("The Road to Lisdoon", ""), ("The Boys of Ballisodare", "")]
    model = TitleModel.fit(titles, TitleConfig(rare=0, tries=50), known=[t for t, _ in titles])
    model.save(tmp_path / "t.json")
    again = load(tmp_path / "t.json")
    made = [again.make_title(s, "jig", banned_words={"humours"}) for s in range(20)]
    assert made == [model.make_title(s, "jig", banned_words={"humours"}) for s in range(20)]
    assert all(t and "humours" not in t.lower() and t not in dict(titles) for t in made)


def test_a_prompt_banning_every_stock_word_still_gets_a_title():
    model = load_cached()
    banned = set(model.vocab[3:])  # every word the model knows: only spelled names are left
    for seed in range(5):
        title = model.make_title(seed, "reel", banned_words=banned)
        assert re.fullmatch(r"[A-Za-z][A-Za-z' -]*", title) and not uses_words(title, banned), title
