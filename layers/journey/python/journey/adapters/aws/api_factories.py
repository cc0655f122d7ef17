"""Builds the HTTPS API's adapters on AWS from the environment, once per process (lazily, never at
import). The function's handler wraps them in the use cases' ``ApiPorts`` (adapters never import use
cases)."""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Callable
from functools import lru_cache
from typing import Any

from journey.risk.model import ExitRiskModel


def now_ms() -> int:
    return int(time.time() * 1000)


def new_request_id() -> str:
    return f"req-{uuid.uuid4().hex}"


@lru_cache(maxsize=1)
def api_adapters() -> dict[str, Any]:
    """The adapters by the name of the port each one fills (``journey.app.api_ports.ApiPorts``)."""
    from journey.adapters.aws.dynamodb import TableNames
    from journey.adapters.aws.identities import DynamoIdentities
    from journey.adapters.aws.kinesis import KinesisCommandStream
    from journey.adapters.aws.pseudonym_key import PseudonymKey
    from journey.adapters.aws.read_models import DynamoReadModels, S3QuarantineReader

    reads = DynamoReadModels(TableNames.from_env())
    analyst, cache = context_analysis_adapters()
    return {
        "stream": KinesisCommandStream(),
        "users": reads,
        "analytics": reads,
        "identities": DynamoIdentities(),
        "quarantine": S3QuarantineReader(),
        "pseudonym_key": PseudonymKey.from_env(),
        "clock_ms": now_ms,
        "new_request_id": new_request_id,
        "analyst": analyst,
        "analysis_cache": cache,
        "exit_risk_models": exit_risk_models(),
    }


def exit_risk_models() -> Callable[[str], ExitRiskModel | None] | None:
    """The trained exit-risk models by version, from the models bucket; None without the bucket's name."""
    from journey.adapters.aws.models import models_by_version
    from journey.resources import Env

    return models_by_version(os.environ.get(Env.MODELS_BUCKET, ""))


def context_analysis_adapters() -> tuple[Any, Any]:
    """Amazon Nova's context analyst and its cache, where the deployment turned the analysis on (infra
    sets JOURNEY_AGENT__CONTEXT_MODEL_ID only then); (None, None) otherwise: the insights then answer
    ``contextAnalysis`` as unavailable. No cache without the ContextAnalyses table's name."""
    from journey.adapters.aws.bedrock_converse import NovaContextAnalyst
    from journey.adapters.aws.context_cache import DynamoAnalysisCache
    from journey.resources import CONTEXT_ANALYSES, Env
    from journey.settings import load_settings

    if not os.environ.get(Env.CONTEXT_MODEL_ID):
        return None, None
    analyst = NovaContextAnalyst(budget_ms=load_settings().agent.context_budget_ms)
    return analyst, DynamoAnalysisCache() if os.environ.get(CONTEXT_ANALYSES.env) else None
