"""The calibration table's sampling interval (ml.report.calibration_by_band): how far each band's gap
moves on the luck of the sample, resampling whole users when rows come from users."""

from __future__ import annotations

import numpy as np

from ml import report as measure
from ml.dataset import TrainingData
from ml.text import interval_text
from ml.trainer import fit


def _calibrated_sample(rows: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Predictions spread over every band and labels drawn from them: calibrated by construction."""
    rng = np.random.default_rng(seed)
    predicted = rng.random(rows) ** 2
    return (rng.random(rows) < predicted).astype(int), predicted


def _band(bands: list[dict], name: str) -> dict:
    return next(b for b in bands if b["band"] == name)


def test_each_band_has_an_interval_around_its_gap_that_shrinks_as_the_sample_grows():
    widths = {}
    for rows in (400, 40_000):
        labels, predicted = _calibrated_sample(rows, seed=1)
        for band in measure.calibration_by_band(labels, predicted):
            low, high = band["gapInterval"]
            assert low <= band["gap"] <= high
            widths[band["band"], rows] = high - low
    for name in ("LOW", "MEDIUM", "HIGH"):
        # 100 times the rows: about a tenth of the width
        assert 0.05 < widths[name, 40_000] / widths[name, 400] < 0.2
    labels, predicted = _calibrated_sample(40_000, seed=2)
    for band in measure.calibration_by_band(labels, predicted):  # calibrated: zero is inside, and the interval is tight
        assert band["gapInterval"][0] < 0 < band["gapInterval"][1] and band["gapInterval"][1] - band["gapInterval"][0] < 3


def test_a_users_rows_are_resampled_together_so_rows_that_lean_together_widen_the_interval():
    labels, predicted = _calibrated_sample(300, seed=3)
    copies = 9  # each user's rows: one outcome seen nine times (a user who churns at one cutoff churns at the next)
    labels, predicted = np.repeat(labels, copies), np.repeat(predicted, copies)
    users = np.repeat(np.arange(300), copies)
    by_user = _band(measure.calibration_by_band(labels, predicted, users), "MEDIUM")
    by_row = _band(measure.calibration_by_band(labels, predicted), "MEDIUM")
    width = lambda band: band["gapInterval"][1] - band["gapInterval"][0]  # noqa: E731
    assert width(by_user) > 2 * width(by_row)  # about 3 (the square root of 9) times as wide


def test_the_interval_is_reproducible_and_absent_for_an_empty_band():
    labels, predicted = _calibrated_sample(500, seed=4)
    predicted = np.minimum(predicted, 0.29)  # every score LOW
    first = measure.calibration_by_band(labels, predicted, seed=5)
    assert first == measure.calibration_by_band(labels, predicted, seed=5)
    assert _band(first, "HIGH")["n"] == 0 and _band(first, "HIGH")["gapInterval"] is None
    assert interval_text(None) == "-" and interval_text([-3.44, 6.6]) == "-3.4 to +6.6"
    assert "| - |" in measure.band_lines(first)[-1]


def test_a_band_of_a_handful_of_users_gets_no_interval_rather_than_their_own_gap_repeated():
    labels, predicted = _calibrated_sample(1000, seed=7)
    predicted = np.minimum(predicted, 0.59)  # nothing HIGH...
    users = np.repeat(np.arange(250), 4)
    few = np.isin(users, [3, 8, 13, 21])  # ...but four users' rows, all of them churned
    predicted[few], labels[few] = 0.7, 1
    high = _band(measure.calibration_by_band(labels, predicted, users), "HIGH")
    assert high["n"] == 16 and high["gap"] == 30.0 and high["gapInterval"] is None
    rows = _band(measure.calibration_by_band(labels, predicted), "HIGH")  # 16 rows are 16 units: an interval
    assert rows["gapInterval"] is not None


def test_the_report_and_its_warning_give_the_interval_of_the_held_out_users():
    rng = np.random.default_rng(6)
    X = rng.normal(size=(800, 2))
    y = (rng.random(800) < 1 / (1 + np.exp(-(-1.5 + 2.5 * X[:, 0])))).astype(int)
    data = TrainingData(names=["strong", "noise"], rows=X.tolist(), labels=y.tolist(), groups=[f"u{i // 4}" for i in range(800)])
    report = fit(data, holdout=0.3, cv_folds=3).report
    for bands in (report["bands"], report["crossValidated"]["bands"]):
        for band in bands:
            if band["n"]:
                assert band["gapInterval"][0] <= band["gap"] <= band["gapInterval"][1]
    assert "gap's 95% interval" in measure.markdown(report)
    assert "rows never seen by the model or its calibration" in measure.markdown(report)  # held out: the exported model's
    wide = {**report, "bands": [{**_band(report["bands"], "MEDIUM"), "n": 40, "gap": 12.0, "gapInterval": [-3.0, 27.0]}]}
    (warning,) = [w for w in measure.warnings(wide, {}) if "miscalibrated" in w]
    assert warning.endswith("(+12.0 points; 95% interval -3.0 to +27.0)")


def _report(positives: int, rows: int, auc: float, bands: list[dict]) -> dict:
    return {"positives": positives, "rows": rows, "rocAuc": auc, "bands": bands}


def test_the_warnings_name_a_thin_band_a_chance_auc_and_a_leaking_column_only_when_they_apply():
    calibrated = [{"band": "LOW", "n": 900, "gap": 0.5, "observed": 3.0, "meanPredicted": 2.5}]
    assert measure.warnings(_report(300, 1000, 0.85, calibrated), {"tenure": 0.7}) == []
    thin = [*calibrated, {"band": "HIGH", "n": 12, "gap": 4.0, "observed": 80.0, "meanPredicted": 76.0}]
    assert measure.warnings(_report(300, 1000, 0.85, thin), {}) == [
        "band HIGH holds only 12 evaluated rows: its calibration figures are noise"
    ]
    (chance,) = measure.warnings(_report(300, 1000, 0.52, calibrated), {})
    assert chance.startswith("no signal: ROC AUC 0.520 is within 0.03 of 0.5")
    assert measure.warnings(_report(300, 1000, 0.54, calibrated), {}) == []
    (leak,) = measure.warnings(_report(300, 1000, 0.99, calibrated), {"cancel_date_set": 0.995, "tenure": 0.7})
    assert leak.startswith("possible leakage: 'cancel_date_set' alone separates the classes (ROC AUC 0.995)")
    few = measure.warnings(_report(20, 1000, 0.99, calibrated), {"cancel_date_set": 0.995})
    assert not any("leakage" in w for w in few)  # 20 positives are separated by chance: no leakage claim
    assert any(w.startswith("only 20 positives") for w in few)
