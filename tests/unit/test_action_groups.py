"""The three action groups' real handlers, invoked as each deployment invokes them, over in-memory
ports: Agents Classic's function-details event (the shape of
https://docs.aws.amazon.com/bedrock/latest/userguide/agents-lambda.html) and its response, errors as
``responseState`` FAILURE with the reason; the AgentCore Gateway's Lambda target (the event is the
tool's arguments, the tool's name ``<target>___<tool>`` in the client context), errors as ``isError``."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from journey.agent.tools import TOOLS
from journey.app.agent_tools import AgentToolPorts, policy_gate
from journey.lambda_kit.bedrock import ActionGroup
from journey.resources import ACTION_GROUPS
from journey.settings import PolicySettings, Settings
from tests.builders import T0
from tests.unit.test_agent_tools import ESCALATION, USER, MemoryCommands, World, escalated_user, pending, watched

ROOT = Path(__file__).resolve().parents[2]
FOLDERS = {
    "StruggleDetection": "struggle_detection",
    "VideoIntelligence": "video_intelligence",
    "InterventionEngine": "intervention_engine",
}


class Context:
    """Lambda's context as Powertools reads it; ``custom`` is what a client put in the client context."""

    function_name = "InterventionEngine"
    memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:InterventionEngine"
    aws_request_id = "2f7e4c52-0c7b-4a43-9d3e-000000000001"

    def __init__(self, custom: dict[str, Any] | None = None):
        self.client_context = SimpleNamespace(custom=custom, env={}, client=None) if custom is not None else None

    @staticmethod
    def get_remaining_time_in_millis() -> int:
        return 10_000


def classic_event(group: str, function: str, session_user: str = USER, **parameters: Any) -> dict[str, Any]:
    """Agents Classic's input event for an action group defined with function details."""
    types = {str: "string", int: "integer", bool: "boolean"}
    return {
        "messageVersion": "1.0",
        "agent": {"name": "journey-agent", "id": "AGENT12345", "alias": "TSTALIASID", "version": "DRAFT"},
        "inputText": "Decide escalation e-0123 for this user.",
        "sessionId": "123456789012-escalation",
        "actionGroup": group,
        "function": function,
        "parameters": [{"name": name, "type": types[type(value)], "value": str(value)} for name, value in parameters.items()],
        "sessionAttributes": {"userId": session_user, "escalationId": ESCALATION, "tenant": "demo"} if session_user else {},
        "promptSessionAttributes": {},
    }


def gateway_context(group: str, tool: str) -> Context:
    return Context(
        {
            "bedrockAgentCoreToolName": f"{group}___{tool}",
            "bedrockAgentCoreGatewayId": "journey-gw-abcdef1234",
            "bedrockAgentCoreTargetId": "TARGET1234",
            "bedrockAgentCoreMessageVersion": "1.0",
            "bedrockAgentCoreAwsRequestId": "5b3e5a61-0000-4000-8000-000000000001",
            "bedrockAgentCoreMcpMessageId": "7",
        }
    )


@pytest.fixture
def handlers(monkeypatch):
    """Each group's real handler module, its tools wired to the world's in-memory ports."""
    monkeypatch.setenv("POWERTOOLS_TRACE_DISABLED", "true")
    monkeypatch.setenv("POWERTOOLS_METRICS_NAMESPACE", "Test")
    world = World()
    loaded = {}
    for group, folder in FOLDERS.items():
        name = f"action_group_under_test_{folder}"
        spec = importlib.util.spec_from_file_location(name, ROOT / "functions" / folder / "handler.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        monkeypatch.setattr(module.action_group, "ports", world.ports)
        loaded[group] = module.lambda_handler
        monkeypatch.setitem(sys.modules, name, module)
    return SimpleNamespace(world=world, **loaded)


def function_response(response: dict[str, Any]) -> tuple[str, str | None]:
    answer = response["response"]["functionResponse"]
    return answer["responseBody"]["TEXT"]["body"], answer.get("responseState")


def test_each_group_has_a_function_folder_with_a_handler():
    assert set(FOLDERS) == set(ACTION_GROUPS)
    for group, folder in FOLDERS.items():
        assert (ROOT / "functions" / folder / "handler.py").is_file() and (ROOT / "functions" / folder / "__init__.py").is_file()
        assert set(ActionGroup(group, World().ports).tools) == {t.name for t in TOOLS if t.group == group}


# --- Agents Classic ------------------------------------------------------------------------------------


def test_classic_open_signals_answer_as_text_with_the_session_kept(handlers):
    escalated_user(handlers.world)
    event = classic_event("StruggleDetection", "get_open_signals", userId=USER)
    response = handlers.StruggleDetection(event, Context())
    assert response["messageVersion"] == "1.0"
    assert (response["response"]["actionGroup"], response["response"]["function"]) == ("StruggleDetection", "get_open_signals")
    body, state = function_response(response)
    assert state is None
    assert json.loads(body)["exitRisk"] == {"score": 72, "band": "HIGH"}
    assert response["sessionAttributes"] == event["sessionAttributes"]


def test_classic_numbers_arrive_as_strings_and_are_read_as_the_tool_declares(handlers):
    escalated_user(handlers.world)
    event = classic_event("StruggleDetection", "get_feature_hotspots", userId=USER, days=3)
    body, state = function_response(handlers.StruggleDetection(event, Context()))
    assert state is None and json.loads(body)["period"]["days"] == 3


def test_classic_the_video_group_answers_the_users_engagement(handlers):
    escalated_user(handlers.world, videos={"setup-guide": watched(2, 0.95)})
    body, state = function_response(
        handlers.VideoIntelligence(
            classic_event("VideoIntelligence", "get_video_engagement", userId=USER, videoId="setup-guide"), Context()
        )
    )
    assert state is None and json.loads(body)["engagement"]["views"] == 2
    body, state = function_response(
        handlers.VideoIntelligence(
            classic_event("VideoIntelligence", "get_video_engagement", userId=USER, videoId="nope"), Context()
        )
    )
    assert state == "FAILURE" and body.startswith("no_such_video")


def test_classic_an_accepted_schedule_appends_one_command(handlers):
    escalated_user(handlers.world)
    event = classic_event(
        "InterventionEngine",
        "schedule_intervention",
        userId=USER,
        escalationId=ESCALATION,
        interventionType="step_by_step_help",
        rationale="Four failed payments in a row.",
    )
    body, state = function_response(handlers.InterventionEngine(event, Context()))
    assert state is None and json.loads(body)["status"] == "accepted"
    assert [c["command"]["name"] for c in handlers.world.commands.appended] == ["schedule"]


@pytest.mark.parametrize(
    ("setup", "more", "reason"),
    [
        ({"send_times": [T0 - 3, T0 - 2, T0 - 1]}, {}, "frequency_cap"),  # beyond the cap (no place reserved)
        ({"consent": [True, False, False]}, {"channel": "push"}, "no_push_consent"),  # against consent
        ({}, {}, "holdout"),  # a held-out user
    ],
)
def test_classic_a_request_the_policy_refuses_is_a_failure_with_its_reason_and_appends_nothing(handlers, setup, more, reason):
    world = handlers.world
    if reason == "holdout":
        world.settings = Settings(policy=PolicySettings(holdout_percent=100))
    escalated_user(world, pending(rule_intervention="") if reason == "frequency_cap" else None, **setup)
    event = classic_event(
        "InterventionEngine",
        "schedule_intervention",
        userId=USER,
        escalationId=ESCALATION,
        interventionType="step_by_step_help",
        **more,
    )
    body, state = function_response(handlers.InterventionEngine(event, Context()))
    assert (state, body) == ("FAILURE", reason)
    assert world.commands.appended == []


def test_classic_arguments_that_do_not_fit_are_a_failure_naming_the_argument(handlers):
    escalated_user(handlers.world)
    event = classic_event("InterventionEngine", "schedule_intervention", userId=USER, escalationId=ESCALATION)
    body, state = function_response(handlers.InterventionEngine(event, Context()))
    assert state == "FAILURE" and "interventionType" in body


def test_classic_a_tool_about_another_user_than_the_sessions_is_a_failure(handlers):
    escalated_user(handlers.world)
    event = classic_event("InterventionEngine", "get_intervention_history", userId="p-someone-else")
    body, state = function_response(handlers.InterventionEngine(event, Context()))
    assert state == "FAILURE" and body.startswith("user_mismatch")


def test_classic_a_function_of_another_group_is_a_failure_not_a_text(handlers):
    event = classic_event("StruggleDetection", "schedule_intervention", userId=USER)
    response = handlers.StruggleDetection(event, Context())
    body, state = function_response(response)
    assert state == "FAILURE" and "no tool 'schedule_intervention' in StruggleDetection" in body
    assert response["response"]["function"] == "schedule_intervention"


def test_classic_a_stream_that_refuses_is_a_failure_to_retry_later(handlers):
    handlers.world.commands = MemoryCommands(refuse=True)
    escalated_user(handlers.world)
    event = classic_event(
        "InterventionEngine", "schedule_intervention", userId=USER, escalationId=ESCALATION, interventionType="step_by_step_help"
    )
    body, state = function_response(handlers.InterventionEngine(event, Context()))
    assert state == "FAILURE" and body.startswith("retry later: stream_refused")


def test_classic_an_unexpected_error_is_a_failure_and_never_a_successful_text(handlers, monkeypatch):
    def broken() -> AgentToolPorts:
        raise RuntimeError("the table is gone")

    module = sys.modules["action_group_under_test_struggle_detection"]
    monkeypatch.setattr(module.action_group, "ports", broken)
    body, state = function_response(
        handlers.StruggleDetection(classic_event("StruggleDetection", "get_open_signals", userId=USER), Context())
    )
    assert (state, body) == ("FAILURE", "internal_error: the tool failed; the error is logged")


# --- AgentCore Gateway ---------------------------------------------------------------------------------


def test_gateway_the_event_is_the_arguments_and_the_answer_the_tools_json(handlers):
    escalated_user(handlers.world, consent=[True, False, False])
    got = handlers.InterventionEngine({"userId": USER}, gateway_context("InterventionEngine", "list_allowed_interventions"))
    assert got["escalationId"] == ESCALATION
    assert got["interventions"][0]["refusedChannels"] == {"push": "no_push_consent"}


def test_gateway_an_accepted_schedule_appends_one_command(handlers):
    escalated_user(handlers.world)
    arguments = {"userId": USER, "escalationId": ESCALATION, "interventionType": "step_by_step_help", "channel": "in_app"}
    got = handlers.InterventionEngine(arguments, gateway_context("InterventionEngine", "schedule_intervention"))
    assert got["status"] == "accepted" and len(handlers.world.commands.appended) == 1


def test_gateway_a_refusal_is_an_error_result_with_its_reason(handlers):
    escalated_user(handlers.world)
    arguments = {"userId": USER, "escalationId": ESCALATION, "interventionType": "free_upgrade"}
    got = handlers.InterventionEngine(arguments, gateway_context("InterventionEngine", "schedule_intervention"))
    reason = "not_in_catalog: free_upgrade; allowed: step_by_step_help, guided_tour, error_recovery, navigation_hint, resume_reminder, support_offer"
    assert got == {"isError": True, "content": [{"type": "text", "text": reason}], "error": reason, "retryable": False}
    assert handlers.world.commands.appended == []


def test_gateway_a_tool_of_another_target_and_bad_arguments_are_errors(handlers):
    got = handlers.VideoIntelligence({"userId": USER}, gateway_context("VideoIntelligence", "get_open_signals"))
    assert got["isError"] is True and "no tool 'get_open_signals' in VideoIntelligence" in got["error"]
    got = handlers.StruggleDetection({"userId": USER, "days": 400}, gateway_context("StruggleDetection", "get_feature_hotspots"))
    assert got["isError"] is True and "days" in got["error"]


def test_an_invocation_of_neither_shape_is_refused(handlers):
    got = handlers.StruggleDetection({"hello": "world"}, Context())
    assert got["isError"] is True


# --- the policy gate (what a before-tool-call hook would ask) --------------------------------------------


def test_the_policy_gate_lets_reads_through_and_stops_a_schedule_the_policy_refuses():
    world = World()
    escalated_user(world, consent=[True, False, False])
    ports = world.ports()
    assert policy_gate("InterventionEngine___get_intervention_history", {"userId": USER}, ports) == (True, "")
    request = {"userId": USER, "escalationId": ESCALATION, "interventionType": "step_by_step_help"}
    assert policy_gate("InterventionEngine___schedule_intervention", {**request, "channel": "push"}, ports) == (
        False,
        "no_push_consent",
    )
    assert policy_gate("schedule_intervention", request, ports) == (True, "")
    assert policy_gate("schedule_intervention", request, ports, session_user="p-other")[1].startswith("user_mismatch")
    assert world.commands.appended == []
