"""Train the ABC char-LSTM on the folk corpus (`bot.corpus`: free-to-use tunes; plus any --abc files).

    python -m bot.train                       # reproduces checkpoints/abc_lstm.*
    python -m bot.train --with-essen          # adds Essen: the weights are then non-commercial only
    python -m bot.train --resume              # continue an interrupted run
    python -m bot.train --abc my_tunes/ --out checkpoints/mine
    torchrun --nproc_per_node 2 -m bot.train  # DistributedDataParallel, each rank its rows

The best checkpoint (by held-out bits per character) is kept; a loss and accuracy curve
(PNG and CSV) is written beside it.
"""

from __future__ import annotations

import argparse
import csv
import math
import os
import random
import shlex
import sys
import time
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from tqdm import tqdm

from bot import checkpoint, style
from bot.compute import CHOICES, ComputePath, training_path
from bot.corpus import join_tunes, load_corpus, terms
from bot.evaluate import encodable, score
from bot.model import CharLSTM, ModelConfig
from bot.notation.transpose import transpose

REPO = Path(__file__).resolve().parent.parent  # the repo root, which the card's paths are written from


@dataclass
class TrainConfig:
    """Everything that decides a training run; the defaults made the shipped checkpoint."""

    out: str = field(default=str(checkpoint.DEFAULT_CHECKPOINT), metadata={"help": "checkpoint stem to write (.safetensors/.json/_curve.png/_curve.csv)"})
    abc: list[str] = field(default_factory=list, metadata={"help": "extra ABC file or folder (repeatable)"})
    no_music21: bool = field(default=False, metadata={"help": "train only on --abc files"})
    with_essen: bool = field(default=False, metadata={"help": "add music21's Essen collection (non-commercial terms: the card says so)"})
    embedding: int = field(default=128, metadata={"help": "character embedding width"})
    hidden: int = field(default=512, metadata={"help": "LSTM units per layer"})
    layers: int = field(default=2, metadata={"help": "stacked LSTM layers"})
    dropout: float = field(default=0.3, metadata={"help": "dropout between layers and before the output"})
    batch: int = field(default=64, metadata={"help": "parallel text rows per step (split across ranks)"})
    seq: int = field(default=128, metadata={"help": "characters per row per step (truncated BPTT)"})
    epochs: int = field(default=26, metadata={"help": "passes over the training tunes (26 made models 2 and 3)"})
    lr: float = field(default=2e-3, metadata={"help": "peak AdamW learning rate"})
    min_lr: float = field(default=1e-4, metadata={"help": "learning rate at the end of the cosine"})
    warmup: int = field(default=200, metadata={"help": "steps of linear warm-up"})
    weight_decay: float = field(default=0.05, metadata={"help": "AdamW weight decay"})
    clip: float = field(default=1.0, metadata={"help": "gradient norm clip"})
    transpose: float = field(default=0.5, metadata={"help": "chance a tune is moved a whole step up or down each epoch"})
    styles: float = field(default=0.7, metadata={"help": "chance a tune's header names its collection on an S: line each epoch (bot.style; 0: never)"})
    precision: str = field(default="auto", metadata={"help": "auto (bfloat16 autocast where the CPU or GPU has it natively, about 1.8x faster; else float32), float32 or bfloat16; weights stay float32"})
    eval_every: int = field(default=400, metadata={"help": "steps between held-out evaluations"})
    max_steps: int = field(default=0, metadata={"help": "stop after this many steps (0: no limit; for smoke runs)"})
    seed: int = field(default=1337, metadata={"help": "seed for shuffling, augmentation and init"})
    threads: int = field(default=1, metadata={"help": "torch threads per rank (0: all cores shared across ranks); one thread never stalls when the other core is busy"})
    resume: bool = field(default=False, metadata={"help": "continue from the run state beside --out"})


def in_repo(text: str) -> str:
    """A path inside the repo as written from its root, where the card's command reruns it; any other text as given.

    A card ships with the model, so it names `checkpoints/abc_lstm`, never the folder of the
    machine that trained it."""
    path = Path(text)
    if not path.is_absolute():
        return text
    try:
        return path.relative_to(REPO).as_posix()
    except ValueError:
        return text


def launcher() -> str:
    """How this run was started, so the card's command reruns it (torchrun keeps its rank count)."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world > 1:
        return f"torchrun --nproc_per_node {world} -m bot.train "
    return "python -m bot.train "


def parse_args(argv: list[str] | None) -> TrainConfig:
    """A TrainConfig from the command line; every flag comes from a field, with its help."""
    parser = argparse.ArgumentParser(prog="python -m bot.train", description=__doc__.split("\n")[0])
    for f in fields(TrainConfig):
        flag = "--" + f.name.replace("_", "-")
        if f.type in ("bool", bool):
            parser.add_argument(flag, action="store_true", default=f.default, help=f.metadata["help"])
            if f.default:
                parser.add_argument("--no-" + f.name.replace("_", "-"), dest=f.name, action="store_false")
        elif f.name == "abc":
            parser.add_argument(flag, action="append", default=[], help=f.metadata["help"])
        elif f.name == "precision":
            parser.add_argument(flag, choices=CHOICES, default=f.default, help=f.metadata["help"])
        else:
            kind = {"int": int, "float": float, "str": str}[str(f.type)]
            parser.add_argument(flag, type=kind, default=f.default, help=f.metadata["help"] + f" (default {f.default})")
    return TrainConfig(**vars(parser.parse_args(argv)))


def epoch_text(tunes: list[str], epoch: int, config: TrainConfig, vocab: set[str],
               collections: list[str] | None = None) -> str:
    """The training stream for one epoch: tunes shuffled, some moved a whole step, and (given
    each tune's collection) most naming it on a style line (`bot.style`)."""
    rng = random.Random(config.seed * 1000 + epoch)
    order = list(zip(tunes, collections or [None] * len(tunes), strict=True))
    rng.shuffle(order)
    out = []
    for tune, collection in order:
        if rng.random() < config.transpose:
            moved = transpose(tune, rng.choice((-1, 1)))
            if moved is not None and set(moved) <= vocab:
                tune = moved
        # Drawn for every tune, so that the share does not move the other draws.
        if rng.random() < config.styles and collection is not None:
            tune = style.styled(tune, style.tag_of(collection))
        out.append(tune)
    return join_tunes(out)


def lr_at(step: int, total: int, config: TrainConfig) -> float:
    """Linear warm-up, then cosine decay from lr to min_lr."""
    if step < config.warmup:
        return config.lr * (step + 1) / config.warmup
    progress = min(1.0, (step - config.warmup) / max(1, total - config.warmup))
    return config.min_lr + 0.5 * (config.lr - config.min_lr) * (1 + math.cos(math.pi * progress))


def make_optimizer(model, config: TrainConfig) -> torch.optim.Optimizer:
    """AdamW as training uses it (bench/train_speed.py times the same one)."""
    # fused: one kernel for all parameters, 2.4 ms a step here against 8.1 ms for the default
    # per-tensor loop (the same update, rounding aside; bench/train_speed.py prints both).
    return torch.optim.AdamW(model.parameters(), lr=config.lr, weight_decay=config.weight_decay, fused=True)


def train_step(model, optimizer, x, y, state, path: ComputePath, config: TrainConfig):
    """One truncated-BPTT step on (rows, seq) ids on `path`'s device; returns (loss, correct, new state)."""
    x, y = x.to(path.device), y.to(path.device)
    with torch.autocast(path.device, dtype=torch.bfloat16, enabled=path.bfloat16):
        logits, state = model(x, state)
    logits = logits.float()
    loss = F.cross_entropy(logits.reshape(-1, logits.size(-1)), y.reshape(-1))
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), config.clip)
    optimizer.step()
    correct = (logits.argmax(-1) == y).sum().item()
    # Carry the state to the next chunk of the same rows, without backpropagating into it.
    return loss.item(), correct, tuple(s.detach().float() for s in state)


def write_curve(history: list[dict], stem: Path) -> None:
    """The training history as CSV and as a loss/accuracy PNG beside the checkpoint."""
    if not history:
        return
    csv_path = Path(str(stem) + "_curve.csv")
    with csv_path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(history[0]))
        writer.writeheader()
        writer.writerows(history)
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    epochs = [h["epoch"] for h in history]
    figure, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
    left.plot(epochs, [h["train_bpc"] for h in history], label="train")
    left.plot(epochs, [h["val_bpc"] for h in history], label="held out")
    left.set(xlabel="epoch", ylabel="bits per character", title="Loss")
    right.plot(epochs, [h["train_acc"] for h in history], label="train")
    right.plot(epochs, [h["val_acc"] for h in history], label="held out")
    right.set(xlabel="epoch", ylabel="next-character accuracy", title="Accuracy")
    for axis in (left, right):
        axis.grid(alpha=0.3)
        axis.legend()
    figure.tight_layout()
    figure.savefig(str(stem) + "_curve.png", dpi=100)
    plt.close(figure)


def _dist() -> tuple[int, int]:
    """(rank, world size), starting the process group when run under torchrun."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world > 1 and not torch.distributed.is_initialized():
        backend = "nccl" if torch.cuda.is_available() else "gloo"
        if torch.cuda.is_available():
            torch.cuda.set_device(int(os.environ.get("LOCAL_RANK", "0")))
        torch.distributed.init_process_group(backend)
    return (torch.distributed.get_rank() if world > 1 else 0), world


@dataclass
class TrainResult:
    """What a run leaves in memory: this rank's model (last step) and the best checkpoint's card."""

    model: CharLSTM
    card: dict


def train(config: TrainConfig) -> TrainResult:
    """Run training; every rank returns its model, rank 0 also the best checkpoint's card."""
    rank, world = _dist()
    main_rank = rank == 0
    if config.batch % world:
        raise SystemExit(f"--batch {config.batch} must divide across {world} ranks")
    threads = config.threads or max(1, (os.cpu_count() or 1) // world)
    torch.set_num_threads(threads)
    torch.manual_seed(config.seed)
    stem = Path(config.out)
    state_path = stem.parent / (stem.name + "_run") / "state.pt"

    path = training_path(config.precision)
    corpus = load_corpus([Path(p) for p in config.abc], include_music21=not config.no_music21,
                         with_essen=config.with_essen)
    vocab = corpus.vocabulary()
    held_out, skipped = encodable(corpus.held_out, vocab)
    if main_rank:
        print(path.describe(), flush=True)
        print("corpus:\n" + corpus.summary(), flush=True)
        if skipped:
            print(f"  {skipped} held-out tunes use characters unseen in training: not scored")
    if not held_out:
        raise SystemExit("no held-out tune to validate on: add more tunes")
    stoi = {c: i for i, c in enumerate(vocab)}
    lookup = np.zeros(256, dtype=np.int64)
    for c, i in stoi.items():
        lookup[ord(c)] = i
    encode = lambda text: torch.from_numpy(lookup[np.frombuffer(text.encode("latin-1"), dtype=np.uint8)])
    val_ids = encode(join_tunes(held_out))
    fingerprint = corpus.fingerprint()  # hashed once: every saved checkpoint names the same data
    # What bot.style.pick draws a new tune's style line from (none when trained without): read
    # once, as the fingerprint is, for every checkpoint saved.
    styles = ({"field": style.FIELD, "share": config.styles,
               "counts": style.counts(corpus.train, corpus.train_sources)} if config.styles > 0 else {})

    model_config = ModelConfig(len(vocab), config.embedding, config.hidden, config.layers, config.dropout)
    model = CharLSTM(model_config).to(path.device)
    optimizer = make_optimizer(model, config)
    train_chars = len(join_tunes(corpus.train))
    rows = config.batch // world
    steps_per_epoch = (train_chars - 1) // (config.batch * config.seq)
    total = steps_per_epoch * config.epochs
    step, history, best, elapsed_before = 0, [], float("inf"), 0.0
    if config.resume:
        if not state_path.is_file():
            raise SystemExit(f"--resume: no run state at {state_path}")
        saved = torch.load(state_path, weights_only=True, map_location=path.device)
        model.load_state_dict(saved["model"])
        optimizer.load_state_dict(saved["optimizer"])
        step, best, elapsed_before = saved["step"], saved["best"], saved["elapsed"]
        history = [dict(zip(saved["history_keys"], row), step=int(row[0])) for row in saved["history"].tolist()]
        if main_rank:
            print(f"resumed at step {step} (best held-out {best:.4f} bits/char)")
    net = model
    if world > 1:
        net = torch.nn.parallel.DistributedDataParallel(model)  # on a GPU, each rank its LOCAL_RANK device

    started = time.perf_counter()
    bar = tqdm(total=total, initial=step, disable=not main_rank, unit="step", dynamic_ncols=True, mininterval=2.0)
    window = {"nll": 0.0, "correct": 0, "chars": 0}
    while step < total and not (config.max_steps and step >= config.max_steps):
        epoch, offset = divmod(step, steps_per_epoch)
        ids = encode(epoch_text(corpus.train, epoch, config, set(vocab), corpus.train_sources))
        length = (len(ids) - 1) // config.batch
        x_all = ids[: config.batch * length].view(config.batch, length)[rank * rows : (rank + 1) * rows]
        y_all = ids[1 : config.batch * length + 1].view(config.batch, length)[rank * rows : (rank + 1) * rows]
        state = None
        for index in range(offset, steps_per_epoch):
            if config.max_steps and step >= config.max_steps:
                break
            for group in optimizer.param_groups:
                group["lr"] = lr_at(step, total, config)
            x = x_all[:, index * config.seq : (index + 1) * config.seq]
            y = y_all[:, index * config.seq : (index + 1) * config.seq]
            loss, correct, state = train_step(net, optimizer, x, y, state, path, config)
            step += 1
            window["nll"] += loss * y.numel()
            window["correct"] += correct
            window["chars"] += y.numel()
            seconds = time.perf_counter() - started
            bar.update(1)
            bar.set_postfix(
                bpc=f"{loss / math.log(2):.3f}",
                chars_s=f"{(bar.format_dict['rate'] or 0) * config.batch * config.seq:,.0f}",
                epoch=f"{step / steps_per_epoch:.2f}",
            )
            if step % config.eval_every == 0 or step in (total, config.max_steps) or step % steps_per_epoch == 0:
                if main_rank:
                    best = _evaluate_and_save(model, vocab, val_ids, window, step, steps_per_epoch, best,
                                              history, corpus, fingerprint, styles, config, elapsed_before + seconds,
                                              optimizer, state_path, path)
                window = {"nll": 0.0, "correct": 0, "chars": 0}
    bar.close()
    if world > 1:
        torch.distributed.barrier()
    card = {}
    if main_rank and Path(checkpoint.paths(stem)[1]).is_file():
        card = checkpoint.load(stem).card
        print(f"best held-out {best:.4f} bits/char; checkpoint {stem}")
    if world > 1:
        torch.distributed.destroy_process_group()
    return TrainResult(model=model, card=card)


def _evaluate_and_save(model, vocab, val_ids, window, step, steps_per_epoch, best, history, corpus,
                       fingerprint, styles, config, elapsed, optimizer, state_path, path: ComputePath) -> float:
    """Score the held-out stream, log a history row, keep the best checkpoint, save run state."""
    metrics = score(model, val_ids.to(path.device))
    chars = max(1, window["chars"])
    row = {
        "step": step,
        "epoch": round(step / steps_per_epoch, 3),
        "train_bpc": round(window["nll"] / chars / math.log(2), 4),
        "train_acc": round(window["correct"] / chars, 4),
        "val_bpc": round(metrics["bits_per_char"], 4),
        "val_acc": round(metrics["accuracy"], 4),
        "elapsed_s": round(elapsed, 1),
    }
    history.append(row)
    tqdm.write(f"step {step} epoch {row['epoch']:.2f}: train {row['train_bpc']:.4f} held-out {row['val_bpc']:.4f} bits/char, acc {row['val_acc']:.4f}")
    stem = Path(config.out)
    if metrics["bits_per_char"] < best:
        best = metrics["bits_per_char"]
        card = {
            "name": "abc-bot char-LSTM",
            "format": "safetensors weights + this JSON card; build bot.model.CharLSTM(ModelConfig(**model))",
            "data": {
                "fingerprint_sha256": fingerprint,
                "tunes_per_collection": corpus.counts,
                "train_tunes": len(corpus.train),
                "held_out_tunes": len(corpus.held_out),
                "dropped": dict(corpus.dropped),
                # Tunes whose R: line the corpus wrote in from their title or NMD file (bot.rhythm_labels).
                "rhythm_written_into_R": dict(corpus.labelled),
            },
            "styles": styles,
            "terms": terms(corpus.counts),
            "compute_path": path.describe(),
            "training": {k: (in_repo(v) if k == "out" else v) for k, v in asdict(config).items() if k not in ("resume",)},
            "steps": step,
            "epochs": row["epoch"],
            "wall_time_s": row["elapsed_s"],
            "validation": {"bits_per_char": row["val_bpc"], "accuracy": row["val_acc"]},
            "command": launcher() + " ".join(shlex.quote(in_repo(a)) for a in sys.argv[1:]),
        }
        checkpoint.save(model, vocab, card, stem)  # saves CPU copies: the card loads on any path
    write_curve(history, stem)
    state_path.parent.mkdir(parents=True, exist_ok=True)
    keys = list(history[0])
    torch.save(
        {
            "model": model.state_dict(),
            "optimizer": optimizer.state_dict(),
            "step": step,
            "best": best,
            "elapsed": elapsed,
            "history_keys": keys,
            "history": torch.tensor([[float(h[k]) for k in keys] for h in history], dtype=torch.float64),
        },
        str(state_path) + ".tmp",
    )
    os.replace(str(state_path) + ".tmp", state_path)
    return best


def main(argv: list[str] | None = None) -> int:
    train(parse_args(argv))
    return 0


if __name__ == "__main__":
    sys.exit(main())
