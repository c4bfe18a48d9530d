"""Shared test fixtures: small, offline, seeded."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


@pytest.fixture(scope="session")
def small_abc_file() -> Path:
    """A real 47-tune ABC file shipped inside music21 (O'Neill's 1850, tunes 1-50)."""
    from bot.corpus import music21_corpus_dir

    return music21_corpus_dir() / "oneills1850" / "0001-0050.abc"
