"""The exit-risk trainer (ml.trainer, ml.export, ml.report): the exported JSON gives scikit-learn's
own probabilities, calibration is a probability, the report is measured on unseen rows and can
tell a real signal from noise."""

from __future__ import annotations

import hashlib
import json
import math
import re

import numpy as np
import pytest
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.isotonic import IsotonicRegression
from threadpoolctl import threadpool_limits

from journey.risk.model import ExitRiskModel
from ml.dataset import TrainingData
from ml.export import calibration_points, model_document
from ml.trainer import fit, gbt_parameters


def _signal_rows(n: int, seed: int, *, signal: float = 2.5) -> tuple[np.ndarray, np.ndarray]:
    """Three inputs: the first carries the signal, the second a little, the third none; 15% missing."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 3))
    logit = -1.2 + signal * X[:, 0] + 0.5 * X[:, 1]
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    X[rng.random(X.shape) < 0.15] = np.nan
    return X, y


def report_importance_names(fitted) -> set[str]:
    return {i["feature"] for i in fitted.report["importance"]}


def _data(X: np.ndarray, y: np.ndarray, **kwargs) -> TrainingData:
    rows = [[None if math.isnan(v) else float(v) for v in row] for row in X]
    return TrainingData(names=["strong", "weak", "noise"], rows=rows, labels=y.tolist(), **kwargs)


@pytest.fixture(scope="module")
def signal_fit():
    X, y = _signal_rows(600, seed=1)
    return fit(_data(X, y, notes=["made up for a test"]), holdout=None, cv_folds=4, version="test-1")


def test_the_exported_model_gives_scikit_learns_probabilities_on_unseen_rows_with_missing_values():
    X, y = _signal_rows(1500, seed=2)  # 1,275 training rows: early stopping on
    with threadpool_limits(limits=1, user_api="openmp"):  # as ml.trainer fits tables this small
        classifier = HistGradientBoostingClassifier(**gbt_parameters(1275, 7)).fit(X[:1275], y[:1275])
    isotonic = IsotonicRegression(out_of_bounds="clip", y_min=0, y_max=1).fit(classifier.predict_proba(X[:1275])[:, 1], y[:1275])
    document = model_document(
        classifier,
        inputs=["strong", "weak", "noise"],
        vocabulary=[],
        encoding={},
        calibration=calibration_points(isotonic.X_thresholds_, isotonic.y_thresholds_),
        metrics={},
    )
    model = ExitRiskModel.from_json(json.dumps(document))
    held_out = X[1275:]
    assert np.isnan(held_out).any(axis=1).sum() > 50
    expected = classifier.predict_proba(held_out)[:, 1]
    rows = [[None if math.isnan(v) else v for v in row] for row in held_out.tolist()]
    got = np.array([model.raw(row) for row in rows])
    assert np.max(np.abs(got - expected)) < 1e-9
    calibrated = np.array([model.probability(row) for row in rows])
    assert np.max(np.abs(calibrated - isotonic.predict(expected))) < 1e-9
    digest = hashlib.sha256(json.dumps(document["trees"], separators=(",", ":")).encode()).hexdigest()
    assert document["version"].endswith("-" + digest[:8])


def test_explain_contributions_add_up_to_the_log_odds_above_the_base_score(signal_fit):
    model = ExitRiskModel.from_dict(signal_fit.model)
    for row in ([0.2, -1.0, None], [None, None, None], [2.0, 1.0, 0.5], [-2.0, 0.0, 3.0]):
        probability, contributions = model.explain(row)
        assert probability == pytest.approx(model.probability(row))
        assert sum(c for _, c in contributions) == pytest.approx(model.log_odds(row) - model.base_score, abs=1e-9)
    _, contributions = model.explain([2.5, 0.0, 0.0])
    assert contributions[0][0] == "strong" and contributions[0][1] > 0


def test_calibration_is_monotone_and_a_probability(signal_fit):
    xs, ys = signal_fit.model["calibration"]["x"], signal_fit.model["calibration"]["y"]
    assert xs == sorted(xs) and len(set(xs)) == len(xs) and len(xs) > 3
    assert ys == sorted(ys) and ys[0] >= 0.0 and ys[-1] <= 1.0
    model = ExitRiskModel.from_dict(signal_fit.model)
    calibrated = [model.calibrate(raw) for raw in np.linspace(-0.1, 1.1, 121)]
    assert calibrated == sorted(calibrated) and all(0.0 <= p <= 1.0 for p in calibrated)
    assert calibrated[-1] > calibrated[0]


def test_the_report_names_the_calibration_curve_and_the_out_of_fold_scores_that_chose_it(signal_fit):
    calibration = signal_fit.report["calibration"]
    brier = calibration["outOfFoldBrier"]
    assert set(brier) == {"sigmoid", "isotonic"} and all(0 < v < 0.25 for v in brier.values())
    assert calibration["method"] == min(brier, key=brier.get)
    assert f"Calibration curve: **{calibration['method']}**, the shape with the lower out-of-fold Brier score" in (
        signal_fit.markdown()
    )


def test_a_real_signal_is_found_by_cross_validation_and_reported_in_full(signal_fit):
    report = signal_fit.report
    assert report["evaluatedOn"] == "k-fold CV" and len(report["folds"]) == 4
    assert report["rocAuc"] > 0.8 and report["rocAucSd"] < 0.1
    assert report["prAuc"] > report["baseRate"]
    assert report["evaluation"]["rows"] == report["rows"] == 600
    assert [b["band"] for b in report["bands"]] == ["LOW", "MEDIUM", "HIGH"]
    assert sum(b["n"] for b in report["bands"]) == 600
    assert all(abs(b["gap"]) < 15 for b in report["bands"] if b["n"] >= 60)
    deciles = report["deciles"]
    assert [d["decile"] for d in deciles] == list(range(1, 11))
    assert deciles[0]["lift"] > 2 > deciles[-1]["lift"]
    assert deciles[-1]["cumulativeCapture"] == 100.0
    assert report["importance"][0]["feature"] == "strong"
    assert report["importance"][0]["rocAucDrop"] > 0.1
    assert report["gbt"]["max_depth"] == 3 and report["gbt"]["class_weight"] == "balanced"
    assert report["notes"] == ["made up for a test"]
    metrics = signal_fit.model["metrics"]
    assert metrics["rocAuc"] == report["rocAuc"] and metrics["evaluatedOn"] == "k-fold CV"
    assert metrics["rows"] == 600 and metrics["positives"] == report["positives"]


def test_pure_noise_stays_near_a_coin_toss():
    rng = np.random.default_rng(3)
    X = rng.normal(size=(500, 3))
    y = (rng.random(500) < 0.3).astype(int)
    report = fit(_data(X, y), holdout=None, cv_folds=4).report
    assert abs(report["rocAuc"] - 0.5) < 0.1
    assert abs(report["prAuc"] - report["baseRate"]) < 0.1


def test_held_out_users_never_train_the_model_that_is_measured():
    X, y = _signal_rows(600, seed=4)
    users = [f"u{i // 4}" for i in range(600)]  # four rows per user
    fitted = fit(_data(X, y, groups=users, vocabulary=("checkout",)), holdout=0.3, version="held-out")
    assert fitted.model["vocabulary"] == ["checkout"] and fitted.model["encoding"] == {}
    assert report_importance_names(fitted) == {"strong", "weak", "noise"}  # journeys: one input at a time
    report = fitted.report
    assert report["evaluatedOn"] == "held-out users" and fitted.model["metrics"]["evaluatedOn"] == "held-out users"
    assert report["evaluation"]["rows"] % 4 == 0  # whole users only
    assert 150 <= report["evaluation"]["rows"] <= 210
    assert report["gbt"]["trainedOnRows"] == 600 - report["evaluation"]["rows"]
    assert report["rocAuc"] > 0.8 and "rocAucSd" not in fitted.model["metrics"]


def test_beside_the_held_out_figures_every_user_is_scored_once_by_a_model_that_never_saw_them(tmp_path):
    X, y = _signal_rows(600, seed=4)
    users = [f"u{i // 4}" for i in range(600)]
    fitted = fit(_data(X, y, groups=users), holdout=0.3, cv_folds=4)
    spread = fitted.report["crossValidated"]
    assert spread["evaluatedOn"] == "grouped 4-fold CV over every user" and spread["rows"] == 600
    assert sum(band["n"] for band in spread["bands"]) == 600  # all rows, each once
    assert spread["rocAuc"] > 0.8 and spread["rocAucSd"] >= 0
    observed = sum(band["n"] * band["observed"] for band in spread["bands"] if band["n"]) / 100
    assert round(observed) == int(y.sum())  # the bands' observed churn is every label
    assert fitted.report["rocAuc"] != spread["rocAuc"]  # a different evaluation, reported apart
    assert sum(spread["calibrationByFold"].values()) == 4  # each fold's model chose its own curve
    fitted.write(tmp_path / "model")
    text = (tmp_path / "model/report.md").read_text()
    assert "Cross-validated check: grouped 4-fold CV over every user" in text
    assert re.search(r"600 rows; calibration curves: (sigmoid|isotonic) in \d folds?", text)
    assert "byFold" not in fitted.report["calibration"]  # the exported model's own curve: one
    assert "crossValidated" not in fit(_data(X, y), holdout=None, cv_folds=4).report  # tables: CV is the evaluation


def test_the_same_seed_gives_the_same_model(signal_fit):
    X, y = _signal_rows(600, seed=1)
    again = fit(_data(X, y, notes=["made up for a test"]), holdout=None, cv_folds=4, version="test-1")
    assert again.model["trees"] == signal_fit.model["trees"]
    assert again.report["rocAuc"] == signal_fit.report["rocAuc"]


def test_write_leaves_the_model_its_metrics_and_a_readable_report(signal_fit, tmp_path):
    signal_fit.write(tmp_path / "model")
    model = ExitRiskModel.from_json((tmp_path / "model/model.json").read_bytes())
    assert model.version == "test-1"
    assert json.loads((tmp_path / "model/metrics.json").read_text())["rocAuc"] == signal_fit.report["rocAuc"]
    text = (tmp_path / "model/report.md").read_text()
    for heading in ("Calibration by band", "Deciles", "Feature importance", "Gradient-boosted trees", "Notes"):
        assert heading in text


def test_the_default_version_is_the_utc_time_and_a_digest_of_the_trees():
    X, y = _signal_rows(200, seed=5)
    fitted = fit(_data(X, y), holdout=None, cv_folds=2)
    assert re.fullmatch(r"\d{8}T\d{6}Z-[0-9a-f]{8}", fitted.model["version"])
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", fitted.model["createdAt"])
    assert len(fitted.model["trees"]) <= 100


def test_one_class_or_too_few_examples_is_a_clear_error():
    X, _ = _signal_rows(50, seed=6)
    with pytest.raises(ValueError, match="both classes"):
        fit(_data(X, np.zeros(50, dtype=int)), holdout=None)
    few = np.zeros(50, dtype=int)
    few[:3] = 1
    with pytest.raises(ValueError, match="too few examples: 3 positives"):
        fit(_data(X, few), holdout=None)


def _noise(seed: int) -> TrainingData:
    rng = np.random.default_rng(seed)
    X, y = rng.normal(size=(300, 3)), (rng.random(300) < 0.2).astype(int)
    return TrainingData(names=["a", "b", "c"], rows=X.tolist(), labels=y.tolist())


def test_each_folds_own_calibration_curve_is_counted_in_the_report():
    fitted = fit(_noise(3), holdout=None, cv_folds=3, seed=7)
    calibration = fitted.report["calibration"]
    assert [f["calibration"] for f in fitted.report["folds"]].count("isotonic") == 1
    assert calibration["byFold"] == {"sigmoid": 2, "isotonic": 1}
    assert "Each fold's model chose its own curve for the figures above: sigmoid in 2 folds, isotonic in 1 fold." in (
        fitted.markdown()
    )


def test_a_flat_calibration_curve_is_a_warning_that_names_the_one_score_everyone_gets():
    fitted = fit(_noise(1), holdout=None, cv_folds=3, seed=7)  # noise whose trees rank backwards out of fold
    assert fitted.report["rocAuc"] < 0.47  # so the "no signal" warning (within 0.03 of 0.5) stays silent
    flat = fitted.report["calibration"]["flatScore"]
    assert len(set(fitted.model["calibration"]["y"])) == 1
    assert round(fitted.model["calibration"]["y"][0] * 100) == flat
    assert any(w.startswith(f"the calibration curve is flat: every row scores {flat};") for w in fitted.report["warnings"])
