"""Fit the exit-risk model: gradient-boosted trees, calibrated, measured honestly, exported.

- Trees: scikit-learn's ``HistGradientBoostingClassifier`` (missing values native), classes
  weighted to balance, small trees (3 deep, 8 leaves) and at most 100 of them so serving stays
  in microseconds; early stopping on a validation share once there are 1,000 rows.
- Calibration: class weighting distorts probabilities, so a curve maps the trees' probability to
  the observed rate (``ml.calibration``: a sigmoid or an isotonic curve, whichever predicts better
  out of fold). It is fitted on out-of-fold predictions of the rows the trees learn from (3 folds),
  then the trees are refitted on all of those rows.
- Honesty: every reported figure comes from rows that neither the trees nor the calibration saw.
  With ``holdout`` (journeys): users are split (all of a user's rows on one side); the model is
  fitted on the training users, measured on the held-out ones, and that very model is exported.
  Beside it (``report["crossValidated"]``), grouped k-fold CV over every user shows how much those
  figures owe to which users were held out.
  With ``holdout=None`` (tables): stratified k-fold cross-validation, each fold calibrated inside
  its own training part, reported on the pooled out-of-fold predictions (the folds' mean and spread
  beside); then the exported model is fitted on every row.
- Warnings (``report["warnings"]``, also in its notes): too few examples of a class, thin or
  miscalibrated score bands, no signal, and a single column that alone separates the classes."""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.model_selection import GroupShuffleSplit, StratifiedGroupKFold, StratifiedKFold, StratifiedShuffleSplit
from threadpoolctl import threadpool_limits

from ml import report as measure
from ml.calibration import Curve, fit_curve
from ml.dataset import TrainingData
from ml.export import model_document

CALIBRATION_FOLDS = 3
IMPORTANCE_REPEATS = 3
IMPORTANCE_TOP = 15
EARLY_STOPPING_FROM_ROWS = 1000
MIN_PER_CLASS = 5
MULTITHREAD_FROM_ROWS = 50_000

Progress = Callable[[str], None]


def gbt_parameters(rows: int, seed: int) -> dict[str, Any]:
    """The trees' settings for a training set of ``rows`` rows (deterministic for a seed)."""
    return {
        "loss": "log_loss",
        "learning_rate": 0.1,
        "max_iter": 100,
        "max_depth": 3,
        "max_leaf_nodes": 8,
        "min_samples_leaf": min(20, max(5, rows // 20)),
        "l2_regularization": 1.0,
        "class_weight": "balanced",
        "early_stopping": rows >= EARLY_STOPPING_FROM_ROWS,
        "validation_fraction": 0.15,
        "n_iter_no_change": 10,
        "categorical_features": None,
        "random_state": seed,
    }


@dataclass(frozen=True)
class Fitted:
    model: dict[str, Any]  # the JSON model (journey.risk.model reads it)
    report: dict[str, Any]  # metrics.json
    heldout_groups: tuple[str, ...] = ()  # with a holdout by group: who the model never saw (not written out)

    def markdown(self) -> str:
        return measure.markdown(self.report)

    def write(self, directory: Path) -> Path:
        """model.json, metrics.json and report.md in ``directory`` (created if needed)."""
        directory.mkdir(parents=True, exist_ok=True)
        (directory / "model.json").write_text(
            json.dumps(finite(self.model), separators=(",", ":"), allow_nan=False), encoding="utf-8"
        )
        (directory / "metrics.json").write_text(
            json.dumps(finite(self.report), indent=2, allow_nan=False) + "\n", encoding="utf-8"
        )
        (directory / "report.md").write_text(self.markdown(), encoding="utf-8")
        return directory


class _Calibrated:
    """Trees and the curve that calibrates their probability (with each shape's out-of-fold Brier score)."""

    def __init__(self, classifier: HistGradientBoostingClassifier, curve: Curve, brier: dict[str, float]) -> None:
        self.classifier = classifier
        self.curve = curve
        self.brier = brier

    def predict(self, X: np.ndarray) -> np.ndarray:
        return self.curve.apply(self.classifier.predict_proba(X)[:, 1])

    def used_inputs(self) -> set[int]:
        return {int(f) for (p,) in self.classifier._predictors for f in p.nodes["feature_idx"][p.nodes["is_leaf"] == 0]}


def fit(
    data: TrainingData,
    *,
    holdout: float | None = 0.3,
    cv_folds: int = 5,
    seed: int = 7,
    version: str | None = None,
    progress: Progress | None = None,
) -> Fitted:
    """Evaluate (held-out users, or k-fold CV when ``holdout`` is None), then the model to export."""
    # on tables this small, OpenMP threads cost more than they save (and oversubscribe parallel test runs)
    with threadpool_limits(limits=1 if len(data.rows) < MULTITHREAD_FROM_ROWS else None, user_api="openmp"):
        return _fit(data, holdout, cv_folds, seed, version, progress)


def _fit(
    data: TrainingData, holdout: float | None, cv_folds: int, seed: int, version: str | None, progress: Progress | None
) -> Fitted:
    say = progress or (lambda _line: None)
    if holdout is None and (isinstance(cv_folds, bool) or not isinstance(cv_folds, int) or cv_folds < 2):
        raise ValueError(f"cross-validation needs 2 folds or more, not {cv_folds!r} (--cv-folds, or CV_FOLDS= with make)")
    X = np.array(data.rows, dtype=float).reshape(len(data.rows), len(data.names))  # None -> NaN
    y = np.asarray(data.labels, dtype=int)
    groups = np.asarray(data.groups) if data.groups else None
    _check_classes(y)
    units = _importance_units(data)
    notes: list[str] = []
    if holdout is not None:
        if not 0 < holdout < 1:
            raise ValueError(f"holdout must be a share between 0 and 1, not {holdout}")
        train, test = _holdout_split(y, groups, holdout, seed)
        who = "users" if groups is not None else "rows"
        say(
            f"held out {len(test)} rows ({len(set(groups[test])) if groups is not None else len(test)} {who}); fitting on {len(train)}"
        )
        model = _fit_calibrated(X[train], y[train], None if groups is None else groups[train], seed, say)
        evaluated = y[test], model.predict(X[test])
        evaluated_groups = None if groups is None else groups[test]
        say(f"permutation importance on {len(test)} held-out rows")
        drops = _importance(model, X[test], y[test], units, seed)
        folds: list[dict[str, Any]] = []
        evaluated_on = "held-out users" if groups is not None else "held-out rows"
        trained_rows = len(train)
        heldout = tuple(sorted(set(groups[test].tolist()))) if groups is not None else ()
        spread = _cross_check(X, y, groups, cv_folds, seed, say) if groups is not None else None
    else:
        spread = None
        heldout = ()
        labels, predicted, folds, drops = _cross_validate(X, y, groups, units, cv_folds, seed, say)
        if len(folds) < cv_folds:
            notes.append(
                f"cross-validated with {len(folds)} folds, not {cv_folds}: the data has "
                f"{int(y.sum())} positives, {int(len(y) - y.sum())} negatives"
                + (f" and {len(set(groups.tolist()))} groups" if groups is not None else "")
            )
            say(f"note: {notes[-1]}")
        evaluated, evaluated_groups = (labels, predicted), groups
        say(f"final model on all {len(y)} rows")
        model = _fit_calibrated(X, y, groups, seed, say)
        evaluated_on = "k-fold CV"
        trained_rows = len(y)
    report = _report(data, y, evaluated, evaluated_groups, folds, drops, evaluated_on, model, trained_rows, seed)
    if spread is not None:
        report["crossValidated"] = spread
    column_aucs = {name: measure.single_column_auc(X[:, columns], y) for name, columns in units}
    report["warnings"] = measure.warnings(report, column_aucs)
    report["notes"] += notes + [f"warning: {w}" for w in report["warnings"]]
    calibration = model.curve.points()
    headline = {k: report[k] for k in ("rocAuc", "prAuc", "rows", "positives", "baseRate", "evaluatedOn")}
    if folds:
        headline |= {"rocAucSd": report["rocAucSd"], "prAucSd": report["prAucSd"]}
    document = model_document(
        model.classifier,
        inputs=list(data.names),
        vocabulary=list(data.vocabulary),
        encoding=data.encoding,
        calibration=calibration,
        metrics=finite(headline),
        version=version,
    )
    report["version"] = document["version"]
    report["gbt"] |= {"trees": len(document["trees"]), "calibrationPoints": len(calibration["x"])}
    return Fitted(model=document, report=finite(report), heldout_groups=heldout)


def _check_classes(y: np.ndarray) -> None:
    positives, rows = int(y.sum()), len(y)
    if positives in (0, rows):
        raise ValueError(f"all {rows} rows have label {int(y[0]) if rows else '-'}: a model needs examples of both classes")
    if min(positives, rows - positives) < MIN_PER_CLASS:
        raise ValueError(
            f"too few examples: {positives} positives and {rows - positives} negatives; need {MIN_PER_CLASS} of each"
        )


def _folds(y: np.ndarray, groups: np.ndarray | None, k: int, seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
    k = max(2, min(k, int(y.sum()), int(len(y) - y.sum())))
    if groups is not None:
        k = min(k, len(set(groups.tolist())))
        splitter: Any = StratifiedGroupKFold(n_splits=k, shuffle=True, random_state=seed)
        return list(splitter.split(np.zeros(len(y)), y, groups))
    return list(StratifiedKFold(n_splits=k, shuffle=True, random_state=seed).split(np.zeros(len(y)), y))


def _holdout_split(y: np.ndarray, groups: np.ndarray | None, share: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Rows to train on and to hold out; by group when there are groups, the split whose held-out
    positive rate is nearest the overall one among 20 tries (stratification, best effort)."""
    if groups is None:
        return next(StratifiedShuffleSplit(n_splits=1, test_size=share, random_state=seed).split(np.zeros(len(y)), y))
    rate, best, best_gap = y.mean(), None, math.inf
    for train, test in GroupShuffleSplit(n_splits=20, test_size=share, random_state=seed).split(np.zeros(len(y)), y, groups):
        both = 0 < y[test].sum() < len(test) and 0 < y[train].sum() < len(train)
        gap = abs(y[test].mean() - rate)
        if both and gap < best_gap:
            best, best_gap = (train, test), gap
    if best is None:
        raise ValueError("no split of the users leaves both classes on both sides: too few users or positives to hold out")
    return best


def _gbt(rows: int, seed: int) -> HistGradientBoostingClassifier:
    return HistGradientBoostingClassifier(**gbt_parameters(rows, seed))


def _fit_calibrated(X: np.ndarray, y: np.ndarray, groups: np.ndarray | None, seed: int, say: Progress) -> _Calibrated:
    """A calibration curve fitted to out-of-fold probabilities, then the trees refitted on all rows."""
    out_of_fold = np.empty(len(y))
    for train, test in _folds(y, groups, CALIBRATION_FOLDS, seed):
        classifier = _gbt(len(train), seed).fit(X[train], y[train])
        out_of_fold[test] = classifier.predict_proba(X[test])[:, 1]
    curve, brier = fit_curve(out_of_fold, y, _folds(y, groups, CALIBRATION_FOLDS, seed + 1))
    say(f"  calibrated ({curve.method}) on {len(y)} out-of-fold predictions; fitting the trees on them all")
    return _Calibrated(_gbt(len(y), seed).fit(X, y), curve, brier)


def _cross_validate(
    X: np.ndarray, y: np.ndarray, groups: np.ndarray | None, units: list[tuple[str, list[int]]], k: int, seed: int, say: Progress
) -> tuple[np.ndarray, np.ndarray, list[dict[str, Any]], dict[str, list[float]]]:
    splits = _folds(y, groups, k, seed)
    predicted = np.full(len(y), np.nan)
    folds: list[dict[str, Any]] = []
    drops: dict[str, list[float]] = {name: [] for name, _ in units}
    for i, (train, test) in enumerate(splits, start=1):
        say(f"fold {i}/{len(splits)}: fitting on {len(train)} rows, measuring on {len(test)}")
        model = _fit_calibrated(X[train], y[train], None if groups is None else groups[train], seed, say)
        predicted[test] = model.predict(X[test])
        folds.append(
            {
                "rows": len(test),
                "positives": int(y[test].sum()),
                "rocAuc": measure.roc_auc(y[test], predicted[test]),
                "prAuc": measure.pr_auc(y[test], predicted[test]),
                "calibration": model.curve.method,
            }
        )
        for name, values in _importance(model, X[test], y[test], units, seed + i).items():
            drops[name].extend(values)
    return y, predicted, folds, drops


def _cross_check(X: np.ndarray, y: np.ndarray, groups: np.ndarray, k: int, seed: int, say: Progress) -> dict[str, Any]:
    """The held-out figures' spread: grouped k-fold CV over every user (each scored by a model,
    calibration included, that never saw them), pooled, with the folds' ROC AUC spread. A single
    held-out split rests on its few hundred users; this uses them all. It measures the training
    recipe, not the exported model (which the held-out figures measure)."""
    labels, predicted, folds, _ = _cross_validate(X, y, groups, [], k, seed, say)
    roc = [f["rocAuc"] for f in folds if math.isfinite(f["rocAuc"])]
    return {
        "evaluatedOn": f"grouped {len(folds)}-fold CV over every user",
        "rows": len(labels),
        "rocAuc": measure.roc_auc(labels, predicted),
        "rocAucFoldMean": float(np.mean(roc)) if roc else math.nan,
        "rocAucSd": float(np.std(roc)) if roc else math.nan,
        "prAuc": measure.pr_auc(labels, predicted),
        "bands": measure.calibration_by_band(labels, predicted, groups, seed=seed),
        "calibrationByFold": _methods(folds),
    }


def _methods(folds: list[dict[str, Any]]) -> dict[str, int]:
    """How many folds' models chose each calibration curve (each fold chooses its own)."""
    return dict(Counter(f["calibration"] for f in folds).most_common())


def _importance_units(data: TrainingData) -> list[tuple[str, list[int]]]:
    """What permutation importance shuffles: a table's source column (all its one-hot inputs
    together), or each input."""
    position = {name: i for i, name in enumerate(data.names)}
    columns = data.encoding.get("columns") if data.encoding else None
    if columns:
        return [(c["name"], [position[n] for n in c["inputs"]]) for c in columns]
    return [(name, [i]) for i, name in enumerate(data.names)]


def _importance(
    model: _Calibrated, X: np.ndarray, y: np.ndarray, units: list[tuple[str, list[int]]], seed: int
) -> dict[str, list[float]]:
    """ROC AUC drop per unit when its inputs are shuffled together (0 for inputs no tree uses)."""
    base = measure.roc_auc(y, model.predict(X))
    used = model.used_inputs()
    rng = np.random.default_rng(seed)
    drops: dict[str, list[float]] = {}
    for name, columns in units:
        if not used.intersection(columns) or not math.isfinite(base):
            drops[name] = [0.0] * IMPORTANCE_REPEATS
            continue
        drops[name] = []
        for _ in range(IMPORTANCE_REPEATS):
            shuffled = X.copy()
            shuffled[:, columns] = X[rng.permutation(len(y))][:, columns]
            drops[name].append(base - measure.roc_auc(y, model.predict(shuffled)))
    return drops


def _report(
    data: TrainingData,
    y: np.ndarray,
    evaluated: tuple[np.ndarray, np.ndarray],
    evaluated_groups: np.ndarray | None,
    folds: list[dict[str, Any]],
    drops: dict[str, list[float]],
    evaluated_on: str,
    model: _Calibrated,
    trained_rows: int,
    seed: int,
) -> dict[str, Any]:
    labels, predicted = evaluated
    rows, positives = len(y), int(y.sum())
    report: dict[str, Any] = {
        "evaluatedOn": evaluated_on,
        "rows": rows,
        "positives": positives,
        "baseRate": positives / rows,
        "evaluation": {"rows": len(labels), "positives": int(labels.sum()), "baseRate": float(labels.mean())},
    }
    if folds:
        roc = [f["rocAuc"] for f in folds if math.isfinite(f["rocAuc"])]
        pr = [f["prAuc"] for f in folds if math.isfinite(f["prAuc"])]
        pooled = measure.roc_auc(labels, predicted)
        report |= {  # the headline is pooled over every out-of-fold prediction; the folds' spread beside it
            "rocAuc": pooled,
            "prAuc": measure.pr_auc(labels, predicted),
            "rocAucFoldMean": float(np.mean(roc)) if roc else math.nan,
            "rocAucSd": float(np.std(roc)) if roc else math.nan,
            "prAucFoldMean": float(np.mean(pr)) if pr else math.nan,
            "prAucSd": float(np.std(pr)) if pr else math.nan,
        }
        report |= {"pooledRocAuc": pooled, "folds": folds}
    else:
        report |= {"rocAuc": measure.roc_auc(labels, predicted), "prAuc": measure.pr_auc(labels, predicted)}
    report["bands"] = measure.calibration_by_band(labels, predicted, evaluated_groups, seed=seed)
    report["deciles"] = measure.deciles(labels, predicted)
    ranked = sorted(drops.items(), key=lambda kv: -float(np.mean(kv[1])))[:IMPORTANCE_TOP]
    report["importance"] = [{"feature": n, "rocAucDrop": float(np.mean(v)), "sd": float(np.std(v))} for n, v in ranked]
    report["importanceUnit"] = "column" if data.encoding.get("columns") else "input"
    report["gbt"] = {
        **{k: v for k, v in gbt_parameters(trained_rows, seed).items() if k != "random_state"},
        "seed": seed,
        "iterations": int(model.classifier.n_iter_),
        "inputs": len(data.names),
        "trainedOnRows": trained_rows,
    }
    report["calibration"] = {"method": model.curve.method, "outOfFoldBrier": model.brier}
    if model.curve.flat:  # every row gets one score: the trees' ranking did not hold out of fold
        report["calibration"]["flatScore"] = int(measure.scores_of(np.array(model.curve.y[:1]))[0])
    if folds:
        report["calibration"]["byFold"] = _methods(folds)
    report["notes"] = list(data.notes)
    return report


def finite(value: Any) -> Any:
    """NaN and infinities (an undefined AUC) as null, so the JSON stays standard."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [finite(v) for v in value]
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return finite(float(value))
    return value
