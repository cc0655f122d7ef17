"""The one way this project declares a Lambda function: ``JourneyFunction``.

Every function gets the same runtime and architecture, the two layers (built once per stack by
``SharedLayers``), a log group with retention that is encrypted with the stack's key, active
tracing, Powertools' observability settings, its code from ``functions/<code>/`` and the cdk-nag
acknowledgments every function needs. What differs per function is passed in: its environment,
memory, timeout, description, and the grants its owner adds to ``.function``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from aws_cdk import ArnFormat, Duration, RemovalPolicy, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from infra.nag import acknowledge
from journey.resources import Env

ROOT = Path(__file__).resolve().parent.parent
FUNCTIONS = ROOT / "functions"
JOURNEY_LAYER = ROOT / "layers" / "journey"
DEPS_LAYER = ROOT / "layers" / "deps"
RUNTIME = lambda_.Runtime.PYTHON_3_14
ARCHITECTURE = lambda_.Architecture.X86_64
HANDLER = "handler.lambda_handler"
LOG_RETENTION = logs.RetentionDays.ONE_MONTH
LOG_GROUP_PREFIX = "/aws/lambda"
_EXCLUDE = ["**/__pycache__", "**/*.pyc"]


@dataclass(frozen=True)
class Observability:
    """Powertools' settings, the same shape for every function (names are Powertools' own)."""

    service: str
    metrics_namespace: str
    trace_aws_calls: bool = False  # the X-Ray SDK (a subsegment per AWS call) costs ~300 ms of cold start: opt-in
    log_level: str = "INFO"

    def environment(self) -> dict[str, str]:
        return {
            "POWERTOOLS_SERVICE_NAME": self.service,
            "POWERTOOLS_METRICS_NAMESPACE": self.metrics_namespace,
            "POWERTOOLS_LOG_LEVEL": self.log_level,
            Env.TRACE_DISABLED: "false" if self.trace_aws_calls else "true",
        }


class SharedLayers(Construct):
    """The journey domain layer and the third-party layer: one of each per stack, shared by every function."""

    ID = "SharedLayers"

    @classmethod
    def of(cls, scope: Construct) -> SharedLayers:
        stack = Stack.of(scope)
        existing = stack.node.try_find_child(cls.ID)
        if existing is None:
            return cls(stack, cls.ID)
        if not isinstance(existing, cls):
            raise TypeError(f"{stack.node.path}/{cls.ID} is a {type(existing).__name__}, not {cls.__name__}")
        return existing

    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        if not (DEPS_LAYER / "python").is_dir():
            raise FileNotFoundError(
                f"{DEPS_LAYER}/python is missing: build the dependency layer first with 'make layers' (pip, no Docker)"
            )
        self.journey = lambda_.LayerVersion(
            self,
            "JourneyLayer",
            code=lambda_.Code.from_asset(str(JOURNEY_LAYER), exclude=_EXCLUDE),
            compatible_runtimes=[RUNTIME],
            description="journey domain library: models, normalizers, detection, policy, adapters",
        )
        self.dependencies = lambda_.LayerVersion(
            self,
            "DependenciesLayer",
            code=lambda_.Code.from_asset(str(DEPS_LAYER), exclude=_EXCLUDE),
            compatible_runtimes=[RUNTIME],
            compatible_architectures=[ARCHITECTURE],
            description="third-party runtime dependencies (pip --platform manylinux2014_x86_64, no Docker)",
        )

    @property
    def layers(self) -> list[lambda_.ILayerVersion]:
        return [self.journey, self.dependencies]


class JourneyFunction(Construct):
    """A Lambda function of this project; ``.function`` is the ``lambda_.Function`` to grant to.

    The function is this construct's default child (id ``Default``), so its logical ids (function,
    role, policy, event source mappings) are those of a plain ``lambda_.Function`` declared with the
    same construct id in the same scope.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        code: str,
        description: str,
        environment: Mapping[str, str],
        observability: Observability,
        log_key: kms.IKey,
        removal_policy: RemovalPolicy,
        memory_mb: int = 512,
        timeout: Duration | None = None,
        active_tracing: bool = True,
    ) -> None:
        super().__init__(scope, construct_id)
        code_dir = FUNCTIONS / code
        if not (code_dir / "handler.py").is_file():
            raise FileNotFoundError(f"{code_dir}/handler.py is missing: a function's code is functions/<name>/handler.py")
        shared = observability.environment()
        if clashes := sorted(shared.keys() & environment.keys()):
            raise ValueError(f"{construct_id}: {clashes} are set from Observability, not from the environment")

        stack = Stack.of(self)
        # a name known at synth lets the key policy name this log group without a dependency cycle
        log_group_name = f"{LOG_GROUP_PREFIX}/{stack.stack_name}/{self.node.path[len(stack.node.path) + 1 :]}"
        self.log_group = logs.LogGroup(
            self,
            "Logs",
            log_group_name=log_group_name,
            retention=LOG_RETENTION,
            encryption_key=log_key,
            removal_policy=removal_policy,
        )
        _allow_logs_to_encrypt(self, log_key, log_group_name)
        self.function = lambda_.Function(
            self,
            "Default",
            runtime=RUNTIME,
            architecture=ARCHITECTURE,
            handler=HANDLER,
            code=lambda_.Code.from_asset(str(code_dir), exclude=["**/__pycache__"]),
            layers=SharedLayers.of(self).layers,
            memory_size=memory_mb,
            timeout=timeout or Duration.seconds(30),
            tracing=lambda_.Tracing.ACTIVE if active_tracing else lambda_.Tracing.DISABLED,
            log_group=self.log_group,
            environment={**environment, **shared},
            description=description,
        )
        acknowledge(
            self,
            "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]",
            "The AWS-managed basic execution role grants only CloudWatch Logs writes for this function's logs.",
        )
        if active_tracing:
            acknowledge(
                self,
                "AwsSolutions-IAM5[Resource::*]",
                "X-Ray PutTraceSegments/PutTelemetryRecords (active tracing) support no resource-level permissions.",
            )


def _allow_logs_to_encrypt(scope: Construct, key: kms.IKey, log_group_name: str) -> None:
    """The key policy statement CloudWatch Logs needs to encrypt a log group with a customer-managed key,
    scoped to that one log group (https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/encrypt-log-data-kms.html)."""
    stack = Stack.of(scope)
    arn = stack.format_arn(
        service="logs", resource="log-group", arn_format=ArnFormat.COLON_RESOURCE_NAME, resource_name=log_group_name
    )
    added = key.add_to_resource_policy(
        iam.PolicyStatement(
            principals=[iam.ServicePrincipal(f"logs.{stack.region}.amazonaws.com")],
            actions=["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"],
            resources=["*"],
            conditions={"ArnEquals": {"kms:EncryptionContext:aws:logs:arn": arn}},
        )
    )
    if not added.statement_added:
        raise ValueError(f"{scope.node.path}: the log key must be a key of this app (its policy cannot be changed)")
