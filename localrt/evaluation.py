"""Scoring what the system did against ground truth: precision, recall, AUC, latency percentiles, uplift."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from journey.adapters.aws.codecs.interventions import outcome_of
from localrt.simulator import Episode

MATCH_BEFORE_MS = 1_000
MATCH_AFTER_MS = 15_000


def match_signals(signals: list[dict], episodes: list[Episode]) -> tuple[float, float, list[dict], list[Episode]]:
    """A signal is a true positive when it names a labelled episode's user and feature and falls in its
    time span (plus a little slack); an episode is found when any signal matches it.

    Returns precision, recall, the false positives and the missed episodes.
    """
    by_key: dict[tuple[str, str], list[Episode]] = defaultdict(list)
    for episode in episodes:
        by_key[(episode.userId, episode.featureId)].append(episode)
    found: set[Episode] = set()
    false_positives = []
    for signal in signals:
        hits = [
            e
            for e in by_key.get((signal["userId"], signal["featureId"]), [])
            if e.start - MATCH_BEFORE_MS <= signal["detectedAt"] <= e.end + MATCH_AFTER_MS
        ]
        if hits:
            found.update(hits)
        else:
            false_positives.append(signal)
    precision = (len(signals) - len(false_positives)) / len(signals) if signals else 0.0
    recall = len(found) / len(episodes) if episodes else 0.0
    missed = [e for e in episodes if e not in found]
    return precision, recall, false_positives, missed


def roc_auc(scores: Iterable[float], labels: Iterable[bool]) -> float:
    """Area under the ROC curve (Mann-Whitney U), ties counted as half."""
    pairs = list(zip(scores, labels, strict=False))
    positives = [s for s, y in pairs if y]
    negatives = [s for s, y in pairs if not y]
    if not positives or not negatives:
        return 0.0
    ranked = sorted(pairs, key=lambda p: p[0])
    ranks: dict[int, float] = {}
    i = 0
    while i < len(ranked):
        j = i
        while j + 1 < len(ranked) and ranked[j + 1][0] == ranked[i][0]:
            j += 1
        for k in range(i, j + 1):
            ranks[k] = (i + j) / 2 + 1
        i = j + 1
    positive_rank_sum = sum(ranks[k] for k, (_, y) in enumerate(ranked) if y)
    n_pos, n_neg = len(positives), len(negatives)
    return (positive_rank_sum - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg)


def percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    position = (len(ordered) - 1) * q / 100
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def uplift_by_signal_type(decisions: list[dict], outcomes: list[dict]) -> dict[str, dict]:
    """Resolution rate of treated (sent) vs held-out decisions, per signal type."""
    resolved = {outcome_of(o) for o in outcomes}
    table: dict[str, dict] = {}
    for decision in decisions:
        status = decision.get("status")
        if status not in ("sent", "held_out"):
            continue
        row = table.setdefault(
            decision["signalType"], {"treated": 0, "treated_resolved": 0, "held_out": 0, "held_out_resolved": 0}
        )
        arm = "treated" if status == "sent" else "held_out"
        row[arm] += 1
        if decision["interventionId"] in resolved:
            row[f"{arm}_resolved"] += 1
    for row in table.values():
        row["treated_rate"] = round(row["treated_resolved"] / row["treated"], 3) if row["treated"] else None
        row["held_out_rate"] = round(row["held_out_resolved"] / row["held_out"], 3) if row["held_out"] else None
        if row["treated_rate"] is not None and row["held_out_rate"] is not None:
            row["uplift"] = round(row["treated_rate"] - row["held_out_rate"], 3)
        else:
            row["uplift"] = None
    return table
