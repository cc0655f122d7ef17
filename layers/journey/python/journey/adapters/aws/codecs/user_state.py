"""The UserState table: one item per user, the state stored positionally in ``st`` beside the few
attributes people and indexes read (risk score and band, last activity, and while something is due
the deadline timer's index keys ``dueAt`` and ``dueShard``)."""

from __future__ import annotations

import hashlib
from functools import lru_cache
from typing import Any

from journey.adapters.aws.codecs.attributes import plain
from journey.resources import DUE_INDEX
from journey.users.codec import decode_state, encode_state
from journey.users.state import UserState

STATE_ATTRIBUTE = "st"
_INDEX_ATTRIBUTES = (DUE_INDEX.partition_key, DUE_INDEX.sort_key)


@lru_cache(maxsize=8192)  # every state written while something is due (a silence check nearly always is)
def due_shard(user_id: str) -> str:
    """The user's ``dueShard``: a stable hash of the id (the same in every process and release, unlike
    ``hash()``) modulo the index's shard count."""
    digest = hashlib.blake2b(user_id.encode(), digest_size=8).digest()
    return f"{DUE_INDEX.shard_prefix}{int.from_bytes(digest, 'big') % DUE_INDEX.shards}"


def state_item(state: UserState, expires_at: int) -> dict[str, Any]:
    """``expires_at``: the ``ttl`` attribute, epoch seconds (the store computes it from processing
    time: an event's own time may be years old or in the future)."""
    last = state.last_event_at
    item = {
        "userId": {"S": state.userId},
        STATE_ATTRIBUTE: {"S": encode_state(state)},
        "exitRiskScore": {"N": str(state.risk_score)},
        "riskBand": {"S": state.risk_band},
        "lastActiveAt": {"N": str(last)},
        "ttl": {"N": str(expires_at)},
    }
    if state.risk_model:  # a trained model's version scored it (absent: the points model)
        item["riskModel"] = {"S": state.risk_model}
    if state.erased_at:  # a tombstone does not expire: the user's events are refused until consent is given again
        del item["ttl"]
        item["erasedAt"] = {"N": str(state.erased_at)}
    due = state.due_at()
    if due > 0:  # sparse: a user with nothing due is not in the deadline timer's index
        item[DUE_INDEX.partition_key] = {"S": due_shard(state.userId)}
        item[DUE_INDEX.sort_key] = {"N": str(due)}
    return item


def state_from_item(item: dict[str, Any]) -> UserState:
    user_id = item["userId"]["S"]
    return decode_state(user_id, item.get(STATE_ATTRIBUTE, {}).get("S"))


def risk_summary(item: dict[str, Any]) -> dict[str, Any]:
    """The attributes beside the state: userId, exitRiskScore, riskBand, lastActiveAt."""
    return {k: v for k, v in plain(item).items() if k not in (STATE_ATTRIBUTE, "ttl", *_INDEX_ATTRIBUTES)}
