"""What the detector says about a user: a struggle signal, with its severity and context."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from enum import Enum
from functools import cached_property
from typing import Any


class SignalType(str, Enum):
    REPEATED_ATTEMPTS = "repeated_attempts"
    ERROR_PATTERN = "error_pattern"
    ABANDONMENT = "abandonment"
    HELP_SEEKING = "help_seeking"
    RAGE_TAP = "rage_tap"
    SCREEN_LOOP = "screen_loop"
    # not a struggle: a user silent past a threshold whose re-scored exit risk is high (journey.app.quiet)
    GONE_QUIET = "gone_quiet"


class Severity(str, Enum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        return _RANK[self]

    def raised(self, steps: int = 1) -> Severity:
        return _ORDER[min(len(_ORDER) - 1, self.rank + steps)]


_ORDER = [Severity.LOW, Severity.MEDIUM, Severity.HIGH, Severity.CRITICAL]
_RANK = {s: i for i, s in enumerate(_ORDER)}


@dataclass(frozen=True)
class StruggleSignal:
    userId: str
    featureId: str
    signalType: SignalType
    severity: Severity
    detectedAt: int
    triggerEventId: str
    rule: str
    context: dict[str, Any] = field(default_factory=dict)
    # what became of it (DESIGN.md rule 5): sent, held_out, suppressed:<reason>, stale,
    # below_action_threshold, no_intervention; "" until decided
    outcome: str = ""

    @cached_property
    def signalId(self) -> str:
        basis = f"{self.userId}|{self.triggerEventId}|{self.signalType.value}|{self.featureId}"
        return "s-" + hashlib.blake2b(basis.encode(), digest_size=10).hexdigest()

    def as_record(self) -> dict[str, Any]:
        """The line written to signals.jsonl and the analytics sinks."""
        return {
            "userId": self.userId,
            "featureId": self.featureId,
            "signalType": self.signalType.value,
            "severity": self.severity.value,
            "detectedAt": self.detectedAt,
            "signalId": self.signalId,
            "rule": self.rule,
            "outcome": self.outcome,
        }
