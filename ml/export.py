"""A fitted scikit-learn ``HistGradientBoostingClassifier`` and its calibration as the JSON model
the stream processor evaluates (``journey.risk.model``, format ``journey-exit-risk-gbt/1``).

The trees are read from scikit-learn's private predictor arrays (``_predictors``, ``nodes``,
``_baseline_prediction``), so scikit-learn is pinned in requirements-dev.txt and a test checks that
the exported model gives scikit-learn's probabilities.

scikit-learn keeps an internal node's Newton step, not the mean of the leaves below it, so each
internal node's value is recomputed as the count-weighted mean of its children. Each tree is then
centred (its root value moved into ``baseScore``), so ``baseScore`` is the training population's
average log-odds and the path contributions of ``explain`` add up to log-odds - ``baseScore``."""

from __future__ import annotations

import hashlib
import json
import sys
from datetime import UTC, datetime
from typing import Any

import numpy as np

from journey.risk.model import FORMAT

_LARGEST = sys.float_info.max  # a split on "missing or not" has threshold +inf, which JSON cannot carry


def tree_ensemble(classifier: Any) -> tuple[float, list[list[list[float | int]]]]:
    """(baseScore, trees) of a fitted binary classifier, trees centred on their root."""
    if getattr(classifier, "n_trees_per_iteration_", None) != 1:
        raise ValueError("only a fitted binary HistGradientBoostingClassifier can be exported")
    base = float(np.asarray(classifier._baseline_prediction).ravel()[0])
    trees = []
    for (predictor,) in classifier._predictors:
        nodes = predictor.nodes
        if nodes["is_categorical"].any():
            raise ValueError("native categorical splits cannot be exported: one-hot encode categories (ml.table)")
        values = _node_means(nodes)
        root = values[0]
        base += root
        tree: list[list[float | int]] = []
        for i, node in enumerate(nodes):
            value = values[i] - root
            if node["is_leaf"]:
                tree.append([-1, 0, 0, 0, 0, value])
            else:
                threshold = min(float(node["num_threshold"]), _LARGEST)
                tree.append(
                    [
                        int(node["feature_idx"]),
                        threshold,
                        int(node["missing_go_to_left"]),
                        int(node["left"]),
                        int(node["right"]),
                        value,
                    ]
                )
        trees.append(tree)
    return base, trees


def _node_means(nodes: np.ndarray) -> list[float]:
    """Each node's value: a leaf's own (shrunk) value, an internal node's the count-weighted mean of
    its children's (children come after their parent in scikit-learn's arrays)."""
    values = [float(v) for v in nodes["value"]]
    counts = [float(c) for c in nodes["count"]]
    for i in range(len(nodes) - 1, -1, -1):
        if not nodes["is_leaf"][i]:
            left, right = int(nodes["left"][i]), int(nodes["right"][i])
            total = counts[left] + counts[right]
            if total > 0:
                values[i] = (counts[left] * values[left] + counts[right] * values[right]) / total
            else:
                values[i] = (values[left] + values[right]) / 2
    return values


def calibration_points(x: np.ndarray, y: np.ndarray) -> dict[str, list[float]]:
    """An isotonic regression's thresholds as the piecewise-linear curve (x strictly ascending)."""
    points: dict[float, float] = {}
    for xi, yi in zip(x.tolist(), y.tolist(), strict=True):
        points[float(xi)] = min(1.0, max(0.0, float(yi)))
    xs = sorted(points)
    ys = list(np.maximum.accumulate([points[v] for v in xs]))
    return {"x": xs, "y": [float(v) for v in ys]}


def model_document(
    classifier: Any,
    *,
    inputs: list[str],
    vocabulary: list[str],
    encoding: dict[str, Any],
    calibration: dict[str, list[float]],
    metrics: dict[str, Any],
    version: str | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """The JSON model (a dict ready for ``json.dumps``)."""
    base, trees = tree_ensemble(classifier)
    when = (now or datetime.now(UTC)).astimezone(UTC)
    if version is None:
        digest = hashlib.sha256(json.dumps(trees, separators=(",", ":")).encode()).hexdigest()[:8]
        version = f"{when:%Y%m%dT%H%M%SZ}-{digest}"
    return {
        "format": FORMAT,
        "version": version,
        "createdAt": when.isoformat(timespec="seconds").replace("+00:00", "Z"),
        "inputs": list(inputs),
        "vocabulary": list(vocabulary),
        "encoding": encoding,
        "baseScore": base,
        "trees": trees,
        "calibration": calibration,
        "metrics": metrics,
    }
