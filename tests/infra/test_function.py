"""The reusable function construct, and what infra/ takes from the journey library (journey.resources only)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from aws_cdk import App, Duration, RemovalPolicy, Stack, Validations
from aws_cdk import aws_kms as kms
from aws_cdk.assertions import Template
from cdk_nag import AwsSolutionsChecks
from constructs import Construct

from infra.function import JourneyFunction, Observability
from journey.resources import TABLES, USER_STATE, Env

INFRA = Path(__file__).resolve().parents[2] / "infra"
OBSERVABILITY = Observability("svc", "Namespace")


def _only(template: Template, kind: str) -> tuple[str, dict]:
    (found,) = template.find_resources(kind).items()
    return found


def _logs_statements(template: Template) -> list[dict]:
    (key,) = template.find_resources("AWS::KMS::Key").values()
    return [
        s
        for s in key["Properties"]["KeyPolicy"]["Statement"]
        if "logs." in str(s["Principal"].get("Service")) and "kms:EncryptionContext:aws:logs:arn" in str(s.get("Condition"))
    ]


def _function(template: Template, logical_prefix: str) -> tuple[str, dict]:
    (found,) = [(lid, r) for lid, r in template.find_resources("AWS::Lambda::Function").items() if lid.startswith(logical_prefix)]
    return found


PROCESSOR = "ProcessingStreamProcessor"
TIMER = "DeadlinesDeadlineTimer"


def test_each_log_group_is_encrypted_with_the_data_key_and_kept_a_month(template):
    (key_id, _key) = _only(template, "AWS::KMS::Key")
    log_groups = template.find_resources("AWS::Logs::LogGroup")
    functions = template.find_resources("AWS::Lambda::Function")
    assert len(functions) == 7  # the stream processor, the deadline timer, the API, the agent invoker, 3 action groups
    assert len(log_groups) == len(functions) + 1  # and the API's access logs (tests/infra/test_api.py)
    statements = _logs_statements(template)
    assert len(statements) == len(log_groups)  # one key policy statement per log group
    for function in functions.values():
        log_group_id = function["Properties"]["LoggingConfig"]["LogGroup"]["Ref"]
        props = log_groups[log_group_id]["Properties"]
        assert props["RetentionInDays"] == 30
        assert props["KmsKeyId"] == {"Fn::GetAtt": [key_id, "Arn"]}
        # the key lets CloudWatch Logs (of the stack's region) use it for this log group only
        (statement,) = [
            s
            for s in statements
            if s["Condition"]["ArnEquals"]["kms:EncryptionContext:aws:logs:arn"]["Fn::Join"][1][-1].endswith(
                f":log-group:{props['LogGroupName']}"
            )
        ]
        assert statement["Effect"] == "Allow"
        assert "logs." in str(statement["Principal"]["Service"]) and "AWS::Region" in str(statement["Principal"]["Service"])


def _function_stack(outdir: Path) -> tuple[App, Stack]:
    app = App(outdir=str(outdir))
    stack = Stack(app, "Throwaway")
    key = kms.Key(stack, "Key", enable_key_rotation=True, removal_policy=RemovalPolicy.DESTROY)
    common = {
        "code": "stream_processor",
        "observability": OBSERVABILITY,
        "log_key": key,
        "removal_policy": RemovalPolicy.DESTROY,
    }
    JourneyFunction(stack, "First", description="first", environment={Env.QUARANTINE_BUCKET: "b"}, **common)
    nested = Construct(stack, "Elsewhere")  # a function in another construct still shares the stack's layers
    JourneyFunction(nested, "Second", description="second", environment={}, memory_mb=256, timeout=Duration.seconds(5), **common)
    return app, stack


def test_any_number_of_functions_share_one_journey_layer_and_one_dependencies_layer(tmp_path):
    app, stack = _function_stack(tmp_path)
    Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    app.synth()  # raises if the construct leaves a cdk-nag finding unacknowledged
    template = Template.from_stack(stack)
    layers = template.find_resources("AWS::Lambda::LayerVersion")
    assert len(layers) == 2
    functions = template.find_resources("AWS::Lambda::Function").values()
    assert len(functions) == 2
    for function in functions:
        props = function["Properties"]
        assert sorted(layer["Ref"] for layer in props["Layers"]) == sorted(layers)
        assert props["Runtime"] == "python3.14" and props["Architectures"] == ["x86_64"]
        assert props["Handler"] == "handler.lambda_handler"
        assert props["TracingConfig"] == {"Mode": "Active"}
        assert OBSERVABILITY.environment().items() <= props["Environment"]["Variables"].items()
    names = {g["Properties"]["LogGroupName"] for g in template.find_resources("AWS::Logs::LogGroup").values()}
    assert names == {"/aws/lambda/Throwaway/First", "/aws/lambda/Throwaway/Elsewhere/Second"}
    assert len(_logs_statements(template)) == 2  # one key policy statement per log group


def test_the_environment_cannot_override_the_observability_settings(tmp_path):
    app = App(outdir=str(tmp_path))
    stack = Stack(app, "Clash")
    with pytest.raises(ValueError, match=Env.TRACE_DISABLED):
        JourneyFunction(
            stack,
            "Fn",
            code="stream_processor",
            description="clash",
            environment={Env.TRACE_DISABLED: "false"},
            observability=OBSERVABILITY,
            log_key=kms.Key(stack, "Key"),
            removal_policy=RemovalPolicy.DESTROY,
        )


def test_the_processor_environment_is_named_by_journey_resources(template):
    (_fn_id, function) = _function(template, PROCESSOR)
    variables = function["Properties"]["Environment"]["Variables"]
    env_names = {value for name, value in vars(Env).items() if not name.startswith("_")}
    assert {spec.env for spec in TABLES} <= variables.keys()
    assert variables.keys() <= {spec.env for spec in TABLES} | env_names | OBSERVABILITY.environment().keys()
    tables = template.find_resources("AWS::DynamoDB::Table")
    for spec in TABLES:  # each variable names the table built from the same spec, with the spec's key schema
        table_id = variables[spec.env]["Ref"]
        assert table_id.startswith(f"Storage{spec.logical_id}")
        assert [k["AttributeName"] for k in tables[table_id]["Properties"]["KeySchema"]] == list(spec.key_names)


def _journey_imports(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names if alias.name.split(".")[0] == "journey"]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module.split(".")[0] == "journey":
            found += [f"{node.module}.{alias.name}" if node.module == "journey" else node.module for alias in node.names]
    return found


def test_infra_imports_nothing_from_journey_but_journey_resources():
    modules = sorted(INFRA.glob("**/*.py"))
    assert modules
    imported = {str(path.relative_to(INFRA)): _journey_imports(path) for path in modules}
    assert any(imported.values()), "infra/ should build tables and environments from journey.resources"
    offending = {module: names for module, names in imported.items() if set(names) - {"journey.resources"}}
    assert not offending, offending


def test_the_timer_environment_is_named_by_journey_resources(template):
    (_fn_id, function) = _function(template, TIMER)
    variables = function["Properties"]["Environment"]["Variables"]
    env_names = {value for name, value in vars(Env).items() if not name.startswith("_")}
    assert variables.keys() <= {USER_STATE.env} | env_names | OBSERVABILITY.environment().keys()
    assert variables[USER_STATE.env]["Ref"].startswith(f"Storage{USER_STATE.logical_id}")  # the state table, nothing else
    assert variables[Env.EVENT_STREAM_NAME]["Ref"].startswith("ProcessingEventStream")
    assert int(variables[Env.TIMER_MAX_USERS]) == 10_000
