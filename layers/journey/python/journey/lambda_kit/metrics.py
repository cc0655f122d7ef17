"""CloudWatch metrics for a batch, through Powertools Metrics (EMF: no API calls on the hot path)."""

from __future__ import annotations

from collections import Counter

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit

from journey.app.stream_batch import BatchResult
from journey.interventions.policy import Outcome


def publish_metrics(metrics: Metrics, result: BatchResult) -> None:
    """The batch's metrics. Events in and applied are emitted for every batch; the counts of what
    happens rarely (duplicates, late events, failures...) only when they are not zero. A CloudWatch Sum
    over no data is no data, and every alarm on them treats missing data as not breaching
    (``infra/monitoring.py``), so an alarm sees the same either way; each Powertools ``add_metric``
    costs some 10 µs, and about twenty of them were zeros in every batch."""
    metrics.add_metric(name="EventsIn", unit=MetricUnit.Count, value=result.received)
    metrics.add_metric(name="EventsApplied", unit=MetricUnit.Count, value=result.applied)
    outcomes = Counter(d.outcome.value for d in result.decisions)
    counts = {
        "EventsRejected": result.rejected_total,
        "DuplicatesDropped": result.duplicates,
        "RedeliveredSkipped": result.replayed,
        "LateEvents": result.late,
        "FutureDatedEvents": result.future_dated,
        "StaleDecisions": result.stale,
        "PartitionKeyMismatch": result.partition_key_mismatch,
        "UnstorableUsers": len(result.unstorable_users),
        "UnknownVocabulary": sum(result.unknown_vocabulary.values()),
        "RecordsFailedTransiently": len(result.failed_sequences),
        "UsersErased": len(result.erased),
        "ErasedUsersEventsRefused": result.refused_erased,
        "Escalated": result.escalated,
        "EscalationsUnsent": result.escalations_unsent,
        "InterventionsUnconfirmed": result.unconfirmed,
        "InterventionsUndeliverable": result.undeliverable,
        "InterventionsHeldOut": outcomes.get("held_out", 0),
        "InterventionsSuppressed": outcomes.get("suppressed", 0),
        "SilentUsersRescored": result.silent_rescored,
        "ExitRiskModelUnavailable": int(result.risk_model_unavailable),  # configured but not loadable: points score
        "AnalyticsWriteFailed": int(result.analytics_failed),
    }
    for name, count in counts.items():
        if count:
            metrics.add_metric(name=name, unit=MetricUnit.Count, value=count)
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
    for scorer, count in result.risk_scored_by.items():
        metrics.add_metric(name=f"RiskScoredBy_{scorer}", unit=MetricUnit.Count, value=count)
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
