"""The one CharLSTM definition: carried state, and a pickle-free checkpoint round trip."""

from __future__ import annotations

import json

import pytest
import torch

from bot import checkpoint
from bot.model import CharLSTM, ModelConfig


def small_model(seed: int = 0) -> CharLSTM:
    torch.manual_seed(seed)
    return CharLSTM(ModelConfig(vocab_size=23, embedding=8, hidden=16, layers=2, dropout=0.3)).eval()


def test_whole_sequence_equals_stepping_with_carried_state():
    model = small_model()
    tokens = torch.randint(0, 23, (3, 40), generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        whole, _ = model(tokens)
        state, steps = None, []
        for t in range(tokens.size(1)):
            logits, state = model(tokens[:, t : t + 1], state)
            steps.append(logits)
    torch.testing.assert_close(torch.cat(steps, dim=1), whole, rtol=1e-5, atol=1e-5)


def test_checkpoint_round_trip_gives_identical_logits(tmp_path):
    model = small_model()
    vocab = "".join(chr(ord("a") + i) for i in range(23))
    checkpoint.save(model, vocab, {"note": "test"}, tmp_path / "m")
    card = json.loads((tmp_path / "m.json").read_text())
    assert card["vocab"] == vocab and card["model"]["hidden"] == 16 and card["note"] == "test"
    loaded = checkpoint.load(tmp_path / "m.safetensors")
    tokens = torch.tensor([loaded.encode("abcabcwvu")])
    with torch.no_grad():
        torch.testing.assert_close(loaded.model(tokens)[0], model(tokens)[0], rtol=0, atol=0)
    assert not loaded.model.training


def test_weights_file_is_safetensors_not_pickle(tmp_path):
    checkpoint.save(small_model(), "x" * 23, {}, tmp_path / "m")
    head = (tmp_path / "m.safetensors").read_bytes()[:16]
    assert not head.startswith(b"\x80")  # a pickle starts with the PROTO opcode
    header_len = int.from_bytes(head[:8], "little")
    header = json.loads((tmp_path / "m.safetensors").read_bytes()[8 : 8 + header_len])
    assert "head.weight" in header


def test_load_names_missing_and_broken_files(tmp_path):
    with pytest.raises(checkpoint.CheckpointError, match="missing"):
        checkpoint.load(tmp_path / "nothing")
    checkpoint.save(small_model(), "x" * 23, {}, tmp_path / "m")
    (tmp_path / "m.json").write_text("{not json")
    with pytest.raises(checkpoint.CheckpointError, match="not a model card"):
        checkpoint.load(tmp_path / "m")


def test_shipped_checkpoint_describes_itself():
    card = json.loads(checkpoint.paths(checkpoint.DEFAULT_CHECKPOINT)[1].read_text())
    for key in ("model", "vocab", "data", "steps", "wall_time_s", "validation", "command"):
        assert key in card, key
    counts = card["data"]["tunes_per_collection"]
    assert card["data"]["fingerprint_sha256"] and sum(counts.values()) > 5000
    # Model 2: only data whose terms allow any use, and the card says so with the NMD's credit.
    assert "essenFolksong" not in counts and counts["nmd"] > 800
    assert card["terms"]["weights"].startswith("free for any use") and "Eric Foxley" in card["terms"]["credit"]
    assert set(card["terms"]["sources"]) == set(counts)
    loaded = checkpoint.load()
    assert loaded.model.config.vocab_size == len(loaded.vocab) == len(card["vocab"])


def test_a_checkpoint_stem_with_a_dot_keeps_its_whole_name(tmp_path):
    # `--out runs/dropout0.5` wrote runs/dropout0.safetensors: a second run's `dropout0.7`
    # would have overwritten it.
    weights, card = checkpoint.paths(tmp_path / "dropout0.5")
    assert (weights.name, card.name) == ("dropout0.5.safetensors", "dropout0.5.json")
    assert checkpoint.paths(tmp_path / "dropout0.5.json") == (weights, card)
    model = CharLSTM(ModelConfig(vocab_size=5, embedding=4, hidden=8, layers=1, dropout=0.0))
    checkpoint.save(model, "abcde", {"name": "tiny"}, tmp_path / "dropout0.5")
    checkpoint.save(model, "abcde", {"name": "other"}, tmp_path / "dropout0.7")
    assert checkpoint.load(tmp_path / "dropout0.5").card["name"] == "tiny"
