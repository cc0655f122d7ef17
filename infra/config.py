"""Deployment settings read from CDK context (``-c key=value``): no AWS calls, no lookups at synth."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

from constructs import Node

TENANT_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")  # journey.kernel.tenancy's rule for tenant ids
USER_POOL_FEATURE_PLANS = ("plus", "essentials")
AGENT_MODES = ("agentcore", "classic", "none")  # who decides the hard cases (docs/deployment.md)
# journey.settings.AgentSettings' defaults (infra may not import it; tests/infra/test_agent.py checks they agree)
DEFAULT_AGENT_MODEL_ID = "us.amazon.nova-lite-v1:0"
DEFAULT_CONTEXT_MODEL_ID = "us.amazon.nova-micro-v1:0"
# a Bedrock model id or inference profile id (us.amazon.nova-lite-v1:0, amazon.nova-micro-v1:0, ...)
MODEL_ID_PATTERN = re.compile(r"^[a-z0-9-]+(\.[a-z0-9-]+)+(:[0-9a-z-]+)*$")
# an exit-risk model version: one folder of the models bucket (journey.adapters.aws.models.VERSION_PATTERN,
# which tests/infra/test_models.py checks agrees)
EXIT_RISK_MODEL_VERSION_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")


def _origins(value) -> tuple[str, ...]:
    """CORS origins from context: a list (cdk.json) or a comma-separated string (``-c corsOrigins=a,b``)."""
    if not value:
        return ()
    items = value if isinstance(value, list | tuple) else str(value).split(",")
    return tuple(str(item).strip() for item in items if str(item).strip())


def _server_tenants(value) -> dict[str, str]:
    """Back-end principals (IAM ARNs, or ``*``) and the tenant each one acts for: a JSON object or a dict."""
    if not value:
        return {}
    mapping = json.loads(value) if isinstance(value, str) else value
    if not isinstance(mapping, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in mapping.items()):
        raise ValueError("serverTenants must be a JSON object mapping principal ARNs (or '*') to tenant ids")
    return dict(mapping)


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
    # the HTTPS API: the $default stage's throttling (every route), CORS, tenancy, the user pool's plan
    api_rate_limit: int = 100  # requests per second, steady state
    api_burst_limit: int = 200
    cors_origins: tuple[str, ...] = ()  # none: no CORS (server-to-server and native apps need none)
    default_tenant: str = "default"  # = journey.kernel.tenancy.DEFAULT_TENANT unless configured
    server_tenants: dict[str, str] = field(default_factory=dict)  # IAM principal ARN (or "*") -> tenant
    user_pool_feature_plan: str = "plus"  # plus: threat protection (compromised credentials, adaptive auth)
    # AI decisions: the agent of the hard cases (-c agent=agentcore|classic|none) and the context analysis
    agent_mode: str = "agentcore"
    agent_model_id: str = DEFAULT_AGENT_MODEL_ID
    context_model_id: str = DEFAULT_CONTEXT_MODEL_ID
    context_analysis: bool = True  # the API's Amazon Nova context analysis (independent of the agent mode)
    # agentcore: the policy gate also as the harness's before-tool-call hook (it is always in the action group)
    harness_policy_hook: bool = False  # see docs/agent.md: the hook's Lambda payload is not documented yet
    # the trained exit-risk model the stream processor scores with (docs/exit-risk.md); "": the points model
    exit_risk_model: str = ""

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
            api_rate_limit=int(get("apiRateLimit") or 100),
            api_burst_limit=int(get("apiBurstLimit") or 200),
            cors_origins=_origins(get("corsOrigins")),
            default_tenant=str(get("defaultTenant") or "default"),
            server_tenants=_server_tenants(get("serverTenants")),
            user_pool_feature_plan=str(get("userPoolFeaturePlan") or "plus").lower(),
            agent_mode=str(get("agent") or "agentcore").strip().lower(),
            agent_model_id=str(get("agentModel") or DEFAULT_AGENT_MODEL_ID).strip(),
            context_model_id=str(get("contextModel") or DEFAULT_CONTEXT_MODEL_ID).strip(),
            context_analysis=_flag(get("contextAnalysis"), True),
            harness_policy_hook=_flag(get("harnessPolicyHook"), False),
            exit_risk_model=str(get("exitRiskModel") or "").strip(),
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
        # API Gateway's account-level ceilings per region: 10,000 requests/s, burst 5,000
        if not 1 <= config.api_rate_limit <= 10_000:
            raise ValueError(f"apiRateLimit must be 1..10000 requests per second, got {config.api_rate_limit}")
        if not 1 <= config.api_burst_limit <= 5_000:
            raise ValueError(f"apiBurstLimit must be 1..5000, got {config.api_burst_limit}")
        for origin in config.cors_origins:
            if origin != "*" and not re.fullmatch(r"https?://[^/\s]+", origin):
                raise ValueError(f"corsOrigins: '{origin}' is not an origin (scheme://host[:port], no path) or '*'")
        for tenant in (config.default_tenant, *config.server_tenants.values()):
            if not TENANT_PATTERN.fullmatch(tenant):
                raise ValueError(f"tenant '{tenant}' does not match {TENANT_PATTERN.pattern}")
        if config.user_pool_feature_plan not in USER_POOL_FEATURE_PLANS:
            raise ValueError(f"userPoolFeaturePlan must be plus or essentials, got {config.user_pool_feature_plan}")
        if config.agent_mode not in AGENT_MODES:
            raise ValueError(
                f"agent must be agentcore (an AgentCore harness and gateway), classic (a Bedrock agent, for accounts "
                f"that still have Agents Classic) or none (the rules decide alone), got '{config.agent_mode}'"
            )
        for name, model_id in (("agentModel", config.agent_model_id), ("contextModel", config.context_model_id)):
            if len(model_id) > 256 or not MODEL_ID_PATTERN.fullmatch(model_id):
                raise ValueError(
                    f"{name}: '{model_id}' is not a Bedrock model or inference profile id (e.g. us.amazon.nova-lite-v1:0)"
                )
        if config.exit_risk_model and not EXIT_RISK_MODEL_VERSION_PATTERN.fullmatch(config.exit_risk_model):
            raise ValueError(
                f"exitRiskModel: '{config.exit_risk_model}' is not a model version (letters, digits, '.', '_', '-', "
                "at most 128, starting with a letter or digit: the folder models/exit-risk/<version>/ it was published to); "
                "leave it empty for the points model"
            )
        return config
