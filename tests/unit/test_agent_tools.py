"""The agent's tools as use cases over in-memory read models and an in-memory command stream: what
each tool answers, and that a request the policy refuses (beyond the cap, against consent, for a
held-out user, outside the catalog, without an open escalation) comes back refused with its reason
and appends nothing."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

from journey.agent.escalation import PendingEscalation, Reason
from journey.agent.tools import TOOLS_BY_NAME, ToolArgumentsError
from journey.app.agent_tools import RUNNERS, AgentToolPorts, StreamRefused, ToolRefused, run_tool
from journey.errors import TransientError
from journey.interventions.catalog import DEFAULT_CATALOG
from journey.kernel.clock import DAY_MS
from journey.kernel.tenancy import tenant_day
from journey.settings import PolicySettings, Settings
from journey.users.state import UserState
from journey.video.engagement import ENDED, VideoSummary
from tests.builders import T0
from tests.unit.api_fakes import MemoryReadModels, decision, outcome, report

USER = "p-agentuser"
ESCALATION = "e-0123456789abcdef0123"
DAYTIME = "UTC+12:00"  # T0 is midnight UTC: noon here, outside quiet hours


@dataclass
class MemoryCommands:
    """The CommandStream port in memory: what was appended, in order; ``refuse`` refuses every append."""

    appended: list[dict[str, Any]] = field(default_factory=list)
    refuse: bool = False

    def append(self, events: list[dict]) -> list[str]:
        if self.refuse:
            return [event["userId"] for event in events]
        self.appended.extend(events)
        return []


@dataclass
class World:
    reads: MemoryReadModels = field(default_factory=MemoryReadModels)
    commands: MemoryCommands = field(default_factory=MemoryCommands)
    settings: Settings = field(default_factory=Settings)
    now: int = T0 + 2_000

    def ports(self) -> AgentToolPorts:
        return AgentToolPorts(
            users=self.reads,
            analytics=self.reads,
            commands=self.commands,
            catalog=DEFAULT_CATALOG,
            settings=self.settings,
            clock_ms=lambda: self.now,
        )


def pending(
    signal_type: str = "repeated_attempts",
    feature: str = "checkout",
    rule_intervention: str = "step_by_step_help",
    rule_channel: str = "in_app",
    decided: str = "",
    at: int = T0,
) -> list[Any]:
    return list(
        PendingEscalation(
            signalId="s-1",
            signalType=signal_type,
            featureId=feature,
            severity="critical",
            ruleIntervention=rule_intervention,
            ruleChannel=rule_channel if rule_intervention else "",
            escalatedAt=at,
            expiresAt=at + 130_000,
            reason=Reason.CRITICAL_HIGH_VALUE,
            triggerEventId="e1",
            decided=decided,
        )
    )


def escalated_user(world: World, escalation: list[Any] | None = None, **fields: Any) -> UserState:
    """A user the stream processor escalated: push consent and an endpoint, daytime, in the app now."""
    state = UserState(
        userId=USER,
        tenant="demo",
        segment="active_user",
        timezone=DAYTIME,
        consent=[True, True, False],
        push_endpoint="arn:aws:sns:us-east-1:123456789012:endpoint/APNS/app/1",
        first_event_at=T0 - DAY_MS,
        last_event_at=T0,
        risk_score=72,
        risk_band="HIGH",
        current_feature="checkout",
        escalations={ESCALATION: escalation if escalation is not None else pending()},
    )
    for name, value in fields.items():
        setattr(state, name, value)
    world.reads.states[USER] = state
    return state


def call(world: World, tool: str, session_user: str = "", **arguments: Any) -> dict[str, Any]:
    return run_tool(tool, {"userId": USER, **arguments}, world.ports(), session_user)


def schedule(world: World, intervention_type: str = "step_by_step_help", **more: Any) -> dict[str, Any]:
    return call(world, "schedule_intervention", escalationId=ESCALATION, interventionType=intervention_type, **more)


def refusal(world: World, intervention_type: str = "step_by_step_help", **more: Any) -> str:
    with pytest.raises(ToolRefused) as refused:
        schedule(world, intervention_type, **more)
    assert world.commands.appended == [], "a refused request appends nothing"
    return str(refused.value)


def test_every_tool_defined_has_its_use_case():
    assert set(RUNNERS) == set(TOOLS_BY_NAME)


# --- InterventionEngine: refusals, each with its reason, nothing appended --------------------------------


def test_a_request_beyond_the_frequency_cap_is_refused():
    world = World()
    # an escalation holding no place under the cap (the rules had no send of their own to reserve one)
    escalated_user(world, pending(rule_intervention=""), send_times=[T0 - 3_000, T0 - 2_000, T0 - 1_000])
    assert refusal(world) == "frequency_cap"


def test_a_request_answering_the_rules_send_keeps_its_reserved_place_under_the_cap():
    world = World()
    escalated_user(world, send_times=[T0 - 3_000, T0 - 2_000, T0])  # the third is the rules' held send
    assert schedule(world)["status"] == "accepted"


def test_a_request_against_consent_is_refused():
    world = World()
    escalated_user(world, consent=[True, False, False])
    assert refusal(world, channel="push") == "no_push_consent"


def test_a_request_in_the_users_quiet_hours_is_refused():
    world = World()
    escalated_user(world, timezone="UTC")  # midnight
    assert refusal(world, channel="push") == "quiet_hours"


def test_a_request_for_a_held_out_user_is_refused():
    world = World(settings=Settings(policy=PolicySettings(holdout_percent=100)))
    escalated_user(world)
    assert refusal(world) == "holdout"


ALLOWED = "step_by_step_help, guided_tour, error_recovery, navigation_hint, resume_reminder, support_offer"


def test_a_request_for_a_type_the_catalog_lacks_is_refused():
    world = World()
    escalated_user(world)
    assert refusal(world, "free_upgrade") == f"not_in_catalog: free_upgrade; allowed: {ALLOWED}"


def test_another_of_the_catalogs_interventions_for_the_feature_may_be_asked_for():
    world = World()
    escalated_user(world)
    assert schedule(world, "guided_tour")["status"] == "accepted"


def test_a_request_on_a_channel_the_entry_does_not_use_is_refused():
    world = World()
    escalated_user(world)
    assert refusal(world, channel="sns").startswith("channel_not_in_catalog")


def test_a_request_without_an_open_escalation_is_refused():
    world = World()
    escalated_user(world, escalations={})
    assert refusal(world).startswith("no_open_escalation")


def test_a_request_for_an_answered_escalation_is_refused():
    world = World()
    escalated_user(world, pending(decided="i-already"))
    assert refusal(world).startswith("escalation_already_decided")


def test_a_request_about_another_user_than_the_sessions_is_refused():
    world = World()
    escalated_user(world)
    with pytest.raises(ToolRefused, match=r"^user_mismatch"):
        call(world, "schedule_intervention", "p-someone-else", escalationId=ESCALATION, interventionType="step_by_step_help")
    assert world.commands.appended == []


def test_arguments_that_do_not_fit_the_tool_are_refused_naming_the_argument():
    world = World()
    escalated_user(world)
    with pytest.raises(ToolArgumentsError, match="interventionType"):
        call(world, "schedule_intervention", escalationId=ESCALATION)
    with pytest.raises(ToolArgumentsError, match="channel"):
        schedule(world, channel="carrier_pigeon")
    with pytest.raises(ToolArgumentsError, match="days"):
        call(world, "get_feature_hotspots", days="365")
    assert world.commands.appended == []


# --- InterventionEngine: what goes through ---------------------------------------------------------------


def test_an_accepted_request_appends_exactly_one_schedule_command_on_the_users_stream():
    world = World()
    escalated_user(world)
    answer = schedule(world, channel="push", rationale="She failed the payment form three times.")
    assert answer == {
        "status": "accepted",
        "escalationId": ESCALATION,
        "interventionType": "step_by_step_help",
        "channel": "push",
        "note": "the stream processor applies it through the policy",
    }
    (command,) = world.commands.appended
    assert (command["eventType"], command["userId"], command["tenantId"], command["timestamp"]) == (
        "command",
        USER,
        "demo",
        world.now,
    )
    assert command["command"] == {
        "name": "schedule",
        "requestId": f"{ESCALATION}|step_by_step_help|push",
        "requestedBy": "agent",
        "escalationId": ESCALATION,
        "interventionType": "step_by_step_help",
        "channel": "push",
        "rationale": "She failed the payment form three times.",
    }


def test_without_a_channel_the_policy_picks_the_first_it_allows_and_the_processor_chooses_again():
    world = World()
    escalated_user(world)
    assert schedule(world)["channel"] == "in_app"
    assert "channel" not in world.commands.appended[0]["command"]


def test_a_request_the_stream_did_not_take_is_a_transient_failure():
    world = World(commands=MemoryCommands(refuse=True))
    escalated_user(world)
    with pytest.raises(StreamRefused, match=r"^stream_refused") as failed:
        schedule(world)
    assert isinstance(failed.value, TransientError)


def test_the_allowed_interventions_are_the_catalogs_for_the_escalation_with_the_policys_channels():
    world = World()
    escalated_user(world, consent=[True, False, False])
    got = call(world, "list_allowed_interventions")
    assert got["escalationId"] == ESCALATION
    assert got["escalation"]["reason"] == Reason.CRITICAL_HIGH_VALUE
    assert got["rulesChoice"] == {"interventionType": "step_by_step_help", "channel": "in_app"}
    assert got["interventions"][0] == {  # the signal's own entry first, then the catalog's others for the feature
        "interventionType": "step_by_step_help",
        "message": "Step-by-step help for checkout.",
        "allowedChannels": ["in_app"],
        "refusedChannels": {"push": "no_push_consent"},
    }
    assert ", ".join(i["interventionType"] for i in got["interventions"]) == ALLOWED


def test_the_allowed_interventions_are_those_of_the_newest_open_escalation_and_need_one():
    world = World()
    older = pending("abandonment", "booking", "resume_reminder", "push", at=T0 - 60_000)
    escalated_user(world, escalations={"e-older": older, ESCALATION: pending(), "e-done": pending(decided="i-1", at=T0 + 1)})
    assert call(world, "list_allowed_interventions")["escalationId"] == ESCALATION
    world.reads.states[USER].escalations = {"e-done": pending(decided="i-1")}
    with pytest.raises(ToolRefused, match=r"^no_open_escalation"):
        call(world, "list_allowed_interventions")


def test_the_history_says_who_decided_and_what_became_of_each_leaving_escalation_records_out():
    world = World()
    escalated_user(world)
    agents = {**decision("i-2", channel="push", at=T0 + 1_000), "decidedBy": "agent"}
    world.reads.interventions_by_user[USER] = [
        {**decision("i-1", at=T0 - 1_000), "decidedBy": "rule:step_by_step_help"},
        outcome("i-1"),
        report("i-1", "acted"),
        agents,
        {"kind": "decision", "of": f"escalation#{ESCALATION}", "interventionId": f"escalation#{ESCALATION}", "decidedAt": T0},
    ]
    got = call(world, "get_intervention_history")["interventions"]
    assert [(i["interventionId"], i["decidedBy"], i["channel"]) for i in got] == [
        ("i-2", "agent", "push"),
        ("i-1", "rule:step_by_step_help", "in_app"),
    ]
    assert got[1]["resolved"] is True and [r["outcome"] for r in got[1]["reports"]] == ["acted"]


# --- StruggleDetection ------------------------------------------------------------------------------------


def test_the_open_signals_come_with_their_rule_and_context_and_the_users_standing():
    world = World()
    escalated_user(world)
    world.reads.signals_by_user[USER] = [
        {
            "signalId": "s-1",
            "signalType": "repeated_attempts",
            "featureId": "checkout",
            "severity": "critical",
            "detectedAt": T0,
            "outcome": "escalated",
            "rule": "attempt_count",
            "context": {"attempts": 4, "errorType": "card_declined"},
        },
        {"signalId": "s-old", "signalType": "rage_tap", "featureId": "home", "severity": "low", "detectedAt": T0 - 8 * DAY_MS},
    ]
    got = call(world, "get_open_signals")
    assert (got["segment"], got["exitRisk"], got["currentFeature"]) == ("active_user", {"score": 72, "band": "HIGH"}, "checkout")
    (signal,) = got["openSignals"]
    assert signal["signalId"] == "s-1" and signal["rule"] == "attempt_count"
    assert signal["context"] == {"attempts": 4, "errorType": "card_declined"}


def test_an_unknown_user_is_refused():
    with pytest.raises(ToolRefused, match=r"^unknown_user"):
        call(World(), "get_open_signals")


def test_the_hot_spots_are_the_users_tenants_for_one_feature_or_the_top_ones():
    world = World()
    escalated_user(world)
    day = world.reads.days["signals"]
    day[tenant_day("demo", world.now)] = [
        {"userId": "a", "featureId": "checkout", "signalType": "rage_tap", "severity": "high", "detectedAt": T0},
        {"userId": "b", "featureId": "checkout", "signalType": "error_pattern", "severity": "medium", "detectedAt": T0},
        {"userId": "a", "featureId": "search", "signalType": "screen_loop", "severity": "low", "detectedAt": T0},
    ]
    day[tenant_day("other", world.now)] = [
        {"userId": "z", "featureId": "secret", "signalType": "rage_tap", "severity": "high", "detectedAt": T0}
    ]
    top = call(world, "get_feature_hotspots", days=1)
    assert [(s["featureId"], s["signals"], s["users"]) for s in top["hotspots"]] == [("checkout", 2, 2), ("search", 1, 1)]
    one = call(world, "get_feature_hotspots", featureId="search", days="7")
    assert [s["featureId"] for s in one["hotspots"]] == ["search"] and one["period"]["days"] == 7


# --- VideoIntelligence ------------------------------------------------------------------------------------


def watched(views: int, completion: float, replays: int = 0, at: int = T0 - 60_000) -> list[Any]:
    """A stored VideoSummary: ``views`` views of a 2-minute video, the best playing ``completion`` of it."""
    return list(
        VideoSummary(
            lastWatchedAt=at,
            views=views,
            watchMs=int(120_000 * completion * views),
            maxCompletion=completion,
            replays=replays,
            skips=0,
            pauses=0,
            speed=1.0,
            durationMs=120_000,
            returns=0,
            replayedAt=-1.0,
            position=-1.0,
            viewWatchMs=0,
            viewFlags=ENDED,
        )
    )


def test_a_video_the_user_never_watched_is_refused_naming_those_they_did():
    world = World()
    escalated_user(world, videos={"pricing": watched(1, 0.5)})
    with pytest.raises(ToolRefused, match=r"^no_such_video.*their videos: pricing"):
        call(world, "get_video_engagement", videoId="intro")


def test_one_videos_engagement_comes_with_what_it_says():
    world = World()
    escalated_user(world, videos={"setup-guide": watched(2, 0.95, replays=4)})
    got = call(world, "get_video_engagement", videoId="setup-guide")
    assert got["engagement"]["views"] == 2 and got["engagement"]["maxCompletion"] == 0.95
    assert "rewatched_section" in got["intelligence"]["comprehensionIndicators"]
    assert 0 < got["intelligence"]["interestScore"] <= 1


def test_the_video_summary_covers_every_video_newest_first():
    world = World()
    escalated_user(world, videos={"old": watched(1, 0.1, at=T0 - DAY_MS), "new": watched(1, 1.0)})
    got = call(world, "get_video_summary")
    assert got["videoCount"] == 2 and [v["videoId"] for v in got["videos"]] == ["new", "old"]
    assert "abandoned_early" in got["readinessSignals"] and "completed_with_focus" in got["readinessSignals"]
