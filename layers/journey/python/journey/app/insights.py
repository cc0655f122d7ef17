"""What the system knows about one user: profile, exit risk and what drives it, the struggle signals
still open, and the recent interventions with what became of them (the episode's outcome, and the
app's reports). Read from the read models the stream processor writes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

from pydantic import BaseModel, Field, SerializerFunctionWrapHandler, model_serializer

from journey.agent.context import ContextAnalysis
from journey.app.agent_ports import ContextPorts
from journey.app.api_ports import ApiPorts, Caller, InterventionItems, NotFound
from journey.app.context_analysis import AnalysisResult, analyse
from journey.app.inbox import user_pseudonym
from journey.kernel.clock import DAY_MS
from journey.risk.scoring import explain_score
from journey.settings import AgentSettings
from journey.users.state import UserState

OPEN_SIGNAL_DAYS = 7  # a signal is open while unresolved and at most this old (the risk model's window)


class Consent(BaseModel):
    inApp: bool
    push: bool
    messages: bool


class Profile(BaseModel):
    segment: str
    firstSeenAt: int = Field(description="epoch ms of the user's first event")
    lastActiveAt: int = Field(description="epoch ms of the user's newest event")
    sessionsLast14Days: int
    daysBetweenSessions: float
    flowsStarted: int
    flowsCompleted: int
    videosWatched: int
    videoCompletion: float | None = Field(description="mean completion of the videos watched (0..1)")
    progress: float
    timezone: str | None
    consent: Consent
    erased: bool = Field(description="erased: the user's events are refused until consent is given again")


class Contributor(BaseModel):
    feature: str = Field(description="a risk feature (docs/exit-risk.md)")
    points: float


class ExitRisk(BaseModel):
    score: int = Field(ge=0, le=100)
    band: str = Field(description="LOW, MEDIUM or HIGH")
    contributors: list[Contributor]
    scoredBy: str = Field("points", description='the trained model version that scored it, or "points" (the points model)')
    contributorsUnavailable: str | None = Field(
        None, description="why contributors is empty though the score has some (the model that scored it could not be read)"
    )


class Signal(BaseModel):
    signalId: str
    signalType: str
    featureId: str
    severity: str
    detectedAt: int
    outcome: str = Field(description="what became of it: sent, held_out, suppressed:<reason>, stale, ...")


class Report(BaseModel):
    outcome: str
    reportedAt: int


class Intervention(BaseModel):
    interventionId: str
    signalType: str
    featureId: str
    interventionType: str
    channel: str | None
    status: str = Field(description="sent, held_out, suppressed or stale")
    reason: str
    decidedAt: int
    delivery: str | None = Field(description="where the send stands: delivered, failed, undeliverable, ...")
    resolved: bool = Field(description="a later success on the feature closed the episode")
    resolvedAt: int | None
    reports: list[Report] = Field(description="what the app reported of it")


class ContextAnalysisAnswer(BaseModel):
    """Amazon Nova's context analysis of the user (``?analysis=true``), or why there is none."""

    status: Literal["available", "unavailable"]
    reason: str | None = Field(None, description="why it is unavailable (a code, then the detail)")
    analysis: ContextAnalysis | None = None
    model: str | None = Field(None, description="the model that made it")
    analysedAt: int | None = Field(None, description="epoch ms of the model's answer")
    cached: bool = Field(False, description="reused from an earlier request (the cache time is configurable)")

    @classmethod
    def of(cls, result: AnalysisResult) -> ContextAnalysisAnswer:
        if result.status != "available":
            return cls(status="unavailable", reason=result.reason or "unavailable")
        return cls(
            status="available", analysis=result.analysis, model=result.model, analysedAt=result.analysed_at, cached=result.cached
        )


class Insights(BaseModel):
    userId: str
    profile: Profile
    exitRisk: ExitRisk
    openSignals: list[Signal]
    recentInterventions: list[Intervention]
    contextAnalysis: ContextAnalysisAnswer | None = Field(
        None, description="only with ?analysis=true: Amazon Nova's analysis, or its unavailable status and reason"
    )

    @model_serializer(mode="wrap")
    def _without_absent_analysis(self, handler: SerializerFunctionWrapHandler):  # no return type: the schema stays the model's
        data = handler(self)
        if self.contextAnalysis is None and isinstance(data, dict):
            data.pop("contextAnalysis", None)  # absent unless asked for
        return data


def user_insights(
    caller: Caller,
    user_id: str,
    ports: ApiPorts,
    recent: int = 20,
    open_limit: int = 20,
    analysis: AgentSettings | None = None,
    on_analysis: Callable[[AnalysisResult], None] | None = None,
) -> Insights:
    """``analysis``: the settings of the context analysis, to add it (None: not asked for);
    ``on_analysis``: told what it cost (metrics)."""
    user = user_pseudonym(caller, user_id, ports)
    state = ports.users.state(user)
    if state is None:
        raise NotFound("nothing is known about this user")
    items = InterventionItems.of(ports.users.interventions(user))
    insights = Insights(
        userId=user_id,
        profile=_profile(state),
        exitRisk=exit_risk_of(state, ports),
        openSignals=open_signals(ports.users.signals(user), items, state, open_limit),
        recentInterventions=recent_interventions(items, recent),
    )
    if analysis is not None:
        context = ContextPorts(analyst=ports.analyst, cache=ports.analysis_cache)
        result = analyse(user, insights.model_dump(mode="json"), context, analysis, ports.clock_ms)
        if on_analysis is not None:
            on_analysis(result)
        insights.contextAnalysis = ContextAnalysisAnswer.of(result)
    return insights


def exit_risk_of(state: UserState, ports: ApiPorts) -> ExitRisk:
    """The user's exit risk as last scored. The points model's contributors are on the state; a trained
    model's are computed now, from the state as it was scored (journey.risk.scoring.explain_score), with
    the model version that scored it."""
    risk = ExitRisk(score=state.risk_score, band=state.risk_band, contributors=[], scoredBy=state.risk_model or "points")
    contributors: list[list[Any]] | tuple[tuple[str, float], ...] = state.risk_contributors
    # a trained model scored it: explained on read (a score stored before scores had their time, risk_scored_at 0,
    # kept its contributors on the state, and none means nothing raised it)
    if state.risk_model and not contributors and state.risk_scored_at:
        model = ports.exit_risk_models(state.risk_model) if ports.exit_risk_models is not None else None
        if model is None:
            risk.contributorsUnavailable = f"exit-risk model {state.risk_model} could not be read to explain this score"
        else:
            contributors = explain_score(state, model)
    risk.contributors = [Contributor(feature=str(name), points=float(points)) for name, points in contributors]
    return risk


def _profile(state: UserState) -> Profile:
    newest = state.last_event_at
    in_app, push, messages = (list(state.consent) + [True, False, False][len(state.consent) :])[:3]
    return Profile(
        segment=state.segment,
        firstSeenAt=state.first_event_at,
        lastActiveAt=newest,
        sessionsLast14Days=len([t for t in state.session_starts if newest - t <= 14 * DAY_MS]),
        daysBetweenSessions=state.days_between_sessions,
        flowsStarted=state.flows_started,
        flowsCompleted=state.flows_done,
        videosWatched=state.videos_watched,
        videoCompletion=state.video_completion if state.video_completion >= 0 else None,
        progress=state.progress,
        timezone=state.timezone or None,
        consent=Consent(inApp=bool(in_app), push=bool(push), messages=bool(messages)),
        erased=state.erased_at > 0,
    )


def open_signals(signals: list[dict[str, Any]], items: InterventionItems, state: UserState, limit: int) -> list[Signal]:
    """Signals of the last week (of the user's own time) whose episode no success has closed yet."""
    resolved = {str(outcome.get("signalId")) for outcome in items.outcomes.values()}
    since = state.last_event_at - OPEN_SIGNAL_DAYS * DAY_MS
    open_ones = [s for s in signals if int(s.get("detectedAt", 0)) >= since and s.get("signalId") not in resolved]
    open_ones.sort(key=lambda s: int(s.get("detectedAt", 0)), reverse=True)
    return [
        Signal(
            signalId=str(s.get("signalId", "")),
            signalType=str(s.get("signalType", "")),
            featureId=str(s.get("featureId", "")),
            severity=str(s.get("severity", "")),
            detectedAt=int(s.get("detectedAt", 0)),
            outcome=str(s.get("outcome", "")),
        )
        for s in open_ones[:limit]
    ]


def recent_interventions(items: InterventionItems, limit: int) -> list[Intervention]:
    decisions = sorted(items.decisions, key=lambda d: int(d.get("decidedAt", 0)), reverse=True)[:limit]
    out = []
    for d in decisions:
        iid = str(d["interventionId"])
        outcome = items.outcomes.get(iid)
        out.append(
            Intervention(
                interventionId=iid,
                signalType=str(d.get("signalType", "")),
                featureId=str(d.get("featureId", "")),
                interventionType=str(d.get("interventionType", "")),
                channel=d.get("channel"),
                status=str(d.get("status", "")),
                reason=str(d.get("reason", "")),
                decidedAt=int(d.get("decidedAt", 0)),
                delivery=d.get("delivery"),
                resolved=outcome is not None,
                resolvedAt=int(outcome["resolvedAt"]) if outcome and "resolvedAt" in outcome else None,
                reports=[
                    Report(outcome=str(r["outcome"]), reportedAt=int(r.get("reportedAt", 0))) for r in items.reports.get(iid, [])
                ],
            )
        )
    return out
