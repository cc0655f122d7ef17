"""Typed configuration: every threshold and switch, validated once, read from the environment.

Each field can be set with an environment variable named ``JOURNEY_<SECTION>__<FIELD>``
(for example ``JOURNEY_DETECTION__RAGE_TAP_COUNT=4``). Defaults are the published rules listed
in docs/configuration.md.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class DetectionSettings(BaseModel):
    """Struggle detection thresholds. docs/detection.md gives each rule, its defaults and their sources.

    An unknown name is an error, not ignored: a setting that was renamed or removed (the earlier
    ``SCREEN_LOOP_VISITS``, ``HELP_SCREENS``, ``REPEATED_ATTEMPTS_MIN``...) must not silently do nothing."""

    model_config = ConfigDict(extra="forbid")

    # rage taps and clicks (PostHog 3 within 1 s each; Amplitude 4 in 1 s; Datadog > 3 in 1 s; Conviva 3 in 2 s)
    rage_tap_count: int = Field(3, ge=2, le=20, description="presses on one target that make a rage tap")
    rage_tap_interval_ms: int = Field(1000, ge=50, le=10_000, description="max gap between consecutive presses")
    rage_tap_gesture_gap_ms: int = Field(
        200,
        ge=0,
        le=1000,
        description="presses closer than this are a multi-tap gesture (triple-tap to select text): one more press makes rage",
    )
    rage_tap_text_gesture_gap_ms: int = Field(
        300,
        ge=0,
        le=1000,
        description="the same on text (a label): a triple tap there selects a paragraph (Android's double-tap timeout: 300 ms)",
    )
    rage_tap_radius_px: float = Field(
        30.0, gt=0, le=500, description="mouse (web): max distance between presses with no target id"
    )
    rage_tap_touch_radius_px: float = Field(
        60.0,
        gt=0,
        le=500,
        description="touch (iOS, Android): max distance between taps with no target id (fingers spread ~44-48 pt)",
    )
    rage_tap_excluded_targets: tuple[str, ...] = (
        "toggle",
        "checkbox",
        "radio",
        "stepper",
        "slider",
        "carousel",
        "keyboard",
        "text_field",
        "text_selection",
        "video_control",
        "map",
        "story",
    )
    rage_tap_repeatable_words: tuple[str, ...] = (
        "next",
        "forward",
        "prev",
        "previous",
        "rewind",
        "skip",
        "seek",
        "increment",
        "decrement",
        "increase",
        "decrease",
        "plus",
        "minus",
        "qty",
        "quantity",
        "stepper",
        "carousel",
        "slide",
        "story",
        "stories",
        "like",
        "heart",
        "key",
        "digit",
        "keypad",
        "numpad",
        "volume",
        "zoom",
        "load more",
        "show more",
        "see more",
        "view more",
    )
    # repeated attempts: submit ▸ failure cycles, or the app's own attemptCount
    repeated_attempts_failures: int = Field(2, ge=2, le=50, description="failed attempts at one task that make a signal")
    attempt_failure_window_ms: int = Field(
        30_000, ge=1000, le=600_000, description="an error this soon after a submit is its failure"
    )
    attempt_memory_ms: int = Field(600_000, ge=10_000, le=86_400_000, description="failed attempts older than this are forgotten")
    # errors
    error_repeat_count: int = Field(2, ge=2, le=20, description="errors on one feature that make a pattern")
    error_repeat_window_ms: int = Field(60_000, ge=1000, le=3_600_000)
    error_then_background_ms: int = Field(10_000, ge=500, le=300_000, description="error then background (Conviva)")
    # screen loops: going in circles between two or three screens
    loop_two_screen_views: int = Field(5, ge=4, le=20, description="views alternating between two screens (A B A B A)")
    loop_two_screen_window_ms: int = Field(45_000, ge=1000, le=600_000)
    loop_three_screen_views: int = Field(
        6, ge=6, le=30, description="views going round three screens, each seen twice (A B C A B C, or a hub: A B A C A B)"
    )
    loop_three_screen_window_ms: int = Field(90_000, ge=1000, le=600_000)
    # abandonment
    abandonment_grace_ms: int = Field(
        600_000, ge=0, le=86_400_000, description="a user who leaves mid-flow and is back within this is not abandoning"
    )
    flow_timeout_ms: int = Field(
        600_000, ge=10_000, le=86_400_000, description="an open flow with no activity this long is abandoned"
    )
    # help seeking: phrases added to (or taken out of) the built-in lexicon (journey.detection.help), per deployment
    help_phrases: tuple[str, ...] = ()
    help_not_phrases: tuple[str, ...] = ()
    critical_features: tuple[str, ...] = ("checkout", "payment", "login", "signup")
    severity_recent_window_ms: int = Field(300_000, ge=1000, description="signals this recent escalate severity")
    late_event_tolerance_ms: int = Field(
        300_000,
        ge=0,
        le=86_400_000,
        description="an event stamped this much before the user's newest event is profiled and journaled but not run through detection",
    )


class RiskSettings(BaseModel):
    """Exit-risk bands (the seed's: LOW under 30, MEDIUM under 60, HIGH above)."""

    medium_from: int = Field(30, ge=1, le=99)
    high_from: int = Field(60, ge=2, le=100)
    model_version: str = Field(
        "",
        max_length=128,
        pattern=r"^[A-Za-z0-9._-]*$",
        description="the trained exit-risk model the stream processor scores with (models/exit-risk/<version>/ in the "
        "models bucket); empty: the points model",
    )
    quiet_after_ms: tuple[int, ...] = Field(
        (3 * 86_400_000, 7 * 86_400_000, 14 * 86_400_000),
        max_length=8,
        description="a user silent this long since their last activity is re-scored (the deadline timer wakes them), "
        "ascending; () turns silent re-scoring off",
    )
    reengage_from: int = Field(
        60, ge=1, le=101, description="a silent user re-scored at or above this exit risk is offered re-engagement (101: never)"
    )

    @model_validator(mode="after")
    def _ascending(self) -> RiskSettings:
        q = self.quiet_after_ms
        if any(t <= 0 for t in q) or list(q) != sorted(set(q)):
            raise ValueError(f"quiet_after_ms must be positive and strictly ascending, got {q}")
        if self.high_from <= self.medium_from:
            raise ValueError("high_from must be above medium_from")
        return self


class PolicySettings(BaseModel):
    """What keeps interventions from becoming spam."""

    frequency_cap: int = Field(3, ge=0, le=100, description="sends per user per cap window, all channels")
    frequency_window_ms: int = Field(86_400_000, ge=60_000)
    feature_cooldown_ms: int = Field(1_800_000, ge=0, description="per user and feature")
    quiet_hours_start: int = Field(22, ge=0, le=23, description="local hour quiet hours begin")
    quiet_hours_end: int = Field(8, ge=0, le=23, description="local hour quiet hours end")
    holdout_percent: float = Field(10.0, ge=0, le=100, description="control group per signal type")
    holdout_salt: str = Field("journey-holdout-v1", max_length=64)
    resolution_window_ms: int = Field(1_800_000, ge=1000, description="success within this resolves a signal")
    abandonment_resolution_window_ms: int = Field(
        259_200_000,
        ge=1000,
        description="an abandoned flow is resolved when the user completes it within this (they come back later)",
    )
    reengagement_resolution_window_ms: int = Field(
        259_200_000,
        ge=1000,
        description="a re-engagement (gone_quiet) is resolved when the user is active again within this",
    )
    min_severity: str = Field("medium", pattern="^(low|medium|high|critical)$")
    max_event_age_ms: int = Field(
        900_000,
        ge=1000,
        le=86_400_000,
        description="a signal from an event this much older than its arrival is recorded as stale, never sent",
    )


class ClockSettings(BaseModel):
    """Event time (the client's clock) against arrival time (when Kinesis received the record)."""

    max_future_skew_ms: int = Field(
        300_000,
        ge=0,
        le=86_400_000,
        description="an event stamped later than its arrival plus this is clamped to its arrival time (and counted)",
    )


class Switches(BaseModel):
    timestream_enabled: bool = Field(True, description="write analytics to Timestream (maintenance mode)")
    push_provider: str = Field("sns", pattern="^(sns|eum|none)$", description="SNS platform endpoints or End User Messaging")


class TenancySettings(BaseModel):
    """The apps (tenants) one deployment serves."""

    model_config = ConfigDict(extra="forbid")

    default_tenant: str = Field(
        "default",
        pattern=r"^[a-z0-9][a-z0-9_-]{0,62}$",
        description="the tenant of events that name none (a back end writing to the stream itself)",
    )


class ApiSettings(BaseModel):
    """The HTTPS API's limits, and the tenants of the back ends that call it (docs/api.md)."""

    model_config = ConfigDict(extra="forbid")

    max_events: int = Field(500, ge=1, le=500, description="events one POST /v1/events may carry (PutRecords takes 500)")
    max_body_bytes: int = Field(
        1_048_576, ge=1024, le=6_000_000, description="bytes one request body may have (413 above; Lambda takes 6 MB)"
    )
    server_tenants: dict[str, Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_-]{0,62}$")]] = Field(
        default_factory=dict,
        description='back ends (IAM principal ARN, or "*" for any other) -> the tenant they act for; a principal in none is refused',
    )
    analytics_max_days: int = Field(90, ge=1, le=366, description="days one analytics request may cover")
    recent_interventions: int = Field(20, ge=1, le=200, description="interventions the insights list, newest first")
    open_signals: int = Field(20, ge=1, le=200, description="signals the insights list, newest first")


class AgentSettings(BaseModel):
    """AI decisions: which hard cases go to the agent, how long it may take, and the context analysis
    (docs/agent.md). The agent only ever chooses among the catalog's interventions, through the policy."""

    model_config = ConfigDict(extra="forbid")

    mode: str = Field(
        "none", pattern="^(agentcore|classic|none)$", description="who decides the hard cases: an agent, or the rules alone"
    )
    model_id: str = Field("us.amazon.nova-lite-v1:0", max_length=256, description="the agent's model (recorded)")
    context_model_id: str = Field("us.amazon.nova-micro-v1:0", max_length=256, description="the context analysis' model")
    # what makes a case hard (each one a reason recorded with the escalation)
    high_value_segments: tuple[str, ...] = Field(
        ("active_user", "at_risk"), description="a critical struggle of a user in these segments is escalated"
    )
    escalate_conflicting: bool = Field(True, description="two or more signal types from one event are escalated")
    escalate_high_risk_unmatched: bool = Field(
        True, description="a signal the catalog has no answer for, of a user at HIGH exit risk, is escalated"
    )
    failed_sends_to_escalate: int = Field(
        3, ge=0, le=50, description="a signal of a user with this many unresolved sends in 7 days is escalated (0: never)"
    )
    # the invoker
    time_budget_ms: int = Field(
        8_000, ge=500, le=60_000, description="how long the agent may take, retries included, before the rules decide"
    )
    answer_grace_ms: int = Field(
        120_000,
        ge=10_000,
        le=86_400_000,
        description="an escalation with no answer this long after its budget is decided by the rules (the deadline timer)",
    )
    breaker_failures: int = Field(5, ge=1, le=100, description="consecutive failures that open the circuit breaker")
    breaker_cooldown_ms: int = Field(60_000, ge=1000, le=3_600_000, description="how long an open breaker sends all to the rules")
    max_retries: int = Field(2, ge=0, le=10, description="retries of a throttled call, with jittered backoff, within the budget")
    # the context analysis (Amazon Nova, Converse)
    context_cache_ms: int = Field(3_600_000, ge=0, le=7 * 86_400_000, description="how long a user's analysis is reused")
    context_budget_ms: int = Field(6_000, ge=500, le=25_000, description="how long the analysis may take in a request")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="JOURNEY_", env_nested_delimiter="__", extra="ignore")

    detection: DetectionSettings = DetectionSettings()
    risk: RiskSettings = RiskSettings()
    policy: PolicySettings = PolicySettings()
    clock: ClockSettings = ClockSettings()
    switches: Switches = Switches()
    tenancy: TenancySettings = TenancySettings()
    api: ApiSettings = ApiSettings()
    agent: AgentSettings = AgentSettings()
    max_record_bytes: int = Field(65_536, ge=1024, le=1_048_576, description="larger records are quarantined")
    event_ttl_days: int = Field(30, ge=1, le=3650)


@lru_cache(maxsize=1)
def load_settings() -> Settings:
    """The process-wide settings, read from the environment on first use (never at import)."""
    return Settings()
