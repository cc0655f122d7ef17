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
TABLES: tuple[TableSpec, ...] = (USER_STATE, USER_EVENTS, STRUGGLE_SIGNALS, INTERVENTIONS)

# The signals table's index by feature (hot spots): partition featureId (S), sort detectedAt (N).
FEATURE_STRUGGLE_INDEX = "FeatureStruggleIndex"


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
