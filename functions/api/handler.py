"""HTTPS API: API Gateway HTTP API (payload 2.0) in, the route's answer out. Composition root only:
the resolver, the decorators, the wiring of the routes (``journey.lambda_kit.http``) to the AWS
adapters (built on first use, once per container)."""

from __future__ import annotations

import os
from functools import lru_cache

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer
from aws_lambda_powertools.utilities.typing import LambdaContext

from journey.adapters.aws.api_factories import api_adapters
from journey.app.api_ports import ApiPorts
from journey.app.context_analysis import AnalysisResult
from journey.app.ingest import IngestResult
from journey.lambda_kit.http import api_router, serve
from journey.lambda_kit.observability import traced
from journey.resources import API_IDEMPOTENCY, TTL_ATTRIBUTE
from journey.settings import load_settings

logger = Logger()
metrics = Metrics()


@lru_cache(maxsize=1)
def ports() -> ApiPorts:
    return ApiPorts(**api_adapters())


def count_ingest(result: IngestResult) -> None:
    metrics.add_metric(name="ApiEventsAccepted", unit=MetricUnit.Count, value=result.accepted)
    metrics.add_metric(name="ApiEventsRejected", unit=MetricUnit.Count, value=result.rejected)
    for code, count in _by_code(result).items():
        metrics.add_metric(name=f"ApiRejected_{code}", unit=MetricUnit.Count, value=count)


def _by_code(result: IngestResult) -> dict[str, int]:
    counts: dict[str, int] = {}
    for item in result.results:
        if item.status == "rejected" and item.code is not None:
            counts[item.code.value] = counts.get(item.code.value, 0) + 1
    return counts


def count_analysis(result: AnalysisResult) -> None:
    """The context analysis' latency and cost, per model call (a cached answer costs nothing)."""
    if not result.called:
        metrics.add_metric(name="ContextAnalysisCacheHits", unit=MetricUnit.Count, value=int(result.cached))
        return
    metrics.add_metric(name="ContextAnalysisLatency", unit=MetricUnit.Milliseconds, value=result.latency_ms)
    metrics.add_metric(name="ContextAnalysisTokens", unit=MetricUnit.Count, value=result.input_tokens + result.output_tokens)
    if result.cost_usd is not None:
        metrics.add_metric(name="ContextAnalysisCost", unit=MetricUnit.NoUnit, value=result.cost_usd)
    if result.status == "unavailable":
        metrics.add_metric(name="ContextAnalysisUnavailable", unit=MetricUnit.Count, value=1)


@lru_cache(maxsize=1)
def answers() -> DynamoDBPersistenceLayer:
    """Where the answers to event requests are kept (Powertools idempotency, the table's TTL is ``ttl``)."""
    return DynamoDBPersistenceLayer(table_name=os.environ[API_IDEMPOTENCY.env], expiry_attr=TTL_ATTRIBUTE)


app = serve(
    APIGatewayHttpResolver(enable_validation=True),
    api_router(ports, load_settings, count_ingest, answers, on_analysis=count_analysis),
)


@traced
@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP, clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return app.resolve(event, context)
