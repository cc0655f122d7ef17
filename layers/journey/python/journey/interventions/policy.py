"""Intervention policy: which help, on which channel, or none, and why.

Order of checks (each one recorded as the reason when it stops a send): catalog match, minimum
severity, per-feature cooldown, the one frequency cap across all channels (in-app included),
consent and quiet hours per channel, then the deterministic holdout. Held-out users pass every
check the treated ones pass, so the two groups are comparable; they never receive a send.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from enum import Enum
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from journey.detection.signals import Severity, SignalType, StruggleSignal
from journey.interventions.catalog import CatalogEntry, Channel
from journey.settings import PolicySettings
from journey.users.state import COOLDOWNS_CAP, OPEN_EPISODES_CAP, UserState, evict_oldest

IN_APP_ACTIVE_MS = 300_000


class Outcome(str, Enum):
    SEND = "sent"
    HELD_OUT = "held_out"
    SUPPRESSED = "suppressed"
    STALE = "stale"  # the event was already old when it reached the stream: recorded, never sent
    ESCALATED = "escalated"  # a hard case held for the agent (journey.agent.escalation); the agent or the rules send later


@dataclass(frozen=True, slots=True)
class Decision:
    interventionId: str
    userId: str
    signalId: str
    signalType: SignalType
    featureId: str
    severity: Severity
    interventionType: str
    outcome: Outcome
    channel: Channel | None
    reason: str
    decidedBy: str
    decidedAt: int
    message: str
    triggerEventId: str

    def as_record(self) -> dict[str, str | int | bool | None]:
        return {
            "userId": self.userId,
            "interventionId": self.interventionId,
            "signalId": self.signalId,
            "signalType": self.signalType.value,
            "featureId": self.featureId,
            "severity": self.severity.value,
            "interventionType": self.interventionType,
            "channel": self.channel.value if self.channel else None,
            "heldOut": self.outcome is Outcome.HELD_OUT,
            "status": self.outcome.value,
            "reason": self.reason,
            "decidedBy": self.decidedBy,
            "decidedAt": self.decidedAt,
            "message": self.message,
            "triggerEventId": self.triggerEventId,
        }


def signal_outcome(signal: StruggleSignal, decision: Decision | None, catalog: tuple[CatalogEntry, ...]) -> str:
    """What became of a signal, in one word (or ``suppressed:<reason>``), recorded with it."""
    if decision is None:
        return "below_action_threshold" if any(e.matches(signal) for e in catalog) else "no_intervention"
    if decision.outcome is Outcome.SUPPRESSED:
        return f"suppressed:{decision.reason}"
    return str(decision.outcome.value)


def in_holdout(user_id: str, signal_type: SignalType, percent: float, salt: str) -> bool:
    """Deterministic control-group membership per signal type: same user, same answer, every time."""
    digest = hashlib.blake2b(f"{salt}|{signal_type.value}|{user_id}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") % 10_000 < round(percent * 100)


@lru_cache(maxsize=512)
def _zone(name: str) -> timezone | ZoneInfo:
    if name.startswith("UTC") and len(name) == 9 and name[3] in "+-":
        sign = 1 if name[3] == "+" else -1
        try:
            return timezone(sign * timedelta(hours=int(name[4:6]), minutes=int(name[7:9])))
        except ValueError:
            return UTC
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return UTC


def local_hour(epoch_ms: int, tz_name: str) -> int:
    return datetime.fromtimestamp(epoch_ms / 1000, tz=_zone(tz_name) if tz_name else UTC).hour


def in_quiet_hours(epoch_ms: int, tz_name: str, cfg: PolicySettings) -> bool:
    hour = local_hour(epoch_ms, tz_name)
    start, end = cfg.quiet_hours_start, cfg.quiet_hours_end
    if start == end:
        return False
    return (hour >= start or hour < end) if start > end else (start <= hour < end)


def channel_blocker(channel: Channel, state: UserState, now: int, cfg: PolicySettings) -> str | None:
    """Why ``channel`` cannot reach this user now, or None when it can."""
    in_app, push, messages = state.consent
    if channel is Channel.IN_APP:
        if not in_app:
            return "no_in_app_consent"
        return None if now - state.last_event_at <= IN_APP_ACTIVE_MS else "not_in_app"
    if channel is Channel.PUSH:
        if not push:
            return "no_push_consent"
        if not state.push_endpoint:
            return "no_push_endpoint"
    elif not messages:
        return "no_message_consent"
    return "quiet_hours" if in_quiet_hours(now, state.timezone, cfg) else None


def intervention_id(signal: StruggleSignal, entry: CatalogEntry) -> str:
    return decision_id(signal.signalId, entry.interventionType)


def decision_id(basis: str, intervention_type: str) -> str:
    """A decision's id: the same (signal, or escalation, and intervention type) always gives the same id."""
    return "i-" + hashlib.blake2b(f"{basis}|{intervention_type}".encode(), digest_size=10).hexdigest()


def decide(
    signal: StruggleSignal,
    state: UserState,
    cfg: PolicySettings,
    catalog: tuple[CatalogEntry, ...],
    now: int,
    arrived_at: int = 0,
) -> Decision | None:
    """Decide what to do about one signal and update the state's cap, cooldown and episodes.

    ``now`` is the event's time, ``arrived_at`` when its record reached the stream (epoch ms, 0 when
    unknown). Whether to act is judged on arrival: a signal from an event more than
    ``max_event_age_ms`` older than its arrival (history replayed, a client's offline backlog) is
    decided ``stale`` and changes nothing: the user has moved on.

    Returns None when the catalog has nothing for the signal or it is below the minimum severity.
    """
    entry = next((e for e in catalog if e.matches(signal)), None)
    if entry is None or signal.severity.rank < Severity(cfg.min_severity).rank:
        return None

    def decision(outcome: Outcome, channel: Channel | None, reason: str) -> Decision:
        return Decision(
            interventionId=intervention_id(signal, entry),
            userId=signal.userId,
            signalId=signal.signalId,
            signalType=signal.signalType,
            featureId=signal.featureId,
            severity=signal.severity,
            interventionType=entry.interventionType,
            outcome=outcome,
            channel=channel,
            reason=reason,
            decidedBy=f"rule:{entry.interventionType}",
            decidedAt=now,
            message=entry.message.format(feature=signal.featureId),
            triggerEventId=signal.triggerEventId,
        )

    if arrived_at and arrived_at - now > cfg.max_event_age_ms:
        return decision(Outcome.STALE, None, f"stale: the event was {(arrived_at - now) // 60_000:,} min old when it arrived")
    last = state.feature_cooldowns.get(signal.featureId)
    if last is not None and now - last < cfg.feature_cooldown_ms:
        return decision(Outcome.SUPPRESSED, None, "feature_cooldown")
    if len([t for t in state.send_times if now - t < cfg.frequency_window_ms]) >= cfg.frequency_cap:
        return decision(Outcome.SUPPRESSED, None, "frequency_cap")
    blockers = []
    channel = None
    for candidate in entry.channels:
        blocker = channel_blocker(candidate, state, now, cfg)
        if blocker is None:
            channel = candidate
            break
        blockers.append(blocker)
    if channel is None:
        return decision(Outcome.SUPPRESSED, None, ",".join(dict.fromkeys(blockers)) or "no_channel")

    state.feature_cooldowns[signal.featureId] = now
    if len(state.feature_cooldowns) > COOLDOWNS_CAP:
        evict_oldest(state.feature_cooldowns, lambda at: at)
    # a held-out decision counts toward the cap as the send it stands for: both arms then see the same
    # policy (else held-out users, never capped, would keep producing decisions and bias the uplift)
    state.send_times.append(now)
    if in_holdout(signal.userId, signal.signalType, cfg.holdout_percent, cfg.holdout_salt):
        made = decision(Outcome.HELD_OUT, channel, "holdout")
    else:
        made = decision(Outcome.SEND, channel, "policy_passed")
    displaced = state.open_episodes.get(signal.featureId)
    if displaced is not None and not displaced[4]:  # a send on this feature that did not help: a failed intervention
        state.failed_sends.append(now)
    state.open_episodes[signal.featureId] = [
        signal.signalId,
        signal.signalType.value,
        now,
        made.interventionId,
        int(made.outcome is Outcome.HELD_OUT),
    ]
    if len(state.open_episodes) > OPEN_EPISODES_CAP:
        evict_oldest(state.open_episodes, lambda episode: episode[2])
    return made


def request_verdict(
    entry: CatalogEntry,
    signal_type: SignalType,
    feature_id: str,
    state: UserState,
    cfg: PolicySettings,
    now: int,
    reserved: bool,
    channel: Channel | None = None,
) -> tuple[Outcome, Channel | None, str]:
    """What the policy says of an intervention someone asked for (the agent's ``schedule``): SEND on a
    channel, HELD_OUT, or SUPPRESSED with the reason. The same checks as :func:`decide`, in the same
    order; pure (the caller records the send). ``reserved``: the request answers an escalation that
    already holds a place under the frequency cap and the feature's cooldown (the rules' decision it
    replaces), so those two are not counted again. ``channel``: the channel asked for, which must be
    one of the entry's (else the entry's channels in order)."""
    if channel is not None and channel not in entry.channels:
        return Outcome.SUPPRESSED, None, f"channel_not_in_catalog: {entry.interventionType} goes by {_names(entry.channels)}"
    if not reserved:
        last = state.feature_cooldowns.get(feature_id)
        if last is not None and now - last < cfg.feature_cooldown_ms:
            return Outcome.SUPPRESSED, None, "feature_cooldown"
        if len([t for t in state.send_times if now - t < cfg.frequency_window_ms]) >= cfg.frequency_cap:
            return Outcome.SUPPRESSED, None, "frequency_cap"
    blockers = []
    for candidate in (channel,) if channel is not None else entry.channels:
        blocker = channel_blocker(candidate, state, now, cfg)
        if blocker is None:
            if in_holdout(state.userId, signal_type, cfg.holdout_percent, cfg.holdout_salt):
                return Outcome.HELD_OUT, candidate, "holdout"
            return Outcome.SEND, candidate, "policy_passed"
        blockers.append(blocker)
    return Outcome.SUPPRESSED, None, ",".join(dict.fromkeys(blockers)) or "no_channel"


def _names(channels: tuple[Channel, ...]) -> str:
    return ", ".join(c.value for c in channels)
