"""The deadline timer's use case: wake the users whose state says something is due.

Only the stream processor writes user state (../shared/DESIGN.md, rule 1), so the timer decides
nothing itself: it finds the users whose deadline has passed (the state table's sparse index) and
appends a *timer command* to each one's stream; the processor folds it like any event, in the
user's order, and declares what is due (an abandoned flow, say) at the timeout instead of at the
user's next session, which may never come.

A command's id is derived from (user, deadline), so every run that finds the same deadline again
(the processor has not folded the last command yet, or a run is retried) appends a duplicate the
processor drops; a new deadline gives a new id.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from journey.app.ports import DueUser, TimerPorts
from journey.events.commands import TIMER_ACTION, TIMER_SESSION, timer_command_id
from journey.events.model import EventType

DEFAULT_LIMIT = 10_000  # users woken per run at most; the rest are found by the next run, a minute later


@dataclass
class WakeReport:
    """What one run found and did."""

    scheduled_ms: int  # the run's "now": the schedule's scheduled time
    found: int = 0  # due users found (at most the limit)
    appended: int = 0  # commands now on the stream
    failed: list[str] = field(default_factory=list)  # users whose command could not be appended (the next run retries)
    limit: int = DEFAULT_LIMIT

    @property
    def limit_reached(self) -> bool:
        """More users may be due than one run wakes: the rest wait for the next run."""
        return self.found >= self.limit


def timer_command(due: DueUser, scheduled_ms: int) -> dict:
    """The command as a native event: "your deadline has passed; declare what is due". Its time is the
    deadline itself (at most the run's scheduled time): what is declared, and when, depends only on
    the user's own events, not on which run found them; the record's arrival says when it was appended
    (so a run that comes late, after an outage, is judged stale like any other late event)."""
    return {
        "eventId": timer_command_id(due.user_id, due.due_at),
        "eventType": EventType.TIMER.value,
        "userId": due.user_id,
        "sessionId": TIMER_SESSION,
        "timestamp": due.due_at,  # found due: at or before the run's scheduled time
        "eventData": {"action": TIMER_ACTION},
    }


def wake_due_users(ports: TimerPorts, now_ms: int, limit: int = DEFAULT_LIMIT) -> WakeReport:
    """Append a timer command for every user due at ``now_ms`` (at most ``limit``)."""
    if limit < 1:
        raise ValueError(f"limit must be at least 1, got {limit}")
    report = WakeReport(scheduled_ms=now_ms, limit=limit)
    due = ports.due_users.due(now_ms, limit)
    report.found = len(due)
    if not due:
        return report
    report.failed = ports.commands.append([timer_command(d, now_ms) for d in due])
    report.appended = report.found - len(set(report.failed))
    return report
