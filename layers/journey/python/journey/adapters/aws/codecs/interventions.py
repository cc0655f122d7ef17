"""The Interventions table: every decision (with provenance and its ledger state), every outcome and
every report an app made, keyed within the user: decisions by ``interventionId``, outcomes (a later
success resolved the episode) ``outcome#<interventionId>``, reports ``report#<interventionId>#<outcome>``
(one item per reported outcome, so no report rewrites another). Items carry their ``tenant`` and
``tenantDay`` (the tenant's day index, read by the analytics)."""

from __future__ import annotations

from typing import Any

from journey.adapters.aws.codecs.attributes import n, plain, s
from journey.agent.escalation import EscalationRecord
from journey.interventions.ledger import Delivery
from journey.interventions.outcomes import EpisodeOutcome, Report
from journey.interventions.policy import Decision
from journey.kernel.tenancy import tenant_day
from journey.resources import TENANT_DAY_ATTRIBUTE

OUTCOME_PREFIX = "outcome#"
REPORT_PREFIX = "report#"
ESCALATION_PREFIX = "escalation#"


def _tenancy(item: dict[str, Any], tenant: str, at_ms: int) -> dict[str, Any]:
    if tenant:
        item["tenant"] = s(tenant)
        item[TENANT_DAY_ATTRIBUTE] = s(tenant_day(tenant, at_ms))
    return item


def decision_item(
    decision: Decision, expires_at: int, delivery: Delivery | None = None, error: str = "", tenant: str = ""
) -> dict[str, Any]:
    record = decision.as_record()
    item: dict[str, Any] = {k: s(v) for k, v in record.items() if isinstance(v, str) and v}
    item["heldOut"] = {"BOOL": record["heldOut"]}
    item["decidedAt"] = n(decision.decidedAt)
    item["ttl"] = n(expires_at)
    if delivery is not None:
        item["delivery"] = s(delivery.value)
    if error:
        item["deliveryError"] = s(error[:1000])
    return _tenancy(item, tenant, decision.decidedAt)


def outcome_item(outcome: EpisodeOutcome, expires_at: int, tenant: str = "") -> dict[str, Any]:
    item = {
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
    return _tenancy(item, tenant, outcome.resolvedAt - outcome.resolutionMs)  # the day of its decision


def report_key(intervention_id: str, outcome: str) -> str:
    return f"{REPORT_PREFIX}{intervention_id}#{outcome}"


def report_item(report: Report, expires_at: int, tenant: str = "") -> dict[str, Any]:
    item = {
        "userId": s(report.userId),
        "interventionId": s(report_key(report.interventionId, report.outcome)),
        "reportOf": s(report.interventionId),
        "outcome": s(report.outcome),
        "reportedAt": n(report.reportedAt),
        "requestId": s(report.requestId),
        "ttl": n(expires_at),
    }
    return _tenancy(item, tenant, report.reportedAt)


def is_report(item: dict[str, Any]) -> bool:
    return str(item["interventionId"]["S"]).startswith(REPORT_PREFIX)


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


def escalation_item(record: EscalationRecord, expires_at: int, tenant: str = "") -> dict[str, Any]:
    """An escalation's provenance (``escalation#<escalationId>``), rewritten by the processor when it closes."""
    item: dict[str, Any] = {
        k: (n(v) if isinstance(v, int) else s(v)) for k, v in record.as_record().items() if v != "" and k != "userId"
    }
    item["userId"] = s(record.userId)
    item["interventionId"] = s(f"{ESCALATION_PREFIX}{record.escalationId}")
    item["ttl"] = n(expires_at)
    return _tenancy(item, tenant, record.escalatedAt)


def is_escalation(item: dict[str, Any]) -> bool:
    return str(item["interventionId"]["S"]).startswith(ESCALATION_PREFIX)
