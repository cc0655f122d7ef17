"""The UserState table: one item per user, the state stored positionally in ``st`` beside the few
attributes people and indexes read (risk score and band, last activity)."""

from __future__ import annotations

from typing import Any

from journey.adapters.aws.codecs.attributes import plain
from journey.users.codec import decode_state, encode_state
from journey.users.state import UserState

STATE_ATTRIBUTE = "st"


def state_item(state: UserState, expires_at: int) -> dict[str, Any]:
    """``expires_at``: the ``ttl`` attribute, epoch seconds (the store computes it from processing
    time: an event's own time may be years old or in the future)."""
    last = state.last_event_at
    return {
        "userId": {"S": state.userId},
        STATE_ATTRIBUTE: {"S": encode_state(state)},
        "exitRiskScore": {"N": str(state.risk_score)},
        "riskBand": {"S": state.risk_band},
        "lastActiveAt": {"N": str(last)},
        "ttl": {"N": str(expires_at)},
    }


def state_from_item(item: dict[str, Any]) -> UserState:
    user_id = item["userId"]["S"]
    return decode_state(user_id, item.get(STATE_ATTRIBUTE, {}).get("S"))


def risk_summary(item: dict[str, Any]) -> dict[str, Any]:
    """The attributes beside the state: userId, exitRiskScore, riskBand, lastActiveAt."""
    return {k: v for k, v in plain(item).items() if k not in (STATE_ATTRIBUTE, "ttl")}
