"""A user's rolling state: the small, hot item read and written once per user per batch.

DynamoDB bills a whole item on every write (1 write unit per KB), so the state is kept compact:
bounded windows, short keys, serialized as one JSON attribute. docs/data-model.md explains each
field and its bound.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from functools import lru_cache
from operator import attrgetter
from typing import Any

import orjson

DAY_MS = 86_400_000
RECENT_IDS = 24
STATE_FORMAT = 1  # the first element of a stored state (see UserState.to_json)


def fingerprint(event_id: str) -> str:
    """An 8-hex-digit fingerprint of an event id: among a user's last few ids a collision is ~1 in 10^8."""
    return _blake2b(event_id.encode(), digest_size=4).hexdigest()


_blake2b = hashlib.blake2b
# The same fingerprint, cached, for ids that repeat (a session id recurs on each of its events;
# event ids are unique, so caching them would only cost).
short_id = lru_cache(maxsize=4096)(fingerprint)


@dataclass(slots=True)
class UserState:
    userId: str
    seq: str = ""  # highest Kinesis sequence number applied (exactly-once under redelivery)
    ids: list[str] = field(default_factory=list)  # fingerprints of the last RECENT_IDS event ids
    tz: str = ""
    consent: list[bool] = field(default_factory=lambda: [True, False, False])  # inApp, push, messages
    push: str = ""  # push endpoint (SNS platform endpoint ARN or device token)
    seg: str = "new_user"
    first: int = 0
    last: int = 0
    sid: str = ""  # current session fingerprint
    sess: list[int] = field(default_factory=list)  # session starts, last 14 days (the trend window)
    gap: float = 0.0  # days between the last two sessions (days since last login at the latest start)
    struggles: list[int] = field(default_factory=list)  # struggle signal times, last 7 days
    support: list[int] = field(default_factory=list)  # support contacts, last 30 days
    flows_started: int = 0
    flows_done: int = 0
    video: float = -1.0  # running mean video completion (-1: no video yet)
    videos: int = 0
    progress: float = 0.0
    taps: list[list[Any]] = field(default_factory=list)  # [t, x, y, target]
    errors: list[list[Any]] = field(default_factory=list)  # [t, feature]
    screens: list[list[Any]] = field(default_factory=list)  # [t, screen]
    flows: dict[str, int] = field(default_factory=dict)  # open flows: feature -> start
    fired: dict[str, list[int]] = field(default_factory=dict)  # "feature|type" -> [last signal time, severity rank]
    feature: str = ""  # the feature the user was last in
    sends: list[int] = field(default_factory=list)  # intervention send times (cap window)
    cooldown: dict[str, int] = field(default_factory=dict)  # feature -> last decision time
    episodes: dict[str, list[Any]] = field(default_factory=dict)  # feature -> [signalId, type, t, iid, heldOut]
    risk: int = 0
    band: str = "LOW"
    contributors: list[list[Any]] = field(default_factory=list)

    # --- serialization -------------------------------------------------------------------
    def to_json(self) -> str:
        """The stored form: ``[STATE_FORMAT, <every field but userId, in declaration order>]``.

        Positional, not keyed: about a sixth smaller than an object with field names (the item
        is billed per KB on every write) and is written and read without a Python loop. Fields are
        only ever added at the end, so an older item (shorter array) reads with defaults for the
        rest, and a newer one's extra fields are ignored."""
        return orjson.dumps((STATE_FORMAT, *_read_fields(self))).decode()

    @classmethod
    def from_json(cls, user_id: str, text: str | None) -> UserState:
        if not text:
            return cls(userId=user_id)
        data = orjson.loads(text)
        if type(data) is list and data and data[0] == STATE_FORMAT:
            return cls(user_id, *data[1 : 1 + len(_FIELD_ORDER)])
        if type(data) is not dict:
            raise ValueError(f"user state of {user_id!r} is in no known format (starts {text[:40]!r})")
        state = cls(userId=user_id)  # the keyed form, as the first release wrote it
        for name, value in data.items():
            if name in _FIELD_NAMES:
                setattr(state, name, value)
        return state

    # --- exactly-once helpers -------------------------------------------------------------
    def applied_up_to(self) -> int:
        """The highest sequence number applied, as a number (-1 before any)."""
        return int(self.seq) if self.seq else -1

    def already_applied(self, sequence_number: str) -> bool:
        return int(sequence_number) <= self.applied_up_to()

    def seen(self, fingerprint: str) -> bool:
        """``fingerprint``: :func:`short_id` of the event id."""
        return fingerprint in self.ids

    def remember_id(self, fingerprint: str) -> bool:
        """Add an event's fingerprint to the window of recent ids; False if it is there already (a
        duplicate, which does not push an older id out of the window)."""
        ids = self.ids
        if fingerprint in ids:
            return False
        ids.append(fingerprint)
        if len(ids) > RECENT_IDS:
            del ids[: len(ids) - RECENT_IDS]
        return True

    def applied(self, sequence_number: str) -> None:
        """Records that everything up to ``sequence_number`` has been applied."""
        if not self.seq or int(sequence_number) > int(self.seq):
            self.seq = sequence_number

    def remember(self, fingerprint: str, sequence_number: str) -> None:
        self.remember_id(fingerprint)
        self.applied(sequence_number)

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
        if self.sess:
            self.sess = [t for t in self.sess if now - t <= 14 * DAY_MS][-20:]
        if self.struggles:
            self.struggles = [t for t in self.struggles if now - t <= 7 * DAY_MS][-10:]
        if self.support:
            self.support = [t for t in self.support if now - t <= 30 * DAY_MS][-6:]
        if self.sends:
            self.sends = [t for t in self.sends if now - t <= cap_window_ms]
        if self.cooldown:
            self.cooldown = {k: t for k, t in self.cooldown.items() if now - t <= cooldown_ms}
        if self.fired:
            self.fired = {k: f for k, f in self.fired.items() if now - f[0] <= window_ms}
        if self.taps:
            self.taps = [tap for tap in self.taps if now - tap[0] <= window_ms]
        if self.errors:
            self.errors = [e for e in self.errors if now - e[0] <= window_ms]
        if self.screens:
            self.screens = [v for v in self.screens if now - v[0] <= window_ms]
        if self.episodes:
            recent = sorted(self.episodes.items(), key=lambda item: item[1][2])[-4:]
            self.episodes = {k: e for k, e in recent if now - e[2] <= episode_window(e[1])}


_DEFAULTS = {f.name: (f.default_factory() if callable(f.default_factory) else f.default) for f in fields(UserState)}
_FIELD_ORDER = tuple(name for name in _DEFAULTS if name != "userId")
_FIELD_NAMES = frozenset(_FIELD_ORDER)
_read_fields = attrgetter(*_FIELD_ORDER)
