"""``python -m localrt.splits``: how much the demo's held-out calibration table owes to which users
were held out.

It rebuilds the training rows ``make demo`` trained on (its exported journeys, its cutoffs and
horizon), then fits the same recipe (``ml.trainer.fit``, the demo's share held out) once per seed:
each seed holds out other users. Per split it prints the held-out ROC AUC and each band's gap
(observed - predicted churn, points) with its 95% interval, then the spread of the gaps across splits
and how many splits put some band past the 10-point bound. The demo's own split is seed 7.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from localrt.demo import T0
from localrt.learning import HOLDOUT, demo_training_data
from ml.dataset import TrainingData
from ml.report import BANDS, MAX_BAND_GAP
from ml.text import interval_text
from ml.trainer import fit

DEMO_SEED = 7


def held_out_splits(data: TrainingData, seeds: Iterable[int], holdout: float = HOLDOUT) -> Iterator[dict[str, Any]]:
    """One row per seed, as each fit ends: the seed, the held-out ROC AUC and each band's n, gap and interval."""
    for seed in seeds:
        report = fit(data, holdout=holdout, cv_folds=2, seed=seed).report
        yield {"seed": seed, "rocAuc": report["rocAuc"], "bands": {b["band"]: b for b in report["bands"]}}


def spread(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Each band's gap across the splits (mean, sd, range) and the splits with some band past the bound."""
    out: dict[str, Any] = {}
    for name, _, _ in BANDS:
        gaps = [row["bands"][name]["gap"] for row in rows if row["bands"][name]["gap"] is not None]
        if gaps:
            sd = statistics.stdev(gaps) if len(gaps) > 1 else 0.0
            out[name] = {"mean": statistics.mean(gaps), "sd": sd, "min": min(gaps), "max": max(gaps)}
    out["past_bound"] = [row["seed"] for row in rows if any(abs(b["gap"] or 0.0) > MAX_BAND_GAP for b in row["bands"].values())]
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--run", type=Path, default=Path("out/demo"), help="a make demo output directory")
    parser.add_argument("--splits", type=int, default=15, help="seeds 1..N (the demo's, 7, among them when N >= 7)")
    args = parser.parse_args(argv)
    export = args.run / "journeys"
    if not (export / "manifest.json").is_file():
        print(f"error: no exported journeys in {export} (make demo writes them)", file=sys.stderr)
        return 2
    data = demo_training_data(export, T0)
    print(f"{len(data.rows):,} rows from {len(set(data.groups or [])):,} users; {args.splits} held-out splits of {HOLDOUT:.0%}")
    rows = []
    for row in held_out_splits(data, range(1, args.splits + 1)):
        rows.append(row)
        gaps = "  ".join(
            f"{name} {b['n']:>4} {b['gap']:+5.1f} ({interval_text(b.get('gapInterval'))})"
            for name, b in row["bands"].items()
            if b["gap"] is not None
        )
        mark = "  <- the demo's split" if row["seed"] == DEMO_SEED else ""
        print(f"seed {row['seed']:>3}: ROC AUC {row['rocAuc']:.3f}  {gaps}{mark}", flush=True)
    summary = spread(rows)
    for name, _, _ in BANDS:
        if name in summary:
            s = summary[name]
            print(f"{name:<6} gap across splits: mean {s['mean']:+.1f}, sd {s['sd']:.1f}, {s['min']:+.1f} to {s['max']:+.1f}")
    past = summary["past_bound"]
    print(f"splits with a band past {MAX_BAND_GAP:g} points: {len(past)} of {len(rows)} (seeds {past or 'none'})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
