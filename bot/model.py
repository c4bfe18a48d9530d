"""The character-level LSTM, defined once for training, evaluation and generation."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
from torch import nn


@dataclass(frozen=True)
class ModelConfig:
    """Shape of the CharLSTM; stored in every checkpoint's model card."""

    vocab_size: int  # characters in the alphabet (the checkpoint stores the alphabet itself)
    embedding: int = 128  # input embedding width; small is enough for ~90 symbols
    hidden: int = 512  # LSTM units per layer
    layers: int = 2  # stacked LSTM layers
    dropout: float = 0.3  # between LSTM layers and before the output layer (training only)

    def to_dict(self) -> dict:
        """Plain-JSON form for the model card."""
        return asdict(self)


State = tuple[torch.Tensor, torch.Tensor]  # (h, c), each (layers, batch, hidden)


class CharLSTM(nn.Module):
    """Embedding -> stacked LSTM (dropout between layers) -> dropout -> linear over the vocabulary.

    The output layer is applied at every time step (char-rnn's time-distributed output), so
    one call scores a whole sequence and carrying `state` between calls gives the same logits
    as one long call.
    """

    def __init__(self, config: ModelConfig):
        super().__init__()
        self.config = config
        self.embed = nn.Embedding(config.vocab_size, config.embedding)
        self.lstm = nn.LSTM(
            config.embedding,
            config.hidden,
            num_layers=config.layers,
            dropout=config.dropout if config.layers > 1 else 0.0,
            batch_first=True,
        )
        self.drop = nn.Dropout(config.dropout)
        self.head = nn.Linear(config.hidden, config.vocab_size)

    def forward(self, tokens: torch.Tensor, state: State | None = None) -> tuple[torch.Tensor, State]:
        """tokens (batch, time) int64 -> logits (batch, time, vocab) and the final (h, c)."""
        x = self.embed(tokens)  # (B, T, E)
        out, state = self.lstm(x, state)  # (B, T, H)
        return self.head(self.drop(out)), state

    def initial_state(self, batch: int) -> State:
        """Zero (h, c) for `batch` independent sequences."""
        shape = (self.config.layers, batch, self.config.hidden)
        weight = self.head.weight
        return (weight.new_zeros(shape), weight.new_zeros(shape))
