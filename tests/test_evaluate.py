"""python -m bot.evaluate: one JSON line on good input, a one-line reason on bad input."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
TUNE = "X:1\nT:A\nM:6/8\nL:1/8\nK:D\n|:dfa afd|g2e f2d|edc BAG|FAF D3:|\n"


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "bot.evaluate", *args], cwd=ROOT, capture_output=True, text=True, timeout=120)


def test_evaluate_tiny_file_counts_unknown_characters(tmp_path):
    good = tmp_path / "tunes.abc"
    # The second tune holds a character no training tune has (a tab would be normalised; use a
    # non-ASCII-free but unseen symbol) and must be skipped, not crash.
    good.write_text(TUNE + "\nX:2\nM:4/4\nL:1/8\nK:G\nGABc d2 e&d|\n" + "\nX:3\nM:4/4\nL:1/8\nK:G\nGABc dedB|@@@@|\n")
    proc = run("--abc", str(good))
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result["tunes"] == 1
    assert result["skipped_tunes"] == 2  # one multi-voice tune, one with unseen '@'
    assert result["chars"] == len(TUNE) - len("X:1\nT:A\n") + 1 - 1  # normalised tune + separator, minus 1
    assert 0.0 < result["bits_per_char"] < 4.0 and 0.0 < result["accuracy"] < 1.0


@pytest.mark.parametrize(
    "content, message",
    [(None, "no such file"), (b"\x00\x01binary", "binary"), (b"hello, just prose\n", "no tune")],
)
def test_evaluate_bad_input_exits_nonzero_with_one_line(tmp_path, content, message):
    path = tmp_path / "in.abc"
    if content is not None:
        path.write_bytes(content)
    proc = run("--abc", str(path))
    assert proc.returncode != 0
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], proc.stderr


def test_evaluate_missing_checkpoint(tmp_path):
    proc = run("--checkpoint", str(tmp_path / "none"))
    assert proc.returncode != 0 and "checkpoint file missing" in proc.stderr
