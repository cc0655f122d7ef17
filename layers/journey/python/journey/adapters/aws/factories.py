"""Builds the use cases' ports on AWS from the environment, once per process (lazily, never at import)."""

from __future__ import annotations

import logging
import os
from functools import lru_cache

from journey.app.ports import Ports, TimerPorts
from journey.resources import Env
from journey.risk.model import ExitRiskModel
from journey.settings import load_settings

log = logging.getLogger(__name__)


@lru_cache(maxsize=1)
def aws_ports() -> Ports:
    from journey.adapters.aws.dynamodb import DynamoJourneyStore
    from journey.adapters.aws.erasure import AwsEraser
    from journey.adapters.aws.eum import EndUserMessagingPush
    from journey.adapters.aws.notifier import ChannelNotifier, PushChannel
    from journey.adapters.aws.s3 import S3Quarantine
    from journey.adapters.aws.sns import SnsPlatformPush, SnsTopicChannel

    settings = load_settings()
    provider = settings.switches.push_provider
    push: PushChannel | None = SnsPlatformPush() if provider == "sns" else EndUserMessagingPush() if provider == "eum" else None
    analytics = None
    if settings.switches.timestream_enabled:
        from journey.adapters.aws.timestream import TimestreamAnalytics

        analytics = TimestreamAnalytics()
    escalations = None
    if settings.agent.mode != "none" and os.environ.get(Env.ESCALATION_QUEUE_URL):
        from journey.adapters.aws.escalation_queue import SqsEscalationQueue

        escalations = SqsEscalationQueue()
    return Ports(
        store=DynamoJourneyStore(ttl_days=settings.event_ttl_days),
        notifier=ChannelNotifier(SnsTopicChannel(), push=push),
        quarantine=S3Quarantine(),
        analytics=analytics,
        eraser=AwsEraser(),
        escalations=escalations,
    )


def exit_risk_model() -> ExitRiskModel | None:
    """The trained exit-risk model named by ``JOURNEY_RISK__MODEL_VERSION``, read once per container
    (:func:`journey.adapters.aws.models.load_exit_risk_model`); None: the points model scores."""
    version = load_settings().risk.model_version
    if not version:
        return None
    from journey.adapters.aws.models import S3ModelStore, load_exit_risk_model

    bucket = os.environ.get(Env.MODELS_BUCKET, "")
    if not bucket:
        log.error("exit-risk model %r is configured but %s is not set: scoring with the points model", version, Env.MODELS_BUCKET)
        return None
    return load_exit_risk_model(S3ModelStore(bucket), version)


def forget_exit_risk_model() -> None:
    """Read the model again on next use (a configuration change: a new container in AWS)."""
    from journey.adapters.aws.models import forget_loaded_models

    forget_loaded_models()


@lru_cache(maxsize=1)
def timer_ports() -> TimerPorts:
    """The deadline timer's ports: the state table's due index, and the event stream for its commands."""
    from journey.adapters.aws.deadlines import DynamoDueUsers
    from journey.adapters.aws.kinesis import KinesisCommandStream

    return TimerPorts(due_users=DynamoDueUsers(), commands=KinesisCommandStream())
