"""The intervention catalog: which help answers which struggle, and the channels to try, in order.

The default catalog is below; a deployment can supply its own as a JSON list of entries at the path
in ``JOURNEY_CATALOG_PATH``.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from enum import Enum
from functools import lru_cache

from journey.detection.signals import SignalType, StruggleSignal
from journey.resources import Env


class Channel(str, Enum):
    IN_APP = "in_app"
    PUSH = "push"
    SNS = "sns"


@dataclass(frozen=True, slots=True)
class CatalogEntry:
    interventionType: str
    signalType: SignalType
    feature: str  # "*" matches every feature
    channels: tuple[Channel, ...]
    message: str  # facts only: no invented scarcity or urgency

    def matches(self, signal: StruggleSignal) -> bool:
        return self.signalType is signal.signalType and self.feature in ("*", signal.featureId)


DEFAULT_CATALOG: tuple[CatalogEntry, ...] = (
    CatalogEntry("guided_tour", SignalType.RAGE_TAP, "*", (Channel.IN_APP,), "A short guide to {feature} is available."),
    CatalogEntry(
        "step_by_step_help", SignalType.REPEATED_ATTEMPTS, "*", (Channel.IN_APP, Channel.PUSH), "Step-by-step help for {feature}."
    ),
    CatalogEntry(
        "error_recovery",
        SignalType.ERROR_PATTERN,
        "*",
        (Channel.IN_APP, Channel.PUSH, Channel.SNS),
        "We saw errors in {feature}; here is how to fix them.",
    ),
    CatalogEntry(
        "navigation_hint", SignalType.SCREEN_LOOP, "*", (Channel.IN_APP,), "Looking for something in {feature}? Try search."
    ),
    CatalogEntry(
        "resume_reminder",
        SignalType.ABANDONMENT,
        "*",
        (Channel.PUSH, Channel.SNS, Channel.IN_APP),
        "Your progress in {feature} is saved.",
    ),
    CatalogEntry(
        "support_offer",
        SignalType.HELP_SEEKING,
        "*",
        (Channel.IN_APP, Channel.SNS),
        "Support can help with {feature}: open chat.",
    ),
    # a silent user at high exit risk (journey.app.quiet): away from the app, so never in-app
    CatalogEntry(
        "re_engagement",
        SignalType.GONE_QUIET,
        "*",
        (Channel.PUSH, Channel.SNS),
        "Your account is here when you want to pick up where you left off.",
    ),
)


@lru_cache(maxsize=4)
def load_catalog(path: str | None = None) -> tuple[CatalogEntry, ...]:
    """The default catalog, or the one at ``JOURNEY_CATALOG_PATH`` (a JSON list of entries)."""
    path = path or os.environ.get(Env.CATALOG_PATH)
    if not path:
        return DEFAULT_CATALOG
    with open(path, encoding="utf-8") as handle:
        raw = json.load(handle)
    return tuple(
        CatalogEntry(
            interventionType=item["interventionType"],
            signalType=SignalType(item["signalType"]),
            feature=item.get("feature", "*"),
            channels=tuple(Channel(c) for c in item["channels"]),
            message=item["message"],
        )
        for item in raw
    )
