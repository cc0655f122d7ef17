"""The Interventions table: every decision (with provenance and its ledger state) and every outcome,
keyed by ``interventionId`` within the user; outcomes are keyed ``outcome#<interventionId>``."""

from __future__ import annotations

from typing import Any

from journey.adapters.aws.codecs.attributes import n, plain, s
from journey.interventions.ledger import Delivery
from journey.interventions.outcomes import EpisodeOutcome
from journey.interventions.policy import Decision

OUTCOME_PREFIX = "outcome#"


def decision_item(decision: Decision, expires_at: int, delivery: Delivery | None = None, error: str = "") -> dict[str, Any]:
    record = decision.as_record()
    item: dict[str, Any] = {k: s(v) for k, v in record.items() if isinstance(v, str) and v}
    item["heldOut"] = {"BOOL": record["heldOut"]}
    item["decidedAt"] = n(decision.decidedAt)
    item["ttl"] = n(expires_at)
    if delivery is not None:
        item["delivery"] = s(delivery.value)
    if error:
        item["deliveryError"] = s(error[:1000])
    return item


def outcome_item(outcome: EpisodeOutcome, expires_at: int) -> dict[str, Any]:
    return {
        "userId": s(outcome.userId),
        "interventionId": s(f"{OUTCOME_PREFIX}{outcome.interventionId}"),
        "signalId": s(outcome.signalId),
        "signalType": s(outcome.signalType),
        "featureId": s(outcome.featureId),
        "heldOut": {"BOOL": outcome.heldOut},
        "resolved": {"BOOL": True},
        "resolvedAt": n(outcome.resolvedAt),
        "resolutionMs": n(outcome.resolutionMs),
        "ttl": n(expires_at),
    }


def is_outcome(item: dict[str, Any]) -> bool:
    return str(item["interventionId"]["S"]).startswith(OUTCOME_PREFIX)


def outcome_of(record: dict[str, Any]) -> str:
    """The interventionId an outcome record resolves."""
    return str(record["interventionId"]).removeprefix(OUTCOME_PREFIX)


def delivery_of(item: dict[str, Any]) -> Delivery | None:
    """A decision's ledger state, when it has one."""
    value = item.get("delivery")
    return Delivery(value["S"]) if value else None


def intervention_record(item: dict[str, Any]) -> dict[str, Any]:
    """A stored decision or outcome as plain values (``ttl`` left out)."""
    record = plain(item)
    record.pop("ttl", None)
    return record
