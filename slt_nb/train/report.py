"""What a training run shows: curves, accuracy tables, confusion matrix, and the input-type comparison."""
from __future__ import annotations

import time

import numpy as np
import pandas as pd
import torch
from torch import nn

from slt_nb.errors import DataFileError, ParameterError
from slt_nb.memory import MB, MemoryMonitor
from slt_nb.plotting import literal_text
from slt_nb.train.model import INPUT_TYPES, parameter_count
from slt_nb.train.config import training_data
from slt_nb.train.loop import TrainResult, build_model, make_loader, topk_correct


def curves_figure(history: pd.DataFrame, title: str = "Training"):
    """Loss and top-1/top-5 accuracy per epoch, train against val; returns the Figure."""
    import matplotlib.pyplot as plt

    fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(11, 3.6))
    ax_loss.plot(history["epoch"], history["train_loss"], "o-", ms=3, label="train")
    if history["val_loss"].notna().any():
        ax_loss.plot(history["epoch"], history["val_loss"], "o-", ms=3, label="val")
    ax_loss.set(xlabel="epoch", ylabel="loss (with label smoothing)", title=literal_text(f"{title}: loss"))
    for split, colour in (("train", "tab:blue"), ("val", "tab:orange")):
        if history[f"{split}_top1"].notna().any():
            ax_acc.plot(history["epoch"], history[f"{split}_top1"], "o-", ms=3, color=colour, label=f"{split} top-1")
            ax_acc.plot(history["epoch"], history[f"{split}_top5"], "--", color=colour, label=f"{split} top-5")
    ax_acc.set(xlabel="epoch", ylabel="accuracy", ylim=(-0.02, 1.02), title=literal_text(f"{title}: accuracy"))
    for ax in (ax_loss, ax_acc):
        ax.legend(fontsize=8)
        ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig


def accuracy_table(result: TrainResult) -> pd.DataFrame:
    """Top-1/top-5 and loss on train and val at the best epoch, and on test with the best checkpoint."""
    best = result.best_metrics
    rows = [
        {"split": "train (during best epoch)", "clips": len(result.data.datasets["train"]),
         "loss": best.get("train_loss"), "top1": best.get("train_top1"), "top5": best.get("train_top5")},
        {"split": "val (best epoch)", "clips": len(result.data.datasets.get("val", [])),
         "loss": best.get("val_loss"), "top1": best.get("val_top1"), "top5": best.get("val_top5")},
    ]
    t = result.test
    rows.append({"split": "test (best checkpoint)", "clips": t.samples if t else 0,
                 "loss": t.loss if t else np.nan, "top1": t.top1 if t else np.nan, "top5": t.top5 if t else np.nan})
    table = pd.DataFrame(rows).set_index("split")
    table.attrs["note"] = (f"best epoch {result.best_epoch} by {result.monitored}; top-5 counts a hit among "
                           f"min(5, classes) = {min(5, len(result.label_map))} guesses")
    return table


def per_class_accuracy(result: TrainResult) -> pd.DataFrame:
    """Test clips and top-1/top-5 accuracy per class (classes without test clips listed with 0 clips)."""
    rows = []
    t = result.test
    for m in result.label_map:
        if t is not None and t.samples:
            sel = t.targets == m["target"]
            n = int(sel.sum())
            top1 = float((t.predictions[sel] == m["target"]).mean()) if n else np.nan
            top5 = float((t.top5_predictions[sel] == m["target"]).any(axis=1).mean()) if n else np.nan
        else:
            n, top1, top5 = 0, np.nan, np.nan
        rows.append({"label": m["label"], "gloss": m["gloss"], "test_clips": n, "top1": top1, "top5": top5})
    return pd.DataFrame(rows).sort_values(["test_clips", "label"], ascending=[False, True]).reset_index(drop=True)


def confusion_figure(result: TrainResult, top_n: int = 10):
    """Confusion matrix on test over the `top_n` classes with the most test clips; returns the Figure.

    Rows are true classes, columns predictions among the same classes plus "other" for a
    prediction outside them, so each row still sums to that class's clips.
    """
    import matplotlib.pyplot as plt

    t = result.test
    if t is None or not t.samples:
        raise ParameterError("no test predictions to draw (the test split is empty)")
    counts = pd.Series(t.targets).value_counts()
    classes = sorted(counts.index[:top_n].tolist(), key=lambda c: (-counts[c], c))
    pos = {c: i for i, c in enumerate(classes)}
    matrix = np.zeros((len(classes), len(classes) + 1), dtype=int)
    for y, p in zip(t.targets, t.predictions):
        if y in pos:
            matrix[pos[y], pos.get(p, len(classes))] += 1
    glosses = {m["target"]: m["gloss"] for m in result.label_map}
    names = [literal_text(glosses[c]) for c in classes]
    # a floor on the size keeps title and colour bar apart when only a couple of classes are tested
    fig, ax = plt.subplots(figsize=(max(5.0, 1.5 + 0.55 * (len(classes) + 1)), max(3.8, 1.2 + 0.5 * len(classes))))
    im = ax.imshow(matrix, cmap="Blues", vmin=0)
    for i in range(matrix.shape[0]):
        for j in range(matrix.shape[1]):
            if matrix[i, j]:
                ax.text(j, i, matrix[i, j], ha="center", va="center", fontsize=8,
                        color="white" if matrix[i, j] > matrix.max() / 2 else "black")
    ax.set_xticks(range(len(classes) + 1), names + ["other"], rotation=45, ha="right", fontsize=8)
    ax.set_yticks(range(len(classes)), names, fontsize=8)
    ax.set(xlabel="predicted", ylabel="true")
    ax.set_title(f"Test confusion: {len(classes)} most frequent classes", fontsize=10)
    bar = fig.colorbar(im, ax=ax, fraction=0.04)
    bar.ax.yaxis.set_major_locator(plt.MaxNLocator(integer=True))
    bar.set_label("test clips", fontsize=8)
    fig.tight_layout()
    return fig


def _batch_bytes(batch) -> int:
    return sum(t.numel() * t.element_size() for t in batch)


def compare_input_types(config: dict, batch_size: int | None = None, steps: int = 3, min_seconds: float = 1.0,
                        input_types=INPUT_TYPES, max_steps: int = 200) -> pd.DataFrame:
    """Measured on this run's data, per input type: batch RAM, disk per video, training samples/s.

    Each type gets its own datasets from the same extraction (pose files, feature files or the
    videos), a fresh model of the configured size, one warm-up step, then `steps` timed training
    steps through the real data pipeline (file or cache -> tensors -> collate -> forward/backward),
    continued until `min_seconds` have been timed (at most `max_steps`) so cheap inputs are not
    timed on a few milliseconds.
    A type whose data is not there gets a row saying why.
    """
    batch_size = int(batch_size or config["training"]["batch_size"])
    rows = []
    for input_type in input_types:
        row = {"input_type": input_type}
        try:
            cfg = {**config, "model": {**config["model"], "input_type": input_type}}
            data = training_data(cfg, input_type)
            ds = data.datasets["train"]
            if not len(ds):
                raise DataFileError(f"no usable training clips ({len(data.skipped)} skipped)")
        except Exception as exc:  # one missing input type must not hide the others
            rows.append({**row, "note": f"not measured: {exc}"})
            continue
        sizes = [r.path.stat().st_size for r in ds.records]
        model = build_model(cfg, data)
        optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4)
        criterion = nn.CrossEntropyLoss()
        monitor = MemoryMonitor(interval=0.02).start()
        before = monitor.samples[0][1]
        done, seconds, batch_mb, warm = 0, 0.0, 0.0, False
        def enough():
            return done >= max_steps or (done >= steps and seconds >= min_seconds)

        while not enough():
            t0 = time.perf_counter()
            for x, mask, y in make_loader(ds, batch_size, True, 0, done, 0):
                logits = model(x, mask)
                loss = criterion(logits, y)
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
                batch_mb = max(batch_mb, _batch_bytes((x, mask, y)) / MB)
                elapsed = time.perf_counter() - t0
                if warm:
                    seconds += elapsed
                    done += 1
                    row.setdefault("_samples", 0)
                    row["_samples"] += len(y)
                warm = True
                t0 = time.perf_counter()
                if enough():
                    break
        monitor.stop()
        samples = row.pop("_samples")
        rows.append({**row, "batch_ram_mb": batch_mb, "step_rss_increase_mb": (monitor.peak_bytes - before) / MB,
                     "disk_kb_per_video": float(np.mean(sizes)) / 1024, "samples_per_s": samples / seconds,
                     "parameters": parameter_count(model), "frame_shape": tuple(ds[0][0].shape),
                     "train_clips": len(ds), "note": ""})
    return pd.DataFrame(rows).set_index("input_type")


def topk_accuracy(logits: torch.Tensor, targets: torch.Tensor, k: int) -> float:
    """Fraction of rows whose target is among the k highest logits."""
    return topk_correct(logits, targets, k) / max(1, len(targets))
