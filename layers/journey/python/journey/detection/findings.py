"""What a rule returns: the signals it found, before severity grading and the refractory period."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from journey.detection.signals import Severity, SignalType
from journey.events.model import UserEvent
from journey.settings import DetectionSettings
from journey.users.state import UserState

Finding = tuple[SignalType, str, Severity, dict[str, Any]]
Rule = Callable[[UserEvent, UserState, DetectionSettings], Sequence[Finding]]
NONE: tuple[Finding, ...] = ()  # what a rule returns when it finds nothing (rules run on every event: no generators)
