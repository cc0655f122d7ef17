"""AI decisions in the synthesized template, in each deployment choice (``-c agent=agentcore|classic|none``):
the AgentCore harness and gateway (default) or the Bedrock agent and alias, the escalation queue and
its invoker, the three action groups with the schemas of journey.agent.tools, least-privilege roles,
cdk-nag clean; and the API's context analysis."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from aws_cdk import App

from infra.config import DeploymentConfig
from journey.agent.tools import manifest, manifest_text, mcp_tools
from journey.resources import ACTION_GROUPS, CONTEXT_ANALYSES, TABLES, Env
from journey.settings import AgentSettings
from tests.infra.conftest import synthesize

MANIFEST = Path(__file__).resolve().parents[2] / "infra" / "agent_tools.json"
PROCESSOR = "ProcessingStreamProcessor"
INVOKER = "AgentInvoker"
API_FUNCTION = "ApiApiFunction"
BEDROCK_TYPES = (
    "AWS::BedrockAgentCore::Harness",
    "AWS::BedrockAgentCore::Gateway",
    "AWS::BedrockAgentCore::GatewayTarget",
    "AWS::Bedrock::Agent",
    "AWS::Bedrock::AgentAlias",
)
CONSTRAINTS = {"maxLength", "minLength", "minimum", "maximum", "pattern"}  # kept by the action groups' own validation


@pytest.fixture(scope="module")
def classic(tmp_path_factory):
    return synthesize(tmp_path_factory.mktemp("cdk-classic"), agent="classic")


@pytest.fixture(scope="module")
def none(tmp_path_factory):
    return synthesize(tmp_path_factory.mktemp("cdk-none"), agent="none")


@pytest.fixture(scope="module")
def switched_off(tmp_path_factory):
    """agentcore with no context analysis."""
    return synthesize(tmp_path_factory.mktemp("cdk-off"), contextAnalysis="false")[0]


@pytest.fixture(scope="module")
def hooked(tmp_path_factory):
    """agentcore with the harness's before-tool-call hook (-c harnessPolicyHook=true)."""
    return synthesize(tmp_path_factory.mktemp("cdk-hook"), harnessPolicyHook="true")[0]


# --- helpers ------------------------------------------------------------------------------------------------
def _listed(value) -> list:
    return value if isinstance(value, list) else [value]


def _only(template, kind: str) -> tuple[str, dict]:
    (found,) = template.find_resources(kind).items()
    return found


def _function_id(template, prefix: str) -> str:
    (found,) = [lid for lid in template.find_resources("AWS::Lambda::Function") if lid.startswith(prefix)]
    return found


def _environment(template, prefix: str) -> dict:
    return template.find_resources("AWS::Lambda::Function")[_function_id(template, prefix)]["Properties"]["Environment"][
        "Variables"
    ]


def _statements_of(template, role_prefix: str) -> list[dict]:
    return [
        s
        for p in template.find_resources("AWS::IAM::Policy").values()
        if any(role["Ref"].startswith(role_prefix) for role in p["Properties"]["Roles"])
        for s in p["Properties"]["PolicyDocument"]["Statement"]
    ]


def _actions(statements) -> set[str]:
    return {a for s in statements for a in _listed(s["Action"])}


def _arn(logical_id: str) -> dict:
    return {"Fn::GetAtt": [logical_id, "Arn"]}


def _table_arn(template, spec) -> dict:
    (found,) = [lid for lid in template.find_resources("AWS::DynamoDB::Table") if lid.startswith(f"Storage{spec.logical_id}")]
    return _arn(found)


def _cfn(schema: dict) -> dict:
    """A JSON schema as the template spells it (CloudFormation's capitalized keys; property names kept)."""
    out = {}
    for key, value in schema.items():
        if key == "properties":
            value = {name: _cfn(spec) for name, spec in value.items()}
        elif key in ("inputSchema", "items"):
            value = _cfn(value)
        out[key[0].upper() + key[1:]] = value
    return out


def _without_constraints(schema: dict) -> dict:
    reduced = {k: v for k, v in schema.items() if k not in CONSTRAINTS}
    if "properties" in reduced:
        reduced["properties"] = {name: _without_constraints(spec) for name, spec in reduced["properties"].items()}
    return reduced


# --- the tools are defined once ----------------------------------------------------------------------------
def test_agent_tools_json_is_generated_from_the_library():
    assert MANIFEST.read_text() == manifest_text(), "infra/agent_tools.json is stale: run 'make agent-tools'"
    assert [group["name"] for group in manifest()["actionGroups"]] == list(ACTION_GROUPS)


def test_infra_defaults_are_the_agent_settings_defaults():
    config, settings = DeploymentConfig(), AgentSettings()
    assert config.agent_mode == "agentcore"
    assert (config.agent_model_id, config.context_model_id) == (settings.model_id, settings.context_model_id)
    assert config.context_analysis is True


@pytest.mark.parametrize(
    ("context", "message"),
    [({"agent": "bedrock"}, "agent must be agentcore"), ({"agentModel": "not a model"}, "agentModel")],
)
def test_the_agent_configuration_is_validated(context, message):
    with pytest.raises(ValueError, match=message):
        DeploymentConfig.from_context(App(context=context).node)


# --- agentcore (the default) --------------------------------------------------------------------------------
def test_default_holds_one_harness_one_gateway_and_a_lambda_target_per_action_group(template):
    _gateway_id, gateway = _only(template, "AWS::BedrockAgentCore::Gateway")
    _harness_id, _harness = _only(template, "AWS::BedrockAgentCore::Harness")
    props = gateway["Properties"]
    assert (props["ProtocolType"], props["AuthorizerType"]) == ("MCP", "AWS_IAM")
    assert props["KmsKeyArn"]["Fn::GetAtt"][0].startswith("DataKey")
    targets = template.find_resources("AWS::BedrockAgentCore::GatewayTarget").values()
    assert sorted(t["Properties"]["Name"] for t in targets) == sorted(ACTION_GROUPS)
    for target in targets:
        props = target["Properties"]
        group = props["Name"]
        assert props["GatewayIdentifier"] == {"Fn::GetAtt": [_gateway_id, "GatewayIdentifier"]}
        assert props["CredentialProviderConfigurations"] == [{"CredentialProviderType": "GATEWAY_IAM_ROLE"}]
        lambda_target = props["TargetConfiguration"]["Mcp"]["Lambda"]
        assert lambda_target["LambdaArn"] == _arn(_function_id(template, f"Agent{group}"))
        tools = lambda_target["ToolSchema"]["InlinePayload"]
        assert [tool["Name"] for tool in tools] == [tool["name"] for tool in mcp_tools(group)]
    assert {f["Properties"]["Handler"] for f in template.find_resources("AWS::Lambda::Function").values()} == {
        "handler.lambda_handler"
    }


def test_gateway_schemas_are_the_library_definition_less_what_a_gateway_schema_cannot_hold(template):
    """The Gateway's SchemaDefinition has type, description, properties, required and items only: the value
    constraints (maxLength, minimum, pattern) are enforced by the action groups (journey.agent.tools)."""
    for target in template.find_resources("AWS::BedrockAgentCore::GatewayTarget").values():
        group = target["Properties"]["Name"]
        payload = target["Properties"]["TargetConfiguration"]["Mcp"]["Lambda"]["ToolSchema"]["InlinePayload"]
        expected = [_cfn({**tool, "inputSchema": _without_constraints(tool["inputSchema"])}) for tool in mcp_tools(group)]
        assert payload == expected


def test_the_harness_runs_the_model_with_the_gateway_as_its_only_tool(template):
    _harness_id, harness = _only(template, "AWS::BedrockAgentCore::Harness")
    props = harness["Properties"]
    gateway_id, _ = _only(template, "AWS::BedrockAgentCore::Gateway")
    assert props["Model"]["BedrockModelConfig"]["ModelId"] == AgentSettings().model_id
    (tool,) = props["Tools"]
    assert tool["Type"] == "agentcore_gateway"
    assert tool["Config"]["AgentCoreGateway"]["GatewayArn"] == {"Fn::GetAtt": [gateway_id, "GatewayArn"]}
    assert props["AllowedTools"] == [f"@{tool['Name']}"]  # no shell, no file operations
    assert props["Memory"] == {"Disabled": {}}
    prompt = props["SystemPrompt"][0]["Text"]
    for phrase in ("list_allowed_interventions", "schedule_intervention", "at most one", "invented urgency"):
        assert phrase in prompt
    assert props["ExecutionRoleArn"]["Fn::GetAtt"][0].startswith("AgentCoreHarnessRole")


def test_the_harness_and_gateway_roles_are_least_privilege(template):
    harness_actions = _actions(_statements_of(template, "AgentCoreHarnessRole"))
    assert harness_actions == {
        "bedrock:InvokeModel",
        "bedrock:InvokeModelWithResponseStream",
        "bedrock-agentcore:InvokeGateway",
        "logs:CreateLogGroup",
        "logs:CreateLogStream",
        "logs:PutLogEvents",
        "logs:DescribeLogStreams",
    }
    profiles = [s for s in _statements_of(template, "AgentCoreHarnessRole") if "inference-profile" in json.dumps(s["Resource"])]
    (profile,) = profiles
    assert f":inference-profile/{AgentSettings().model_id}" in json.dumps(profile["Resource"])
    models = [s for s in _statements_of(template, "AgentCoreHarnessRole") if "foundation-model" in json.dumps(s["Resource"])]
    assert models and all("bedrock:InferenceProfileArn" in s["Condition"]["StringLike"] for s in models)
    gateway = _statements_of(template, "AgentCoreGatewayRole")
    (invoke,) = [s for s in gateway if s["Action"] == "lambda:InvokeFunction"]
    assert sorted(json.dumps(r) for r in invoke["Resource"]) == sorted(
        json.dumps(_arn(_function_id(template, f"Agent{group}"))) for group in ACTION_GROUPS
    )
    assert _actions(gateway) == {
        "lambda:InvokeFunction",
        "kms:CreateGrant",
        "kms:DescribeKey",
        "kms:Decrypt",
        "kms:GenerateDataKey",
    }
    for role_prefix in ("AgentCoreHarnessRole", "AgentCoreGatewayRole"):
        (role,) = [r for lid, r in template.find_resources("AWS::IAM::Role").items() if lid.startswith(role_prefix)]
        (trust,) = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
        assert trust["Principal"] == {"Service": "bedrock-agentcore.amazonaws.com"}
        assert "aws:SourceAccount" in trust["Condition"]["StringEquals"] and "aws:SourceArn" in trust["Condition"]["ArnLike"]


def test_the_invoker_calls_the_harness_and_appends_to_the_stream(template):
    harness_id, _ = _only(template, "AWS::BedrockAgentCore::Harness")
    variables = _environment(template, INVOKER)
    assert variables[Env.AGENT_MODE] == "agentcore"
    assert variables[Env.HARNESS_ARN] == _arn(harness_id)
    assert variables[Env.AGENT_MODEL_ID] == AgentSettings().model_id
    assert variables[Env.EVENT_STREAM_NAME]["Ref"].startswith("ProcessingEventStream")
    statements = _statements_of(template, INVOKER)
    (invoke,) = [s for s in statements if "bedrock-agentcore:InvokeHarness" in _listed(s["Action"])]
    assert set(invoke["Action"]) == {"bedrock-agentcore:InvokeHarness", "bedrock-agentcore:InvokeAgentRuntime"}
    assert invoke["Resource"] == _arn(harness_id)


# --- the queue, the invoker and the action groups (agentcore and classic) ------------------------------------
def test_escalations_queue_is_encrypted_with_a_dead_letter_queue_and_feeds_the_invoker_in_small_batches(template):
    queues = template.find_resources("AWS::SQS::Queue")
    (queue_id,) = [lid for lid in queues if lid.startswith("AgentEscalationQueue")]
    (dlq_id,) = [lid for lid in queues if lid.startswith("AgentEscalationDeadLetters")]
    queue = queues[queue_id]["Properties"]
    assert queue["KmsMasterKeyId"]["Fn::GetAtt"][0].startswith("DataKey")
    assert queue["RedrivePolicy"] == {"deadLetterTargetArn": _arn(dlq_id), "maxReceiveCount": 3}
    invoker = template.find_resources("AWS::Lambda::Function")[_function_id(template, INVOKER)]["Properties"]
    assert queue["VisibilityTimeout"] >= 6 * invoker["Timeout"]
    (mapping,) = [
        m["Properties"]
        for m in template.find_resources("AWS::Lambda::EventSourceMapping").values()
        if m["Properties"]["EventSourceArn"] == _arn(queue_id)
    ]
    assert mapping["FunctionName"] == {"Ref": _function_id(template, INVOKER)}
    assert mapping["BatchSize"] == 3 and mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    # the processor sends escalations there, and may do nothing else with the queue
    variables = _environment(template, PROCESSOR)
    assert variables[Env.AGENT_MODE] == "agentcore" and variables[Env.ESCALATION_QUEUE_URL] == {"Ref": queue_id}
    sqs = [s for s in _statements_of(template, PROCESSOR) if any(a.startswith("sqs:") for a in _listed(s["Action"]))]
    assert [(s["Action"], s["Resource"]) for s in sqs if s["Resource"] == _arn(queue_id)] == [("sqs:SendMessage", _arn(queue_id))]
    descriptions = {a["Properties"]["AlarmDescription"] for a in template.find_resources("AWS::CloudWatch::Alarm").values()}
    assert sum("(runbook: agent escalations)" in d for d in descriptions) == 2


def _least_privilege(template) -> None:
    statements = [
        s for p in template.find_resources("AWS::IAM::Policy").values() for s in p["Properties"]["PolicyDocument"]["Statement"]
    ]
    actions = _actions(statements)
    assert not [a for a in actions if "*" in a and not a.startswith("kms:")], actions  # kms:*Key*: the L2 grants' own
    assert not [a for a in actions if a == "*" or a.endswith(":*")]
    # the invoker writes no table (the processor is the only writer: DESIGN.md rule 1)
    assert not [a for a in _actions(_statements_of(template, INVOKER)) if a.startswith("dynamodb:")]
    for group in ACTION_GROUPS:
        group_actions = _actions(_statements_of(template, f"Agent{group}"))
        assert {a for a in group_actions if a.startswith("dynamodb:")} == {
            "dynamodb:GetItem",
            "dynamodb:BatchGetItem",
            "dynamodb:Query",
        }
        writes_stream = {a for a in group_actions if a.startswith("kinesis:")}
        assert writes_stream == ({"kinesis:PutRecord", "kinesis:PutRecords"} if group == "InterventionEngine" else set()), group
        assert not [a for a in group_actions if a.startswith(("sqs:", "bedrock", "s3:", "sns:", "secretsmanager:"))], group


def test_roles_are_least_privilege_in_the_default(template):
    _least_privilege(template)


def test_the_action_groups_read_the_tables_and_only_the_intervention_engine_names_the_stream(template):
    for group in ACTION_GROUPS:
        fn = template.find_resources("AWS::Lambda::Function")[_function_id(template, f"Agent{group}")]["Properties"]
        assert fn["Code"]["S3Key"]  # an asset from functions/<code>/
        variables = fn["Environment"]["Variables"]
        assert {"STATE_TABLE", "SIGNALS_TABLE", "INTERVENTIONS_TABLE"} <= variables.keys()
        assert (Env.EVENT_STREAM_NAME in variables) == (group == "InterventionEngine")
        env_names = {value for name, value in vars(Env).items() if not name.startswith("_")} | {s.env for s in TABLES}
        assert {k for k in variables if not k.startswith("POWERTOOLS_")} <= env_names


def test_cdk_nag_is_clean_in_the_default(nag_report):
    _nag_clean(nag_report)


def _nag_clean(report) -> None:
    for plugin in report["pluginReports"]:
        assert plugin["conclusion"] == "success" and plugin["violations"] == [], plugin["pluginName"]
    for rule, reason in report["acknowledged"].items():
        assert len(reason) > 30, rule


# --- classic -----------------------------------------------------------------------------------------------
def test_classic_holds_an_agent_with_the_three_action_groups_and_an_alias(classic):
    template, report = classic
    agent_id, agent = _only(template, "AWS::Bedrock::Agent")
    props = agent["Properties"]
    assert props["FoundationModel"] == AgentSettings().model_id and props["AutoPrepare"] is True
    assert props["CustomerEncryptionKeyArn"]["Fn::GetAtt"][0].startswith("DataKey")
    assert props["AgentResourceRoleArn"]["Fn::GetAtt"][0].startswith("AgentClassicAgentRole")
    assert "list_allowed_interventions" in props["Instruction"] and 60 <= props["IdleSessionTTLInSeconds"] <= 3600
    groups = {g["ActionGroupName"]: g for g in props["ActionGroups"]}
    assert list(groups) == list(ACTION_GROUPS)
    library = {group["name"]: group for group in manifest()["actionGroups"]}
    for name, group in groups.items():
        assert group["ActionGroupExecutor"] == {"Lambda": _arn(_function_id(template, f"Agent{name}"))}
        functions = group["FunctionSchema"]["Functions"]
        assert [f["Name"] for f in functions] == [f["name"] for f in library[name]["functions"]]
        for mine, theirs in zip(functions, library[name]["functions"], strict=True):
            assert {p: (d["Type"], d["Required"]) for p, d in mine["Parameters"].items()} == {
                p: (d["type"], d["required"]) for p, d in theirs["parameters"].items()
            }
    _alias_id, alias = _only(template, "AWS::Bedrock::AgentAlias")
    assert alias["Properties"]["AgentId"] == {"Fn::GetAtt": [agent_id, "AgentId"]}
    permissions = [
        p["Properties"]
        for p in template.find_resources("AWS::Lambda::Permission").values()
        if p["Properties"]["Principal"] == "bedrock.amazonaws.com"
    ]
    assert sorted(json.dumps(p["FunctionName"]) for p in permissions) == sorted(
        json.dumps(_arn(_function_id(template, f"Agent{group}"))) for group in ACTION_GROUPS
    )
    assert all(p["SourceArn"] == {"Fn::GetAtt": [agent_id, "AgentArn"]} for p in permissions)
    for kind in BEDROCK_TYPES[:3]:
        assert template.find_resources(kind) == {}
    _nag_clean(report)


def test_classic_roles_are_least_privilege(classic):
    template, _ = classic
    _least_privilege(template)
    alias_id, _ = _only(template, "AWS::Bedrock::AgentAlias")
    agent_id, _ = _only(template, "AWS::Bedrock::Agent")
    variables = _environment(template, INVOKER)
    assert variables[Env.AGENT_MODE] == "classic" and Env.HARNESS_ARN not in variables
    assert variables[Env.AGENT_ID] == {"Fn::GetAtt": [agent_id, "AgentId"]}
    assert variables[Env.AGENT_ALIAS_ID] == {"Fn::GetAtt": [alias_id, "AgentAliasId"]}
    (invoke,) = [s for s in _statements_of(template, INVOKER) if "bedrock:InvokeAgent" in _listed(s["Action"])]
    assert invoke["Resource"] == {"Fn::GetAtt": [alias_id, "AgentAliasArn"]}
    assert _actions(_statements_of(template, "AgentClassicAgentRole")) == {
        "bedrock:InvokeModel",
        "bedrock:GetInferenceProfile",
        "kms:GenerateDataKey",
        "kms:Decrypt",
    }
    (role,) = [r for lid, r in template.find_resources("AWS::IAM::Role").items() if lid.startswith("AgentClassicAgentRole")]
    (trust,) = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Principal"] == {"Service": "bedrock.amazonaws.com"} and "aws:SourceArn" in trust["Condition"]["ArnLike"]


# --- none ---------------------------------------------------------------------------------------------------
def test_none_deploys_no_agent_and_the_processor_decides_alone(none):
    template, report = none
    for kind in BEDROCK_TYPES:
        assert template.find_resources(kind) == {}
    assert not [lid for lid in template.find_resources("AWS::Lambda::Function") if lid.startswith("Agent")]
    assert not [lid for lid in template.find_resources("AWS::SQS::Queue") if lid.startswith("Agent")]
    variables = _environment(template, PROCESSOR)
    assert variables[Env.AGENT_MODE] == "none" and Env.ESCALATION_QUEUE_URL not in variables
    sends = [s for s in _statements_of(template, PROCESSOR) if "sqs:SendMessage" in _listed(s["Action"])]
    assert all(s["Resource"]["Fn::GetAtt"][0].startswith("ProcessingOnFailureDestination") for s in sends)  # its own DLQ only
    _nag_clean(report)


# --- switches: the harness's hook, the context analysis -------------------------------------------------------
def test_by_default_the_harness_has_no_hook_and_the_gate_is_in_the_action_group(template):
    _harness_id, harness = _only(template, "AWS::BedrockAgentCore::Harness")
    assert "Hooks" not in harness["Properties"]
    assert "lambda:InvokeFunction" not in _actions(_statements_of(template, "AgentCoreHarnessRole"))
    assert len(template.find_resources("AWS::BedrockAgentCore::GatewayTarget")) == 3


def test_the_harness_hook_calls_the_intervention_engine_and_denies_on_failure(hooked):
    _harness_id, harness = _only(hooked, "AWS::BedrockAgentCore::Harness")
    (hook,) = harness["Properties"]["Hooks"]
    gate = hook["BeforeToolCall"]["Target"]["Lambda"]
    assert gate["Arn"] == _arn(_function_id(hooked, "AgentInterventionEngine"))
    assert gate["FailureMode"] == "deny"
    by_action = {a: s for s in _statements_of(hooked, "AgentCoreHarnessRole") for a in _listed(s["Action"])}
    assert by_action["lambda:InvokeFunction"]["Resource"] == _arn(_function_id(hooked, "AgentInterventionEngine"))


def test_the_api_analyses_context_with_its_model_and_caches_it(template):
    variables = _environment(template, API_FUNCTION)
    assert variables[Env.CONTEXT_MODEL_ID] == AgentSettings().context_model_id
    assert variables[CONTEXT_ANALYSES.env] == {"Ref": _table_arn(template, CONTEXT_ANALYSES)["Fn::GetAtt"][0]}
    statements = _statements_of(template, API_FUNCTION)
    cache = [s for s in statements if s["Resource"] == _table_arn(template, CONTEXT_ANALYSES)]
    assert _actions(cache) == {"dynamodb:GetItem", "dynamodb:PutItem"}
    bedrock = [s for s in statements if any(a.startswith("bedrock:") for a in _listed(s["Action"]))]
    assert _actions(bedrock) == {"bedrock:InvokeModel"}
    assert "inference-profile/us.amazon.nova-micro-v1:0" in json.dumps(bedrock)


def test_the_context_analysis_can_be_switched_off(switched_off):
    variables = _environment(switched_off, API_FUNCTION)
    assert Env.CONTEXT_MODEL_ID not in variables
    statements = _statements_of(switched_off, API_FUNCTION)
    assert not [a for a in _actions(statements) if a.startswith("bedrock:")]
    assert not [s for s in statements if s["Resource"] == _table_arn(switched_off, CONTEXT_ANALYSES)]
