"""Erasure on the local runtime (moto provisioned from the template, the real stream processor):
after the erase command, no table, index or quarantine object (any version: the bucket is
versioned) holds the user; an audit record says who asked and what went, without personal data;
the user's new events are refused until consent is given again."""

from __future__ import annotations

import json
import time

import pytest

from journey.adapters.aws.s3 import owner_prefix
from journey.events.commands import consent_command, erase_command
from journey.kernel.tenancy import tenant_day
from localrt.runtime import local_runtime
from tests.builders import event, tap

pytestmark = pytest.mark.network_local
USER, OTHER = "p-erase-me", "p-keep-me"


def now_ms() -> int:
    return int(time.time() * 1000)


def struggle(user: str, t: int) -> list[dict]:
    taps = [{**tap(t + dt, user=user), "tenantId": "demo"} for dt in (0, 200, 400)]
    return [*taps, {**event("error", user=user, t=t + 600, feature="checkout", errorType="card_declined"), "tenantId": "demo"}]


def put(rt, *payloads, key: str | None = None) -> None:
    rt.put_records([(key or p["userId"], json.dumps(p).encode(), p.get("eventId")) for p in payloads])


def holds(item: dict, user: str) -> bool:
    return user in json.dumps(item)


def test_after_erasure_nothing_holds_the_user_and_their_events_are_refused(tmp_path):
    with local_runtime(tmp_path / "function.log", schedule="off") as rt:
        rt.start_polling()
        t = now_ms()
        put(rt, *struggle(USER, t), *struggle(OTHER, t))
        rt.put_records([(USER, b"{not json", None)])  # a quarantined record of the user
        assert rt.wait_until_drained(timeout_s=60)
        s3, ddb, bucket = rt.clients["s3"], rt.clients["dynamodb"], rt.quarantine_bucket
        assert any(holds(i, USER) for i in rt.scan("SIGNALS_TABLE")) and any(holds(i, USER) for i in rt.scan("EVENTS_TABLE"))
        assert s3.list_object_versions(Bucket=bucket, Prefix=owner_prefix(USER)).get("Versions")

        put(rt, erase_command(USER, "demo", "req-erase-1", "arn:aws:iam::123456789012:role/privacy-desk", now_ms()))
        assert rt.wait_until_drained(timeout_s=60)

        for table in ("EVENTS_TABLE", "SIGNALS_TABLE", "INTERVENTIONS_TABLE", "IDENTITIES_TABLE"):
            assert not [i for i in rt.scan(table) if holds(i, USER)], table
        [tombstone] = [i for i in rt.scan("STATE_TABLE") if i["userId"]["S"] == USER]
        assert "erasedAt" in tombstone and "ttl" not in tombstone and "dueAt" not in tombstone
        for table in ("SIGNALS_TABLE", "INTERVENTIONS_TABLE"):  # the tenant's day index
            found = ddb.query(
                TableName=rt.tables[table],
                IndexName="TenantDayIndex",
                KeyConditionExpression="tenantDay = :d",
                ExpressionAttributeValues={":d": {"S": tenant_day("demo", t)}},
            )["Items"]
            assert found and not [i for i in found if holds(i, USER)]  # the other user's are still there
        versions = s3.list_object_versions(Bucket=bucket, Prefix=owner_prefix(USER))
        assert not versions.get("Versions") and not versions.get("DeleteMarkers")
        [audit] = rt.scan("PRIVACY_AUDIT_TABLE")
        assert audit["requestId"]["S"] == "req-erase-1" and audit["requestedBy"]["S"].endswith("privacy-desk")
        assert int(audit["removed"]["M"]["quarantine"]["N"]) == 1 and int(audit["removed"]["M"]["StruggleSignals"]["N"]) >= 1
        assert not holds(audit, USER)

        put(rt, *struggle(USER, now_ms()))  # new events of the erased user: refused, not kept
        assert rt.wait_until_drained(timeout_s=60)
        assert not [i for i in rt.scan("EVENTS_TABLE") if holds(i, USER)]
        assert not [i for i in rt.scan("SIGNALS_TABLE") if holds(i, USER)]
        assert rt.collector.totals().get("erased_users_events_refused", 0) == 4

        consent = {"inApp": True, "push": False, "messages": False}
        put(rt, consent_command(USER, "demo", consent, "req-consent-1", USER, now_ms()))
        put(rt, *struggle(USER, now_ms() + 1000))
        assert rt.wait_until_drained(timeout_s=60)
        assert [i for i in rt.scan("SIGNALS_TABLE") if holds(i, USER)]  # consent given again: welcome back


def test_delete_through_the_api_leaves_nothing_of_the_user_and_refuses_their_events_until_consent(tmp_path):
    from journey.kernel.tenancy import pseudonym
    from localrt.api_local import asgi_request
    from localrt.serve import LOCAL_PSEUDONYM_KEY, runtime_api

    with local_runtime(tmp_path / "function.log", schedule="off") as rt:
        rt.start_polling()
        api = runtime_api(rt)
        tokens = api.tokens()
        app, server = tokens["app_user"], tokens["server"]
        user = pseudonym(LOCAL_PSEUDONYM_KEY, "demo", "demo-user-1")

        def send(t: int) -> dict:
            taps = [
                {
                    "eventType": "feature_interaction",
                    "userId": "demo-user-1",
                    "sessionId": "s1",
                    "timestamp": t + dt,
                    "eventData": {"feature": "checkout", "action": "tap", "target": "pay"},
                }
                for dt in (0, 200, 400)
            ]
            status, body = asgi_request(api, "POST", "/v1/events", token=app, body={"events": taps})
            assert status == 200, body
            return body

        assert send(now_ms())["accepted"] == 3
        rt.put_records([(user, b"{not json", None)])  # a record of theirs the stream quarantines
        assert rt.wait_until_drained(timeout_s=60)
        assert [i for i in rt.scan("SIGNALS_TABLE") if holds(i, user)] and [
            i for i in rt.scan("IDENTITIES_TABLE") if holds(i, user)
        ]
        assert rt.clients["s3"].list_object_versions(Bucket=rt.quarantine_bucket, Prefix=owner_prefix(user)).get("Versions")

        status, body = asgi_request(api, "DELETE", "/v1/users/demo-user-1", token=server)
        assert status == 202 and body["requestId"]
        assert rt.wait_until_drained(timeout_s=60)

        for table in ("EVENTS_TABLE", "SIGNALS_TABLE", "INTERVENTIONS_TABLE", "IDENTITIES_TABLE"):
            assert not [i for i in rt.scan(table) if holds(i, user) or holds(i, "demo-user-1")], table
        versions = rt.clients["s3"].list_object_versions(Bucket=rt.quarantine_bucket, Prefix=owner_prefix(user))
        assert not versions.get("Versions") and not versions.get("DeleteMarkers")
        [audit] = rt.scan("PRIVACY_AUDIT_TABLE")
        assert audit["requestId"]["S"] == body["requestId"] and not holds(audit, user) and not holds(audit, "demo-user-1")

        refused = send(now_ms())  # refused at the door: nothing of theirs reaches the stream
        assert refused["accepted"] == 0 and {r["code"] for r in refused["results"]} == {"user_erased"}

        status, _ = asgi_request(
            api, "PUT", "/v1/users/demo-user-1/consent", token=app, body={"inApp": True, "push": False, "messages": False}
        )
        assert status == 202
        assert rt.wait_until_drained(timeout_s=60)
        assert send(now_ms() + 1000)["accepted"] == 3  # consent given again: welcome back
