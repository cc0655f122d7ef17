"""The calibration curve: what the trees' probability means as an observed churn rate.

Class weighting (and boosting's own over- or under-confidence) distorts the trees' probability, so a
non-decreasing curve maps it to the rate observed on rows the trees did not learn from (their
out-of-fold predictions). Two shapes are fitted, and the one that predicts better on rows it was not
fitted to (Brier score, pooled over folds of the users; of the rows, for a table) is kept; a tie goes
to the sigmoid:

- ``sigmoid`` (Platt scaling): a logistic regression on the trees' log-odds. Two parameters, so it
  holds steady on a few hundred rows; it can only stretch and shift the log-odds.
- ``isotonic``: any non-decreasing step curve. It follows any shape, but on few rows (or in a score
  range few rows reach) its steps follow the sample's luck.

On two demos' exports (1,000 users each), the held-out MEDIUM band's gap moved by 9.8 and 14.3 points
(sd across held-out splits) with the isotonic curve alone, and by 7.6 and 8.4 with the chosen one;
docs/exit-risk.md has the figures.

Either shape is exported as the piecewise-linear curve ``{"x": [...], "y": [...]}`` that the stream
processor interpolates (``journey.risk.model``: linear between points, flat beyond the ends), and the
trainer measures that very curve (``Curve.apply``), so a reported figure is what serving computes."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model import LogisticRegression

from ml.export import calibration_points

SIGMOID = "sigmoid"
ISOTONIC = "isotonic"
# The sigmoid is exported as points at every 0.1 of the trees' log-odds and at every 0.1 of the
# calibrated log-odds, both within +-12 (beyond, 6 in a million, the curve is flat): at most 482
# points, and the straight lines between them stay within 0.05 points of the curve (0.035 at worst
# over slopes 0.05 to 20 and intercepts -10 to +10). A flat curve is two points.
SPAN = 12.0
RAW_STEP = CALIBRATED_STEP = 0.1
MAX_SIGMOID_POINTS = 2 * int(2 * SPAN / RAW_STEP + 1)
# Brier scores closer than this are a tie, and a tie keeps the sigmoid (its fit stops at a tolerance,
# so two equally good shapes differ in the seventh digit)
TIE = 1e-5
FLAT = 1e-9  # a curve whose y spans less than this gives every row the same score
_EDGE = 1e-12  # a probability of exactly 0 or 1 has no log-odds

Folds = Sequence[tuple[np.ndarray, np.ndarray]]


@dataclass(frozen=True)
class Curve:
    """A calibration curve as points: x the trees' probability, y the calibrated one."""

    method: str
    x: tuple[float, ...]
    y: tuple[float, ...]

    def apply(self, raw: np.ndarray) -> np.ndarray:
        """The calibrated probability of each raw one, as journey.risk.model computes it."""
        return np.interp(np.asarray(raw, dtype=float), self.x, self.y)

    def points(self) -> dict[str, list[float]]:
        """The model file's ``calibration``."""
        return {"x": list(self.x), "y": list(self.y)}

    @property
    def flat(self) -> bool:
        return self.y[-1] - self.y[0] < FLAT


def expit(t: np.ndarray) -> np.ndarray:
    """The logistic function, without overflow at any slope."""
    return 0.5 * (1.0 + np.tanh(0.5 * np.asarray(t, dtype=float)))


def log_odds(raw: np.ndarray) -> np.ndarray:
    p = np.clip(np.asarray(raw, dtype=float), _EDGE, 1 - _EDGE)
    return np.log(p / (1 - p))


def isotonic_curve(raw: np.ndarray, labels: np.ndarray) -> Curve:
    fitted = IsotonicRegression(y_min=0.0, y_max=1.0, increasing=True, out_of_bounds="clip").fit(raw, labels)
    points = calibration_points(fitted.X_thresholds_, fitted.y_thresholds_)
    return Curve(ISOTONIC, tuple(points["x"]), tuple(points["y"]))


def sigmoid_curve(raw: np.ndarray, labels: np.ndarray) -> Curve:
    """Platt scaling: a logistic regression on the trees' log-odds (scikit-learn's default, lightly
    L2-penalised fit, which keeps the slope finite when the predictions separate the classes). Should
    the fit slope down (the trees rank backwards on these rows), the curve is flat at the rows' churn
    rate instead: a falling curve cannot be served, and the isotonic fit is flat there too."""
    regression = LogisticRegression().fit(log_odds(raw)[:, None], labels)
    slope, intercept = float(regression.coef_[0][0]), float(regression.intercept_[0])
    if slope < 0:
        rate = float(np.mean(labels))
        slope, intercept = 0.0, float(np.log(rate / (1 - rate)))
    return sigmoid_points(slope, intercept)


def sigmoid_points(slope: float, intercept: float) -> Curve:
    """The curve ``expit(slope * logit(x) + intercept)`` as points (``SPAN``, ``RAW_STEP`` and
    ``CALIBRATED_STEP`` above); slope >= 0."""
    if slope == 0:
        t = np.array([-SPAN, SPAN])
    else:
        t = np.arange(-SPAN, SPAN + 1e-9, RAW_STEP)
        bends = (np.arange(-SPAN, SPAN + 1e-9, CALIBRATED_STEP) - intercept) / slope
        t = np.concatenate([t, bends[np.abs(bends) < SPAN]])
    x, first = np.unique(expit(t), return_index=True)  # strictly ascending, as serving requires
    y = expit(slope * t[first] + intercept)
    return Curve(SIGMOID, tuple(x.tolist()), tuple(np.maximum.accumulate(y).tolist()))


def _candidates(raw: np.ndarray, labels: np.ndarray) -> dict[str, Curve]:
    return {SIGMOID: sigmoid_curve(raw, labels), ISOTONIC: isotonic_curve(raw, labels)}


def fit_curve(raw: np.ndarray, labels: np.ndarray, folds: Folds) -> tuple[Curve, dict[str, float]]:
    """The shape with the lower out-of-fold Brier score over ``folds`` (index pairs into ``raw``),
    refitted on every row; with each shape's Brier score (mean squared error of the probability).
    The sigmoid is kept on a tie (within ``TIE``). A fold whose fitting part holds one class only is
    skipped; with none left, the sigmoid is kept and no score is returned."""
    raw, labels = np.asarray(raw, dtype=float), np.asarray(labels, dtype=int)
    squared = {SIGMOID: 0.0, ISOTONIC: 0.0}
    scored = 0
    for fitting, scoring in folds:
        if len(set(labels[fitting].tolist())) < 2:
            continue
        for method, curve in _candidates(raw[fitting], labels[fitting]).items():
            squared[method] += float(np.sum((curve.apply(raw[scoring]) - labels[scoring]) ** 2))
        scored += len(scoring)
    brier = {m: total / scored for m, total in squared.items()} if scored else {}
    better = bool(brier) and not is_tie(brier) and brier[ISOTONIC] < brier[SIGMOID]
    return (isotonic_curve if better else sigmoid_curve)(raw, labels), brier


def is_tie(brier: dict[str, float]) -> bool:
    """Whether the two shapes' Brier scores (``fit_curve``'s) are within ``TIE`` of each other."""
    return abs(brier[SIGMOID] - brier[ISOTONIC]) <= TIE
