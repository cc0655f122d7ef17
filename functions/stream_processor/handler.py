"""Stream processor: Kinesis batch in, partial batch response out. The work lives in the journey layer."""

from __future__ import annotations

import gc
import os

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.utilities.typing import LambdaContext

from journey.adapters.aws.factories import aws_ports
from journey.app.stream_batch import process_batch
from journey.interventions.policy import load_catalog
from journey.lambda_kit.kinesis import UserBatchProcessor
from journey.lambda_kit.metrics import publish_metrics
from journey.settings import load_settings

logger = Logger()
metrics = Metrics()


def _traced(handler):
    """X-Ray subsegments for every AWS call, when the deployment asks for them (``-c traceAwsCalls=true``).
    Importing the X-Ray SDK costs ~300 ms of cold start, so it is loaded only then; Lambda's own
    active tracing (init, invocation, overhead) is on either way."""
    if os.environ.get("POWERTOOLS_TRACE_DISABLED", "false").strip().lower() in ("1", "true", "yes", "on"):
        return handler
    from aws_lambda_powertools import Tracer

    return Tracer().capture_lambda_handler(capture_response=False)(handler)


gc.freeze()  # imported modules live for the whole sandbox: keep them out of every later GC pass
# A batch allocates many short-lived, acyclic objects (events, items); collecting every 700
# allocations spends more time scanning than it frees. Reference counting still frees them at once.
gc.set_threshold(50_000, 20, 20)


def run_batch(items, key):
    return process_batch(items, aws_ports(), load_settings(), load_catalog(), key)


@_traced
@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    processor = UserBatchProcessor(run_batch, load_settings().max_record_bytes, os.environ.get("JOURNEY_INPUT_FORMAT"))
    with processor(records=event["Records"], handler=processor.read):
        processor.process()
    result = processor.result
    publish_metrics(metrics, result)
    logger.info(
        "batch processed",
        extra={
            "received": result.received,
            "applied": result.applied,
            "rejected": dict(result.rejected),
            "duplicates": result.duplicates,
            "redelivered_skipped": result.replayed,
            "late": result.late,
            "signals": len(result.signals),
            "sent": len(result.delivered),
            "unconfirmed": result.unconfirmed,
            "failed_records": len(result.failed_sequences),
        },
    )
    return processor.response()
