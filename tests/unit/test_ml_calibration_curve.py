"""ml.calibration: the curve that turns the trees' probability into an observed rate, chosen between a
sigmoid and an isotonic shape on rows it was not fitted to, and exported as the points serving uses."""

from __future__ import annotations

import json

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold

from journey.risk.model import ExitRiskModel
from ml.calibration import (
    ISOTONIC,
    MAX_SIGMOID_POINTS,
    SIGMOID,
    fit_curve,
    isotonic_curve,
    log_odds,
    sigmoid_curve,
    sigmoid_points,
)


def _folds(labels: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
    return list(StratifiedKFold(n_splits=3, shuffle=True, random_state=1).split(np.zeros(len(labels)), labels))


def _sigmoid(t: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-t))


def _overconfident(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Raw probabilities whose log-odds are twice what the observed rate says, shifted up by 1 (what
    class weighting and boosting do): a sigmoid shape."""
    rng = np.random.default_rng(seed)
    raw = _sigmoid(rng.normal(-1.0, 2.5, size=n))
    truth = _sigmoid(0.5 * log_odds(raw) - 1.0)
    return raw, (rng.random(n) < truth).astype(int)


def _plateau(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Rates of 5% below raw 0.2, 50% between 0.2 and 0.8, 95% above: no sigmoid bends like that."""
    rng = np.random.default_rng(seed)
    raw = rng.random(n)
    truth = np.where(raw < 0.2, 0.05, np.where(raw < 0.8, 0.5, 0.95))
    return raw, (rng.random(n) < truth).astype(int)


def _served(curve, raw: np.ndarray) -> np.ndarray:
    document = {
        "format": "journey-exit-risk-gbt/1",
        "version": "test",
        "inputs": ["x"],
        "baseScore": 0.0,
        "trees": [[[-1, 0, 0, 0, 0, 0.0]]],
        "calibration": curve.points(),
        "metrics": {},
    }
    model = ExitRiskModel.from_json(json.dumps(document))
    return np.array([model.calibrate(float(r)) for r in raw])


def test_on_a_few_hundred_rows_the_sigmoid_is_kept_and_recovers_the_observed_rate():
    raw, labels = _overconfident(400, seed=3)
    curve, brier = fit_curve(raw, labels, _folds(labels))
    assert curve.method == SIGMOID
    assert brier[SIGMOID] <= brier[ISOTONIC]
    grid = _sigmoid(np.linspace(-6, 4, 41))
    assert np.max(np.abs(curve.apply(grid) - _sigmoid(0.5 * log_odds(grid) - 1.0))) < 0.08


def test_a_shape_no_sigmoid_can_follow_keeps_the_isotonic_curve():
    raw, labels = _plateau(20_000, seed=4)
    curve, brier = fit_curve(raw, labels, _folds(labels))
    assert curve.method == ISOTONIC
    assert brier[ISOTONIC] < brier[SIGMOID]
    assert curve.apply(np.array([0.5]))[0] == pytest.approx(0.5, abs=0.05)


def test_the_exported_points_are_what_serving_computes_and_follow_the_sigmoid_closely():
    raw, labels = _overconfident(2_000, seed=5)
    curve = sigmoid_curve(raw, labels)
    probe = np.concatenate([_sigmoid(np.linspace(-13, 13, 2_001)), [0.0, 1.0]])
    assert np.max(np.abs(_served(curve, probe) - curve.apply(probe))) < 1e-12
    assert len(curve.x) <= MAX_SIGMOID_POINTS


@pytest.mark.parametrize("slope", [0.05, 0.3, 1.0, 2.7, 6.0, 20.0])
@pytest.mark.parametrize("intercept", [-10.0, -7.5, -1.0, 0.0, 2.5, 10.0])
def test_the_points_stay_within_five_hundredths_of_a_point_of_the_sigmoid_at_any_slope(slope, intercept):
    curve = sigmoid_points(slope, intercept)
    t = np.linspace(-12, 12, 48_001)
    assert np.max(np.abs(curve.apply(_sigmoid(t)) - _sigmoid(slope * t + intercept))) < 0.0005
    assert len(curve.x) <= MAX_SIGMOID_POINTS
    assert all(b > a for a, b in zip(curve.x, curve.x[1:], strict=False))
    assert np.all(np.diff(_served(curve, np.linspace(0, 1, 101))) >= 0)


def test_a_fitted_sigmoid_is_drawn_from_the_logistic_fit_itself():
    rng = np.random.default_rng(8)
    raw = _sigmoid(rng.normal(0.0, 3.0, size=5_000))
    labels = (rng.random(5_000) < _sigmoid(3.0 * log_odds(raw) - 1.0)).astype(int)
    fitted = LogisticRegression().fit(log_odds(raw)[:, None], labels)
    t = np.linspace(-12, 12, 24_001)
    exact = _sigmoid(fitted.coef_[0][0] * t + fitted.intercept_[0])
    assert np.max(np.abs(sigmoid_curve(raw, labels).apply(_sigmoid(t)) - exact)) < 0.0005


def test_trees_that_rank_backwards_get_a_flat_curve_at_the_churn_rate_that_serving_accepts():
    rng = np.random.default_rng(6)
    raw = rng.random(1_000)
    labels = (rng.random(1_000) < 0.6 - 0.4 * raw).astype(int)  # higher raw, fewer churn
    curve = sigmoid_curve(raw, labels)
    assert curve.flat and len(curve.x) == 2
    assert curve.y[0] == pytest.approx(labels.mean())
    assert np.all(np.diff(_served(curve, np.linspace(0, 1, 11))) >= 0)
    assert np.all(np.diff(isotonic_curve(raw, labels).y) >= 0)


def test_without_a_usable_fold_the_sigmoid_is_kept_and_no_score_is_claimed():
    raw, labels = _overconfident(300, seed=7)
    one_class = [(np.flatnonzero(labels == 0), np.flatnonzero(labels == 1))]
    curve, brier = fit_curve(raw, labels, one_class)
    assert curve.method == SIGMOID
    assert brier == {}


def test_identical_predictions_are_a_tie_and_a_tie_keeps_the_sigmoid():
    labels = np.array([0, 1, 0, 0, 1, 0, 0, 0, 1, 0, 0, 1] * 2)
    raw = np.full(len(labels), 0.42)  # trees too small to split: one prediction for everyone
    curve, brier = fit_curve(raw, labels, _folds(labels))
    assert 0 < brier[SIGMOID] - brier[ISOTONIC] < 1e-6  # the isotonic mean is exact, the logistic fit stops at a tolerance
    assert curve.method == SIGMOID
    assert curve.apply(np.array([0.42]))[0] == pytest.approx(labels.mean(), abs=0.02)
