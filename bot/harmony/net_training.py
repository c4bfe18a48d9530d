"""Train the chord network's members (bot.harmony.net.ChordNet) on tunes with human chords (torch).

Each member is a ChordNet trained from its own seed with cross-entropy and AdamW. With
validation tunes, a member stops once its validation loss has not improved for `patience`
epochs, and the epoch with the lowest validation loss is kept; without them (the final refit
on train + validation), it trains for a fixed number of epochs, the one chosen on validation.
The trainer knows the network only through ChordNet, features and labels.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import torch
from tqdm import tqdm

from bot.harmony.net import ChordNet, NetConfig, features, labels
from bot.harmony.reading import Reading


@dataclass
class NetTraining:
    """How the members are trained (the card stores it); each default was chosen on NMD validation."""

    members: int = 5  # GRUs from seeds seed, seed+1, ...: 5 averaged beat 3, and 3 beat one, on validation
    hidden: int = 48  # GRU width per direction (NetConfig.hidden): 64 scored no better on validation
    layers: int = 2  # stacked GRU layers (NetConfig.layers): two scored better than one on validation
    dropout: float = 0.4  # NetConfig.dropout: 0.3-0.4 lowered the validation loss against none
    epochs: int = 40  # most epochs per member
    patience: int = 8  # stop a member after this many epochs without a lower validation loss
    lr: float = 3e-3  # AdamW learning rate
    weight_decay: float = 1e-2  # AdamW's decoupled weight decay
    batch: int = 16  # tunes per step
    seed: int = 0  # the first member's seed (weights and batch order)

    def to_dict(self) -> dict:
        """Plain JSON."""
        return asdict(self)


def _tensors(readings: list[Reading]) -> list[tuple[torch.Tensor, torch.Tensor]]:
    return [(torch.from_numpy(features(r)), torch.from_numpy(labels(r))) for r in readings]


def _pad(items: list[tuple[torch.Tensor, torch.Tensor]]) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(B, T, F) features, (B, T) labels (-1 past each tune's end: the loss ignores it) and (B,) lengths."""
    length = max(len(x) for x, _ in items)
    x = torch.zeros(len(items), length, items[0][0].shape[1])
    y = torch.full((len(items), length), -1, dtype=torch.long)
    for i, (xi, yi) in enumerate(items):
        x[i, :len(xi)], y[i, :len(yi)] = xi, yi
    return x, y, torch.tensor([len(xi) for xi, _ in items])


def _loss(net: ChordNet, x: torch.Tensor, y: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
    out = net(x, lengths)  # (B, T, C)
    return torch.nn.functional.nll_loss(out.reshape(-1, out.shape[-1]), y.reshape(-1), ignore_index=-1)


def _batches(lengths: list[int], batch: int, rng: np.random.Generator) -> list[np.ndarray]:
    """One epoch's batches of tune indices: random, but tunes of like length together (tunes run
    from 10 to 190 slots; random batches of 16 would be half padding), in random order."""
    order = rng.permutation(len(lengths))
    pool = batch * 8
    batches = []
    for i in range(0, len(order), pool):
        chunk = sorted(order[i:i + pool], key=lambda j: lengths[j])
        batches += [np.array(chunk[k:k + batch]) for k in range(0, len(chunk), batch)]
    return [batches[i] for i in rng.permutation(len(batches))]


def train_net(train: list[Reading], validation: list[Reading] | None, config: NetTraining, seed: int,
              epochs: int | None = None, progress: tqdm | None = None) -> tuple[ChordNet, dict]:
    """One member trained on `train`, and what happened ({"epoch", "validation_loss"}).

    With `validation`: at most config.epochs, stopped by config.patience, the best epoch on
    validation kept. Without: exactly `epochs` (default config.epochs), the last kept.
    `progress` (a tqdm bar) is advanced once per epoch.
    """
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    train_set = _tensors(train)
    held = _pad(_tensors(validation)) if validation else None
    net = ChordNet(NetConfig(hidden=config.hidden, dropout=config.dropout, layers=config.layers))
    optimiser = torch.optim.AdamW(net.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    best_loss, best_state, best_epoch = float("inf"), None, 0
    for epoch in range(1, (epochs or config.epochs) + 1):
        net.train()
        for batch in _batches([len(x) for x, _ in train_set], config.batch, rng):
            loss = _loss(net, *_pad([train_set[k] for k in batch]))
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
        if progress is not None:
            progress.update()
        if held is None:
            continue
        net.eval()
        with torch.no_grad():
            val_loss = float(_loss(net, *held))
        if progress is not None:
            progress.set_postfix(member_seed=seed, epoch=epoch, val_loss=f"{val_loss:.3f}", best=best_epoch)
        if val_loss < best_loss:
            best_loss, best_state, best_epoch = val_loss, {k: v.clone() for k, v in net.state_dict().items()}, epoch
        elif epoch - best_epoch >= config.patience:
            if progress is not None:
                progress.update(config.epochs - epoch)  # the epochs it skips
            break
    if best_state is not None:
        net.load_state_dict(best_state)
    net.eval()
    if held is None:
        return net, {"epoch": epochs or config.epochs}
    return net, {"epoch": best_epoch, "validation_loss": round(best_loss, 4)}


def train_members(train: list[Reading], validation: list[Reading] | None, config: NetTraining,
                  epochs: int | None = None, desc: str = "chord networks", quiet: bool = False,
                  ) -> tuple[list[ChordNet], list[dict]]:
    """config.members networks (seeds config.seed, +1, ...) as train_net trains them, with each one's info."""
    total = config.members * (epochs or config.epochs)
    nets, infos = [], []
    with tqdm(total=total, desc=desc, unit="epoch", disable=quiet, dynamic_ncols=True, mininterval=1.0) as bar:
        for member in range(config.members):
            net, info = train_net(train, validation, config, config.seed + member, epochs, bar)
            nets.append(net)
            infos.append(info)
    return nets, infos
