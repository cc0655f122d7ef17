"""The agent's reading tools as use cases over ports, and what every tool shares: the ports, the
refusals, the user's state. (``journey.app.agent_tools`` has the InterventionEngine's tools and runs
any tool by name.)

StruggleDetection: a user's open struggle signals with their context, the hot spots of the user's
tenant. VideoIntelligence: a user's engagement with one video and across videos. And the
InterventionEngine's history: the user's recent interventions and what became of them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, cast

from journey.agent.tools import HotspotArguments, UserArguments, VideoArguments
from journey.app.analytics import hotspots
from journey.app.api_ports import AnalyticsReadModel, ApiError, ApiPorts, Caller, InterventionItems, UserReadModel
from journey.app.insights import open_signals, recent_interventions
from journey.app.ports import CommandStream
from journey.errors import JourneyError, TransientError
from journey.interventions.catalog import CatalogEntry
from journey.kernel.ids import bounded_key
from journey.settings import Settings
from journey.users.state import UserState
from journey.video.engagement import summary_of
from journey.video.intelligence import engagement_data, engagement_overview, video_insight

AGENT = "agent"  # who asks, in the schedule command (``requestedBy``), and who reads the tenant's analytics
ESCALATION_RECORD_PREFIX = "escalation#"  # the Interventions table's escalation records: not interventions
HOTSPOTS_TOP = 10  # the tenant's top features, when no feature is asked for
HOTSPOTS_SCAN = 1000  # features looked through for one feature's hot spots


class ToolRefused(JourneyError):
    """The tool will not do what was asked: ``reason`` says why, in a word the agent can act on
    (``user_mismatch``, ``no_open_escalation``, ``escalation_already_decided``, ``not_in_catalog``,
    the policy's ``frequency_cap``, ``no_push_consent``, ``quiet_hours``, ``holdout``, ...)."""

    def __init__(self, reason: str, detail: str = ""):
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail


class StreamRefused(TransientError):
    """The user's stream did not take the command (throttling, an outage): the same request may be
    asked again (its command id is derived from it, so it is appended once)."""


@dataclass
class AgentToolPorts:
    """What the tools talk to, wired by the adapters' factories."""

    users: UserReadModel
    analytics: AnalyticsReadModel
    commands: CommandStream
    catalog: tuple[CatalogEntry, ...]
    settings: Settings
    clock_ms: Callable[[], int]


def user_state(ports: AgentToolPorts, user_id: str) -> UserState:
    state = ports.users.state(user_id)
    if state is None:
        raise ToolRefused("unknown_user", "nothing is known about this user")
    return state


def tenant_of(state: UserState, ports: AgentToolPorts) -> str:
    return state.tenant or ports.settings.tenancy.default_tenant


def intervention_items(ports: AgentToolPorts, user_id: str) -> InterventionItems:
    """The user's decisions, outcomes and reports (the escalation records left out)."""
    records = ports.users.interventions(user_id)
    return InterventionItems.of([r for r in records if not str(r.get("interventionId", "")).startswith(ESCALATION_RECORD_PREFIX)])


# --- StruggleDetection -------------------------------------------------------------------------------


def get_open_signals(args: UserArguments, ports: AgentToolPorts) -> dict[str, Any]:
    """The user's unresolved signals of the last week, newest first, each with the rule that found it
    and what it saw (its context), and the user's standing (segment, exit risk, where they are)."""
    state = user_state(ports, args.userId)
    records = ports.users.signals(args.userId)
    by_id = {str(r.get("signalId", "")): r for r in records}
    found = open_signals(records, intervention_items(ports, args.userId), state, ports.settings.api.open_signals)
    return {
        "userId": args.userId,
        "segment": state.segment,
        "exitRisk": {"score": state.risk_score, "band": state.risk_band},
        "currentFeature": state.current_feature or None,
        "openSignals": [
            {
                **signal.model_dump(),
                "rule": str(by_id.get(signal.signalId, {}).get("rule", "")),
                "context": by_id.get(signal.signalId, {}).get("context") or {},
            }
            for signal in found
        ],
    }


def get_feature_hotspots(args: HotspotArguments, ports: AgentToolPorts) -> dict[str, Any]:
    """Signals per feature over the user's tenant's last days: one feature's, or the top ones."""
    state = user_state(ports, args.userId)
    tenant = tenant_of(state, ports)
    # hotspots() reads only the tenant's days and the clock of the API's ports: this view has exactly those
    view = cast(ApiPorts, _AnalyticsView(ports.analytics, ports.clock_ms))
    limit = HOTSPOTS_SCAN if args.featureId else HOTSPOTS_TOP
    try:
        report = hotspots(Caller("iam", tenant, AGENT), view, args.days, limit, ports.settings.api.analytics_max_days)
    except ApiError as exc:
        raise ToolRefused("bad_period", exc.message) from None
    spots = [spot for spot in report.hotspots if args.featureId is None or spot.featureId == args.featureId]
    return {"period": report.period.model_dump(), "featureId": args.featureId, "hotspots": [s.model_dump() for s in spots]}


@dataclass(frozen=True, slots=True)
class _AnalyticsView:
    """The two ports ``journey.app.analytics.hotspots`` reads (the tenant's days, the clock)."""

    analytics: AnalyticsReadModel
    clock_ms: Callable[[], int]


# --- VideoIntelligence -------------------------------------------------------------------------------


def get_video_engagement(args: VideoArguments, ports: AgentToolPorts) -> dict[str, Any]:
    """How the user watched one video (the seed's engagementData), and what it says (its
    intelligenceMetrics: interest score, comprehension indicators, readiness signals)."""
    state = user_state(ports, args.userId)
    stored = state.videos.get(bounded_key(args.videoId))  # stored under the key the profile bounds it to
    if stored is None:
        known = ", ".join(sorted(state.videos)[:8]) or "none"
        raise ToolRefused("no_such_video", f"the user has no engagement with {args.videoId!r} (their videos: {known})")
    summary = summary_of(stored)
    insight = video_insight(summary, ports.clock_ms())
    return {
        "userId": args.userId,
        "videoId": args.videoId,
        "engagement": engagement_data(summary),
        "intelligence": {
            "interestScore": insight.interestScore,
            "comprehensionIndicators": list(insight.comprehensionIndicators),
            "readinessSignals": list(insight.readinessSignals),
        },
    }


def get_video_summary(args: UserArguments, ports: AgentToolPorts) -> dict[str, Any]:
    """The user's engagement across the videos they watched recently (newest first), and overall."""
    state = user_state(ports, args.userId)
    return {"userId": args.userId, **engagement_overview(state.videos, ports.clock_ms())}


# --- InterventionEngine: the history ------------------------------------------------------------------


def get_intervention_history(args: UserArguments, ports: AgentToolPorts) -> dict[str, Any]:
    """The user's recent interventions, newest first: who decided, the channel, where the delivery
    stands, what the app reported and whether the episode was resolved."""
    user_state(ports, args.userId)
    items = intervention_items(ports, args.userId)
    decided_by = {str(d.get("interventionId")): str(d.get("decidedBy", "")) for d in items.decisions}
    recent = recent_interventions(items, ports.settings.api.recent_interventions)
    return {
        "userId": args.userId,
        "interventions": [{**i.model_dump(), "decidedBy": decided_by.get(i.interventionId, "")} for i in recent],
    }
