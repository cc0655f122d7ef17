"""Stream processor: a Kinesis batch in, a partial batch response out. Composition root only: the
decorators, the wiring, and one call into the stream batch use case."""

from __future__ import annotations

import os

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.utilities.typing import LambdaContext

from journey.adapters.aws.factories import aws_ports, exit_risk_model
from journey.app.stream_batch import BatchResult, process_batch
from journey.events.records import ReadRecord
from journey.interventions.catalog import load_catalog
from journey.lambda_kit.kinesis import handle_kinesis_batch
from journey.lambda_kit.metrics import log_batch, publish_metrics
from journey.lambda_kit.observability import traced, tune_gc_for_batch_work
from journey.resources import Env
from journey.settings import load_settings

logger = Logger()
metrics = Metrics()
tune_gc_for_batch_work()


def run_batch(items: list[ReadRecord], batch_key: str) -> BatchResult:
    return process_batch(items, aws_ports(), load_settings(), load_catalog(), batch_key, model=exit_risk_model())


def report(result: BatchResult) -> None:
    publish_metrics(metrics, result)
    log_batch(logger, result)


@traced
@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return handle_kinesis_batch(event, run_batch, report, load_settings().max_record_bytes, os.environ.get(Env.INPUT_FORMAT))
