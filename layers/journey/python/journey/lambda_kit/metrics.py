"""CloudWatch metrics for a batch, through Powertools Metrics (EMF: no API calls on the hot path)."""

from __future__ import annotations

from collections import Counter

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit

from journey.app.stream_batch import BatchResult
from journey.interventions.policy import Outcome


def publish_metrics(metrics: Metrics, result: BatchResult) -> None:
    metrics.add_metric(name="EventsIn", unit=MetricUnit.Count, value=result.received)
    metrics.add_metric(name="EventsApplied", unit=MetricUnit.Count, value=result.applied)
    metrics.add_metric(name="EventsRejected", unit=MetricUnit.Count, value=result.rejected_total)
    metrics.add_metric(name="DuplicatesDropped", unit=MetricUnit.Count, value=result.duplicates)
    metrics.add_metric(name="RedeliveredSkipped", unit=MetricUnit.Count, value=result.replayed)
    metrics.add_metric(name="LateEvents", unit=MetricUnit.Count, value=result.late)
    metrics.add_metric(name="FutureDatedEvents", unit=MetricUnit.Count, value=result.future_dated)
    metrics.add_metric(name="StaleDecisions", unit=MetricUnit.Count, value=result.stale)
    metrics.add_metric(name="PartitionKeyMismatch", unit=MetricUnit.Count, value=result.partition_key_mismatch)
    metrics.add_metric(name="UnstorableUsers", unit=MetricUnit.Count, value=len(result.unstorable_users))
    metrics.add_metric(name="UnknownVocabulary", unit=MetricUnit.Count, value=sum(result.unknown_vocabulary.values()))
    metrics.add_metric(name="RecordsFailedTransiently", unit=MetricUnit.Count, value=len(result.failed_sequences))
    metrics.add_metric(name="UsersErased", unit=MetricUnit.Count, value=len(result.erased))
    metrics.add_metric(name="ErasedUsersEventsRefused", unit=MetricUnit.Count, value=result.refused_erased)
    metrics.add_metric(name="Escalated", unit=MetricUnit.Count, value=result.escalated)
    metrics.add_metric(name="EscalationsUnsent", unit=MetricUnit.Count, value=result.escalations_unsent)
    for name, count in result.escalation_outcomes.items():
        metrics.add_metric(name=f"Escalations_{name}", unit=MetricUnit.Count, value=count)
    for name, count in result.commands.items():
        metrics.add_metric(name=f"Commands_{name}", unit=MetricUnit.Count, value=count)
    for code, count in result.rejected.items():
        metrics.add_metric(name=f"Rejected_{code}", unit=MetricUnit.Count, value=count)
    for signal_type, count in Counter(s.signalType.value for s in result.signals).items():
        metrics.add_metric(name=f"Signals_{signal_type}", unit=MetricUnit.Count, value=count)
    sent = Counter(d.channel.value for d in result.decisions if d.outcome is Outcome.SEND and d.channel)
    for channel, count in sent.items():
        metrics.add_metric(name=f"Interventions_{channel}", unit=MetricUnit.Count, value=count)
    outcomes = Counter(d.outcome.value for d in result.decisions)
    metrics.add_metric(name="InterventionsUnconfirmed", unit=MetricUnit.Count, value=result.unconfirmed)
    metrics.add_metric(name="InterventionsUndeliverable", unit=MetricUnit.Count, value=result.undeliverable)
    metrics.add_metric(name="InterventionsHeldOut", unit=MetricUnit.Count, value=outcomes.get("held_out", 0))
    metrics.add_metric(name="InterventionsSuppressed", unit=MetricUnit.Count, value=outcomes.get("suppressed", 0))
    metrics.add_metric(name="SilentUsersRescored", unit=MetricUnit.Count, value=result.silent_rescored)
    for scorer, count in result.risk_scored_by.items():
        metrics.add_metric(name=f"RiskScoredBy_{scorer}", unit=MetricUnit.Count, value=count)
    if result.risk_model_unavailable:  # configured but not loadable: the points model scores meanwhile
        metrics.add_metric(name="ExitRiskModelUnavailable", unit=MetricUnit.Count, value=1)
    if result.analytics_failed:
        metrics.add_metric(name="AnalyticsWriteFailed", unit=MetricUnit.Count, value=1)
    for latency in result.decision_latency_ms[:100]:
        metrics.add_metric(name="DecisionLatency", unit=MetricUnit.Milliseconds, value=latency)


def log_batch(logger: Logger, result: BatchResult) -> None:
    """One structured log line per batch: what came in and what became of it."""
    logger.info(
        "batch processed",
        extra={
            "received": result.received,
            "applied": result.applied,
            "rejected": dict(result.rejected),
            "duplicates": result.duplicates,
            "redelivered_skipped": result.replayed,
            "late": result.late,
            "future_dated": result.future_dated,
            "stale": result.stale,
            "partition_key_mismatch": result.partition_key_mismatch,
            "unstorable_users": result.unstorable_users,
            "unknown_vocabulary": {f"{field}={word}": n for (field, word), n in result.unknown_vocabulary.most_common(10)},
            "signals": len(result.signals),
            "signals_by_outcome": dict(Counter(s.outcome for s in result.signals)),
            "sent": len(result.delivered),
            "unconfirmed": result.unconfirmed,
            "undeliverable": result.undeliverable,
            "failed_records": len(result.failed_sequences),
            "commands": dict(result.commands),
            "escalated": result.escalated,
            "escalations_unsent": result.escalations_unsent,
            "escalation_outcomes": dict(result.escalation_outcomes),
            "erased_users": len(result.erased),  # no ids: an erased user's pseudonym is not kept, not even in logs
            "erased_users_events_refused": result.refused_erased,
            "silent_rescored": result.silent_rescored,
            "risk_scored_by": dict(result.risk_scored_by),
        },
    )
