"""Agent invoker: the escalation queue (SQS) in; each hard case asked of the agent within its time
budget, the rules' decision standing when it cannot answer; one ``escalation`` command per case onto
the user's stream. Composition root only: the decorators, the wiring, one call into the use case.

A message that is not an escalation is permanent: logged with its reason and its body (truncated),
counted, and reported as processed, so SQS does not redeliver it forever. A transient failure (the
command not appended) fails only its message, which SQS redelivers. The circuit breaker is module
state: each container (execution environment) has its own."""

from __future__ import annotations

import time
from functools import lru_cache

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit, single_metric
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from journey.adapters.aws.agent_invoker_factories import invoker_adapters
from journey.agent.breaker import CircuitBreaker
from journey.app.agent_ports import EscalationPorts
from journey.app.escalation import InvalidEscalation, Resolution, read_escalation, resolve
from journey.lambda_kit.observability import traced
from journey.settings import load_settings

logger = Logger()
metrics = Metrics()
processor = BatchProcessor(event_type=EventType.SQS)
MARGIN_MS, BODY_LOGGED = 1_500, 2_048  # the invocation's time kept for the command; body characters logged


@lru_cache(maxsize=1)
def ports() -> EscalationPorts:
    return EscalationPorts(**invoker_adapters())


@lru_cache(maxsize=1)
def breaker() -> CircuitBreaker:  # the container's own (module state, built on first use)
    cfg = load_settings().agent
    return CircuitBreaker(cfg.breaker_failures, cfg.breaker_cooldown_ms)


def now_ms() -> int:
    return int(time.time() * 1000)


def count(resolution: Resolution) -> None:
    with single_metric(name="EscalationsResolved", unit=MetricUnit.Count, value=1) as metric:
        metric.add_dimension(name="decider", value=resolution.decider)
    if resolution.decider == "fallback":
        metrics.add_metric(name=f"FallbackReason_{resolution.code}", unit=MetricUnit.Count, value=1)
    if resolution.attempts:
        metrics.add_metric(name="AgentLatency", unit=MetricUnit.Milliseconds, value=resolution.latency_ms)
        metrics.add_metric(name="AgentTokens", unit=MetricUnit.Count, value=resolution.input_tokens + resolution.output_tokens)


def record_handler(record: SQSRecord, lambda_context: LambdaContext | None = None) -> None:
    try:
        escalation = read_escalation(record.body)
    except InvalidEscalation as exc:
        logger.error(
            "not an escalation: dropped, not retried",
            extra={"reason": str(exc), "messageId": record.message_id, "body": (record.body or "")[:BODY_LOGGED]},
        )
        metrics.add_metric(name="MalformedEscalations", unit=MetricUnit.Count, value=1)
        return
    remaining = lambda_context.get_remaining_time_in_millis() if lambda_context is not None else None
    not_after = now_ms() + remaining - MARGIN_MS if remaining is not None else None
    resolution = resolve(escalation, ports(), load_settings().agent, breaker(), now_ms, time.sleep, not_after_ms=not_after)
    count(resolution)
    logger.info("escalation resolved", extra={**resolution.log_fields(), "breaker": breaker().state_at(now_ms())})


@traced
@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return dict(process_partial_response(event=event, record_handler=record_handler, processor=processor, context=context))
