"""The harmoniser learned from the NMD: its data read and repaired as counted, the network's
checkpoint loading as written, chords kept to the key's vocabulary, the shipped model beating
the per-bar triad on the validation tunes, and the notation and harmony packages importing one way."""

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
from bot.harmony.data import MIN_CHORDS, ChordTunes, chord_symbols, learning_tunes, load_chord_tunes, repair
from bot.harmony.evaluate import Score, degree, held_parts, score, tonic_chords, triad_per_bar
from bot.harmony.harmonise import choose, harmonise, strip_chords
from bot.harmony.model import load
from bot.harmony.net import CLASSES, FEATURES, ChordNet, NetConfig, NetHarmoniser, decode, features, labels
from bot.harmony.net_training import NetTraining, train_members, train_net
from bot.harmony.reading import read
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
    return NetHarmoniser([ChordNet(NetConfig(hidden=4))], {"maj": list(range(len(CLASSES))), "min": [1, 21, 23]},
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
    card.write_text(card.read_text().replace("harmony net v2", "harmony net v0"))
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
    # The texture columns (the last 25): in the half bar "B,2d2" of a 4/4 tune in G, the note at
    # its middle is d (the fifth, 7), the lowest is B, (the third, 4), and two notes start in it.
    texture = features(read("X:1\nM:4/4\nL:1/8\nK:G\nB,2d2 G4|G8|]\n"))[:, -25:]
    assert np.flatnonzero(texture[0, :12]).tolist() == [7] and np.flatnonzero(texture[0, 12:24]).tolist() == [4]
    assert texture[0, 24] == pytest.approx(2 / 6)
    # A held note counts where it sounds: G8's second half has G in the middle and no note starting.
    assert np.flatnonzero(texture[3, :12]).tolist() == [0] and texture[3, 24] == 0


def test_training_lowers_the_loss_on_what_it_learns_from():
    readings = [read(NMD_LIKE), read(REEL.replace("|:A2|d2fd", '|:A2|"D"d2fd').replace("e2dc", '"A7"e2dc'))]
    net, info = train_net(readings, readings, NetTraining(hidden=8, dropout=0.0, epochs=30, patience=30), seed=0)
    untrained = ChordNet(NetConfig(hidden=8))
    x = torch.from_numpy(features(readings[0]))[None]
    y = torch.from_numpy(labels(readings[0]))
    mask = y >= 0

    @torch.no_grad()
    def loss(model):
        return float(-model(x)[0][mask, y[mask]].mean())

    assert loss(net) < loss(untrained) and info["epoch"] >= 1


def test_the_shipped_model_beats_the_per_bar_triad_on_validation():
    # Validation tunes: the settings were chosen on them, and the shipped members (refit on
    # train + validation) have seen them, so this is a floor that catches a broken model, not a score.
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


def _all_bot_imports(path: Path) -> set[str]:
    """The bot.* modules a file imports anywhere, inside functions too (a lazy import still closes a circle)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("bot."):
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names if alias.name.startswith("bot."))
    return found


def test_the_harmony_package_imports_one_way():
    # The network needs only the modes' triads, which now live below both it and the HMM:
    # model -> net (to load a shipped network) and never net -> model.
    harmony = ROOT / "bot" / "harmony"
    graph = {f"bot.harmony.{p.stem}": {m for m in _all_bot_imports(p) if m.startswith("bot.harmony.")}
             for p in harmony.glob("*.py") if p.stem != "__init__"}
    assert "bot.harmony.net" in graph["bot.harmony.model"]
    assert graph["bot.harmony.net"] <= {"bot.harmony.reading", "bot.harmony.scales", "bot.harmony.cadences"}
    assert graph["bot.harmony.cadences"] <= {"bot.harmony.reading"}
    assert graph["bot.harmony.scales"] == set()

    def reaches(start: str, goal: str, seen: set[str]) -> bool:
        return any(m == goal or (m not in seen and reaches(m, goal, seen | {m})) for m in graph.get(start, ()))

    circles = sorted(name for name in graph if reaches(name, name, {name}))
    assert circles == []


def test_a_part_on_one_chord_counts_as_monotonous():
    # Two 8-bar parts whose human chords move every bar; the tonic everywhere fills all 8 bars
    # of each with G, which the bench reports as monotonous (more than 6 of 8 bars).
    part = '|:"G"G8|"C"c8|"G"G8|"D"d8|"G"G8|"C"c8|"G"G8|"D7"d8:|\n'
    reading = read("X:1\nM:4/4\nL:1/8\nK:G\n" + part * 2)
    result = Score()
    result.add(reading, tonic_chords(reading))
    assert (result.parts, result.monotonous, result.human_monotonous) == (2, 2, 0)


def test_an_ensemble_of_identical_members_chooses_as_one_member_does(tmp_path):
    one = _tiny_net(seed=3)
    net = one.nets[0]
    twin = ChordNet(net.config)
    twin.load_state_dict(net.state_dict())
    twin.eval()
    three = NetHarmoniser([net, twin, net], one.vocabulary, one.stay_bar, one.stay_in)
    reading = read(REEL)
    assert np.allclose(three.scores(reading), one.scores(reading))
    assert three.choose(reading) == one.choose(reading) and harmonise(REEL, three) == harmonise(REEL, one)
    # Members that differ are averaged in log probability: the mean of each one's scores.
    other = _tiny_net(seed=4)
    pair = NetHarmoniser([net, other.nets[0]], one.vocabulary, one.stay_bar, one.stay_in)
    assert np.allclose(pair.scores(reading), (one.scores(reading) + NetHarmoniser(other.nets, one.vocabulary).scores(reading)) / 2)
    # Saved and loaded back, the ensemble keeps its members in order.
    pair.save(tmp_path / "h.json", tmp_path / "h.safetensors")
    load.cache_clear()
    again = load(str(tmp_path / "h.json"))
    assert len(again.nets) == 2 and np.allclose(again.scores(reading), pair.scores(reading))


def _tune_in(split: str) -> str:
    """A small tune whose text hashes to `split` (bot.nmd.split_of), found by numbering its title."""
    for n in range(1000):
        text = f"X:1\nT:Fixture {n}\nM:4/4\nL:1/8\nK:G\n\"G\"GABc dBAG|\"C\"cBAG \"D7\"FGAF|\"G\"G8|]\n"
        if nmd.split_of(text) == split:
            return text
    raise AssertionError(f"no fixture hashes to {split}")


def test_the_refit_on_train_and_validation_refuses_test_tunes():
    train, validation, test = _tune_in("train"), _tune_in("validation"), _tune_in("test")

    def tunes(**splits):
        return ChordTunes(splits={s: [read(t) for t in texts] for s, texts in splits.items()},
                          originals=dict(splits))

    assert len(learning_tunes(tunes(train=[train], validation=[validation]))) == 2
    # A test tune filed under validation (or train) is refused, naming it; so is a loaded test split.
    with pytest.raises(ValueError, match="hashes to test"):
        learning_tunes(tunes(train=[train], validation=[validation, test]))
    with pytest.raises(ValueError, match="hashes to test"):
        learning_tunes(tunes(train=[test], validation=[validation]))
    with pytest.raises(ValueError, match="test tunes loaded"):
        learning_tunes(tunes(train=[train], validation=[validation], test=[test]))
    # And the real data, loaded as the trainer loads it, passes the check.
    data = load_chord_tunes(("train", "validation"))
    assert len(learning_tunes(data)) == len(data.splits["train"]) + len(data.splits["validation"])


def test_the_refit_trains_each_member_for_the_epochs_given():
    readings = [read(NMD_LIKE), read(_tune_in("train"))]
    config = NetTraining(members=2, hidden=4, epochs=50, seed=7)
    nets, infos = train_members(readings, None, config, epochs=3, quiet=True)
    assert [info["epoch"] for info in infos] == [3, 3] and len(nets) == 2
    # Different seeds, different members; the same seed, the same member.
    x = torch.from_numpy(features(readings[0]))[None]
    assert not torch.allclose(nets[0](x), nets[1](x))
    again, _ = train_net(readings, None, config, seed=7, epochs=3)
    assert torch.allclose(again(x), nets[0](x))


def test_a_held_part_is_fair_only_when_its_melody_stays_on_the_chord():
    # Eight bars on G. In the first part the melody's beat notes are G, B and D; in the second
    # they walk the scale, so a G on seven or eight of its bars is monotonous and not fair.
    on = '|:"G"G2B2 d2B2|' + "|".join(["G2B2 D2G2"] * 6) + '|G8:|\n'
    off = '|:"G"A2c2 e2c2|' + "|".join(["A2c2 F2A2"] * 6) + '|G8:|\n'
    parts = held_parts(read("X:1\nM:4/4\nL:1/8\nK:G\n" + on + off))
    assert [(p.bars, p.monotonous) for p in parts] == [(8, True), (8, True)]
    assert parts[0].melody_on_chord and parts[0].on_chord == parts[0].beat_notes == 16
    assert not parts[1].melody_on_chord and parts[1].on_chord == 2  # the last bar's G, held through both halves
    # Chords that move every other bar are not held, whatever the melody.
    moving = '|:"G"G8|"D"A8|"G"G8|"D"A8|"G"G8|"D"A8|"G"G8|"D"A8:|\n'
    assert [p.monotonous for p in held_parts(read("X:1\nM:4/4\nL:1/8\nK:G\n" + moving))] == [False]


def test_a_tune_in_a_padded_batch_scores_as_it_does_alone():
    # Training pads tunes to the longest in the batch; packed by their lengths, the backward
    # direction starts at each tune's own end, so training sees what use sees.
    torch.manual_seed(0)
    net = ChordNet(NetConfig(hidden=6, layers=2)).eval()
    short, long = features(read(NMD_LIKE)), features(read(REEL * 3))
    assert len(short) < len(long)
    x = torch.zeros(2, len(long), FEATURES)
    x[0, :len(short)], x[1] = torch.from_numpy(short), torch.from_numpy(long)
    with torch.no_grad():
        batch = net(x, torch.tensor([len(short), len(long)]))
        alone = net(torch.from_numpy(short)[None])[0]
    assert torch.allclose(batch[0, :len(short)], alone, atol=1e-5)
