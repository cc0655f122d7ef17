"""Amazon Nova's context analysis of one user (pure): the answer's model, the forced tool that makes
the model answer in that shape, the prompt built from the user's insights, and what a call costs.

Structured output through Converse: one tool whose input schema is :class:`ContextAnalysis`'s JSON
schema, and ``toolChoice: {"tool": {"name": ANALYSIS_TOOL}}``, so the model's answer is that tool's
input; :func:`analysis_from_tool_input` validates it with the same model, and a value the schema
refuses is a :class:`MalformedAgentReply` naming the field."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from journey.agent.invocation import MalformedAgentReply, ModelCall

ANALYSIS_TOOL = "record_context_analysis"
ITEM_CHARS = 200

Item = Annotated[str, StringConstraints(min_length=1, max_length=ITEM_CHARS, strip_whitespace=True)]


class ContextAnalysis(BaseModel):
    """What the model makes of the user's journey (the original design's Nova context analysis)."""

    model_config = ConfigDict(extra="forbid")

    intent: Annotated[str, StringConstraints(min_length=1, max_length=200, strip_whitespace=True)] = Field(
        description="what the user is most likely trying to do, in one short sentence"
    )
    engagementLevel: Literal["low", "medium", "high"] = Field(description="how engaged the user is: low, medium or high")
    dropOffRiskFactors: list[Item] = Field(max_length=8, description="what in the facts makes the user likely to leave")
    personalizationRecommendations: list[Item] = Field(
        max_length=8, description="how the app could adapt to this user, each a short phrase"
    )
    nextBestActions: list[Item] = Field(max_length=5, description="what to do for the user next, most useful first")


@dataclass(frozen=True, slots=True)
class AnalysisRequest:
    """One analysis call: the model, the system prompt, the facts, and the time it may take."""

    model_id: str
    system: str
    prompt: str
    timeout_s: float


@dataclass(frozen=True, slots=True)
class AnalystAnswer:
    """The validated analysis and the call's provenance (model, tokens, latency)."""

    analysis: ContextAnalysis
    call: ModelCall


@dataclass(frozen=True, slots=True)
class CachedAnalysis:
    """A user's analysis as cached (the ContextAnalyses table's item, decoded)."""

    analysis: dict[str, Any]
    model: str
    analysed_at: int  # epoch ms


def _plain(schema: Any) -> Any:
    """The JSON schema without pydantic's titles (a model takes plain JSON schema)."""
    if isinstance(schema, dict):
        return {key: _plain(value) for key, value in schema.items() if key != "title"}
    if isinstance(schema, list):
        return [_plain(value) for value in schema]
    return schema


def analysis_schema() -> dict[str, Any]:
    return _plain(ContextAnalysis.model_json_schema())


def analysis_tool_spec() -> dict[str, Any]:
    """Converse's ``toolSpec`` of the one tool the model is forced to call."""
    return {
        "name": ANALYSIS_TOOL,
        "description": "Record the context analysis of the user's journey. Every field is required; base each "
        "one only on the facts given.",
        "inputSchema": {"json": analysis_schema()},
    }


def analysis_from_tool_input(raw: object) -> ContextAnalysis:
    """The forced tool's input as a :class:`ContextAnalysis`; raise :class:`MalformedAgentReply`
    naming each field the schema refuses and why."""
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except ValueError:
            raise MalformedAgentReply("the analysis tool's input is not JSON") from None
    if not isinstance(raw, dict):
        raise MalformedAgentReply(f"the analysis tool's input is a {type(raw).__name__}, not an object")
    try:
        return ContextAnalysis.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'input'}: {e['msg']}" for e in exc.errors()[:5])
        raise MalformedAgentReply(f"the analysis does not fit its schema: {problems}"[:500]) from None


SYSTEM_PROMPT = (
    "You analyse the journey of one user of a mobile or web app from the facts you are given: their profile, "
    "exit risk, open struggle signals and recent interventions. Answer only by calling the tool "
    f"{ANALYSIS_TOOL}. Base every field only on the facts given; do not invent facts, urgency or scarcity. "
    "Keep each list item a short phrase."
)

# --- the prompt: the user's insights as facts, without ids ---------------------------------------------

_PROFILE_FACTS = (
    "segment",
    "sessionsLast14Days",
    "daysBetweenSessions",
    "flowsStarted",
    "flowsCompleted",
    "videosWatched",
    "videoCompletion",
    "progress",
    "timezone",
)
_MINUTE_MS = 60_000


def _age(now_ms: int, at: object) -> str:
    if not isinstance(at, int) or isinstance(at, bool) or at <= 0:
        return "unknown"
    minutes = max(0, now_ms - at) // _MINUTE_MS
    return (
        f"{minutes} min ago" if minutes < 120 else f"{minutes // 60} h ago" if minutes < 2880 else f"{minutes // 1440} days ago"
    )


def analysis_prompt(insights: dict[str, Any], now_ms: int) -> str:
    """The user's insights (``journey.app.insights.Insights`` as a dict) as the facts of the message:
    profile figures, exit risk and its contributors, open signals and recent interventions with what
    became of them, times as ages. No user id, signal id or intervention id goes to the model."""
    profile = insights.get("profile") or {}
    risk = insights.get("exitRisk") or {}
    facts: dict[str, Any] = {
        "profile": {name: profile[name] for name in _PROFILE_FACTS if name in profile},
        "lastActive": _age(now_ms, profile.get("lastActiveAt")),
        "exitRisk": {
            "score": risk.get("score"),
            "band": risk.get("band"),
            "contributors": {str(c.get("feature")): c.get("points") for c in risk.get("contributors") or []},
        },
        "openSignals": [
            {
                "type": s.get("signalType"),
                "feature": s.get("featureId"),
                "severity": s.get("severity"),
                "detected": _age(now_ms, s.get("detectedAt")),
                "outcome": s.get("outcome"),
            }
            for s in insights.get("openSignals") or []
        ],
        "recentInterventions": [
            {
                "type": i.get("interventionType"),
                "forSignal": i.get("signalType"),
                "feature": i.get("featureId"),
                "channel": i.get("channel"),
                "status": i.get("status"),
                "delivery": i.get("delivery"),
                "resolved": i.get("resolved"),
                "decided": _age(now_ms, i.get("decidedAt")),
                "appReports": [r.get("outcome") for r in i.get("reports") or []],
            }
            for i in insights.get("recentInterventions") or []
        ],
    }
    return (
        "Facts about the user (JSON):\n"
        + json.dumps(facts, sort_keys=True, default=str)
        + (f"\n\nAnalyse this user's journey and call {ANALYSIS_TOOL}.")
    )


# --- cost --------------------------------------------------------------------------------------------------

# USD per million input / output tokens, by model family (on-demand, checked November 2026: DESIGN.md)
PRICES_PER_MILLION: dict[str, tuple[float, float]] = {
    "nova-micro": (0.035, 0.14),
    "nova-lite": (0.06, 0.24),
}
_FAMILY = re.compile(r"amazon\.(nova-(?:\d+-)?[a-z]+)-v\d")


def model_family(model_id: str) -> str:
    """``us.amazon.nova-micro-v1:0`` -> ``nova-micro``; ``global.amazon.nova-2-lite-v1:0`` -> ``nova-2-lite``
    (a different price from ``nova-lite``); "" for a model id of another form."""
    match = _FAMILY.search(model_id)
    return match.group(1) if match else ""


def call_cost_usd(model_id: str, input_tokens: int, output_tokens: int) -> float | None:
    """What one call cost, in USD; None for a model the price table does not know (never a guess)."""
    prices = PRICES_PER_MILLION.get(model_family(model_id))
    if prices is None:
        return None
    return (input_tokens * prices[0] + output_tokens * prices[1]) / 1_000_000
