"""A user's rolling state: the small, hot item read and written once per user per batch.

DynamoDB bills a whole item on every write (1 write unit per KB), so the state is kept compact:
bounded windows and lists, stored positionally by :mod:`journey.users.codec`. docs/data-model.md
explains each field and its bound. Fields may only ever be added at the end (see the codec).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from journey.events.records import Accepted
from journey.kernel.clock import DAY_MS
from journey.kernel.ids import fingerprint

RECENT_IDS = 24
# Caps on the per-feature collections (each key is a feature name bounded to 128 bytes, see
# journey.kernel.ids.bounded_key), applied as entries are added, so the same events give the same
# state however a retry cuts the batches. Past the cap the entry with the oldest time goes:
LAST_FIRED_CAP = 32  # a struggle signal on an evicted feature may be reported again sooner
COOLDOWNS_CAP = 32  # a send on an evicted feature's cooldown is still bounded by the frequency cap
OPEN_FLOWS_CAP = 8  # an evicted open flow is no longer watched for abandonment (the first started goes)
OPEN_EPISODES_CAP = 4  # an evicted episode's outcome is no longer measured
ESCALATIONS_CAP = 4  # open escalations; past it the oldest is closed by its fallback at once
VIDEOS_CAP = 8  # videos a user's engagement is kept for (the least recently watched goes)
SHARD_CHECKPOINTS_CAP = 16  # shards a user's records came from (resharding retires old ones; the least recently advanced goes)


def evict_oldest(entries: dict[str, Any], time_of: Callable[[Any], int]) -> None:
    """Drop the entry with the oldest time (ties: the first inserted)."""
    oldest = min(entries, key=lambda key: time_of(entries[key]))
    del entries[oldest]


class Admission(NamedTuple):
    """A user's records split by the exactly-once rule (:meth:`UserState.admit`)."""

    fresh: list[Accepted]  # to apply, in stream order
    redelivered: int  # at or below the sequence number already applied
    duplicates: int  # an event id among the user's recent ones (a producer retry)


@dataclass(slots=True)
class UserState:
    userId: str
    applied_sequence: str = ""  # before per-shard checkpoints: the one checkpoint (read once, then moved to shard_checkpoints)
    recent_event_ids: list[str] = field(default_factory=list)  # fingerprints of the last RECENT_IDS event ids
    timezone: str = ""
    consent: list[bool] = field(default_factory=lambda: [True, False, False])  # inApp, push, messages
    push_endpoint: str = ""  # SNS platform endpoint ARN or device token
    segment: str = "new_user"
    first_event_at: int = 0
    last_event_at: int = 0  # the newest event time seen
    session: str = ""  # fingerprint of the current session id
    session_starts: list[int] = field(default_factory=list)  # last 14 days (the trend window)
    days_between_sessions: float = 0.0  # between the last two sessions (days since last login at the latest start)
    struggle_times: list[int] = field(default_factory=list)  # struggle signal times, last 7 days
    support_contact_times: list[int] = field(default_factory=list)  # last 30 days
    flows_started: int = 0
    flows_done: int = 0
    video_completion: float = -1.0  # running mean video completion (-1: no video yet)
    videos_watched: int = 0
    progress: float = 0.0
    taps: list[list[Any]] = field(default_factory=list)  # [t, x, y, target]
    errors: list[list[Any]] = field(default_factory=list)  # [t, feature, errorType]
    screens: list[list[Any]] = field(default_factory=list)  # [t, screen]
    open_flows: dict[str, int] = field(default_factory=dict)  # feature -> start
    last_fired: dict[str, list[int]] = field(default_factory=dict)  # "feature|type" -> [last signal time, severity rank]
    current_feature: str = ""  # the feature the user was last in
    send_times: list[int] = field(default_factory=list)  # intervention send times (cap window)
    feature_cooldowns: dict[str, int] = field(default_factory=dict)  # feature -> last decision time
    open_episodes: dict[str, list[Any]] = field(default_factory=dict)  # feature -> [signalId, type, t, iid, heldOut]
    risk_score: int = 0
    risk_band: str = "LOW"
    risk_contributors: list[list[Any]] = field(default_factory=list)  # [[feature name, points], ...]
    shard_checkpoints: dict[str, str] = field(default_factory=dict)  # shard id -> highest sequence number applied from it
    away_since: int = 0  # when the user left the app (background, session end, tab hidden); 0 while they are in it
    deadline: int = 0  # when something is due if nothing else happens (an abandonment to declare); 0: nothing due
    attempts: dict[str, list[int]] = field(
        default_factory=dict
    )  # feature -> [last submit time, failed attempts, time of the submit that last failed]
    tenant: str = ""  # the tenant (app) the user belongs to ("": the deployment's default tenant)
    erased_at: int = 0  # when the user was erased (a tombstone: their events are refused until consent is given again)
    escalations: dict[str, list[Any]] = field(
        default_factory=dict
    )  # escalation id -> journey.agent.escalation.PendingEscalation as a list (hard cases the agent is deciding)
    videos: dict[str, list[Any]] = field(
        default_factory=dict
    )  # videoId -> journey.video.engagement.VideoSummary as a list (the VIDEOS_CAP most recently watched)
    failed_sends: list[int] = field(
        default_factory=list
    )  # times of sends whose episode closed unresolved (a later send on the feature, or its window passed), last 7 days
    activity: list[Any] = field(
        default_factory=list
    )  # journey.risk.history: the bounded activity history the trained exit-risk model's features are computed from
    quiet_due: int = (
        0  # when the user's silence is next re-scored (last activity + a threshold of settings.risk.quiet_after_ms); 0: never
    )
    risk_model: str = ""  # what scored risk_score: a trained model's version, or "" for the points model
    risk_scored_at: int = (
        0  # the time (epoch ms) risk_score was scored at: a trained model's contributors are computed from it on read
    )

    def due_at(self) -> int:
        """When the deadline timer must wake the user (epoch ms, arrival clock; 0: never): open flows
        to declare abandoned, an escalation whose answer is overdue (its 8th field, expiresAt), or a
        silence long enough to re-score the user's exit risk."""
        due = [t for t in (self.deadline, self.quiet_due, *(e[7] for e in self.escalations.values())) if t > 0]
        return min(due) if due else 0

    # --- exactly-once --------------------------------------------------------------------
    def checkpoint(self, shard: str) -> str:
        """The highest sequence number applied from ``shard`` ("" when none)."""
        return self.shard_checkpoints.get(shard) or (self.applied_sequence if not self.shard_checkpoints else "")

    def admit(self, records: list[Accepted], shard: str = "") -> Admission:
        """The exactly-once rule, the one place it is defined: of a user's records from one shard (in
        stream order), those at or below the highest sequence number already applied from that shard
        are redeliveries, and those whose event id is among the user's recent ones are producer
        duplicates; the rest are fresh. Every fresh record's id joins the recent ones, and the shard's
        checkpoint moves to the highest sequence number seen (a duplicate's included: it has been
        dealt with).

        Sequence numbers are ordered only within a shard, so each shard has its own checkpoint: a
        user whose records come from two partition keys (a per-device key, a key with stray spaces)
        may be on two shards, and one shard's numbers say nothing about the other's."""
        fresh: list[Accepted] = []
        redelivered = duplicates = 0
        applied = self.checkpoint(shard)
        applied_up_to = newest = int(applied) if applied else -1  # converted once per user
        newest_sequence = ""
        remember = self._remember
        for record in records:
            sequence = int(record.sequence)
            if sequence <= applied_up_to:
                redelivered += 1
                continue
            if remember(fingerprint(record.event.eventId)):
                fresh.append(record)
            else:
                duplicates += 1
            if sequence > newest:
                newest, newest_sequence = sequence, record.sequence
        if newest_sequence:
            checkpoints = self.shard_checkpoints
            if not checkpoints and self.applied_sequence:
                self.applied_sequence = ""  # the single checkpoint of an older state was this shard's: now moved
            checkpoints.pop(shard, None)
            checkpoints[shard] = newest_sequence  # the most recently advanced last
            if len(checkpoints) > SHARD_CHECKPOINTS_CAP:
                del checkpoints[next(iter(checkpoints))]  # a shard long retired by resharding
        return Admission(fresh, redelivered, duplicates)

    def _remember(self, event_fingerprint: str) -> bool:
        """Add an event's fingerprint to the window of recent ids; False if it is there already (a
        duplicate, which does not push an older id out of the window)."""
        ids = self.recent_event_ids
        if event_fingerprint in ids:
            return False
        ids.append(event_fingerprint)
        if len(ids) > RECENT_IDS:
            del ids[: len(ids) - RECENT_IDS]
        return True

    # --- pruning keeps the item small ----------------------------------------------------
    def prune(
        self,
        now: int,
        cap_window_ms: int,
        cooldown_ms: int,
        episode_window: Callable[[str], int],
        window_ms: int = 120_000,
    ) -> None:
        """Drop what no rule can use any more (windows are short; lists are capped).

        Runs once per user per batch; most windows are empty or already current, so each is
        rebuilt only when it holds something."""
        if self.session_starts:
            self.session_starts = [t for t in self.session_starts if now - t <= 14 * DAY_MS][-20:]
        if self.struggle_times:
            self.struggle_times = [t for t in self.struggle_times if now - t <= 7 * DAY_MS][-10:]
        if self.support_contact_times:
            self.support_contact_times = [t for t in self.support_contact_times if now - t <= 30 * DAY_MS][-6:]
        if self.send_times:
            self.send_times = [t for t in self.send_times if now - t <= cap_window_ms]
        if self.feature_cooldowns:
            self.feature_cooldowns = {k: t for k, t in self.feature_cooldowns.items() if now - t <= cooldown_ms}
        if self.last_fired:
            self.last_fired = {k: f for k, f in self.last_fired.items() if now - f[0] <= window_ms}
        if self.taps:
            self.taps = [tap for tap in self.taps if now - tap[0] <= window_ms]
        if self.errors:
            self.errors = [e for e in self.errors if now - e[0] <= window_ms]
        if self.screens:
            self.screens = [v for v in self.screens if now - v[0] <= window_ms]
        if self.open_episodes:
            recent = sorted(self.open_episodes.items(), key=lambda item: item[1][2])[-4:]
            kept = {k: e for k, e in recent if now - e[2] <= episode_window(e[1])}
            if len(kept) < len(self.open_episodes):  # a send whose window passed unresolved did not help
                self.failed_sends.extend(e[2] for k, e in self.open_episodes.items() if k not in kept and not e[4])
            self.open_episodes = kept
        if self.failed_sends:
            self.failed_sends = [t for t in self.failed_sends if now - t <= 7 * DAY_MS][-10:]
