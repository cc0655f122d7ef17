"""Deployment settings read from CDK context (``-c key=value``): no AWS calls, no lookups at synth."""

from __future__ import annotations

from dataclasses import dataclass

from constructs import Node


def _flag(value, default: bool) -> bool:
    if value is None:
        return default
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() in ("1", "true", "yes", "on")


@dataclass(frozen=True)
class DeploymentConfig:
    stage: str = "dev"
    timestream_enabled: bool = True
    batch_size: int = 500
    batching_window_s: int = 0
    retry_attempts: int = 5
    max_record_age_s: int = 3600
    parallelization_factor: int = 1
    iterator_age_alarm_ms: int = 60_000
    push_provider: str = "sns"
    eum_application_id: str = ""
    trace_aws_calls: bool = False

    @classmethod
    def from_context(cls, node: Node) -> DeploymentConfig:
        get = node.try_get_context
        config = cls(
            stage=str(get("stage") or "dev"),
            timestream_enabled=_flag(get("timestream"), True),
            batch_size=int(get("batchSize") or 500),
            batching_window_s=int(get("batchingWindowSeconds") or 0),
            retry_attempts=int(get("retryAttempts") or 5),
            max_record_age_s=int(get("maxRecordAgeSeconds") or 3600),
            parallelization_factor=int(get("parallelizationFactor") or 1),
            push_provider=str(get("pushProvider") or "sns"),
            eum_application_id=str(get("eumApplicationId") or ""),
            trace_aws_calls=_flag(get("traceAwsCalls"), False),
        )
        if not 1 <= config.batch_size <= 10_000:
            raise ValueError(f"batchSize must be 1..10000 (Kinesis limit), got {config.batch_size}")
        if not 0 <= config.batching_window_s <= 300:
            raise ValueError(f"batchingWindowSeconds must be 0..300, got {config.batching_window_s}")
        if not 1 <= config.parallelization_factor <= 10:
            raise ValueError(f"parallelizationFactor must be 1..10, got {config.parallelization_factor}")
        if not 60 <= config.max_record_age_s <= 604_800:
            raise ValueError(f"maxRecordAgeSeconds must be 60..604800, got {config.max_record_age_s}")
        if config.push_provider not in ("sns", "eum", "none"):
            raise ValueError(f"pushProvider must be sns, eum or none, got {config.push_provider}")
        if config.push_provider == "eum" and not config.eum_application_id:
            raise ValueError("pushProvider=eum needs -c eumApplicationId=<End User Messaging application id>")
        return config
