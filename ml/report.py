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


def calibration_by_band(labels: np.ndarray, probabilities: np.ndarray) -> list[dict[str, Any]]:
    """Per band: rows, mean predicted %, observed %, and the gap (observed - predicted) in points."""
    scores = scores_of(probabilities)
    table = []
    for band, low, high in BANDS:
        inside = (scores >= low) & (scores < high)
        table.append({"band": band, "from": low, "to": min(high, 100), **_cell(labels[inside], probabilities[inside])})
    return table


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
    out += [
        f"Evaluated on: **{report['evaluatedOn']}** ({report['evaluation']['rows']} rows never seen by the model or its calibration).",
        "",
    ]
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
        "Score = calibrated probability x 100; a band's observed rate should sit inside it.",
        "",
    ]
    out += band_lines(report)
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


def band_lines(report: dict[str, Any]) -> list[str]:
    lines = ["| band | scores | n | predicted % | observed % | gap (points) |", "|---|---|---|---|---|---|"]
    for b in report["bands"]:
        lines.append(
            f"| {b['band']} | {b['from']}-{b['to'] if b['to'] == 100 else b['to'] - 1} | {b['n']} | {_num(b['meanPredicted'])} "
            f"| {_num(b['observed'])} | {_num(b['gap'])} |"
        )
    return lines


def summary(report: dict[str, Any]) -> list[str]:
    """The few lines ``python -m ml train`` prints."""
    lines = [
        f"evaluated on {report['evaluatedOn']}: {report['evaluation']['rows']} rows, {report['evaluation']['positives']} positives",
        f"ROC AUC {_metric(report, 'rocAuc')}   PR AUC {_metric(report, 'prAuc')}   base rate {_pct(report['baseRate'])}",
    ]
    return lines + band_lines(report)


def _metric(report: dict[str, Any], key: str) -> str:
    sd = report.get(f"{key}Sd")
    return _num(report[key], 3) + (f" ± {sd:.3f}" if sd is not None else "")


def _num(value: float | None, digits: int = 1) -> str:
    return "-" if value is None or (isinstance(value, float) and not math.isfinite(value)) else f"{value:.{digits}f}"


def _pct(rate: float) -> str:
    return f"{100 * rate:.1f}%"
