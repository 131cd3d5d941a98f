"""What an extraction report shows: counts per split, throughput, detection rates per part."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from slt_nb.extract.estimators import estimator_parts, recorded_estimator
from slt_nb.extract.run import ExtractionReport


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
