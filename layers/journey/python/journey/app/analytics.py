"""A tenant's analytics over its last days: where users struggle most (hot spots), and whether
stepping in helps (uplift per signal type, treated against holdout, with a 95% confidence interval).

Both read the tenant's day index of the signals and interventions tables, one query per day: a
tenant only ever reads its own days."""

from __future__ import annotations

from collections import Counter
from typing import Any

from pydantic import BaseModel, Field

from journey.app.api_ports import ApiPorts, BadRequest, Caller
from journey.app.inbox import SENT
from journey.interventions.catalog import Channel
from journey.interventions.policy import Outcome
from journey.interventions.uplift import METHOD, REPORTED_OUTCOMES, Observation, uplift_by_signal_type
from journey.kernel.clock import DAY_MS
from journey.kernel.tenancy import tenant_day

HELD_OUT = Outcome.HELD_OUT.value


class Period(BaseModel):
    fromDay: str = Field(description="first UTC day, YYYY-MM-DD")
    toDay: str = Field(description="last UTC day (today), YYYY-MM-DD")
    days: int


class Hotspot(BaseModel):
    featureId: str
    signals: int
    users: int
    bySignalType: dict[str, int]
    bySeverity: dict[str, int]
    lastDetectedAt: int


class Hotspots(BaseModel):
    period: Period
    hotspots: list[Hotspot]


class ArmView(BaseModel):
    n: int = Field(description="decisions in the arm")
    resolved: int = Field(description="of them, episodes a later success resolved")
    rate: float | None = Field(description="resolved / n (null without samples)")


class Interval(BaseModel):
    low: float
    high: float


class FunnelView(BaseModel):
    sent: int = Field(description="treated in-app sends")
    reported: int = Field(description="of them, sends the app reported anything of")
    shown: int
    dismissed: int
    acted: int
    resolved: int


class UpliftRow(BaseModel):
    signalType: str
    treated: ArmView
    holdout: ArmView
    difference: float | None = Field(description="treated rate − holdout rate")
    ci95: Interval | None = Field(description="95% interval of the difference (null when an arm has no samples)")
    funnel: FunnelView


class UpliftReport(BaseModel):
    period: Period
    method: str
    signalTypes: list[UpliftRow]


def _days(days: int, max_days: int, now_ms: int, tenant: str) -> tuple[Period, list[str]]:
    if not 1 <= days <= max_days:
        raise BadRequest(f"days must be within 1..{max_days}, got {days}")
    stamps = [now_ms - back * DAY_MS for back in range(days - 1, -1, -1)]
    keys = [tenant_day(tenant, at) for at in stamps]
    period = Period(fromDay=keys[0].split("#", 1)[1], toDay=keys[-1].split("#", 1)[1], days=days)
    return period, keys


def hotspots(caller: Caller, ports: ApiPorts, days: int, limit: int, max_days: int) -> Hotspots:
    period, keys = _days(days, max_days, ports.clock_ms(), caller.tenant)
    by_feature: dict[str, list[dict[str, Any]]] = {}
    for key in keys:
        for signal in ports.analytics.signals_on(key):
            by_feature.setdefault(str(signal.get("featureId", "")), []).append(signal)
    spots = [
        Hotspot(
            featureId=feature,
            signals=len(signals),
            users=len({s.get("userId") for s in signals}),
            bySignalType=dict(Counter(str(s.get("signalType", "")) for s in signals)),
            bySeverity=dict(Counter(str(s.get("severity", "")) for s in signals)),
            lastDetectedAt=max(int(s.get("detectedAt", 0)) for s in signals),
        )
        for feature, signals in by_feature.items()
    ]
    spots.sort(key=lambda spot: (-spot.signals, -spot.users, spot.featureId))
    return Hotspots(period=period, hotspots=spots[:limit])


def uplift(caller: Caller, ports: ApiPorts, days: int, max_days: int) -> UpliftReport:
    period, keys = _days(days, max_days, ports.clock_ms(), caller.tenant)
    decisions: list[dict[str, Any]] = []
    resolved: set[str] = set()
    reported: dict[str, set[str]] = {}
    for key in keys:
        for item in ports.analytics.interventions_on(key):
            kind, of = item.get("kind"), str(item.get("of", ""))
            if kind == "outcome":
                resolved.add(of)
            elif kind == "report":
                reported.setdefault(of, set()).add(str(item.get("outcome", "")))
            elif kind == "decision" and item.get("status") in (SENT, HELD_OUT):
                decisions.append(item)
    observations = [
        Observation(
            signal_type=str(d.get("signalType", "")),
            held_out=d.get("status") == HELD_OUT,
            resolved=str(d["interventionId"]) in resolved,
            reported=tuple(sorted(reported.get(str(d["interventionId"]), ()))),
            in_app=d.get("channel") == Channel.IN_APP.value,
        )
        for d in decisions
    ]
    rows = []
    for row in uplift_by_signal_type(observations):
        interval = row.interval
        funnel = row.funnel
        rows.append(
            UpliftRow(
                signalType=row.signal_type,
                treated=ArmView(n=row.treated.n, resolved=row.treated.resolved, rate=row.treated.rate),
                holdout=ArmView(n=row.holdout.n, resolved=row.holdout.resolved, rate=row.holdout.rate),
                difference=row.difference,
                ci95=Interval(low=interval[0], high=interval[1]) if interval else None,
                funnel=FunnelView(
                    sent=funnel.sent, reported=funnel.reported, **{o: funnel.outcomes.get(o, 0) for o in REPORTED_OUTCOMES}
                ),
            )
        )
    return UpliftReport(period=period, method=METHOD, signalTypes=rows)
