"""Amazon Nova's context analysis: cached per user for the configured time (hit, miss, expiry), never
failing the insights (unavailable with the reason, nothing cached), its cost from the domain's price
table, a prompt without ids, the ContextAnalyses item both ways, and ``?analysis=true`` on the
insights route (absent without it)."""

from __future__ import annotations

import dataclasses
import json
import threading
import time
from typing import Any

import pytest
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver

from journey.adapters.aws.context_cache import DynamoAnalysisCache, analysis_item, cached_analysis
from journey.agent.context import (
    ANALYSIS_TOOL,
    AnalysisRequest,
    AnalystAnswer,
    CachedAnalysis,
    ContextAnalysis,
    analysis_prompt,
    analysis_schema,
    call_cost_usd,
    model_family,
)
from journey.agent.invocation import AgentThrottled, MalformedAgentReply, ModelCall
from journey.app.agent_ports import ContextPorts
from journey.app.context_analysis import AnalysisResult, analyse
from journey.app.escalation import GUARD_MS
from journey.app.insights import user_insights
from journey.errors import TransientError
from journey.lambda_kit.http import api_router, serve
from journey.resources import CONTEXT_ANALYSES, TTL_ATTRIBUTE
from journey.settings import AgentSettings, Settings
from localrt.memory_aws import MemoryDynamoDB, Meter
from tests.unit.api_fakes import NOW, Fakes, pid, server
from tests.unit.test_api_http import SERVER_ARN, http_api_event
from tests.unit.test_api_reads import known_user

MICRO, LITE, NOVA2 = "us.amazon.nova-micro-v1:0", "amazon.nova-lite-v1:0", "global.amazon.nova-2-lite-v1:0"
HOUR = 3_600_000
CFG = AgentSettings(context_model_id=MICRO, context_cache_ms=HOUR, context_budget_ms=6_000)
ANALYSIS = ContextAnalysis(
    intent="finish checkout",
    engagementLevel="medium",
    dropOffRiskFactors=["payment errors"],
    personalizationRecommendations=["saved payment methods"],
    nextBestActions=["show payment help"],
)
INSIGHTS: dict[str, Any] = {
    "userId": "app-user-42",
    "profile": {"segment": "at_risk", "lastActiveAt": NOW - 5 * 60_000, "flowsStarted": 3, "flowsCompleted": 1},
    "exitRisk": {"score": 72, "band": "HIGH", "contributors": [{"feature": "struggle_signal_count_7d", "points": 25.0}]},
    "openSignals": [
        {
            "signalId": "s-secret",
            "signalType": "error_pattern",
            "featureId": "checkout",
            "severity": "high",
            "detectedAt": NOW - 3 * HOUR,
            "outcome": "sent",
        }
    ],
    "recentInterventions": [
        {
            "interventionId": "i-secret",
            "interventionType": "payment_help",
            "signalType": "error_pattern",
            "status": "sent",
            "decidedAt": NOW - 2 * 86_400_000,
            "reports": [{"outcome": "dismissed"}],
        }
    ],
}


class Analyst:
    def __init__(self, *outcomes: AnalystAnswer | Exception):
        self.outcomes = list(outcomes)
        self.requests: list[AnalysisRequest] = []

    def analyse(self, request: AnalysisRequest) -> AnalystAnswer:
        self.requests.append(request)
        outcome = self.outcomes.pop(0) if len(self.outcomes) > 1 else self.outcomes[0]
        if isinstance(outcome, Exception):
            raise outcome
        return outcome


def answer(input_tokens: int = 1_000_000, output_tokens: int = 1_000_000, model: str = MICRO) -> AnalystAnswer:
    return AnalystAnswer(ANALYSIS, ModelCall(model, input_tokens, output_tokens, latency_ms=640, stop_reason="tool_use"))


class Cache:
    def __init__(self, fail: Exception | None = None):
        self.items: dict[str, tuple[CachedAnalysis, int]] = {}
        self.fail = fail

    def get(self, user_id: str) -> CachedAnalysis | None:
        if self.fail:
            raise self.fail
        found = self.items.get(user_id)
        return found[0] if found else None

    def put(self, user_id: str, entry: CachedAnalysis, expires_at_ms: int) -> None:
        if self.fail:
            raise self.fail
        self.items[user_id] = (entry, expires_at_ms)


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> int:
        return self.now


# --- the use case ------------------------------------------------------------------------------------------
def test_a_miss_asks_the_model_and_caches_the_answer_for_the_cache_time():
    analyst, cache, clock = Analyst(answer()), Cache(), Clock()
    result = analyse("p-1", INSIGHTS, ContextPorts(analyst, cache), CFG, clock)
    assert (result.status, result.cached, result.called, result.analysis) == ("available", False, True, ANALYSIS)
    assert (result.model, result.latency_ms, result.analysed_at) == (MICRO, 640, NOW)
    (request,) = analyst.requests
    assert request.model_id == MICRO and request.timeout_s == 6.0
    entry, expires = cache.items["p-1"]
    assert entry == CachedAnalysis(ANALYSIS.model_dump(mode="json"), MICRO, NOW) and expires == NOW + HOUR


def test_a_fresh_cached_answer_is_returned_without_a_call_until_it_expires():
    analyst, cache, clock = Analyst(answer()), Cache(), Clock()
    ports = ContextPorts(analyst, cache)
    analyse("p-1", INSIGHTS, ports, CFG, clock)
    clock.now += HOUR - 1
    hit = analyse("p-1", INSIGHTS, ports, CFG, clock)
    assert (hit.status, hit.cached, hit.called, hit.analysed_at, hit.cost_usd) == ("available", True, False, NOW, None)
    assert len(analyst.requests) == 1
    clock.now += 1
    again = analyse("p-1", INSIGHTS, ports, CFG, clock)
    assert not again.cached and len(analyst.requests) == 2 and cache.items["p-1"][0].analysed_at == NOW + HOUR


def test_another_user_is_another_cache_entry_and_a_zero_cache_time_never_caches():
    analyst, cache, clock = Analyst(answer()), Cache(), Clock()
    analyse("p-1", INSIGHTS, ContextPorts(analyst, cache), CFG, clock)
    assert not analyse("p-2", INSIGHTS, ContextPorts(analyst, cache), CFG, clock).cached
    uncached = Cache()
    analyse("p-3", INSIGHTS, ContextPorts(analyst, uncached), CFG.model_copy(update={"context_cache_ms": 0}), clock)
    assert uncached.items == {}


@pytest.mark.parametrize(
    ("error", "code"),
    [
        (AgentThrottled("Converse: ThrottlingException: slow down"), "throttled"),
        (
            MalformedAgentReply("engagementLevel: Input should be 'low', 'medium' or 'high'", input_tokens=900, output_tokens=60),
            "malformed",
        ),
    ],
)
def test_a_failure_is_unavailable_with_the_reason_and_nothing_is_cached(error, code):
    cache = Cache()
    result = analyse("p-1", INSIGHTS, ContextPorts(Analyst(error), cache), CFG, Clock())
    assert result.status == "unavailable" and result.reason.startswith(f"{code}: ") and result.analysis is None
    assert cache.items == {} and result.called
    if error.input_tokens:  # a malformed answer still cost its tokens
        assert result.cost_usd == pytest.approx((900 * 0.035 + 60 * 0.14) / 1e6)


def test_a_stuck_model_is_unavailable_within_the_budget():
    release = threading.Event()

    class Stuck:
        def analyse(self, request: AnalysisRequest) -> AnalystAnswer:
            release.wait(10)
            return answer()

    cfg = CFG.model_copy(update={"context_budget_ms": 500})
    started = time.monotonic()
    try:
        result = analyse("p-1", INSIGHTS, ContextPorts(Stuck(), Cache()), cfg, Clock())
    finally:
        release.set()
    assert time.monotonic() - started < (500 + GUARD_MS) / 1000 + 0.3
    assert result.status == "unavailable" and result.reason.startswith("timeout: ")


def test_a_cache_that_fails_is_a_miss_and_never_fails_the_request():
    result = analyse("p-1", INSIGHTS, ContextPorts(Analyst(answer()), Cache(fail=TransientError("throttled"))), CFG, Clock())
    assert result.status == "available" and not result.cached


def test_without_an_analyst_the_analysis_is_unavailable_not_configured():
    result = analyse("p-1", INSIGHTS, ContextPorts(None, None), CFG, Clock())
    assert result.status == "unavailable" and result.reason.startswith("not_configured")


def test_a_cached_answer_that_no_longer_fits_the_schema_is_asked_again():
    cache, analyst = Cache(), Analyst(answer())
    cache.items["p-1"] = (CachedAnalysis({"intent": "x"}, MICRO, NOW), NOW + HOUR)
    assert not analyse("p-1", INSIGHTS, ContextPorts(analyst, cache), CFG, Clock()).cached and analyst.requests


# --- cost -----------------------------------------------------------------------------------------------------
def test_cost_comes_from_the_price_table_by_model_family():
    assert model_family(MICRO) == "nova-micro" and model_family(LITE) == "nova-lite" and model_family(NOVA2) == "nova-2-lite"
    assert call_cost_usd(MICRO, 1_000_000, 1_000_000) == pytest.approx(0.035 + 0.14)
    assert call_cost_usd(LITE, 2_000_000, 500_000) == pytest.approx(2 * 0.06 + 0.5 * 0.24)
    assert call_cost_usd(NOVA2, 1_000, 1_000) is None  # not in the table: never a guess
    result = analyse("p-1", INSIGHTS, ContextPorts(Analyst(answer(1_200, 150)), Cache()), CFG, Clock())
    assert result.cost_usd == pytest.approx((1_200 * 0.035 + 150 * 0.14) / 1e6)
    assert (result.input_tokens, result.output_tokens) == (1_200, 150)


# --- the prompt and the schema -----------------------------------------------------------------------------
def test_the_prompt_holds_the_facts_and_no_ids():
    prompt = analysis_prompt(INSIGHTS, NOW)
    for secret in ("app-user-42", "s-secret", "i-secret"):
        assert secret not in prompt
    facts = json.loads(prompt.split("\n", 1)[1].split("\n\n")[0])
    assert facts["exitRisk"]["band"] == "HIGH" and facts["openSignals"][0]["detected"] == "3 h ago"
    assert facts["recentInterventions"][0]["appReports"] == ["dismissed"] and facts["lastActive"] == "5 min ago"
    assert ANALYSIS_TOOL in prompt


def test_the_tools_schema_is_the_analysis_model_bounded_and_closed():
    schema = analysis_schema()
    assert schema["additionalProperties"] is False and set(schema["required"]) == set(ContextAnalysis.model_fields)
    assert schema["properties"]["engagementLevel"]["enum"] == ["low", "medium", "high"]
    assert schema["properties"]["nextBestActions"]["maxItems"] == 5
    assert schema["properties"]["dropOffRiskFactors"]["items"]["maxLength"] == 200
    assert "title" not in json.dumps(schema)


# --- the ContextAnalyses item ---------------------------------------------------------------------------------
def test_the_cache_item_round_trips_with_a_ttl_in_seconds():
    ddb = MemoryDynamoDB(Meter(), {CONTEXT_ANALYSES.logical_id: CONTEXT_ANALYSES.key_names})
    cache = DynamoAnalysisCache(CONTEXT_ANALYSES.logical_id, dynamodb=ddb)
    entry = CachedAnalysis(ANALYSIS.model_dump(mode="json"), MICRO, NOW)
    assert cache.get("p-1") is None
    cache.put("p-1", entry, NOW + HOUR)
    assert cache.get("p-1") == entry
    item = analysis_item("p-1", entry, NOW + HOUR + 1)
    assert item[TTL_ATTRIBUTE] == {"N": str((NOW + HOUR) // 1000 + 1)} and item["userId"] == {"S": "p-1"}
    assert cached_analysis({"userId": {"S": "p-1"}}) is None


# --- the insights route -------------------------------------------------------------------------------------
def insights_event(query: str) -> dict:
    event = http_api_event("GET", "/v1/users/demo-user-1/insights", "GET /v1/users/{userId}/insights", iam=SERVER_ARN)
    event["rawQueryString"] = query
    if query:
        event["queryStringParameters"] = dict(part.split("=", 1) for part in query.split("&"))
    return event


def api(fakes: Fakes, seen: list[AnalysisResult]) -> APIGatewayHttpResolver:
    settings = Settings().model_copy(update={"api": Settings().api.model_copy(update={"server_tenants": {SERVER_ARN: "demo"}})})
    return serve(
        APIGatewayHttpResolver(enable_validation=True), api_router(fakes.ports, lambda: settings, on_analysis=seen.append)
    )


def test_insights_add_the_analysis_only_when_asked():
    fakes = Fakes()
    known_user(fakes)
    analyst, cache = Analyst(answer(1_000, 100)), Cache()
    base = fakes.ports
    fakes.ports = lambda: dataclasses.replace(base(), analyst=analyst, analysis_cache=cache)  # type: ignore[method-assign]
    seen: list[AnalysisResult] = []
    app = api(fakes, seen)
    plain = json.loads(app.resolve(insights_event(""), {})["body"])
    assert "contextAnalysis" not in plain and not analyst.requests and not seen
    asked = app.resolve(insights_event("analysis=true"), {})
    body = json.loads(asked["body"])
    assert asked["statusCode"] == 200 and body["contextAnalysis"]["status"] == "available"
    assert body["contextAnalysis"]["analysis"] == ANALYSIS.model_dump(mode="json") and body["contextAnalysis"]["cached"] is False
    assert list(cache.items) == [pid()]  # keyed by the pseudonym, never the app's own id
    assert "demo-user-1" not in analyst.requests[0].prompt
    assert seen[0].latency_ms == 640 and seen[0].cost_usd == pytest.approx((1_000 * 0.035 + 100 * 0.14) / 1e6)
    again = json.loads(app.resolve(insights_event("analysis=true"), {})["body"])
    assert again["contextAnalysis"]["cached"] is True and len(analyst.requests) == 1


def test_insights_with_no_analyst_answer_200_with_the_analysis_unavailable():
    fakes = Fakes()
    known_user(fakes)
    got = user_insights(server(), "demo-user-1", fakes.ports(), analysis=CFG)
    assert got.contextAnalysis is not None and got.contextAnalysis.status == "unavailable"
    assert got.contextAnalysis.reason and got.contextAnalysis.reason.startswith("not_configured")
    answer_ = api(fakes, []).resolve(insights_event("analysis=true"), {})
    assert answer_["statusCode"] == 200 and json.loads(answer_["body"])["contextAnalysis"]["status"] == "unavailable"
