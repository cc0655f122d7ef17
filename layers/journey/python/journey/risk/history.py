"""A user's bounded activity history: what the trained exit-risk model's features are computed from
(:func:`journey.risk.features.feature_values`), kept in :attr:`UserState.activity`.

It is folded from exactly what the system stores: each journal entry (``journey.app.fold.journal_entry``:
event id, time, type, feature, action, session, value), each struggle signal the system detected
(its time) and each intervention sent (its time). So the stream processor keeps it up to date event
by event, and offline training rebuilds the same history from the stored journeys at any cutoff
(:mod:`journey.risk.training`): one code path for serving and training.

The stored form is positional (the state item is billed per KB on every write; docs/data-model.md):

``[format, first, last, session, session_start, last_gap, progress, first_day, days, features]``

* ``first``, ``last``: the first activity folded and the newest activity time (epoch ms; 0: none yet);
* ``session``: the current session's fingerprint; ``session_start``: when it started (epoch ms);
  ``last_gap``: the minutes between the activity before it and its start (-1: the first session);
* ``progress``: the highest progress ever reported, in tenths of a percent (-1: never reported);
* ``days``: one row per UTC day from ``first_day`` (epoch ms // 86,400,000) on, the last
  :data:`WINDOW_DAYS` days, ``[]`` for a day with nothing: ``[events, sessions, gap minutes, views,
  interactions, lifecycle, errors, signals detected, interventions sent, videos, flows started, flows
  completed, max progress (tenths), video completions reported, their sum (thousandths), searches,
  help requests, client-reported struggles]`` (trailing zeros are dropped when stored);
* ``features``: the :data:`FEATURES_CAP` most recently used app features (the one whose newest
  event is oldest goes): ``{feature: [newest event time, first day, count that day, the next day's, ...]}``.

Folding is order-insensitive where it has to be: signals and sends only add to their day's counts,
and :func:`prune` commutes with later folds, so a history folded batch by batch and pruned at each
batch's end equals the one folded from all stored entries, then signals and sends, and pruned once.
Events more than :data:`WINDOW_DAYS` days older than the newest activity are ignored (pruning would
drop them anyway).
"""

from __future__ import annotations

from typing import Any

from journey.events.model import EventType
from journey.events.vocabulary import SUCCESSES
from journey.kernel.clock import DAY_MS, MINUTE_MS
from journey.kernel.ids import KEY_BYTES, bounded_key

HISTORY_FORMAT = 1
WINDOW_DAYS = 28  # days of rows kept (today and the 27 before it)
FEATURES_CAP = 8  # app features whose day counts are kept

# positions in a history
FORMAT, FIRST, LAST, SESSION, SESSION_START, LAST_GAP, PROGRESS, FIRST_DAY, DAYS, FEATURES = range(10)

# positions in a day row, the most often non-zero first (trailing zeros are not stored)
(
    EVENTS,
    SESSIONS,
    GAP_MINUTES,
    VIEWS,
    INTERACTIONS,
    LIFECYCLE,
    ERRORS,
    SIGNALS,
    SENDS,
    VIDEOS,
    FLOWS_STARTED,
    FLOWS_DONE,
    MAX_PROGRESS,
    VIDEO_REPORTS,
    VIDEO_SUM,
    SEARCHES,
    HELP,
    CLIENT_STRUGGLES,
) = range(18)
ROW_WIDTH = 18
_ZEROS = (0,) * ROW_WIDTH

# the day-row column of each activity event type (timer, command and identify are not activity)
KIND_COLUMN: dict[str, int] = {
    EventType.PAGE_VIEW.value: VIEWS,
    EventType.SCREEN_VIEW.value: VIEWS,
    EventType.FEATURE_INTERACTION.value: INTERACTIONS,
    EventType.VIDEO_ENGAGEMENT.value: VIDEOS,
    EventType.SEARCH.value: SEARCHES,
    EventType.ERROR.value: ERRORS,
    EventType.HELP_REQUEST.value: HELP,
    EventType.STRUGGLE_SIGNAL.value: CLIENT_STRUGGLES,
    EventType.APP_LIFECYCLE.value: LIFECYCLE,
}
# signal types the system raises that are not the user's struggle, so not counted as signals detected:
# a silence re-scored at a high exit risk (journey.app.quiet) would feed the model's own output back in
NOT_STRUGGLE_SIGNALS = frozenset({"gone_quiet"})
_SHORT_KEY = KEY_BYTES // 4  # a name this long fits in KEY_BYTES whatever its characters (bounded_key's fast path)


def fresh_history() -> list[Any]:
    """A history with nothing in it yet."""
    return [HISTORY_FORMAT, 0, 0, None, 0, -1, -1, 0, [], {}]


def record_event(
    activity: list[Any], t: int, kind: str, feature: str | None, action: str | None, session: str, value: float | None
) -> None:
    """Fold one journaled event into the history (in place; an empty list becomes a fresh history).

    The arguments are the fields of its journal entry: time (epoch ms), event type, feature, action (or
    screen, or error type), session fingerprint, value (a video's completion rate, else progress).
    Events that are not the user's activity (timer, command, identify) change nothing. A session
    starts when ``session`` differs from the last one folded (the profile's rule)."""
    column = KIND_COLUMN.get(kind)
    if column is None:
        return
    if not activity:
        activity[:] = fresh_history()
    last = activity[LAST]
    day = t // DAY_MS
    if t > last:
        activity[LAST] = t
    elif day <= last // DAY_MS - WINDOW_DAYS:
        return  # older than any row kept
    if not activity[FIRST]:
        activity[FIRST] = t
    days = activity[DAYS]
    if days and day - activity[FIRST_DAY] == len(days) - 1:  # the newest day's row: the common case
        row = days[-1]
        if len(row) < ROW_WIDTH:
            row.extend(_ZEROS[len(row) :])
    else:
        if t == activity[LAST] and days and day - activity[FIRST_DAY] > 2 * WINDOW_DAYS:
            prune(activity, t)  # back after a long absence: what the batch's prune would drop goes first
        row = _row(activity, day)
    row[EVENTS] += 1
    row[column] += 1
    if session != activity[SESSION]:
        gap = max(0, t - last) // MINUTE_MS if last else -1
        activity[SESSION], activity[SESSION_START], activity[LAST_GAP] = session, t, gap
        row[SESSIONS] += 1
        if gap > 0:
            row[GAP_MINUTES] += gap
    if column == INTERACTIONS:
        if action == "start":
            row[FLOWS_STARTED] += 1
        elif action in SUCCESSES:
            row[FLOWS_DONE] += 1
    if value is not None:
        if column == VIDEOS:
            row[VIDEO_REPORTS] += 1
            row[VIDEO_SUM] += round(value * 1000)
        else:
            tenths = round(value * 10)
            if tenths > row[MAX_PROGRESS]:
                row[MAX_PROGRESS] = tenths
            if tenths > activity[PROGRESS]:
                activity[PROGRESS] = tenths
    if feature:
        _count_feature(activity[FEATURES], bounded_key(feature) if len(feature) > _SHORT_KEY else feature, t, day)


def record_signal(activity: list[Any], t: int) -> None:
    """A struggle signal the system detected at ``t`` (epoch ms), counted on its day (callers leave
    out :data:`NOT_STRUGGLE_SIGNALS`)."""
    _count(activity, t, SIGNALS)


def record_send(activity: list[Any], t: int) -> None:
    """An intervention sent at ``t`` (epoch ms; not held out, not suppressed), counted on its day."""
    _count(activity, t, SENDS)


def prune(activity: list[Any], now: int) -> None:
    """Drop the days older than the :data:`WINDOW_DAYS` ending on ``now``'s day, and store the rest in
    their shortest form (days from the first with something in it, rows without trailing zeros,
    feature counts from their first non-zero day). Once per user per batch; pruning now and again
    later gives what pruning once later gives."""
    if not activity:
        return
    oldest = now // DAY_MS - WINDOW_DAYS + 1
    days = activity[DAYS]
    if days:
        first = activity[FIRST_DAY]
        if first < oldest:
            del days[: oldest - first]
            first = oldest
        while days and not days[0]:
            del days[0]
            first += 1
        activity[FIRST_DAY] = first if days else 0
    for row in days:
        if len(row) == ROW_WIDTH and not row[-1]:
            end = ROW_WIDTH - 1
            while end and not row[end - 1]:
                end -= 1
            del row[end:]
    for entry in activity[FEATURES].values():
        if entry[1] < oldest:
            del entry[2 : 2 + oldest - entry[1]]
            entry[1] = oldest
        while len(entry) > 2 and not entry[2]:
            del entry[2]
            entry[1] += 1


def _row(activity: list[Any], day: int) -> list[int]:
    """The full-width row of ``day``, days added before or after the stored ones as needed."""
    days: list[list[int]] = activity[DAYS]
    if not days:
        activity[FIRST_DAY] = day
        days.append(list(_ZEROS))
        return days[0]
    at = day - activity[FIRST_DAY]
    if at < 0:
        days[0:0] = [list(_ZEROS), *([] for _ in range(-at - 1))]
        activity[FIRST_DAY] = day
        return days[0]
    if at >= len(days):
        days.extend([] for _ in range(at - len(days)))
        days.append(list(_ZEROS))
        return days[-1]
    row = days[at]
    if len(row) < ROW_WIDTH:
        row.extend(_ZEROS[len(row) :])
    return row


def _count(activity: list[Any], t: int, column: int) -> None:
    if not activity:
        activity[:] = fresh_history()
    day = t // DAY_MS
    if day <= activity[LAST] // DAY_MS - WINDOW_DAYS:
        return
    _row(activity, day)[column] += 1


def _count_feature(features: dict[str, list[int]], key: str, t: int, day: int) -> None:
    entry = features.get(key)
    if entry is None:
        features[key] = [t, day, 1]
        if len(features) > FEATURES_CAP:  # the feature whose newest event is oldest goes (ties: the first added)
            del features[min(features, key=lambda name: features[name][0])]
        return
    if t > entry[0]:
        entry[0] = t
    at = day - entry[1] + 2
    size = len(entry)
    if at >= size:
        if at > size:
            entry.extend([0] * (at - size))
        entry.append(1)
    elif at >= 2:
        entry[at] += 1
    else:  # a day before its first: move the first day back
        entry[2:2] = [1, *([0] * (1 - at))]
        entry[1] = day
