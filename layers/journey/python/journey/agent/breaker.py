"""A circuit breaker for the agent: when Bedrock keeps failing, stop asking it for a while and let
the rules decide at once, instead of spending every escalation's whole time budget on a call that
fails.

closed ─(``failures`` consecutive failures)─▶ open ─(``cooldown_ms`` later)─▶ half-open: one trial call
half-open ─(the trial succeeds)─▶ closed;  half-open ─(the trial fails)─▶ open again, for a new cooldown

Pure: the caller passes "now" (epoch ms) to every method. The agent invoker keeps one breaker as
module state, so each Lambda container (execution environment) has its own: a container that never
saw the failures starts closed and finds out for itself. That is the intended trade: no shared
store on the hot path, and each container opens within ``failures`` calls."""

from __future__ import annotations

from dataclasses import dataclass

CLOSED, OPEN, HALF_OPEN = "closed", "open", "half_open"


@dataclass
class CircuitBreaker:
    failures: int = 5  # consecutive failures that open it (AgentSettings.breaker_failures)
    cooldown_ms: int = 60_000  # how long it stays open (AgentSettings.breaker_cooldown_ms)
    state: str = CLOSED
    consecutive_failures: int = 0
    opened_at: int = 0
    trial_in_flight: bool = False

    def __post_init__(self) -> None:
        if self.failures < 1 or self.cooldown_ms < 0:
            raise ValueError("a breaker needs failures >= 1 and cooldown_ms >= 0")

    def allow(self, now_ms: int) -> bool:
        """May a call be made now? Open: no, until the cooldown has passed; then it turns half-open and
        lets exactly one trial call through (the next ``allow`` says no until that trial is recorded)."""
        if self.state == OPEN and now_ms - self.opened_at >= self.cooldown_ms:
            self.state, self.trial_in_flight = HALF_OPEN, False
        if self.state == CLOSED:
            return True
        if self.state == HALF_OPEN and not self.trial_in_flight:
            self.trial_in_flight = True
            return True
        return False

    def record_success(self) -> None:
        self.state, self.consecutive_failures, self.trial_in_flight = CLOSED, 0, False

    def record_failure(self, now_ms: int) -> None:
        self.consecutive_failures += 1
        if self.state == HALF_OPEN or self.consecutive_failures >= self.failures:
            self.state, self.opened_at, self.trial_in_flight = OPEN, now_ms, False

    def state_at(self, now_ms: int) -> str:
        """The state as a caller would find it now (without taking the half-open trial)."""
        if self.state == OPEN and now_ms - self.opened_at >= self.cooldown_ms:
            return HALF_OPEN
        return self.state
