"""What the deployment and the code must agree on: table key schemas and environment variable names.

``infra/`` builds the tables and the functions' environment from this module (and imports nothing
else from ``journey``); the DynamoDB adapter, the local runtime and the in-memory test clients read
the same definitions, so a table cannot drift from what is deployed.
"""

from __future__ import annotations

from dataclasses import dataclass

TTL_ATTRIBUTE = "ttl"


@dataclass(frozen=True, slots=True)
class TableSpec:
    """One DynamoDB table: its CloudFormation logical id, the environment variable that carries its
    name to the functions, and its key (string attributes)."""

    logical_id: str
    env: str
    partition_key: str
    sort_key: str | None
    description: str

    @property
    def key_names(self) -> tuple[str, ...]:
        return (self.partition_key,) if self.sort_key is None else (self.partition_key, self.sort_key)


USER_STATE = TableSpec(
    "UserState", "STATE_TABLE", "userId", None, "hot per-user state: rolling features, windows, exit risk, policy counters"
)
USER_EVENTS = TableSpec(
    "UserEvents", "EVENTS_TABLE", "userId", "sk", "event journal: one compact chunk per user per batch, expires by TTL"
)
STRUGGLE_SIGNALS = TableSpec(
    "StruggleSignals", "SIGNALS_TABLE", "userId", "sk", "signals per user and feature (sk = featureId#detectedAt#type)"
)
INTERVENTIONS = TableSpec(
    "Interventions", "INTERVENTIONS_TABLE", "userId", "interventionId", "every decision with provenance, outcomes; in-app inbox"
)
IDENTITIES = TableSpec(
    "Identities",
    "IDENTITIES_TABLE",
    "userId",
    None,
    "the one place a pseudonymous user id maps to the app's own user id (the HTTPS API writes it; erasure deletes it)",
)
PRIVACY_AUDIT = TableSpec(
    "PrivacyAudit",
    "PRIVACY_AUDIT_TABLE",
    "requestId",
    None,
    "one record per privacy request carried out: who asked, when, what was removed (counts; no personal data)",
)
API_IDEMPOTENCY = TableSpec(
    "ApiIdempotency",
    "IDEMPOTENCY_TABLE",
    "id",
    None,
    "the HTTPS API's answers to event requests for an hour (Powertools idempotency): a request sent again gets the first answer",
)
CONTEXT_ANALYSES = TableSpec(
    "ContextAnalyses",
    "CONTEXT_ANALYSES_TABLE",
    "userId",
    None,
    "Amazon Nova's context analysis of a user, cached for a configurable time (the HTTPS API writes it; expires by TTL)",
)
TABLES: tuple[TableSpec, ...] = (
    USER_STATE,
    USER_EVENTS,
    STRUGGLE_SIGNALS,
    INTERVENTIONS,
    IDENTITIES,
    PRIVACY_AUDIT,
    API_IDEMPOTENCY,
    CONTEXT_ANALYSES,
)

# The signals table's index by feature (hot spots): partition featureId (S), sort detectedAt (N).
FEATURE_STRUGGLE_INDEX = "FeatureStruggleIndex"

# The tenant's day index, on StruggleSignals and on Interventions (the analytics read models: hot
# spots, uplift): partition ``tenantDay`` (S, ``<tenant>#<YYYY-MM-DD>`` of the signal's detection or
# the decision's time, UTC), sort ``sk`` / ``interventionId`` (the table's own sort key); projection ALL.
TENANT_DAY_INDEX = "TenantDayIndex"
TENANT_DAY_ATTRIBUTE = "tenantDay"


@dataclass(frozen=True, slots=True)
class Route:
    """One route of the HTTPS API: how a caller is authorized (``jwt``: an app user's token from the
    Cognito user pool, acting on their own data only; ``iam``: a back end signing with SigV4)."""

    method: str
    path: str  # API Gateway's syntax: {name} for a path parameter
    auth: str  # "jwt" | "iam"
    summary: str


ROUTES: tuple[Route, ...] = (
    Route("POST", "/v1/events", "jwt", "send the signed-in user's events (native, Firebase/GA4 rows or Segment calls)"),
    Route("GET", "/v1/users/{userId}/interventions", "jwt", "the signed-in user's inbox"),
    Route("POST", "/v1/interventions/{interventionId}/outcome", "jwt", "report what became of an intervention"),
    Route("PUT", "/v1/users/{userId}/consent", "jwt", "the signed-in user's consent per channel"),
    Route("GET", "/v1/users/{userId}/insights", "iam", "what the system knows about a user"),
    Route("GET", "/v1/analytics/hotspots", "iam", "where users struggle most"),
    Route("GET", "/v1/analytics/uplift", "iam", "treated against holdout resolution per signal type"),
    Route("GET", "/v1/users/{userId}/export", "iam", "everything held about a user, as JSON"),
    Route("DELETE", "/v1/users/{userId}", "iam", "erase a user"),
)


@dataclass(frozen=True, slots=True)
class DueIndexSpec:
    """The state table's sparse index of users with something due (the deadline timer reads it).

    A state item carries ``dueAt`` (N, epoch ms) and ``dueShard`` (S, ``due#<n>``, n a stable hash of
    the user id modulo ``shards``) only while its state has a deadline, so only those users are in
    the index; the shards spread it over partitions (one ``dueShard`` value would be one hot key)."""

    name: str
    partition_key: str  # string: "due#<n>"
    sort_key: str  # number: epoch ms
    shards: int
    shard_prefix: str = "due#"

    def shard_values(self) -> tuple[str, ...]:
        return tuple(f"{self.shard_prefix}{n}" for n in range(self.shards))


DUE_INDEX = DueIndexSpec("DueIndex", "dueShard", "dueAt", shards=8)  # on USER_STATE, keys only


class Env:
    """Names of the environment variables the functions read (values set by ``infra/``)."""

    INTERVENTIONS_TOPIC_ARN = "INTERVENTIONS_TOPIC_ARN"
    QUARANTINE_BUCKET = "QUARANTINE_BUCKET"
    TIMESTREAM_DATABASE = "TIMESTREAM_DATABASE"
    TIMESTREAM_TABLE = "TIMESTREAM_TABLE"
    EUM_APPLICATION_ID = "EUM_APPLICATION_ID"
    INPUT_FORMAT = "JOURNEY_INPUT_FORMAT"
    CATALOG_PATH = "JOURNEY_CATALOG_PATH"
    TIMESTREAM_ENABLED = "JOURNEY_SWITCHES__TIMESTREAM_ENABLED"
    PUSH_PROVIDER = "JOURNEY_SWITCHES__PUSH_PROVIDER"
    TRACE_DISABLED = "POWERTOOLS_TRACE_DISABLED"
    EVENT_STREAM_NAME = "EVENT_STREAM_NAME"  # the stream commands are appended to (the deadline timer)
    TIMER_MAX_USERS = "JOURNEY_TIMER__MAX_USERS_PER_RUN"  # users the deadline timer wakes per run at most
    PSEUDONYM_SECRET_ARN = "PSEUDONYM_SECRET_ARN"  # the secret keying pseudonymous user ids (HTTPS API)
    PSEUDONYM_KEY = "JOURNEY_PSEUDONYM_KEY"  # the key itself, where no secret is used (the local runtime only)
    DEFAULT_TENANT = "JOURNEY_TENANCY__DEFAULT_TENANT"  # the tenant of events that name none (direct stream writers)
    # AI decisions (docs/agent.md)
    AGENT_MODE = "JOURNEY_AGENT__MODE"  # agentcore | classic | none: who decides the hard cases (none: the rules alone)
    ESCALATION_QUEUE_URL = "ESCALATION_QUEUE_URL"  # the hard cases the stream processor hands to the agent invoker
    HARNESS_ARN = "AGENT_HARNESS_ARN"  # agentcore: the AgentCore harness the invoker calls (InvokeHarness)
    AGENT_ID = "AGENT_ID"  # classic: the Bedrock agent (InvokeAgent)
    AGENT_ALIAS_ID = "AGENT_ALIAS_ID"  # classic: its alias
    AGENT_MODEL_ID = "JOURNEY_AGENT__MODEL_ID"  # the model the agent runs on (recorded with each decision)
    CONTEXT_MODEL_ID = "JOURNEY_AGENT__CONTEXT_MODEL_ID"  # the model of the context analysis (Converse)
    # Exit risk that learns (docs/exit-risk.md)
    MODELS_BUCKET = "MODELS_BUCKET"  # trained models, versioned: models/exit-risk/<version>/{model,metrics}.json
    RISK_MODEL_VERSION = "JOURNEY_RISK__MODEL_VERSION"  # the exit-risk model the stream processor scores with ("": points)


# The agent's action groups: the Lambda functions' logical names (infra) and the groups the tools belong to
ACTION_GROUPS: tuple[str, ...] = ("StruggleDetection", "VideoIntelligence", "InterventionEngine")


# Trained exit-risk models in the models bucket: one folder per version, never overwritten.
EXIT_RISK_MODELS_PREFIX = "models/exit-risk/"


def exit_risk_model_key(version: str, name: str = "model.json") -> str:
    """The S3 key of a model version's file (``model.json``, ``metrics.json``, ``report.md``)."""
    return f"{EXIT_RISK_MODELS_PREFIX}{version}/{name}"
