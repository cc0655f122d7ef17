"""python -m localrt.splits: the held-out calibration table over several held-out splits."""

from __future__ import annotations

import numpy as np

from localrt.splits import held_out_splits, main, spread
from ml.dataset import TrainingData


def _data() -> TrainingData:
    rng = np.random.default_rng(6)
    X = rng.normal(size=(800, 2))
    y = (rng.random(800) < 1 / (1 + np.exp(-(-1.5 + 2.5 * X[:, 0])))).astype(int)
    return TrainingData(names=["strong", "noise"], rows=X.tolist(), labels=y.tolist(), groups=[f"u{i // 4}" for i in range(800)])


def test_each_seed_holds_out_other_users_and_the_spread_counts_splits_past_the_bound():
    rows = list(held_out_splits(_data(), [1, 2]))
    assert [row["seed"] for row in rows] == [1, 2] and all(0.5 < row["rocAuc"] <= 1 for row in rows)
    assert rows[0]["bands"]["MEDIUM"]["n"] != rows[1]["bands"]["MEDIUM"]["n"] or (
        rows[0]["bands"]["MEDIUM"]["gap"] != rows[1]["bands"]["MEDIUM"]["gap"]
    )  # other users, other figures
    again = list(held_out_splits(_data(), [1]))
    assert again[0]["bands"] == rows[0]["bands"]  # a seed's split is reproducible

    def band(gap):
        return {"gap": gap}

    made_up = [
        {"seed": 1, "bands": {"LOW": band(0.5), "MEDIUM": band(4.0), "HIGH": band(-2.0)}},
        {"seed": 2, "bands": {"LOW": band(-0.5), "MEDIUM": band(12.0), "HIGH": band(2.0)}},
        {"seed": 3, "bands": {"LOW": band(0.0), "MEDIUM": band(None), "HIGH": band(-10.5)}},
    ]
    summary = spread(made_up)
    assert summary["past_bound"] == [2, 3]
    assert summary["MEDIUM"]["mean"] == 8.0 and summary["MEDIUM"]["min"] == 4.0 and summary["HIGH"]["max"] == 2.0


def test_without_a_demo_export_it_says_where_to_get_one(tmp_path, capsys):
    assert main(["--run", str(tmp_path)]) == 2
    assert "no exported journeys" in capsys.readouterr().err
