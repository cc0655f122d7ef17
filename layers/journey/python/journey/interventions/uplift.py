"""Uplift per signal type: did stepping in help, measured against the holdout group.

Each decision that passed the policy is either sent (treated) or held out (the deterministic control
group of :func:`journey.interventions.policy.in_holdout`); it is *resolved* when a later success on
the same feature closed its episode, measured the same way in both arms. The uplift of a signal type
is the difference of the two resolution rates (treated − holdout), with a 95% confidence interval by
Newcombe's hybrid score method (his method 10: the difference of two independent proportions from
their two Wilson score intervals, Newcombe 1998, Statistics in Medicine 17:873-890). It keeps within
[-1, 1], behaves at 0 and at n, and needs no continuity correction. An arm without samples has no
rate, and the difference no interval.

The app's own reports (shown, dismissed, acted, resolved) on treated in-app sends make the funnel
beside it: they say what users did with the help, not whether it worked."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field

Z_95 = 1.959963984540054  # the standard normal quantile of 0.975
METHOD = "newcombe-hybrid-score (two Wilson score intervals), 95%"
REPORTED_OUTCOMES = ("shown", "dismissed", "acted", "resolved")


def wilson_interval(successes: int, n: int, z: float = Z_95) -> tuple[float, float] | None:
    """Wilson's score interval of a proportion ``successes / n``; None when ``n`` is 0."""
    if n <= 0:
        return None
    if not 0 <= successes <= n:
        raise ValueError(f"successes must be within 0..{n}, got {successes}")
    p = successes / n
    z2 = z * z
    denominator = 1 + z2 / n
    center = (p + z2 / (2 * n)) / denominator
    half = z * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / denominator
    return max(0.0, center - half), min(1.0, center + half)


def newcombe_interval(x1: int, n1: int, x2: int, n2: int, z: float = Z_95) -> tuple[float, float] | None:
    """The hybrid score interval of ``x1/n1 − x2/n2``; None when either arm has no samples."""
    first, second = wilson_interval(x1, n1, z), wilson_interval(x2, n2, z)
    if first is None or second is None:
        return None
    p1, p2 = x1 / n1, x2 / n2
    (l1, u1), (l2, u2) = first, second
    difference = p1 - p2
    low = difference - math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2)
    high = difference + math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)
    return max(-1.0, low), min(1.0, high)


@dataclass(frozen=True, slots=True)
class Observation:
    """One decision that passed the policy: its signal type, its arm, whether its episode resolved,
    and (treated in-app sends only) the outcomes the app reported of it."""

    signal_type: str
    held_out: bool
    resolved: bool
    reported: tuple[str, ...] = ()
    in_app: bool = False


@dataclass(frozen=True, slots=True)
class Arm:
    n: int
    resolved: int

    @property
    def rate(self) -> float | None:
        return self.resolved / self.n if self.n else None


@dataclass(frozen=True, slots=True)
class Funnel:
    """Treated in-app sends and, per outcome, how many of them the app reported it of."""

    sent: int = 0
    reported: int = 0
    outcomes: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Uplift:
    signal_type: str
    treated: Arm
    holdout: Arm
    funnel: Funnel

    @property
    def difference(self) -> float | None:
        treated, holdout = self.treated.rate, self.holdout.rate
        return None if treated is None or holdout is None else treated - holdout

    @property
    def interval(self) -> tuple[float, float] | None:
        return newcombe_interval(self.treated.resolved, self.treated.n, self.holdout.resolved, self.holdout.n)


def uplift_by_signal_type(observations: Iterable[Observation]) -> list[Uplift]:
    """One :class:`Uplift` per signal type seen, by name."""
    counts: dict[str, list[int]] = {}  # type -> [treated n, treated resolved, holdout n, holdout resolved, sent, reported]
    funnels: dict[str, dict[str, int]] = {}
    for seen in observations:
        row = counts.setdefault(seen.signal_type, [0, 0, 0, 0, 0, 0])
        outcomes = funnels.setdefault(seen.signal_type, dict.fromkeys(REPORTED_OUTCOMES, 0))
        arm = 2 if seen.held_out else 0
        row[arm] += 1
        row[arm + 1] += int(seen.resolved)
        if seen.held_out or not seen.in_app:
            continue
        row[4] += 1
        reported = set(seen.reported) & outcomes.keys()
        row[5] += int(bool(reported))
        for outcome in reported:
            outcomes[outcome] += 1
    return [
        Uplift(kind, Arm(row[0], row[1]), Arm(row[2], row[3]), Funnel(row[4], row[5], funnels[kind]))
        for kind, row in sorted(counts.items())
    ]
