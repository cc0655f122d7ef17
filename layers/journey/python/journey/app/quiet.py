"""Silent users: exit risk re-scored while a user stays away, and re-engagement offered through the
policy (docs/exit-risk.md, "Silent users").

A user who stops coming back sends no events, so nothing would ever score them again: the churner
the model is for would keep the score of their last visit. So the user's state carries ``quiet_due``,
their last activity plus the next silence threshold (``settings.risk.quiet_after_ms``: 3, 7 and 14
days by default), and the state table's due index holds it; the deadline timer appends a timer command
when it passes (the processor stays the only writer of user state). Folding that command, the
processor re-scores the user *at the command's time*, so recency counts, and when the score reaches
``settings.risk.reengage_from`` a ``gone_quiet`` signal goes through the same policy as any other
(consent, quiet hours, frequency cap, cooldown, and the per-signal-type holdout), with the
re-engagement entry of the catalog (push or message: the user is not in the app). Whether it
helped is measured like every intervention: a ``gone_quiet`` episode is resolved when the user is
active again within ``policy.reengagement_resolution_window_ms``, treated against held out."""

from __future__ import annotations

from dataclasses import replace

from journey.detection.signals import Severity, SignalType, StruggleSignal
from journey.events.model import UserEvent
from journey.interventions.catalog import CatalogEntry
from journey.interventions.outcomes import EpisodeOutcome, resolution_window
from journey.interventions.policy import Decision, decide, signal_outcome
from journey.risk.model import ExitRiskModel
from journey.risk.scoring import score_into
from journey.settings import Settings
from journey.users.state import UserState

QUIET_FEATURE = "(app)"  # what a gone_quiet signal is about: the whole app (its episode's key)
DAY_MS = 86_400_000
QUIET_HOURS_RETRY_MS = 2 * 3_600_000  # a re-engagement held back by the user's quiet hours is tried again this much later
SEVERE_FROM = 80  # a re-scored risk from here makes a high-severity gone_quiet signal (else medium)


def next_quiet_check(last_active: int, after: int, thresholds: tuple[int, ...]) -> int:
    """The first silence threshold (``last_active`` + t) later than ``after``; 0 when none is left."""
    if not last_active:
        return 0
    for threshold in thresholds:
        due = last_active + threshold
        if due > after:
            return due
    return 0


def schedule_after_activity(state: UserState, settings: Settings) -> None:
    """The user was active: their silence is counted again from their newest event."""
    state.quiet_due = next_quiet_check(state.last_event_at, state.last_event_at, settings.risk.quiet_after_ms)


class SilenceCheck:
    """What one timer command found about a user's silence (``check_silence``)."""

    __slots__ = ("decision", "rescored_at", "signal")

    def __init__(self, rescored_at: int, signal: StruggleSignal | None, decision: Decision | None) -> None:
        self.rescored_at = rescored_at
        self.signal = signal
        self.decision = decision


def check_silence(
    state: UserState,
    timer: UserEvent,
    arrived_at: int,
    settings: Settings,
    catalog: tuple[CatalogEntry, ...],
    model: ExitRiskModel | None,
) -> SilenceCheck | None:
    """Fold a timer command into the user's silence: None when the command is not (or no longer) about
    it (the user was active since, or the command is for an open flow's deadline only)."""
    due = state.quiet_due
    now = timer.timestamp
    if not due or now < due or state.last_event_at >= due:
        return None
    risk = score_into(state, now, settings.risk, model)
    state.quiet_due = next_quiet_check(state.last_event_at, now, settings.risk.quiet_after_ms)
    if risk.score < settings.risk.reengage_from:
        return SilenceCheck(now, None, None)
    silent_ms = now - state.last_event_at
    signal = StruggleSignal(
        userId=state.userId,
        featureId=QUIET_FEATURE,
        signalType=SignalType.GONE_QUIET,
        severity=Severity.HIGH if risk.score >= SEVERE_FROM else Severity.MEDIUM,
        detectedAt=now,
        triggerEventId=timer.eventId,
        rule=f"silent_{silent_ms // DAY_MS}d",
        context={"exitRisk": risk.score, "silentMs": silent_ms, "scoredBy": state.risk_model or "points"},
    )
    decision = decide(signal, state, settings.policy, catalog, now=now, arrived_at=arrived_at)
    if decision is not None and "quiet_hours" in decision.reason.split(","):  # a channel waits for the morning: try again
        state.quiet_due = min(state.quiet_due or now + QUIET_HOURS_RETRY_MS, now + QUIET_HOURS_RETRY_MS)
    return SilenceCheck(now, replace(signal, outcome=signal_outcome(signal, decision, catalog)), decision)


def resolve_on_return(state: UserState, event: UserEvent, settings: Settings) -> EpisodeOutcome | None:
    """The user is active again: an open re-engagement episode is resolved if it is still in its window
    (sent or held out alike: that is how the holdout measures whether re-engaging helped)."""
    episode = state.open_episodes.get(QUIET_FEATURE)
    if episode is None or episode[1] != SignalType.GONE_QUIET.value:
        return None
    del state.open_episodes[QUIET_FEATURE]
    signal_id, signal_type, decided_at, intervention_id, held_out = episode
    if event.timestamp - decided_at > resolution_window(signal_type, settings.policy):
        return None
    return EpisodeOutcome(
        userId=state.userId,
        interventionId=intervention_id,
        signalId=signal_id,
        signalType=signal_type,
        featureId=QUIET_FEATURE,
        heldOut=bool(held_out),
        resolvedAt=event.timestamp,
        resolutionMs=max(0, event.timestamp - decided_at),
    )
