"""Amazon Nova's context analysis of one user, for the insights API: the user's insights go to the
model (Converse, a forced tool whose schema is the answer's), the validated answer is cached per user
for ``context_cache_ms``, and a fresh cached answer is returned without a call.

The analysis never fails the insights: a failure or a timeout answers ``unavailable`` with the
reason, and nothing is cached (the next request asks again). The call is waited for at most
``context_budget_ms`` (plus a small guard); its cost (the domain's price table) and latency go to
the caller for metrics."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import ValidationError

from journey.agent.context import SYSTEM_PROMPT, AnalysisRequest, CachedAnalysis, ContextAnalysis, analysis_prompt, call_cost_usd
from journey.agent.invocation import AgentError
from journey.app.agent_ports import ContextPorts
from journey.app.escalation import GUARD_MS, call_within
from journey.errors import JourneyError
from journey.settings import AgentSettings

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class AnalysisResult:
    """The analysis (or why there is none), with what it cost."""

    status: Literal["available", "unavailable"]
    analysis: ContextAnalysis | None = None
    reason: str = ""  # why it is unavailable
    model: str = ""
    analysed_at: int | None = None  # epoch ms of the model's answer (a cached one's is older)
    cached: bool = False
    latency_ms: int = 0  # the call's (0: no call)
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float | None = None  # None: no call, or a model the price table does not know
    called: bool = False  # a model call was made (metrics count calls, not cache hits)


def analyse(
    user_id: str, insights: dict[str, Any], ports: ContextPorts, cfg: AgentSettings, clock: Callable[[], int]
) -> AnalysisResult:
    """The user's analysis: cached and fresh, or asked for now. ``user_id`` is the pseudonymous id
    (the cache's key; it never goes to the model)."""
    now = clock()
    cached = _fresh(user_id, ports, cfg, now)
    if cached is not None:
        return cached
    if ports.analyst is None:
        return AnalysisResult("unavailable", reason="not_configured: no context analyst is deployed")
    analyst = ports.analyst
    request = AnalysisRequest(cfg.context_model_id, SYSTEM_PROMPT, analysis_prompt(insights, now), cfg.context_budget_ms / 1000)
    try:
        answer = call_within(
            lambda: analyst.analyse(request),
            (cfg.context_budget_ms + GUARD_MS) / 1000,
            f"no analysis within its budget ({cfg.context_budget_ms} ms)",
        )
    except AgentError as exc:
        model = exc.model or cfg.context_model_id
        return AnalysisResult(
            "unavailable",
            reason=f"{exc.code}: {exc.reason}"[:500],
            model=model,
            latency_ms=exc.latency_ms or max(0, clock() - now),
            input_tokens=exc.input_tokens,
            output_tokens=exc.output_tokens,
            cost_usd=call_cost_usd(model, exc.input_tokens, exc.output_tokens) if exc.input_tokens else None,
            called=True,
        )
    call = answer.call
    model = call.model or cfg.context_model_id
    analysed_at = clock()
    if ports.cache is not None and cfg.context_cache_ms > 0:
        entry = CachedAnalysis(answer.analysis.model_dump(mode="json"), model, analysed_at)
        try:
            ports.cache.put(user_id, entry, analysed_at + cfg.context_cache_ms)
        except JourneyError as exc:  # the answer stands; the next request asks again
            log.warning("context analysis not cached: %s", exc)
    return AnalysisResult(
        "available",
        analysis=answer.analysis,
        model=model,
        analysed_at=analysed_at,
        latency_ms=call.latency_ms,
        input_tokens=call.input_tokens,
        output_tokens=call.output_tokens,
        cost_usd=call_cost_usd(model, call.input_tokens, call.output_tokens),
        called=True,
    )


def _fresh(user_id: str, ports: ContextPorts, cfg: AgentSettings, now: int) -> AnalysisResult | None:
    """The cached analysis while it is younger than ``context_cache_ms`` (and still fits the schema)."""
    if ports.cache is None or cfg.context_cache_ms <= 0:
        return None
    try:
        entry = ports.cache.get(user_id)
    except JourneyError as exc:  # a cache that cannot be read is a miss, never a failed request
        log.warning("context analysis cache not read: %s", exc)
        return None
    if entry is None or not 0 <= now - entry.analysed_at < cfg.context_cache_ms:
        return None
    try:
        analysis = ContextAnalysis.model_validate(entry.analysis)
    except ValidationError:
        log.warning("cached context analysis no longer fits its schema: asking again")
        return None
    return AnalysisResult("available", analysis=analysis, model=entry.model, analysed_at=entry.analysed_at, cached=True)
