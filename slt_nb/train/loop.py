"""Train the small sign classifier on a WLASL extraction: loop, checkpoints, metrics.

The config (`configs/small_config.yaml` plus overrides by name) is read by `slt_nb.train.config`;
`train` takes the checked dict and the data it describes. A run writes, atomically, `best.pt` (model,
config, label map: enough to classify) and `last.pt` (plus optimizer, schedule, history and
early-stopping state: enough to resume exactly) into `training.output_dir`.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader

from slt_nb import progress
from slt_nb.atomic import atomic_path
from slt_nb.errors import DataFileError
from slt_nb.train.model import ModelConfig, SignClassifier, parameter_count
from slt_nb.params import resolve
from slt_nb.train.config import training_data
from slt_nb.train.data import TrainingData, collate_clips
# The notebook, the benchmarks and older code import the config functions from here.
from slt_nb.train.config import DEFAULT_CONFIG_PATH, SECTIONS, apply_overrides, load_config, resolve_input_type  # noqa: F401

CHECKPOINT_VERSION = 1


def pick_device(name: str = "auto") -> torch.device:
    """CUDA when present and asked for (or "auto"), else CPU."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(name)


# -- metrics -----------------------------------------------------------------------------------

def topk_correct(logits: torch.Tensor, targets: torch.Tensor, k: int) -> int:
    """How many targets are among the k highest logits (k capped at the number of classes)."""
    k = min(k, logits.shape[1])
    top = logits.topk(k, dim=1).indices
    return int((top == targets.unsqueeze(1)).any(dim=1).sum())


def warmup_cosine(step: int, warmup_steps: int, total_steps: int, min_ratio: float = 0.0) -> float:
    """Learning-rate factor: linear warm-up to 1, then cosine decay to min_ratio at total_steps."""
    if warmup_steps > 0 and step < warmup_steps:
        return (step + 1) / warmup_steps
    span = max(1, total_steps - warmup_steps)
    decayed = min(1.0, (step - warmup_steps) / span)
    return min_ratio + (1 - min_ratio) * 0.5 * (1 + math.cos(math.pi * decayed))


@dataclass
class Evaluation:
    loss: float
    top1: float
    top5: float
    samples: int
    targets: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    predictions: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    top5_predictions: np.ndarray = field(default_factory=lambda: np.zeros((0, 5), dtype=np.int64))


@torch.no_grad()
def evaluate(model: nn.Module, loader: DataLoader, criterion: nn.Module, device: torch.device) -> Evaluation:
    """Loss and top-1/top-5 accuracy over a loader, with every prediction (eval mode)."""
    model.eval()
    loss_sum, n, c1, c5 = 0.0, 0, 0, 0
    targets, preds, top5 = [], [], []
    for x, mask, y in loader:
        x, mask, y = x.to(device), mask.to(device), y.to(device)
        logits = model(x, mask)
        loss_sum += float(criterion(logits, y)) * len(y)
        n += len(y)
        c1 += topk_correct(logits, y, 1)
        c5 += topk_correct(logits, y, 5)
        targets.append(y.cpu())
        preds.append(logits.argmax(1).cpu())
        top5.append(logits.topk(min(5, logits.shape[1]), dim=1).indices.cpu())
    if not n:
        return Evaluation(float("nan"), float("nan"), float("nan"), 0)
    return Evaluation(loss_sum / n, c1 / n, c5 / n, n, torch.cat(targets).numpy(), torch.cat(preds).numpy(),
                      torch.cat(top5).numpy())


# -- checkpoints -------------------------------------------------------------------------------

def save_checkpoint(path: Path, payload: dict) -> None:
    """torch.save to a temp file in the same folder, then os.replace: never a half-written checkpoint."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as tmp:
        torch.save(payload, tmp)


def load_classifier(path: str | Path, device: str | torch.device = "cpu") -> tuple[SignClassifier, dict]:
    """A trained classifier (eval mode) and its checkpoint (config, label_map, metrics) from best.pt."""
    ckpt = torch.load(path, map_location=device, weights_only=True)
    model = SignClassifier(ModelConfig(**ckpt["model_config"]), ckpt["input_dim"], ckpt["num_classes"])
    model.load_state_dict(ckpt["model_state"])
    return model.to(device).eval(), ckpt


# -- the loop ----------------------------------------------------------------------------------

@dataclass
class TrainResult:
    """What a run did: per-epoch history, best epoch, test metrics and predictions, data used and skipped."""

    history: list[dict]
    best_epoch: int
    best_metrics: dict
    test: Evaluation | None
    label_map: list[dict]
    data: TrainingData
    output_dir: Path
    parameters: int
    device: str
    stopped_early: bool
    resumed_from: int | None
    monitored: str
    seconds: float

    def history_table(self):
        import pandas as pd

        return pd.DataFrame(self.history)


def make_loader(ds, batch_size: int, shuffle: bool, seed: int, epoch: int, workers: int) -> DataLoader:
    # shuffling from (seed, epoch) alone makes an epoch's order the same in a resumed run
    gen = torch.Generator().manual_seed(seed * 100_003 + epoch)
    return DataLoader(ds, batch_size=batch_size, shuffle=shuffle, generator=gen if shuffle else None,
                      collate_fn=collate_clips, num_workers=workers)


def build_model(config: dict, data: TrainingData) -> SignClassifier:
    torch.manual_seed(int(config["training"].get("seed", 0)))
    return SignClassifier(ModelConfig(**config["model"]), data.input_dim, data.num_classes)


@dataclass
class _Fit:
    """What every epoch of a run shares: the model, its loss, the optimiser and the schedule."""

    model: SignClassifier
    criterion: nn.Module
    optimizer: torch.optim.Optimizer
    scheduler: torch.optim.lr_scheduler.LambdaLR
    grad_clip: float | None


def _fit_for(config: dict, data: TrainingData, train_clips: int, device: torch.device) -> _Fit:
    """The model (seeded), AdamW and the warm-up + cosine schedule the `training:` section asks for."""
    tcfg = config["training"]
    model = build_model(config, data).to(device)
    criterion = nn.CrossEntropyLoss(label_smoothing=float(tcfg.get("label_smoothing", 0.0)))
    optimizer = torch.optim.AdamW(model.parameters(), lr=float(tcfg.get("learning_rate", 1e-3)),
                                  weight_decay=float(tcfg.get("weight_decay", 0.01)))
    epochs, batch_size = int(tcfg.get("epochs", 30)), int(tcfg.get("batch_size", 16))
    steps_per_epoch = math.ceil(train_clips / batch_size)
    warmup = int(round(float(tcfg.get("warmup_epochs", 1)) * steps_per_epoch))
    total = epochs * steps_per_epoch
    min_ratio = float(tcfg.get("min_lr_ratio", 0.0))
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: warmup_cosine(s, warmup, total, min_ratio))
    return _Fit(model, criterion, optimizer, scheduler, tcfg.get("grad_clip"))


def _payload(fit: _Fit, config: dict, data: TrainingData, epoch: int, metrics: dict,
             history: list[dict] | None = None, best: dict | None = None) -> dict:
    """A checkpoint: enough to classify; with `history` and `best` (last.pt) enough to resume exactly."""
    p = {"version": CHECKPOINT_VERSION, "epoch": epoch, "model_state": fit.model.state_dict(),
         "model_config": ModelConfig(**config["model"]).to_dict(), "input_dim": data.input_dim,
         "num_classes": data.num_classes, "label_map": data.label_map, "config": config, "metrics": metrics}
    if history is not None:
        p.update(optimizer_state=fit.optimizer.state_dict(), scheduler_state=fit.scheduler.state_dict(),
                 history=history, early_stopping=best)
    return p


def _resume(config: dict, data: TrainingData, fit: _Fit, last_path: Path, device: torch.device, log):
    """(history, early-stopping state, first epoch, epoch resumed from) from last.pt, or a fresh start."""
    tcfg = config["training"]
    fresh = [], {"score": None, "epoch": 0, "bad_epochs": 0, "metrics": {}}, 1, None
    if not tcfg.get("resume"):
        return fresh
    resume_path = resolve(tcfg["resume"]) if isinstance(tcfg["resume"], str) else last_path
    if not resume_path.exists():
        log(f"resume: no checkpoint at {resume_path}; starting from scratch")
        return fresh
    ckpt = torch.load(resume_path, map_location=device, weights_only=True)
    if ckpt["model_config"] != ModelConfig(**config["model"]).to_dict() or ckpt["label_map"] != data.label_map:
        raise DataFileError(f"{resume_path}: checkpoint was trained with a different model config or label "
                            f"map; start a new output_dir or set resume: false")
    fit.model.load_state_dict(ckpt["model_state"])
    fit.optimizer.load_state_dict(ckpt["optimizer_state"])
    fit.scheduler.load_state_dict(ckpt["scheduler_state"])
    log(f"resumed from {resume_path} after epoch {ckpt['epoch']}")
    return ckpt["history"], ckpt["early_stopping"], ckpt["epoch"] + 1, ckpt["epoch"] + 1


def _train_epoch(fit: _Fit, loader: DataLoader, device: torch.device) -> dict:
    """One pass over the training loader; the epoch's loss and top-1/top-5 and its sample count."""
    fit.model.train()
    loss_sum, n, c1, c5 = 0.0, 0, 0, 0
    for x, mask, y in loader:
        x, mask, y = x.to(device), mask.to(device), y.to(device)
        logits = fit.model(x, mask)
        loss = fit.criterion(logits, y)
        fit.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        if fit.grad_clip:
            nn.utils.clip_grad_norm_(fit.model.parameters(), float(fit.grad_clip))
        fit.optimizer.step()
        fit.scheduler.step()
        loss_sum += loss.item() * len(y)
        n += len(y)
        c1 += topk_correct(logits.detach(), y, 1)
        c5 += topk_correct(logits.detach(), y, 5)
    return {"train_loss": loss_sum / n, "train_top1": c1 / n, "train_top5": c5 / n, "samples": n}


def _improves(best: dict, row: dict, has_val: bool) -> bool:
    """Whether the epoch beats the best so far (`best` updated either way)."""
    # higher val top-1 wins, ties go to the lower val loss; without val, the lower train loss
    score = (row["val_top1"], -row["val_loss"]) if has_val else (-row["train_loss"],)
    if best["score"] is None or tuple(score) > tuple(best["score"]):
        best.update(score=list(score), epoch=row["epoch"], bad_epochs=0,
                    metrics={k: v for k, v in row.items() if k != "seconds"})
        return True
    best["bad_epochs"] += 1
    return False


def _epoch_line(row: dict, improved: bool) -> str:
    return (f"epoch {row['epoch']:3d}  loss {row['train_loss']:.3f}  train top1 {row['train_top1']:.2f}  "
            f"val loss {row['val_loss']:.3f}  val top1 {row['val_top1']:.2f} top5 {row['val_top5']:.2f}  "
            f"{row['train_samples_per_s']:.0f} samples/s" + ("  *" if improved else ""))


def train(config: dict, data: TrainingData | None = None, monitor=None, log=print,
          stop_after_epoch: int | None = None) -> TrainResult:
    """Train per `config`; returns the history, test metrics on the best checkpoint, and more.

    `stop_after_epoch` ends the run after that epoch as if it had been interrupted (last.pt is
    already written); `training.resume: true` then continues from last.pt in output_dir.
    """
    started = time.perf_counter()
    tcfg = config["training"]
    seed, workers = int(tcfg.get("seed", 0)), int(tcfg.get("num_workers", 0))
    epochs, batch_size = int(tcfg.get("epochs", 30)), int(tcfg.get("batch_size", 16))
    patience = int(tcfg.get("patience", 0) or 0)
    device = pick_device(str(tcfg.get("device", "auto")))
    out_dir = resolve(tcfg.get("output_dir", "outputs/train"))
    out_dir.mkdir(parents=True, exist_ok=True)
    if data is None:
        data = training_data(config)
    train_ds, val_ds = data.datasets.get("train"), data.datasets.get("val")
    if train_ds is None or not len(train_ds):
        raise DataFileError(f"no usable training clips ({data.counts()}); skipped: "
                            + "; ".join(f"{s.video_id}: {s.reason}" for s in data.skipped[:5]))
    fit = _fit_for(config, data, len(train_ds), device)
    has_val = val_ds is not None and len(val_ds) > 0
    monitored = "val_top1" if has_val else "train_loss"
    last_path, best_path = out_dir / "last.pt", out_dir / "best.pt"
    history, best, start_epoch, resumed_from = _resume(config, data, fit, last_path, device, log)
    stopped_early = bool(history and patience and best["bad_epochs"] >= patience)
    # the runner's console line (slt_nb.progress); the notebook prints a line per epoch itself
    with progress.bar(epochs, "epochs", initial=start_epoch - 1) as epochs_bar:
        for epoch in range(start_epoch, epochs + 1):
            if stopped_early:
                break
            if monitor is not None:
                monitor.mark(f"epoch {epoch}")
            t0 = time.perf_counter()
            torch.manual_seed(seed * 100_003 + epoch)   # dropout draws depend on (seed, epoch) only
            train_ds.set_epoch(epoch)
            stats = _train_epoch(fit, make_loader(train_ds, batch_size, True, seed, epoch, workers), device)
            train_seconds = time.perf_counter() - t0
            row = {"epoch": epoch, "lr": fit.optimizer.param_groups[0]["lr"],
                   **{k: v for k, v in stats.items() if k != "samples"}}
            ev = evaluate(fit.model, make_loader(val_ds, batch_size, False, seed, epoch, workers), fit.criterion,
                          device) if has_val else Evaluation(float("nan"), float("nan"), float("nan"), 0)
            row.update(val_loss=ev.loss, val_top1=ev.top1, val_top5=ev.top5)
            row.update(seconds=time.perf_counter() - t0, train_samples_per_s=stats["samples"] / train_seconds)
            history.append(row)
            improved = _improves(best, row, has_val)
            if improved:
                save_checkpoint(best_path, _payload(fit, config, data, epoch, best["metrics"]))
            save_checkpoint(last_path, _payload(fit, config, data, epoch, row, history, best))
            log(_epoch_line(row, improved))
            epochs_bar.update()
            if patience and best["bad_epochs"] >= patience:
                stopped_early = True
                log(f"early stop: {monitored} has not improved for {patience} epochs (best epoch {best['epoch']})")
            if stop_after_epoch is not None and epoch >= stop_after_epoch:
                break
    test = _test_best(data, best_path, best, fit.criterion, batch_size, seed, workers, device, monitor, log)
    return TrainResult(history, best["epoch"], best["metrics"], test, data.label_map, data, out_dir,
                       parameter_count(fit.model), str(device), stopped_early, resumed_from, monitored,
                       time.perf_counter() - started)


def _test_best(data: TrainingData, best_path: Path, best: dict, criterion: nn.Module, batch_size: int, seed: int,
               workers: int, device: torch.device, monitor, log) -> Evaluation | None:
    """The test split evaluated on best.pt (reloaded from disk, as a user would), or None."""
    test_ds = data.datasets.get("test")
    if test_ds is None or not len(test_ds) or not best_path.exists():
        return None
    if monitor is not None:
        monitor.mark("test")
    best_model, _ = load_classifier(best_path, device)
    test = evaluate(best_model, make_loader(test_ds, batch_size, False, seed, 0, workers), criterion, device)
    log(f"test on best epoch {best['epoch']}: top1 {test.top1:.3f} top5 {test.top5:.3f} ({test.samples} clips)")
    return test
