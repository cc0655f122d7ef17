"""How good a model is, from predictions on rows it never saw: ROC AUC, PR AUC, calibration per
score band and per decile, lift by decile; and the report as markdown.

Only measurement here (scikit-learn's metrics, no fitting): :mod:`ml.trainer` decides which rows
are honest to measure on."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
from sklearn.metrics import average_precision_score, roc_auc_score

from ml.calibration import is_tie
from ml.text import interval_text

# score = round(calibrated probability x 100); the stream processor's bands
BANDS: tuple[tuple[str, int, int], ...] = (("LOW", 0, 30), ("MEDIUM", 30, 60), ("HIGH", 60, 101))


def scores_of(probabilities: np.ndarray) -> np.ndarray:
    """0-100 integer scores, as the stream processor and ``python -m ml score`` give them."""
    return np.array([round(float(p) * 100) for p in probabilities], dtype=int)


def roc_auc(labels: Sequence[int] | np.ndarray, predicted: np.ndarray) -> float:
    return float(roc_auc_score(labels, predicted)) if len(set(np.asarray(labels).tolist())) == 2 else math.nan


def pr_auc(labels: Sequence[int] | np.ndarray, predicted: np.ndarray) -> float:
    """Average precision (the area under the precision-recall curve, stepwise)."""
    return float(average_precision_score(labels, predicted)) if len(set(np.asarray(labels).tolist())) == 2 else math.nan


MIN_PER_CLASS_FOR_FIGURES = 200
MIN_BAND_ROWS = 30
MAX_BAND_GAP = 10.0  # points
NO_SIGNAL_WITHIN = 0.03  # of a ROC AUC of 0.5
LEAKAGE_AUC = 0.98
_RATE_BY_VALUE_UP_TO = 50  # distinct values; above, an input is ranked by its value


def single_column_auc(X: np.ndarray, labels: np.ndarray) -> float:
    """How well one column alone separates the classes (0.5 to 1, either direction): a one-hot
    block or an input with few values by each value's positive rate (missing a value of its own),
    any other input by its value, missing put at either end."""
    y = np.asarray(labels, dtype=int)
    if X.shape[1] == 0 or len(set(y.tolist())) != 2:
        return math.nan
    if X.shape[1] > 1:
        keys = np.where(np.isnan(X).all(axis=1), -1, np.argmax(np.nan_to_num(X, nan=-np.inf), axis=1))
    else:
        column = X[:, 0]
        distinct = np.unique(column[~np.isnan(column)])
        if len(distinct) > _RATE_BY_VALUE_UP_TO:
            best = 0.5
            for fill in (distinct[0] - 1, distinct[-1] + 1):
                auc = float(roc_auc_score(y, np.where(np.isnan(column), fill, column)))
                best = max(best, auc, 1 - auc)
            return best
        keys = np.where(np.isnan(column), len(distinct), np.searchsorted(distinct, column))  # missing: a key of its own
    _, inverse = np.unique(keys, return_inverse=True)
    rate = np.bincount(inverse, weights=y) / np.bincount(inverse)
    auc = float(roc_auc_score(y, rate[inverse]))
    return max(auc, 1 - auc)


def warnings(report: dict[str, Any], column_aucs: dict[str, float]) -> list[str]:
    """What makes the report's figures or the model doubtful, in words a person can act on."""
    out = []
    positives, rows = int(report["positives"]), int(report["rows"])
    for count, what in ((positives, "positives"), (rows - positives, "negatives")):
        if count < MIN_PER_CLASS_FOR_FIGURES:
            out.append(
                f"only {count} {what}: the figures are rough and the model may not generalise "
                f"(aim for {MIN_PER_CLASS_FOR_FIGURES} or more of each class)"
            )
    for b in report["bands"]:
        if 0 < b["n"] < MIN_BAND_ROWS:
            out.append(f"band {b['band']} holds only {b['n']} evaluated rows: its calibration figures are noise")
        if b["gap"] is not None and abs(b["gap"]) > MAX_BAND_GAP:
            interval = b.get("gapInterval")
            sampling = f"; 95% interval {interval_text(interval)}" if interval else ""
            out.append(
                f"band {b['band']} is miscalibrated: {_num(b['observed'])}% observed against {_num(b['meanPredicted'])}% "
                f"predicted ({b['gap']:+.1f} points{sampling})"
            )
    flat = (report.get("calibration") or {}).get("flatScore")
    if flat is not None:
        out.append(
            f"the calibration curve is flat: every row scores {flat}; on rows the trees did not learn from, their "
            "ranking did not hold (or ran backwards), so the model cannot tell who churns"
        )
    auc = report.get("rocAuc")
    if auc is not None and math.isfinite(auc) and abs(auc - 0.5) <= NO_SIGNAL_WITHIN:
        out.append(
            f"no signal: ROC AUC {auc:.3f} is within {NO_SIGNAL_WITHIN} of 0.5 (chance); "
            "the inputs do not tell who churns, scores sit near the base rate"
        )
    if min(positives, rows - positives) < MIN_BAND_ROWS:  # a handful of rows is separated by chance
        column_aucs = {}
    for name, column_auc in sorted(column_aucs.items(), key=lambda kv: -kv[1] if math.isfinite(kv[1]) else 0):
        if math.isfinite(column_auc) and column_auc >= LEAKAGE_AUC:
            out.append(
                f"possible leakage: {name!r} alone separates the classes (ROC AUC {column_auc:.3f}); if it records the "
                "outcome (filled in at or after churn), drop it or the model will not work on current customers"
            )
    return out


GAP_RESAMPLES = 1000
GAP_MIN_RESAMPLES = 200  # on the largest tables: each resample draws every unit once
GAP_MAX_DRAWS = 20_000_000  # resamples x units drawn at most, while GAP_MIN_RESAMPLES allows
GAP_DRAWS_AT_ONCE = 2_000_000  # units drawn in one step (bounds the memory of the largest tables)
GAP_MIN_UNITS = 5  # a band of fewer users (rows, for a table) gets no interval: the bootstrap cannot tell
GAP_INTERVAL = (2.5, 97.5)  # percentiles: a 95% interval


def calibration_by_band(
    labels: np.ndarray, probabilities: np.ndarray, groups: np.ndarray | None = None, *, seed: int = 0
) -> list[dict[str, Any]]:
    """Per band: rows, mean predicted %, observed %, the gap (observed - predicted) in points, and
    the gap's 95% interval (``gapInterval``): how far it moves by chance alone, from resampling
    the evaluated users (``groups``: a user's rows go together, as they lean together) or rows with
    replacement. A band of a few dozen rows can miss its meaning by 10 points on a sample's luck;
    the interval says whether it does. A band of fewer than ``GAP_MIN_UNITS`` users (or rows) has
    none: resampling a handful of units repeats their own gap back, a narrow interval that means
    nothing."""
    scores = scores_of(probabilities)
    inside = [(scores >= low) & (scores < high) for _, low, high in BANDS]
    intervals = _gap_intervals(np.asarray(labels, dtype=float), np.asarray(probabilities, dtype=float), inside, groups, seed)
    return [
        {
            "band": band,
            "from": low,
            "to": min(high, 100),
            **_cell(labels[rows], probabilities[rows]),
            "gapInterval": interval,
        }
        for (band, low, high), rows, interval in zip(BANDS, inside, intervals, strict=True)
    ]


def _gap_intervals(
    labels: np.ndarray, probabilities: np.ndarray, inside: list[np.ndarray], groups: np.ndarray | None, seed: int
) -> list[list[float] | None]:
    """The percentile bootstrap of each band's gap: whole groups (else rows) drawn with replacement,
    ``GAP_RESAMPLES`` times (fewer beyond 20,000 groups or rows, ``GAP_MIN_RESAMPLES`` at least);
    a resample that leaves a band empty does not count for it."""
    if not len(labels):
        return [None] * len(inside)
    if groups is None:
        unit = np.arange(len(labels))
    else:
        _, unit = np.unique(np.asarray(groups), return_inverse=True)
    units = int(unit.max()) + 1
    # per unit and band: rows, churned, predicted (sums); a resample is a count of draws per unit
    per_unit = np.stack(
        [
            np.stack([np.bincount(unit, weights=rows * w, minlength=units) for w in (1.0, labels, probabilities)])
            for rows in inside
        ]
    )  # bands x 3 x units
    rng = np.random.default_rng(seed)
    resamples = max(GAP_MIN_RESAMPLES, min(GAP_RESAMPLES, GAP_MAX_DRAWS // units))
    step = max(1, GAP_DRAWS_AT_ONCE // units)
    totals = []
    for start in range(0, resamples, step):
        at_once = min(step, resamples - start)
        picked = rng.integers(0, units, size=(at_once, units)) + units * np.arange(at_once)[:, None]
        draws = np.bincount(picked.ravel(), minlength=at_once * units).reshape(at_once, units)  # times each unit is drawn
        totals.append(per_unit @ draws.T)  # bands x 3 x resamples
    n, churned, predicted = np.moveaxis(np.concatenate(totals, axis=2), 1, 0)
    intervals: list[list[float] | None] = []
    for b, rows in enumerate(inside):
        kept = n[b] > 0
        if len(np.unique(unit[rows])) < GAP_MIN_UNITS:
            intervals.append(None)
            continue
        gaps = 100 * (churned[b, kept] - predicted[b, kept]) / n[b, kept]
        low, high = np.percentile(gaps, GAP_INTERVAL)
        intervals.append([round(float(low), 1), round(float(high), 1)])
    return intervals


def deciles(labels: np.ndarray, probabilities: np.ndarray) -> list[dict[str, Any]]:
    """Rows ranked by predicted probability, highest first, in ten near-equal parts: calibration
    (mean predicted %, observed %, gap) and lift (observed rate / base rate, cumulative share of
    all positives captured so far)."""
    order = np.argsort(-probabilities, kind="stable")
    base = float(labels.mean()) if len(labels) else math.nan
    positives = float(labels.sum())
    table, captured = [], 0.0
    for d, part in enumerate(np.array_split(order, 10), start=1):
        if not len(part):
            continue
        cell = _cell(labels[part], probabilities[part])
        captured += float(labels[part].sum())
        rate = float(labels[part].mean())
        table.append(
            {
                "decile": d,
                **cell,
                "minScore": int(scores_of(probabilities[part]).min()),
                "maxScore": int(scores_of(probabilities[part]).max()),
                "lift": _round(rate / base, 2) if base > 0 else None,
                "cumulativeCapture": _round(100 * captured / positives, 1) if positives else None,
            }
        )
    return table


def _cell(labels: np.ndarray, probabilities: np.ndarray) -> dict[str, Any]:
    if not len(labels):
        return {"n": 0, "meanPredicted": None, "observed": None, "gap": None}
    predicted, observed = 100 * float(probabilities.mean()), 100 * float(labels.mean())
    return {
        "n": len(labels),
        "meanPredicted": _round(predicted, 1),
        "observed": _round(observed, 1),
        "gap": _round(observed - predicted, 1),
    }


def _round(value: float | None, digits: int) -> float | None:
    return None if value is None or not math.isfinite(value) else round(value, digits)


def markdown(report: dict[str, Any]) -> str:
    """The report a person reads (report.md)."""
    out = [f"# Exit-risk model {report.get('version', '')}".rstrip(), ""]
    n = report["evaluation"]["rows"]
    seen = (
        f"{n} rows, each predicted by a fold's model that never saw it; the exported model is then fitted on every row"
        if report.get("folds")
        else f"{n} rows never seen by the model or its calibration"
    )
    out += [f"Evaluated on: **{report['evaluatedOn']}** ({seen}).", ""]
    out += ["| | value |", "|---|---|"]
    out += [f"| rows (training input) | {report['rows']} |", f"| positives | {report['positives']} |"]
    out += [f"| base rate | {_pct(report['baseRate'])} |"]
    out += [f"| ROC AUC | {_metric(report, 'rocAuc')} |", f"| PR AUC (average precision) | {_metric(report, 'prAuc')} |", ""]
    if report.get("folds"):
        out += ["## Folds", "", "| fold | rows | positives | ROC AUC | PR AUC |", "|---|---|---|---|---|"]
        out += [
            f"| {i} | {f['rows']} | {f['positives']} | {_num(f['rocAuc'], 3)} | {_num(f['prAuc'], 3)} |"
            for i, f in enumerate(report["folds"], 1)
        ]
        out.append("")
    out += [
        "## Calibration by band",
        "",
        "Score = calibrated probability x 100; a band's observed rate should sit inside it. The gap's 95% interval "
        "comes from resampling the evaluated users (rows, for a table) with replacement: how far the gap moves on "
        "the luck of the sample alone. A thin band's gap can pass 10 points by chance.",
        "",
    ]
    out += band_lines(report["bands"])
    out += calibration_lines(report.get("calibration"))
    spread = report.get("crossValidated")
    if spread:
        out += [
            "",
            f"## Cross-validated check: {spread['evaluatedOn']}",
            "",
            "The figures above rest on one held-out set of users. Here every user is scored once, by a model (trees and "
            "calibration) fitted without them: how far the held-out figures owe to which users were held out. "
            "It measures the training recipe, not the exported model.",
            "",
            f"ROC AUC {_num(spread['rocAuc'], 3)} (pooled; folds {_num(spread['rocAucFoldMean'], 3)} ± "
            f"{_num(spread['rocAucSd'], 3)}), PR AUC {_num(spread['prAuc'], 3)}, {spread['rows']} rows"
            + (f"; calibration curves: {_counts(spread['calibrationByFold'])}." if spread.get("calibrationByFold") else "."),
            "",
            *band_lines(spread["bands"]),
        ]
    out += ["", "## Deciles (1 = highest scores): calibration and lift", ""]
    out += [
        "| decile | n | scores | predicted % | observed % | gap | lift | cumulative capture % |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for d in report["deciles"]:
        out.append(
            f"| {d['decile']} | {d['n']} | {d['minScore']}-{d['maxScore']} | {_num(d['meanPredicted'])} | {_num(d['observed'])} "
            f"| {_num(d['gap'])} | {_num(d['lift'])} | {_num(d['cumulativeCapture'])} |"
        )
    out += [
        "",
        "## Feature importance",
        "",
        f"Permutation importance on the evaluation rows: ROC AUC drop when a {report['importanceUnit']} is shuffled.",
        "",
    ]
    out += ["| feature | ROC AUC drop | sd |", "|---|---|---|"]
    out += [f"| {i['feature']} | {i['rocAucDrop']:.4f} | {i['sd']:.4f} |" for i in report["importance"]]
    out += ["", "## Gradient-boosted trees", "", "| parameter | value |", "|---|---|"]
    out += [f"| {k} | {v} |" for k, v in report["gbt"].items()]
    if report.get("notes"):
        out += ["", "## Notes", "", *[f"- {n}" for n in report["notes"]]]
    return "\n".join(out) + "\n"


def calibration_lines(calibration: dict[str, Any] | None) -> list[str]:
    """Which curve calibrates the exported model, and why (ml.calibration)."""
    if not calibration:
        return []
    method, brier = calibration["method"], calibration.get("outOfFoldBrier") or {}
    line = f"Calibration curve: **{method}**"
    if len(brier) == 2:
        scores = ", ".join(f"{m} {v:.5f}" for m, v in sorted(brier.items(), key=lambda kv: kv[1]))
        if is_tie(brier):
            line += f": the two shapes tie on out-of-fold Brier score ({scores}), and a tie keeps the sigmoid"
        else:
            line += f", the shape with the lower out-of-fold Brier score ({scores})"
    else:
        line += " (too few rows of both classes to compare the shapes out of fold: the sigmoid is kept)"
    out = ["", line + "."]
    by_fold = calibration.get("byFold")
    if by_fold:
        out += ["", f"Each fold's model chose its own curve for the figures above: {_counts(by_fold)}."]
    return out


def _counts(methods: dict[str, int]) -> str:
    return ", ".join(f"{method} in {n} fold{'s' if n > 1 else ''}" for method, n in methods.items())


def band_lines(bands: list[dict[str, Any]]) -> list[str]:
    lines = [
        "| band | scores | n | predicted % | observed % | gap (points) | gap's 95% interval |",
        "|---|---|---|---|---|---|---|",
    ]
    for b in bands:
        lines.append(
            f"| {b['band']} | {b['from']}-{b['to'] if b['to'] == 100 else b['to'] - 1} | {b['n']} | {_num(b['meanPredicted'])} "
            f"| {_num(b['observed'])} | {_num(b['gap'])} | {interval_text(b.get('gapInterval'))} |"
        )
    return lines


def summary(report: dict[str, Any]) -> list[str]:
    """The few lines ``python -m ml train`` prints."""
    lines = [
        f"evaluated on {report['evaluatedOn']}: {report['evaluation']['rows']} rows, {report['evaluation']['positives']} positives",
        f"ROC AUC {_metric(report, 'rocAuc')}   PR AUC {_metric(report, 'prAuc')}   base rate {_pct(report['baseRate'])}",
    ]
    lines += band_lines(report["bands"])
    spread = report.get("crossValidated")
    if spread:
        lines.append(
            f"{spread['evaluatedOn']}: ROC AUC {_num(spread['rocAuc'], 3)} (folds ± {_num(spread['rocAucSd'], 3)}); "
            "bands (n / predicted % / observed %): "
            + ", ".join(
                f"{b['band']} {b['n']} / {_num(b['meanPredicted'])} / {_num(b['observed'])} "
                f"(gap {_num(b['gap'])}, 95% interval {interval_text(b.get('gapInterval'))})"
                for b in spread["bands"]
            )
        )
    return lines + [f"warning: {w}" for w in report.get("warnings", [])]


def _metric(report: dict[str, Any], key: str) -> str:
    """The figure; with folds, the folds' mean ± sd beside the pooled one (an old report: mean ± sd)."""
    sd, mean = report.get(f"{key}Sd"), report.get(f"{key}FoldMean")
    if mean is not None and sd is not None:
        return f"{_num(report[key], 3)} (pooled; folds {_num(mean, 3)} ± {_num(sd, 3)})"
    return _num(report[key], 3) + (f" ± {sd:.3f}" if sd is not None else "")


def _num(value: float | None, digits: int = 1) -> str:
    return "-" if value is None or (isinstance(value, float) and not math.isfinite(value)) else f"{value:.{digits}f}"


def _pct(rate: float) -> str:
    return f"{100 * rate:.1f}%"
