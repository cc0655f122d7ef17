"""Where the orchestrator keeps things: DynamoDB tables (with the signals' feature index, the state's
sparse due index and the tenant's day index of signals and decisions), the quarantine bucket, the
models bucket (trained exit-risk models, docs/exit-risk.md), and the secret that keys the pseudonymous
user ids every table is keyed by."""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from infra.nag import acknowledge
from journey.resources import (
    DUE_INDEX,
    FEATURE_STRUGGLE_INDEX,
    INTERVENTIONS,
    STRUGGLE_SIGNALS,
    TABLES,
    TENANT_DAY_ATTRIBUTE,
    TENANT_DAY_INDEX,
    TTL_ATTRIBUTE,
    USER_STATE,
    TableSpec,
)

QUARANTINE_PREFIX = "quarantine/"  # every quarantined record's key starts here (quarantine/<owner hash>/...)
PSEUDONYM_KEY_LENGTH = 64  # alphanumeric characters: ~380 bits, the HMAC key of journey.kernel.tenancy.pseudonym


def _key(name: str) -> dynamodb.Attribute:
    return dynamodb.Attribute(name=name, type=dynamodb.AttributeType.STRING)


class JourneyStorage(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, key: kms.IKey, removal_policy: RemovalPolicy) -> None:
        super().__init__(scope, construct_id)
        # logical id (journey.resources) -> table; the key schemas are the ones the code reads
        self.tables: dict[str, dynamodb.Table] = {}
        for spec in TABLES:
            self.tables[spec.logical_id] = dynamodb.Table(
                self,
                spec.logical_id,
                partition_key=_key(spec.partition_key),
                sort_key=_key(spec.sort_key) if spec.sort_key else None,
                billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
                encryption=dynamodb.TableEncryption.CUSTOMER_MANAGED,
                encryption_key=key,
                point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                    point_in_time_recovery_enabled=True
                ),
                time_to_live_attribute=TTL_ATTRIBUTE,
                removal_policy=removal_policy,
            )
        self.tables[STRUGGLE_SIGNALS.logical_id].add_global_secondary_index(
            index_name=FEATURE_STRUGGLE_INDEX,
            partition_key=_key("featureId"),
            sort_key=dynamodb.Attribute(name="detectedAt", type=dynamodb.AttributeType.NUMBER),
            projection_type=dynamodb.ProjectionType.INCLUDE,
            non_key_attributes=["signalType", "severity"],
        )
        # sparse: only users with something due carry its keys (the deadline timer queries it per shard)
        self.tables[USER_STATE.logical_id].add_global_secondary_index(
            index_name=DUE_INDEX.name,
            partition_key=_key(DUE_INDEX.partition_key),
            sort_key=dynamodb.Attribute(name=DUE_INDEX.sort_key, type=dynamodb.AttributeType.NUMBER),
            projection_type=dynamodb.ProjectionType.KEYS_ONLY,
        )
        # the analytics read models (hot spots, uplift): a tenant's signals and decisions of one day
        for spec in (STRUGGLE_SIGNALS, INTERVENTIONS):
            if spec.sort_key is None:
                raise ValueError(f"{spec.logical_id}: the tenant-day index sorts by the table's sort key, and it has none")
            self.table(spec).add_global_secondary_index(
                index_name=TENANT_DAY_INDEX,
                partition_key=_key(TENANT_DAY_ATTRIBUTE),
                sort_key=_key(spec.sort_key),
                projection_type=dynamodb.ProjectionType.ALL,
            )

        # The key of the pseudonyms (journey.kernel.tenancy.pseudonym): with it, an app's user id maps to
        # the id every table, the stream and the quarantine know the user by. Losing or changing it
        # orphans every user's data, so it is kept like the tables (same removal policy) and not rotated.
        self.pseudonym_key = secretsmanager.Secret(
            self,
            "PseudonymKey",
            description="HMAC key of the pseudonymous user ids (never rotate: a new key re-keys every user)",
            encryption_key=key,
            generate_secret_string=secretsmanager.SecretStringGenerator(
                password_length=PSEUDONYM_KEY_LENGTH, exclude_punctuation=True, include_space=False
            ),
            removal_policy=removal_policy,
        )
        acknowledge(
            self.pseudonym_key,
            "AwsSolutions-SMG4",
            "Not a credential: the HMAC key of the pseudonymous user ids every table, the stream and the quarantine "
            "are keyed by. Rotating it would give every user a new id and orphan their data (a re-keying migration, "
            "not a rotation).",
        )

        self.access_logs = s3.Bucket(
            self,
            "AccessLogs",
            encryption=s3.BucketEncryption.S3_MANAGED,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_PREFERRED,
            lifecycle_rules=[s3.LifecycleRule(expiration=Duration.days(90))],
            removal_policy=removal_policy,
            auto_delete_objects=False,
        )
        acknowledge(
            self.access_logs,
            "AwsSolutions-S1",
            "This is the access-log bucket itself; logging it into itself would loop.",
        )
        self.quarantine = s3.Bucket(
            self,
            "Quarantine",
            encryption=s3.BucketEncryption.KMS,
            encryption_key=key,
            bucket_key_enabled=True,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            versioned=True,
            server_access_logs_bucket=self.access_logs,
            server_access_logs_prefix="quarantine/",
            lifecycle_rules=[s3.LifecycleRule(expiration=Duration.days(90), noncurrent_version_expiration=Duration.days(30))],
            removal_policy=removal_policy,
        )

        # Trained exit-risk models (models/exit-risk/<version>/model.json, metrics.json, report.md), published by an
        # operator or CI role outside the stack (python -m ml.publish), read by the stream processor (to score) and the
        # API function (to explain a score with the version that scored it), never written by the stack.
        # S3-managed encryption (SSE-S3, AES-256), not the data key: a model holds tree thresholds and aggregate
        # metrics, no user's data, and whoever publishes one (a CI role, a SageMaker training job writing its
        # output here) then needs no grant on the key that protects every user's records.
        # Versioned: a version is never overwritten (publish writes with If-None-Match), and a deleted
        # object can be restored; nothing expires (models are kept) but unfinished multipart uploads.
        self.models = s3.Bucket(
            self,
            "Models",
            encryption=s3.BucketEncryption.S3_MANAGED,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            versioned=True,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            server_access_logs_bucket=self.access_logs,
            server_access_logs_prefix="models/",
            lifecycle_rules=[s3.LifecycleRule(abort_incomplete_multipart_upload_after=Duration.days(7))],
            removal_policy=removal_policy,
        )

    def table(self, spec: TableSpec) -> dynamodb.Table:
        return self.tables[spec.logical_id]

    def table_environment(self, *specs: TableSpec) -> dict[str, str]:
        """Each table's name under the variable the functions read it from (all tables when none are named)."""
        return {spec.env: self.table(spec).table_name for spec in specs or TABLES}
