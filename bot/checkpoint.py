"""Save and load a model as safetensors weights plus a JSON model card (no pickle anywhere)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from safetensors.torch import load_file, save_file

from bot.model import CharLSTM, ModelConfig

# The checkpoint shipped in the repo: checkpoints/abc_lstm.safetensors + abc_lstm.json.
DEFAULT_CHECKPOINT = Path(__file__).resolve().parent.parent / "checkpoints" / "abc_lstm"


class CheckpointError(ValueError):
    """Raised for a checkpoint that is missing or does not describe itself."""


@dataclass
class Loaded:
    """A model ready for inference with its alphabet and model card."""

    model: CharLSTM
    vocab: str  # index -> character
    card: dict

    stoi: dict[str, int] = field(init=False)  # character -> index

    def __post_init__(self):
        self.stoi = {c: i for i, c in enumerate(self.vocab)}

    def encode(self, text: str) -> list[int]:
        """Character indices for `text`; KeyError names a character outside the alphabet."""
        return [self.stoi[c] for c in text]


def paths(stem: Path | str) -> tuple[Path, Path]:
    """(weights, card) paths for a checkpoint stem, accepting either file's name too."""
    stem = Path(stem)
    if stem.suffix in (".safetensors", ".json"):
        stem = stem.with_suffix("")
    # Appended, not with_suffix: a stem such as "runs/dropout0.5" keeps its whole name.
    return stem.parent / (stem.name + ".safetensors"), stem.parent / (stem.name + ".json")


def save(model: CharLSTM, vocab: str, card: dict, stem: Path | str) -> None:
    """Write weights and card; the card gains the model config and alphabet."""
    weights_path, card_path = paths(stem)
    weights_path.parent.mkdir(parents=True, exist_ok=True)
    card = dict(card, model=model.config.to_dict(), vocab=vocab)
    tensors = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    # Write to temporary names first so an interrupted save never leaves a torn checkpoint.
    save_file(tensors, str(weights_path) + ".tmp")
    Path(str(card_path) + ".tmp").write_text(json.dumps(card, indent=2) + "\n")
    Path(str(weights_path) + ".tmp").replace(weights_path)
    Path(str(card_path) + ".tmp").replace(card_path)


def load(stem: Path | str = DEFAULT_CHECKPOINT) -> Loaded:
    """Build the model from its card and load its weights, in eval mode on the CPU."""
    weights_path, card_path = paths(stem)
    for path in (weights_path, card_path):
        if not path.is_file():
            raise CheckpointError(f"{path}: checkpoint file missing")
    try:
        card = json.loads(card_path.read_text())
        config = ModelConfig(**card["model"])
        vocab = card["vocab"]
    except (ValueError, KeyError, TypeError) as err:
        raise CheckpointError(f"{card_path}: not a model card ({err})") from err
    if len(vocab) != config.vocab_size:
        raise CheckpointError(f"{card_path}: alphabet has {len(vocab)} chars, model {config.vocab_size}")
    model = CharLSTM(config)
    model.load_state_dict(load_file(str(weights_path)))
    model.eval()
    return Loaded(model=model, vocab=vocab, card=card)


@lru_cache(maxsize=4)
def load_cached(stem: str = str(DEFAULT_CHECKPOINT)) -> Loaded:
    """`load`, once per process and path (the app and the generator share one copy)."""
    return load(stem)
