"""What an extraction report shows: counts per split, throughput, detection rates per part."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from slt_nb.extract.estimators import estimator_parts, recorded_estimator


@dataclass
class ExtractionReport:
    """What one run did; tables are pandas DataFrames."""

    output_dir: Path
    settings: object  # the run's ExtractionSettings
    index: object  # every video with an output file (this run's and resumed ones)
    skipped: object  # every listed video without one, with the reason
    videos: object  # per video extracted in this run: frames, timings, bytes, detections
    counts: dict
    seconds: float
    workers: int

    @property
    def videos_per_second(self) -> float:
        return len(self.videos) / self.seconds if self.seconds and len(self.videos) else 0.0

    @property
    def frames_per_second(self) -> float:
        n = int(self.videos["frames"].sum()) if len(self.videos) else 0
        return n / self.seconds if self.seconds else 0.0

    def skipped_by_reason(self):
        """Skipped videos counted by the kind of reason (the text before the first colon)."""
        if not len(self.skipped):
            return self.skipped.assign(kind=[]).groupby("kind").size()
        kinds = self.skipped["reason"].str.split(":").str[0]
        return kinds.value_counts().rename_axis("reason").rename("videos")


def counts_table(report: ExtractionReport):
    """Per split: listed, extracted now, resumed, skipped (missing / unreadable / other)."""
    import pandas as pd

    rows = {}
    now = set(report.videos["video_id"]) if len(report.videos) else set()
    for split in ("train", "val", "test"):
        idx = report.index[report.index["split"] == split]
        sk = report.skipped[report.skipped["split"] == split]
        reasons = sk["reason"].str.split(":").str[0]
        rows[split] = {
            "in index": len(idx),
            "extracted now": int(idx["video_id"].isin(now).sum()),
            "resumed": int((~idx["video_id"].isin(now)).sum()),
            "skipped": len(sk),
            **{f"skipped: {r}": int(n) for r, n in reasons.value_counts().items()},
        }
    table = pd.DataFrame(rows).T.fillna(0).astype(int)
    table.loc["all"] = table.sum()
    return table


def throughput_table(report: ExtractionReport):
    """Videos/s, frames/s and disk per video for this run."""
    import pandas as pd

    v = report.videos
    n = len(v)
    return pd.Series({
        "videos extracted": n,
        "wall seconds": round(report.seconds, 2),
        "workers": report.workers,
        "videos/s": round(report.videos_per_second, 3),
        "sampled frames/s": round(report.frames_per_second, 2),
        "frames through the model/s": round(float(v["inferred_frames"].sum()) / report.seconds, 2) if n else 0.0,
        "disk per video (KB, mean)": round(float(v["bytes"].mean()) / 1024, 2) if n else 0.0,
        "disk per video (KB, max)": round(float(v["bytes"].max()) / 1024, 2) if n else 0.0,
    }, name="value").to_frame()


def detection_table(output_dir: str | Path, index, estimator: str | None = None):
    """Share of sampled frames with each part detected, per split (from the written files)."""
    import pandas as pd

    names = [part.key for part in estimator_parts(estimator or recorded_estimator(output_dir))]
    rows = []
    for row in index.itertuples():
        with np.load(Path(output_dir) / row.path) as d:
            rows.append({"split": row.split, **{part: float(d[f"{part}_detected"].mean()) for part in names}})
    if not rows:
        return pd.DataFrame(columns=names)
    table = pd.DataFrame(rows)
    out = table.groupby("split", sort=False).mean()
    out.loc["all"] = table[names].mean()
    return out.round(3)
