"""Scoring what the system did against ground truth: precision, recall, AUC, latency percentiles, uplift."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from journey.adapters.aws.codecs.interventions import outcome_of
from localrt.simulator import Episode

MATCH_BEFORE_MS = 1_000
MATCH_AFTER_MS = 15_000
ABANDONMENT_MATCH_AFTER_MS = 900_000  # abandonment is declared after a 180 s grace or a 10 min timeout, by a per-minute timer


def match_window(episode: Episode, signal_type: str | None = None) -> tuple[int, int]:
    """The times (inclusive) at which a signal of ``signal_type`` names ``episode``: from a second before
    its first event to 15 s after its last; for an abandonment signal on an abandonment episode, to
    15 min after its last (the rule waits for the user to stay away, then a timer declares it)."""
    late = episode.kind == "abandonment" and signal_type == "abandonment"
    return episode.start - MATCH_BEFORE_MS, episode.end + (ABANDONMENT_MATCH_AFTER_MS if late else MATCH_AFTER_MS)


def match_signals(signals: list[dict], episodes: list[Episode]) -> tuple[float, float, list[dict], list[Episode]]:
    """Score signals against labelled episodes.

    Rule: a signal matches an episode of the same user and feature when its ``detectedAt`` falls in
    the episode's window (:func:`match_window`): from 1 s before the episode's first event to 15 s
    after its last, whatever the signal's type (one episode may show as more than one kind of
    struggle: a crash that is also the user leaving); an abandonment episode is also matched by an
    *abandonment* signal up to 15 min after its last event, because detection declares abandonment
    only once the user has been away for the grace period (180 s) or silent for the flow timeout
    (10 min), by a timer that runs every minute. Only abandonment signals get the long window, so a
    signal of another kind on the same feature later on is not excused by it.

    A signal that matches at least one episode is a true positive, any other a false positive (a hard
    negative that fired, or struggle where none was played); an episode is found when any signal
    matches it. Returns precision, recall, the false positives and the missed episodes.
    """
    by_key: dict[tuple[str, str], list[Episode]] = defaultdict(list)
    for episode in episodes:
        by_key[(episode.userId, episode.featureId)].append(episode)
    found: set[Episode] = set()
    false_positives = []
    for signal in signals:
        at, kind = signal["detectedAt"], signal.get("signalType")
        hits = []
        for e in by_key.get((signal["userId"], signal["featureId"]), []):
            low, high = match_window(e, kind)
            if low <= at <= high:
                hits.append(e)
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
