"""Insights, analytics and privacy requests as use cases over in-memory read models."""

from __future__ import annotations

import pytest

from journey.app.analytics import hotspots, uplift
from journey.app.api_ports import BadRequest, Forbidden, NotFound
from journey.app.insights import user_insights
from journey.app.privacy import ConsentChange, change_consent, export_user, request_erasure
from journey.kernel.clock import DAY_MS
from journey.kernel.tenancy import tenant_day
from journey.users.state import UserState
from tests.unit.api_fakes import NOW, Fakes, app_user, decision, outcome, pid, report, server


def known_user(fakes: Fakes, user: str = "demo-user-1") -> str:
    user_id = pid(user)
    fakes.reads.states[user_id] = UserState(
        userId=user_id,
        segment="active_user",
        first_event_at=NOW - DAY_MS,
        last_event_at=NOW,
        risk_score=64,
        risk_band="HIGH",
        risk_contributors=[["struggle_signal_count_7d", 25.0], ["days_since_last_login", 9.5]],
        consent=[True, True, False],
    )
    return user_id


def test_insights_hold_profile_exit_risk_open_signals_and_interventions_with_what_became_of_them():
    fakes = Fakes()
    user = known_user(fakes)
    fakes.reads.interventions_by_user[user] = [
        decision("i-1"),
        outcome("i-1"),
        report("i-1", "shown"),
        report("i-1", "acted", NOW + 2000),
    ]
    fakes.reads.signals_by_user[user] = [
        {
            "signalId": "s-i-1",
            "signalType": "rage_tap",
            "featureId": "checkout",
            "severity": "high",
            "detectedAt": NOW,
            "outcome": "sent",
        },
        {
            "signalId": "s-2",
            "signalType": "help_seeking",
            "featureId": "faq",
            "severity": "medium",
            "detectedAt": NOW - 10,
            "outcome": "held_out",
        },
        {
            "signalId": "s-old",
            "signalType": "error_pattern",
            "featureId": "login",
            "severity": "low",
            "detectedAt": NOW - 8 * DAY_MS,
            "outcome": "sent",
        },
    ]
    got = user_insights(server(), "demo-user-1", fakes.ports())
    assert got.exitRisk.score == 64 and got.exitRisk.band == "HIGH"
    assert [(c.feature, c.points) for c in got.exitRisk.contributors] == [
        ("struggle_signal_count_7d", 25.0),
        ("days_since_last_login", 9.5),
    ]
    assert got.profile.consent.push is True and got.profile.erased is False
    assert [s.signalId for s in got.openSignals] == ["s-2"]  # s-i-1 resolved, s-old out of the week
    (intervention,) = got.recentInterventions
    assert intervention.resolved and [r.outcome for r in intervention.reports] == ["shown", "acted"]


def test_insights_of_a_user_without_data_or_of_another_tenant_are_not_found():
    fakes = Fakes()
    known_user(fakes)
    with pytest.raises(NotFound):
        user_insights(server("other"), "demo-user-1", fakes.ports())
    with pytest.raises(NotFound):
        user_insights(server(), "nobody", fakes.ports())


def test_consent_and_erasure_are_commands_on_the_users_stream():
    fakes = Fakes()
    consent = change_consent(app_user(), "demo-user-1", ConsentChange(inApp=True, push=False, messages=True), fakes.ports())
    erase = request_erasure(server(), "demo-user-1", fakes.ports())
    first, second = fakes.stream.appended
    assert first["command"]["name"] == "consent" and first["command"]["consent"] == {
        "inApp": True,
        "push": False,
        "messages": True,
    }
    assert first["command"]["requestId"] == consent.requestId and first["userId"] == pid()
    assert second["command"] == {"name": "erase", "requestId": erase.requestId, "requestedBy": server().principal}
    with pytest.raises(Forbidden):
        change_consent(
            app_user("demo-user-2"), "demo-user-1", ConsentChange(inApp=False, push=False, messages=False), fakes.ports()
        )


def test_export_holds_everything_and_nothing_of_other_users():
    fakes = Fakes()
    user = known_user(fakes)
    known_user(fakes, "demo-user-2")
    fakes.identities.remember(user, "demo", "demo-user-1", NOW)
    fakes.reads.interventions_by_user[user] = [decision("i-1"), outcome("i-1"), report("i-1", "shown")]
    fakes.reads.journals[user] = [["e1", NOW, "feature_interaction", "checkout", "tap"]]
    fakes.quarantine.records[user] = [{"code": "schema_violation"}]
    got = export_user(server(), "demo-user-1", fakes.ports())
    assert got.identity["externalId"] == "demo-user-1" and got.state["risk_score"] == 64
    assert (len(got.interventions), len(got.outcomes), len(got.reports), len(got.journal), len(got.quarantined)) == (
        1,
        1,
        1,
        1,
        1,
    )
    assert pid("demo-user-2") not in got.model_dump_json()
    with pytest.raises(NotFound):
        export_user(server("other"), "demo-user-1", fakes.ports())


def test_hotspots_rank_features_by_signals_within_the_tenants_days():
    fakes = Fakes()
    day = tenant_day("demo", NOW)
    fakes.reads.days["signals"][day] = [
        {"userId": "p-a", "featureId": "checkout", "signalType": "rage_tap", "severity": "high", "detectedAt": NOW},
        {"userId": "p-b", "featureId": "checkout", "signalType": "error_pattern", "severity": "medium", "detectedAt": NOW + 1},
        {"userId": "p-a", "featureId": "search", "signalType": "help_seeking", "severity": "low", "detectedAt": NOW},
    ]
    fakes.reads.days["signals"][tenant_day("other", NOW)] = [{"userId": "p-z", "featureId": "zzz", "detectedAt": NOW}] * 5
    got = hotspots(server(), fakes.ports(), days=7, limit=10, max_days=90)
    assert [(h.featureId, h.signals, h.users) for h in got.hotspots] == [("checkout", 2, 2), ("search", 1, 1)]
    assert got.period.days == 7 and got.period.toDay == "2026-11-01"
    with pytest.raises(BadRequest):
        hotspots(server(), fakes.ports(), days=91, limit=10, max_days=90)


def test_uplift_compares_treated_and_holdout_per_signal_type_with_the_report_funnel():
    fakes = Fakes()
    items = []
    for n in range(10):
        items.append(decision(f"i-t{n}"))
        if n < 7:
            items.append(outcome(f"i-t{n}"))
        if n < 4:
            items.append(report(f"i-t{n}", "shown"))
    for n in range(5):
        items.append(decision(f"i-h{n}", status="held_out"))
        if n < 1:
            items.append(outcome(f"i-h{n}"))
    items.append(decision("i-suppressed", status="suppressed", channel=None))
    fakes.reads.days["interventions"][tenant_day("demo", NOW - DAY_MS)] = items
    got = uplift(server(), fakes.ports(), days=28, max_days=90)
    (row,) = got.signalTypes
    assert (row.treated.n, row.treated.resolved, row.holdout.n, row.holdout.resolved) == (10, 7, 5, 1)
    assert row.difference == pytest.approx(0.5) and row.ci95 is not None and row.ci95.low < 0.5 < row.ci95.high
    assert (row.funnel.sent, row.funnel.reported, row.funnel.shown) == (10, 4, 4)
    assert uplift(server("other"), fakes.ports(), days=28, max_days=90).signalTypes == []


def test_an_export_leaves_out_a_quarantined_records_data_too_large_for_the_answer():
    # found by review: an export holding oversize records could pass Lambda's 6 MB answer
    import json as _json

    from journey.adapters.aws.read_models import MAX_RECORD_DATA, S3QuarantineReader
    from journey.adapters.aws.s3 import owner_prefix
    from localrt.memory_aws import MemoryS3, Meter

    s3 = MemoryS3(Meter())
    big = {"code": "oversize", "reason": "too large", "data": "A" * (MAX_RECORD_DATA + 1)}
    small = {"code": "not_json", "reason": "not JSON", "data": "e25vdA=="}
    s3.put_object(Bucket="q", Key=f"{owner_prefix('p-u')}2026/11/01/s/1.json", Body=_json.dumps(big).encode())
    s3.put_object(Bucket="q", Key=f"{owner_prefix('p-u')}2026/11/01/s/2.json", Body=_json.dumps(small).encode())
    s3.put_object(Bucket="q", Key=f"{owner_prefix('p-other')}2026/11/01/s/3.json", Body=_json.dumps(small).encode())
    records = S3QuarantineReader("q", s3=s3).records_of("p-u")
    assert [r["code"] for r in records] == ["oversize", "not_json"]  # the other user's record is not theirs
    assert records[0]["data"] is None and "too large" in records[0]["dataLeftOut"] and records[1]["data"] == "e25vdA=="
