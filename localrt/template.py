"""Reads the synthesized CloudFormation template so the local runtime is derived from it, not hand-copied."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_ASSEMBLY = ROOT / "cdk.out"


class TemplateError(RuntimeError):
    pass


@dataclass
class EventSourceMappingSpec:
    function: str
    stream: str
    batch_size: int
    batching_window_s: float
    bisect_on_error: bool
    retry_attempts: int
    max_record_age_s: int
    parallelization_factor: int
    report_batch_item_failures: bool
    starting_position: str
    on_failure_queue: str | None


@dataclass
class ScheduleSpec:
    """An EventBridge Scheduler schedule that invokes one of the template's functions."""

    logical_id: str
    function: str  # logical id of the target function
    expression: str  # rate(...) / cron(...) / at(...)
    input: str | None  # the target input, context attributes (<aws.scheduler.scheduled-time>) unreplaced
    flexible_window: str  # "OFF" or "FLEXIBLE"

    @property
    def rate_ms(self) -> int | None:
        """The period of a ``rate(n unit)`` expression in ms; None for cron and at expressions."""
        expression = self.expression.strip()
        if not (expression.startswith("rate(") and expression.endswith(")")):
            return None
        value, unit = expression[5:-1].split()
        per = {"minute": 60_000, "hour": 3_600_000, "day": 86_400_000}[unit.rstrip("s")]
        return int(value) * per


@dataclass
class FunctionSpec:
    logical_id: str
    handler: str
    code_path: Path
    environment: dict[str, Any]
    timeout_s: int
    memory_mb: int


@dataclass
class Template:
    path: Path
    resources: dict[str, dict]
    assembly: Path
    functions: dict[str, FunctionSpec] = field(default_factory=dict)
    mappings: list[EventSourceMappingSpec] = field(default_factory=list)
    schedules: list[ScheduleSpec] = field(default_factory=list)

    def of_type(self, cfn_type: str) -> dict[str, dict]:
        return {lid: r for lid, r in self.resources.items() if r["Type"] == cfn_type}


def find_template(assembly: Path = DEFAULT_ASSEMBLY) -> Path:
    candidates = sorted(assembly.glob("JourneyOrchestrator-*.template.json"))
    if not candidates:
        raise TemplateError(f"no synthesized template in {assembly}: run 'make synth' first")
    return candidates[0]


def load_template(assembly: Path = DEFAULT_ASSEMBLY) -> Template:
    path = find_template(assembly)
    body = json.loads(path.read_text())
    template = Template(path=path, resources=body["Resources"], assembly=assembly)
    for lid, resource in template.of_type("AWS::Lambda::Function").items():
        props = resource["Properties"]
        asset = resource.get("Metadata", {}).get("aws:asset:path")
        if not asset:
            continue
        template.functions[lid] = FunctionSpec(
            logical_id=lid,
            handler=props["Handler"],
            code_path=assembly / asset,
            environment=props.get("Environment", {}).get("Variables", {}),
            timeout_s=int(props.get("Timeout", 3)),
            memory_mb=int(props.get("MemorySize", 128)),
        )
    for resource in template.of_type("AWS::Lambda::EventSourceMapping").values():
        props = resource["Properties"]
        on_failure = props.get("DestinationConfig", {}).get("OnFailure", {}).get("Destination")
        template.mappings.append(
            EventSourceMappingSpec(
                function=_ref_id(props["FunctionName"]),
                stream=_ref_id(props["EventSourceArn"]),
                batch_size=int(props.get("BatchSize", 100)),
                batching_window_s=float(props.get("MaximumBatchingWindowInSeconds", 0)),
                bisect_on_error=bool(props.get("BisectBatchOnFunctionError", False)),
                retry_attempts=int(props.get("MaximumRetryAttempts", -1)),
                max_record_age_s=int(props.get("MaximumRecordAgeInSeconds", -1)),
                parallelization_factor=int(props.get("ParallelizationFactor", 1)),
                report_batch_item_failures="ReportBatchItemFailures" in props.get("FunctionResponseTypes", []),
                starting_position=props.get("StartingPosition", "LATEST"),
                on_failure_queue=_ref_id(on_failure) if on_failure else None,
            )
        )
    for lid, resource in template.of_type("AWS::Scheduler::Schedule").items():
        props = resource["Properties"]
        target = props["Target"]
        template.schedules.append(
            ScheduleSpec(
                logical_id=lid,
                function=_ref_id(target["Arn"]),
                expression=props["ScheduleExpression"],
                input=target.get("Input"),
                flexible_window=props.get("FlexibleTimeWindow", {}).get("Mode", "OFF"),
            )
        )
    if not template.mappings:
        raise TemplateError(f"{path.name} declares no event source mapping")
    return template


def _ref_id(value: Any) -> str:
    if isinstance(value, dict):
        if "Ref" in value:
            return value["Ref"]
        if "Fn::GetAtt" in value:
            return value["Fn::GetAtt"][0]
    raise TemplateError(f"expected a Ref or Fn::GetAtt, got {value!r}")
