"""The stored form of a :class:`~journey.users.state.UserState`: one JSON array, positional.

``[STATE_FORMAT, <every field but userId, in declaration order>]``: about a sixth smaller than an
object with field names (the item is billed per KB on every write), and written and read without a
Python loop over fields. Position is meaning, so fields are only ever added at the end of
``UserState``: an older item (a shorter array) reads with defaults for the fields it lacks, a newer
one's extra fields are ignored. ``tests/fixtures/user_state_item_format1.json`` pins the layout.
The keyed form the first release wrote (short field names) still reads.
"""

from __future__ import annotations

from dataclasses import fields
from operator import attrgetter

import orjson

from journey.users.state import UserState

STATE_FORMAT = 1  # the first element of a stored state

# The stored order: every field of UserState but userId, in declaration order.
STATE_LAYOUT: tuple[str, ...] = tuple(f.name for f in fields(UserState) if f.name != "userId")

# The keyed form of the first release named fields by these short keys.
LEGACY_KEYS: dict[str, str] = {
    "seq": "applied_sequence",
    "ids": "recent_event_ids",
    "tz": "timezone",
    "consent": "consent",
    "push": "push_endpoint",
    "seg": "segment",
    "first": "first_event_at",
    "last": "last_event_at",
    "sid": "session",
    "sess": "session_starts",
    "gap": "days_between_sessions",
    "struggles": "struggle_times",
    "support": "support_contact_times",
    "flows_started": "flows_started",
    "flows_done": "flows_done",
    "video": "video_completion",
    "videos": "videos_watched",
    "progress": "progress",
    "taps": "taps",
    "errors": "errors",
    "screens": "screens",
    "flows": "open_flows",
    "fired": "last_fired",
    "feature": "current_feature",
    "sends": "send_times",
    "cooldown": "feature_cooldowns",
    "episodes": "open_episodes",
    "risk": "risk_score",
    "band": "risk_band",
    "contributors": "risk_contributors",
}

_read_fields = attrgetter(*STATE_LAYOUT)


def encode_state(state: UserState) -> str:
    """The stored text of a state."""
    return orjson.dumps((STATE_FORMAT, *_read_fields(state))).decode()


def decode_state(user_id: str, text: str | None) -> UserState:
    """A state from its stored text; a fresh state when there is none. A text in no known format is
    an error, never silently a fresh start (that would forget what the user has been sent)."""
    if not text:
        return UserState(userId=user_id)
    data = orjson.loads(text)
    if type(data) is list and data and data[0] == STATE_FORMAT:
        return UserState(user_id, *data[1 : 1 + len(STATE_LAYOUT)])
    if type(data) is not dict:
        raise ValueError(f"user state of {user_id!r} is in no known format (starts {text[:40]!r})")
    state = UserState(userId=user_id)
    for key, value in data.items():
        name = LEGACY_KEYS.get(key)
        if name is not None:
            setattr(state, name, value)
    return state
