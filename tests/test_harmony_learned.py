"""The harmoniser learned from the NMD: its data read and repaired as counted, the network's
checkpoint loading as written, chords kept to the key's vocabulary, the shipped model beating
the per-bar triad on the validation tunes, and the notation package importing one way."""

from __future__ import annotations

import ast
import subprocess
import sys
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
import torch

from bot import nmd
from bot.harmony.data import MIN_CHORDS, chord_symbols, load_chord_tunes, repair
from bot.harmony.evaluate import Score, degree, score, tonic_chords, triad_per_bar
from bot.harmony.harmonise import choose, harmonise, strip_chords
from bot.harmony.model import load
from bot.harmony.net import CLASSES, FEATURES, ChordNet, NetConfig, NetHarmoniser, decode, features, labels
from bot.harmony.reading import read
from bot.harmony.train import train_net
from bot.notation.chords import Chord

ROOT = Path(__file__).resolve().parents[1]

# NMD spellings: a displaced chord, the NMD's slash-dim, and a walking-bass note in quotes.
NMD_LIKE = """X:1
T:Fixture
M:4/4
L:1/8
K:G
"G"GABc "/@<.5D7"dBAG|"C"cBAG "f#"FGAF|"G/dim"G2B2 "D7"A2F2|"G"G8|]
"""


def test_nmd_spellings_are_repaired_and_counted():
    counts = Counter()
    text = repair(NMD_LIKE, counts)
    assert counts["chords un-displaced (/@)"] == 1 and counts["slash-dim chords read as dim"] == 1
    assert '"D7"dBAG' in text and '"Gdim"G2B2' in text
    # Six chords; the walking-bass note is quoted text the chord reader does not take.
    assert chord_symbols(text) == (6, 1)
    humans = [slot.human for slot in read(text).slots]
    assert Chord(2, "7") in humans and Chord(7, "dim") in humans


def test_the_validation_split_is_bot_nmds_and_every_kept_tune_has_chords():
    data = load_chord_tunes(("validation",))
    wanted = [t for t in nmd.read() if t.split == "validation"]
    dropped = sum(n for name, n in data.counts.items() if name.startswith("dropped"))
    assert len(data.splits["validation"]) + dropped == len(wanted) >= 100
    assert data.counts["tunes read"] == len(wanted)
    assert all(sum(s.human is not None for s in r.slots) >= MIN_CHORDS for r in data.splits["validation"])
    assert "train" not in data.splits and len(data.fingerprint()) == 16


def _tiny_net(seed: int = 0) -> NetHarmoniser:
    torch.manual_seed(seed)
    return NetHarmoniser(ChordNet(NetConfig(hidden=4)), {"maj": list(range(len(CLASSES))), "min": [1, 21, 23]},
                         stay_bar=0.1, stay_in=0.3, info={"chosen": "tiny"})


REEL = "X:1\nM:4/4\nL:1/8\nK:D\n|:A2|d2fd A2FA|dfaf e2ce|d2fd A2FA|B2cd e2dc:|\n"


def test_a_network_checkpoint_loads_back_as_written(tmp_path):
    harmoniser = _tiny_net()
    card, weights = tmp_path / "h.json", tmp_path / "h.safetensors"
    harmoniser.save(card, weights)
    again = load(str(card))
    assert isinstance(again, NetHarmoniser) and again.vocabulary == harmoniser.vocabulary
    assert harmonise(REEL, again) == harmonise(REEL, harmoniser)
    weights.unlink()
    load.cache_clear()
    with pytest.raises(ValueError, match="weights"):
        load(str(card))
    card.write_text(card.read_text().replace("harmony net v1", "harmony net v0"))
    load.cache_clear()
    with pytest.raises(ValueError, match="format"):
        load(str(card))


def test_a_minor_key_gets_only_its_vocabulary():
    # The tiny net's minor vocabulary: i, V and V7 (classes 1, 21, 23: root * 3 + maj/min/7). Whatever the untrained
    # net prefers, a tune in E minor gets Em, B or B7 only; its melody is unchanged.
    tune = "X:1\nM:6/8\nL:1/8\nK:Em\nEFG B2E|GBG FED|EFG B2e|dBA B3|]\n"
    result = harmonise(tune, _tiny_net())
    chords = {c for c in __import__("re").findall(r'"([^"]+)"', result)}
    assert chords and chords <= {"Em", "B", "B7"} and strip_chords(result) == tune


def test_decoding_keeps_pinned_chords_and_changes_only_where_a_note_starts():
    reading = read("X:1\nM:4/4\nL:1/8\nK:G\nG8|A4 B4|c8|B8|]\n")
    scores = np.zeros((len(reading.slots), len(CLASSES)))
    scores[:, 15] = 1.0  # every slot prefers IV (C in G)
    pinned = [Chord(7, "maj")] + [None] * (len(reading.slots) - 1)
    chords = decode(scores, reading.slots, 0.0, 0.0, pinned)
    assert chords[0] == Chord(7, "maj")  # as written
    # Slot 1 is the second half of the G8 bar: no note starts there, so the chord cannot change.
    assert reading.slots[1].insert_at is None and chords[1] == chords[0]
    assert chords[2] == Chord(0, "maj")  # from the next bar on, the preferred C


def test_features_and_labels_are_one_row_per_slot():
    reading = read(NMD_LIKE)
    rows, targets = features(reading), labels(reading)
    assert rows.shape == (len(reading.slots), FEATURES) and targets.shape == (len(reading.slots),)
    assert np.allclose(rows[:, :12].sum(axis=1), 1.0)  # the melody shares of each slot
    assert CLASSES[targets[0]] == Chord(0, "maj")  # "G" in G is I


def test_training_lowers_the_loss_on_what_it_learns_from():
    readings = [read(NMD_LIKE), read(REEL.replace("|:A2|d2fd", '|:A2|"D"d2fd').replace("e2dc", '"A7"e2dc'))]
    net, info = train_net(readings, readings, epochs=30, hidden=8, seed=0, log=lambda _: None)
    untrained = ChordNet(NetConfig(hidden=8))
    x = torch.from_numpy(features(readings[0]))[None]
    y = torch.from_numpy(labels(readings[0]))
    mask = y >= 0

    @torch.no_grad()
    def loss(model):
        return float(-model(x)[0][mask, y[mask]].mean())

    assert loss(net) < loss(untrained) and info["epoch"] >= 1


def test_the_shipped_model_beats_the_per_bar_triad_on_validation():
    # Validation tunes (the model was chosen on them, never trained on them).
    validation = load_chord_tunes(("validation",)).splits["validation"]
    shipped = score(validation, lambda r: choose(r, keep=False))
    triads = score(validation, triad_per_bar)
    assert shipped.root_pct > triads.root_pct + 5 and shipped.chord_pct > triads.chord_pct + 5
    assert 0.8 <= shipped.change_ratio <= 1.2 and shipped.answered == len(validation)


def test_the_scores_count_chord_tones_cadences_and_degrees():
    reading = read(NMD_LIKE)
    result = Score()
    result.add(reading, tonic_chords(reading))
    # Strong-beat notes: G d | c F# | G A | G G (8 half bars); tones of the G chord among them: G d G G G.
    assert result.strong == 8 and result.tones == 5
    assert result.cadences == 1 and result.tonic_cadences == 1  # the last bar starts on G
    assert degree(Chord(2, "7"), 7) == "V7" and degree(Chord(4, "min"), 7) == "vi" and degree(Chord(5, "maj"), 7) == "bVII"


def _module_imports(path: Path) -> set[str]:
    """The bot.* modules a file imports at its top level (not inside functions)."""
    tree = ast.parse(path.read_text())
    return {node.module for node in tree.body if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("bot.")}


def test_the_notation_package_reads_one_way():
    # tokens knows nothing above it, chords builds on tokens, bars on both: no circle.
    notation = ROOT / "bot" / "notation"
    assert _module_imports(notation / "tokens.py") <= {"bot.notation.abc"}
    assert _module_imports(notation / "chords.py") <= {"bot.notation.tokens"}
    assert "bot.notation.tokens" in _module_imports(notation / "bars.py")
    # And loading tokens loads neither chords nor bars.
    code = "import sys, bot.notation.tokens; print(sorted(m for m in sys.modules if m.startswith('bot.notation.')))"
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "['bot.notation.abc', 'bot.notation.tokens']"


def test_a_part_on_one_chord_counts_as_monotonous():
    # Two 8-bar parts whose human chords move every bar; the tonic everywhere fills all 8 bars
    # of each with G, which the bench reports as monotonous (more than 6 of 8 bars).
    part = '|:"G"G8|"C"c8|"G"G8|"D"d8|"G"G8|"C"c8|"G"G8|"D7"d8:|\n'
    reading = read("X:1\nM:4/4\nL:1/8\nK:G\n" + part * 2)
    result = Score()
    result.add(reading, tonic_chords(reading))
    assert (result.parts, result.monotonous, result.human_monotonous) == (2, 2, 0)
