"""Tiny training runs: the loss falls, resume continues, and DDP keeps ranks in step."""

from __future__ import annotations

import csv
import json
import os
import socket
import subprocess
import sys
import textwrap
from pathlib import Path

import torch
from safetensors.torch import load_file

from bot.model import CharLSTM, ModelConfig

from bot.train import parse_args, train

ROOT = Path(__file__).resolve().parent.parent
TINY = ["--no-music21", "--hidden", "48", "--embedding", "16", "--batch", "8", "--seq", "32", "--threads", "1"]


def curve(stem: Path) -> list[dict]:
    with open(str(stem) + "_curve.csv") as handle:
        return list(csv.DictReader(handle))


def test_tiny_training_lowers_loss_and_resumes(small_abc_file, tmp_path):
    stem = tmp_path / "m"
    args = TINY + ["--abc", str(small_abc_file), "--out", str(stem), "--lr", "0.01", "--eval-every", "20"]
    result = train(parse_args(args + ["--max-steps", "60"]))
    rows = curve(stem)
    steps = [int(r["step"]) for r in rows]
    assert steps[:2] == [20, 40] and steps[-1] == 60  # every 20 steps, plus each epoch's end
    assert float(rows[-1]["val_bpc"]) < float(rows[0]["val_bpc"]) - 0.3
    assert result.card["validation"]["bits_per_char"] == min(float(r["val_bpc"]) for r in rows)
    assert Path(str(stem) + "_curve.png").stat().st_size > 1000
    # The card keeps the style mix new tunes are drawn from: every training tune, by rhythm.
    styles = result.card["styles"]
    assert styles["share"] == 0.7 and {t for mix in styles["counts"].values() for t in mix} == {"user"}
    assert sum(n for mix in styles["counts"].values() for n in mix.values()) == result.card["data"]["train_tunes"]
    # --resume picks up at step 60 and carries the history on.
    train(parse_args(args + ["--max-steps", "80", "--resume"]))
    assert [int(r["step"]) for r in curve(stem)] == steps + [80]


def test_ddp_two_cpu_ranks_hold_identical_weights(small_abc_file, tmp_path):
    script = tmp_path / "ddp_run.py"
    script.write_text(textwrap.dedent(f"""
        import os, sys
        sys.path.insert(0, {str(ROOT)!r})
        from safetensors.torch import save_file
        from bot.train import parse_args, train
        args = {TINY!r} + ["--abc", {str(small_abc_file)!r}, "--out", {str(tmp_path / "m")!r},
                           "--max-steps", "6", "--eval-every", "3", "--dropout", "0"]
        result = train(parse_args(args))
        state = {{k: v.contiguous() for k, v in result.model.state_dict().items()}}
        save_file(state, {str(tmp_path)!r} + f"/rank{{os.environ['RANK']}}.safetensors")
    """))
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = dict(os.environ, OMP_NUM_THREADS="1")
    proc = subprocess.run(
        [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2",
         "--master_addr", "127.0.0.1", "--master_port", str(port), str(script)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=240,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    zero, one = load_file(tmp_path / "rank0.safetensors"), load_file(tmp_path / "rank1.safetensors")
    assert zero.keys() == one.keys()
    for key in zero:
        assert (zero[key] == one[key]).all(), key
    # The ranks trained: the weights moved away from their common seeded initialisation.
    card = json.loads((tmp_path / "m.json").read_text())
    torch.manual_seed(card["training"]["seed"])
    initial = CharLSTM(ModelConfig(**card["model"])).state_dict()
    assert any(not torch.equal(initial[k], zero[k]) for k in zero)


def test_a_model_trained_in_float32_samples_on_every_path(small_abc_file, tmp_path):
    # Trained with float32 forced (a laptop's path), it loads and samples on this machine's
    # path and on the other one; the card names the path it trained on.
    from bot import checkpoint
    from bot.compute import ComputePath, inference_path
    from bot.stepper import Stepper

    stem = tmp_path / "f32"
    args = TINY + ["--abc", str(small_abc_file), "--out", str(stem), "--max-steps", "4", "--eval-every", "4"]
    result = train(parse_args(args + ["--precision", "float32"]))
    assert "cpu-float32" in result.card["compute_path"]
    loaded = checkpoint.load(stem)
    ids = loaded.encode("K:D\n|d2e")
    for path in {inference_path(), ComputePath("cpu", torch.float32, "test")}:
        stepper = Stepper(loaded.model, path)
        logits, state = stepper.prime(ids)
        assert logits.shape == (len(loaded.vocab),) and torch.isfinite(logits).all()
        logits, state = stepper.step(torch.tensor([ids[0]]), state)
        assert torch.isfinite(logits).all()
