"""Training rows for the exit-risk model from the journeys the system stored (pure).

A stored journey is what the tables hold of one user: their journal entries in stream order
(``journey.app.fold.journal_entry``), the times of the struggle signals detected, and the times of
the interventions sent. :func:`replay` folds them into the activity history exactly as the stream
processor did (:mod:`journey.risk.history`), but only what happened up to a cutoff: the point-in-time
rule, so no feature sees past its cutoff. The label is whether the user was active again within the
horizon after it (:func:`churn_label`). ``ml.journeys`` reads the journeys from a DynamoDB export.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from journey.kernel.clock import DAY_MS
from journey.kernel.ids import bounded_key
from journey.risk import history
from journey.risk.features import feature_values

# journal entries: [eventId, timestamp, eventType, feature, action/screen/errorType, session, value]
# (entries written before the session and value were journaled have only the first five)
TIME, KIND, FEATURE, ACTION, SESSION, VALUE = 1, 2, 3, 4, 5, 6
ACTIVE_WITHIN_MS = history.WINDOW_DAYS * DAY_MS  # a user is a training example at a cutoff only when active this recently


@dataclass(frozen=True)
class StoredJourney:
    user_id: str
    entries: list[list[Any]]  # journal entries, in stream order
    signal_times: list[int]  # when each struggle signal was detected (epoch ms; not history.NOT_STRUGGLE_SIGNALS)
    send_times: list[int]  # when each intervention was sent (epoch ms; held out and suppressed ones are not sends)


def is_activity(entry: Sequence[Any]) -> bool:
    """Whether a journal entry is the user's activity (not the deadline timer's command)."""
    return entry[KIND] in history.KIND_COLUMN


def replay(journey: StoredJourney, until: int) -> list[Any]:
    """The activity history folded from the entries, signals and sends at or before ``until`` (epoch
    ms) only, in stored order, and pruned as the stream processor prunes it (at the newest activity)."""
    activity: list[Any] = []
    record = history.record_event
    for entry in journey.entries:
        if entry[TIME] <= until:
            long = len(entry) > VALUE
            record(
                activity,
                entry[TIME],
                entry[KIND],
                entry[FEATURE],
                entry[ACTION],
                entry[SESSION] if long else "",
                entry[VALUE] if long else None,
            )
    for t in journey.signal_times:
        if t <= until:
            history.record_signal(activity, t)
    for t in journey.send_times:
        if t <= until:
            history.record_send(activity, t)
    if activity:
        history.prune(activity, activity[history.LAST])
    return activity


def activity_times(journey: StoredJourney) -> list[int]:
    return [entry[TIME] for entry in journey.entries if entry[KIND] in history.KIND_COLUMN]


def churn_label(journey: StoredJourney, cutoff: int, horizon_ms: int) -> int:
    """1 (churned) when the user has no activity in the horizon after ``cutoff`` (cutoff < t <= cutoff
    + horizon), else 0."""
    end = cutoff + horizon_ms
    return 0 if any(cutoff < t <= end for t in activity_times(journey)) else 1


def choose_vocabulary(journeys: Sequence[StoredJourney], until: int, size: int = 8) -> tuple[str, ...]:
    """The ``size`` app features the most users used at or before ``until`` (ties: by name), as the
    history keys them (bounded in bytes)."""
    users: Counter[str] = Counter()
    for journey in journeys:
        used = {
            entry[FEATURE]
            for entry in journey.entries
            if entry[FEATURE] and entry[TIME] <= until and entry[KIND] in history.KIND_COLUMN
        }
        users.update({bounded_key(name) for name in used})
    return tuple(name for name, _ in sorted(users.items(), key=lambda item: (-item[1], item[0]))[:size])


def data_end(journeys: Sequence[StoredJourney]) -> int:
    """The newest activity time in the journeys (0: none)."""
    return max((max(times) for journey in journeys if (times := activity_times(journey))), default=0)


def training_rows(
    journeys: Sequence[StoredJourney],
    cutoffs: Sequence[int],
    horizon_ms: int,
    vocabulary: Sequence[str],
    data_ends_at: int | None = None,
) -> tuple[list[list[float | None]], list[int], list[str], list[int]]:
    """One row per user and cutoff: (feature rows, churn labels, user ids, the cutoff of each row).

    A user is an example at a cutoff when they were active in the :data:`ACTIVE_WITHIN_MS` up to it
    (a user long gone is not a prediction anyone needs) and the data reaches the end of the horizon
    after it (else their label is unknown). ``data_ends_at``: where the data ends (epoch ms), when
    ``journeys`` are some users of a larger export (else :func:`data_end` of ``journeys``)."""
    if horizon_ms <= 0:
        raise ValueError(f"the churn horizon must be positive, got {horizon_ms} ms")
    reach = data_end(journeys) if data_ends_at is None else data_ends_at
    usable = sorted(c for c in set(cutoffs) if c + horizon_ms <= reach)
    rows: list[list[float | None]] = []
    labels: list[int] = []
    users: list[str] = []
    at: list[int] = []
    for journey in journeys:
        times = activity_times(journey)
        for cutoff in usable:
            if not any(cutoff - ACTIVE_WITHIN_MS < t <= cutoff for t in times):
                continue
            rows.append(feature_values(replay(journey, cutoff), cutoff, vocabulary))
            labels.append(churn_label(journey, cutoff, horizon_ms))
            users.append(journey.user_id)
            at.append(cutoff)
    return rows, labels, users, at
