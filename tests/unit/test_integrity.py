"""Valid and hostile inputs that must not lose another user's data, blind detection, or make a send
nobody should get (issue 9). Each test names the defect class it pins; all run the production batch
use case against the in-memory AWS clients, which refuse what AWS refuses (key bytes, item size,
25-item batches, whole-call rejection)."""

from __future__ import annotations

import base64
import json
import time

import pytest
from botocore.exceptions import ClientError

from journey.adapters.aws.codecs.journal import journaled_event_ids
from journey.adapters.aws.codecs.user_state import state_from_item, state_item
from journey.adapters.aws.limits import ITEM_BYTES, PARTITION_KEY_BYTES, SORT_KEY_BYTES
from journey.app.stream_batch import process_batch
from journey.events.records import read_record
from journey.interventions.catalog import DEFAULT_CATALOG
from journey.resources import TABLES
from journey.settings import PolicySettings, Settings
from localrt.memory_aws import validation_error
from localrt.memory_ports import memory_aws
from tests.builders import event, next_sequence, tap

SETTINGS = Settings(policy=PolicySettings(holdout_percent=0))
NOW_MS = 1_795_000_000_000  # 2026-11-18: "today" for these tests (arrival times)
DAY = 86_400_000


def records(*payloads, arrival_ms=NOW_MS, shard="shardId-000000000000", sequences=None, partition_key=None):
    """Kinesis records as the function reads them; each event arrives at ``arrival_ms`` unless it says."""
    out = []
    for n, payload in enumerate(payloads):
        data = base64.b64encode(json.dumps(payload).encode()).decode()
        arrival = payload.get("_arrival", arrival_ms) if isinstance(payload, dict) else arrival_ms
        sequence = sequences[n] if sequences else next_sequence()
        out.append(read_record(sequence, partition_key or payload["userId"], data, arrival / 1000, 65_536))
    return out


def run(aws, items, shard="shardId-000000000000", settings=SETTINGS):
    """Processed shortly after NOW_MS (the processing clock; the store's TTL clock stays the real one)."""
    key = f"{shard}/{items[0].sequence}-{items[-1].sequence}"
    return process_batch(items, aws.ports, settings, DEFAULT_CATALOG, key, clock=lambda: NOW_MS / 1000 + 5)


def rage(user, t, **extra):
    return [tap(t + i * 200, user=user, **extra) for i in range(3)]


def journaled(aws, user=None):
    return [
        event_id
        for (owner, _), item in aws.dynamodb.tables["UserEvents"].items()
        if user is None or owner == user
        for event_id in journaled_event_ids(item)
    ]


def signals_of(aws, user):
    return [item for (owner, _), item in aws.dynamodb.tables["StruggleSignals"].items() if owner == user]


def item_size(item):
    """An upper bound of DynamoDB's item size, computed here (not by the code under test): UTF-8 bytes
    of every name and string, and a number's digits as if they were bytes."""
    total = 0
    for name, value in item.items():
        ((kind, raw),) = value.items()
        total += len(name.encode()) + (len(str(raw).encode()) if kind in ("S", "N") else 1)
    return total


def assert_within_aws_limits(aws):
    """Every stored item, checked against DynamoDB's limits computed here, independently of the code."""
    for spec in TABLES:
        for item in aws.dynamodb.tables[spec.logical_id].values():
            assert len(item[spec.partition_key]["S"].encode()) <= PARTITION_KEY_BYTES
            if spec.sort_key:
                assert len(item[spec.sort_key]["S"].encode()) <= SORT_KEY_BYTES, item[spec.sort_key]["S"][:60]
            assert item_size(item) <= ITEM_BYTES


# --- 1. a valid event must not lose other users' events ----------------------------------------------


@pytest.mark.parametrize(
    "name",
    ["界" * 340, "Ж" * 511, "😀" * 128, "a" * 512],
    ids=["340 CJK", "511 Cyrillic", "128 emoji", "512 ASCII"],
)
def test_a_long_multibyte_name_is_stored_and_loses_no_other_users_events(name):
    aws = memory_aws()
    batch = records(
        *rage("alice", NOW_MS - 5000),
        *rage("mallory", NOW_MS - 4000, feature=name[:128]),
        *[event("screen_view", user="mallory", t=NOW_MS - 3000 + i * 100, screen=(name, "home")[i % 2]) for i in range(5)],
        *rage("bob", NOW_MS - 3000),
    )
    result = run(aws, batch)
    assert not result.failed_sequences and not result.unstorable_users and result.applied == len(batch)
    assert len(journaled(aws)) == len(batch)
    assert signals_of(aws, "alice") and signals_of(aws, "bob")
    assert {s["signalType"]["S"] for s in signals_of(aws, "mallory")} == {"rage_tap", "screen_loop"}
    assert_within_aws_limits(aws)


def test_the_in_memory_dynamodb_refuses_what_aws_refuses_and_rejects_the_whole_call():
    aws = memory_aws()
    ddb, table = aws.dynamodb, "StruggleSignals"
    good = {"userId": {"S": "u1"}, "sk": {"S": "ok"}}
    too_long_key = {"userId": {"S": "u2"}, "sk": {"S": "界" * 342}}  # 1,026 bytes
    too_big = {"userId": {"S": "u3"}, "sk": {"S": "x"}, "blob": {"S": "y" * ITEM_BYTES}}
    for bad in (too_long_key, too_big, good):
        batch = [{"PutRequest": {"Item": good}}, {"PutRequest": {"Item": bad}}]
        with pytest.raises(ClientError) as refused:
            ddb.batch_write_item(RequestItems={table: batch})
        assert refused.value.response["Error"]["Code"] == "ValidationException"  # the last: a duplicate key
    assert not ddb.tables[table]  # nothing of a refused call is kept
    with pytest.raises(ClientError):
        ddb.batch_write_item(RequestItems={table: [{"PutRequest": {"Item": {**good, "sk": {"S": str(n)}}}} for n in range(26)]})


def test_a_user_whose_data_the_store_refuses_is_quarantined_and_everyone_else_goes_through():
    """Defence in depth: whatever a check before writing misses, DynamoDB's refusal of one user's
    item quarantines that user's records with the reason and never fails the others."""
    aws = memory_aws()
    real_write = aws.dynamodb.batch_write_item

    def refuse_mallory(RequestItems):  # her state item, as if it had outgrown 400 KB
        if any(r["PutRequest"]["Item"]["userId"]["S"] == "mallory" for r in RequestItems.get("UserState", [])):
            raise validation_error("BatchWriteItem", "Item size has exceeded the maximum allowed size")
        return real_write(RequestItems=RequestItems)

    aws.dynamodb.batch_write_item = refuse_mallory
    batch = records(*rage("alice", NOW_MS - 5000), *rage("mallory", NOW_MS - 4000), *rage("bob", NOW_MS - 3000))
    result = run(aws, batch)
    assert not result.failed_sequences  # nothing is retried: the refusal is deterministic
    assert set(result.unstorable_users) == {"mallory"} and "maximum allowed size" in result.unstorable_users["mallory"]
    assert result.rejected["unstorable"] == 3 and result.applied == 6
    assert sorted(journaled(aws)) == sorted(r.event.eventId for r in batch if r.event.userId != "mallory")
    assert signals_of(aws, "alice") and signals_of(aws, "bob") and not signals_of(aws, "mallory")
    assert ("mallory",) not in aws.dynamodb.tables["UserState"]
    kept = [json.loads(line) for body in aws.s3.objects.values() for line in body.decode().splitlines()]
    assert {q["code"] for q in kept} == {"unstorable"} and len({q["sequenceNumber"] for q in kept}) == 3
    # kept as the canonical event, so a redrive after the fix takes the normal path
    assert all(read_record("1", q["partitionKey"], q["data"], 0.0, 65_536).event.userId == "mallory" for q in kept)


# --- 2. one future-dated event must not switch detection off --------------------------------------


def test_an_event_from_the_future_is_clamped_to_its_arrival_and_detection_goes_on():
    aws = memory_aws()
    t = NOW_MS - 40 * DAY
    first = run(aws, records({**event(user="u1", t=4_070_908_800_000, feature="home"), "_arrival": t}))  # stamped 2099
    assert first.future_dated == 1
    second = run(aws, records(*[{**e, "_arrival": t + 60_000} for e in rage("u1", t + 60_000)]))
    third = run(aws, records(*[{**e, "_arrival": NOW_MS} for e in rage("u1", NOW_MS, feature="search")]))
    assert len(second.signals) == 1 and len(third.signals) == 1 and second.late == third.late == 0
    state_item = aws.dynamodb.tables["UserState"][("u1",)]
    assert state_from_item(state_item).last_event_at <= NOW_MS + SETTINGS.clock.max_future_skew_ms


def test_a_state_already_poisoned_by_a_future_event_is_repaired():
    aws = memory_aws()
    run(aws, records(event(user="u1", t=NOW_MS), arrival_ms=NOW_MS))
    key = ("u1",)
    state = state_from_item(aws.dynamodb.tables["UserState"][key])
    state.last_event_at = 4_070_908_800_000  # as a release before the bound left it
    aws.dynamodb.tables["UserState"][key] = state_item(state, 0)
    assert run(aws, records(*rage("u1", NOW_MS + 1000), arrival_ms=NOW_MS + 2000)).signals


def test_ttls_come_from_processing_time_not_from_what_the_event_claims():
    aws = memory_aws()
    old = NOW_MS - 3 * 365 * DAY  # arrives today, stamped three years ago
    run(aws, records(*rage("u1", old)))
    now_s = time.time()
    for table in ("UserState", "UserEvents", "StruggleSignals", "Interventions"):
        for item in aws.dynamodb.tables[table].values():
            assert now_s + 29 * 86_400 < int(item["ttl"]["N"]) < now_s + 31 * 86_400, table


# --- 3. every per-user collection and item is bounded ---------------------------------------------------


def test_help_requests_on_ever_new_long_names_keep_the_state_item_small():
    aws = memory_aws(retain=None)
    settings = Settings(policy=PolicySettings(holdout_percent=100))  # held-out users keep a cooldown per feature
    t = NOW_MS - DAY
    for batch_no in range(6):
        payloads = [
            event("help_request", user="u1", t=t + (batch_no * 500 + n) * 10, feature=f"{batch_no}-{n}-" + "名" * 120)
            for n in range(500)
        ]
        result = run(aws, records(*payloads, arrival_ms=t + batch_no * 5000 + 5000), settings=settings)
        assert not result.failed_sequences and not result.unstorable_users
    assert item_size(aws.dynamodb.tables["UserState"][("u1",)]) < 64 * 1024
    assert_within_aws_limits(aws)


def test_a_ten_thousand_event_batch_of_one_user_is_journaled_in_items_under_the_limit():
    aws = memory_aws()
    payloads = [
        event("screen_view", user="u1", t=NOW_MS - 100_000 + n, screen=f"{n}" + "画" * 500, eventId=f"e-{n}-" + "x" * 100)
        for n in range(10_000)
    ]
    for payload in payloads:
        payload["eventId"] = f"id-{payload['timestamp']}-" + "x" * 100
    result = run(aws, records(*payloads))
    assert result.applied == 10_000 and not result.failed_sequences
    assert len(journaled(aws, "u1")) == 10_000 and len(aws.dynamodb.tables["UserEvents"]) > 1
    assert_within_aws_limits(aws)


# --- 4. a user on two partition keys (two shards) -------------------------------------------------------


def test_a_user_on_two_shards_loses_nothing_to_the_other_shards_sequence_numbers():
    aws = memory_aws()
    phone = records(
        *rage("u1", NOW_MS - 60_000),
        sequences=["49600000000000000000000000000000000000000000000000000009" + str(n) for n in range(3)],
    )
    run(aws, phone, shard="shardId-000000000001")
    # the second device's key hashed to another shard, whose sequence numbers happen to be lower
    tablet_events = [
        *rage("u1", NOW_MS - 30_000, feature="search", target="go"),
        event("error", user="u1", t=NOW_MS - 20_000, feature="upload", errorType="timeout"),
        event("error", user="u1", t=NOW_MS - 19_000, feature="upload", errorType="timeout"),
    ]
    tablet = records(
        *tablet_events,
        sequences=[f"4959000000000000000000000000000000000000000000000000000{n}" for n in range(5)],
        partition_key="u1-tablet",
    )
    result = run(aws, tablet, shard="shardId-000000000002")
    assert result.applied == 5 and result.replayed == 0
    assert {s.signalType.value for s in result.signals} == {"rage_tap", "error_pattern"}
    assert result.partition_key_mismatch == 5  # counted, so an operator can see producers keying by device
    # and each shard's redelivery is still skipped exactly
    again = run(aws, tablet, shard="shardId-000000000002")
    assert again.applied == 0 and again.replayed == 5


# --- 5. late-arriving events are analysed, never sent --------------------------------------------------


@pytest.mark.parametrize("age_ms", [16 * 60_000, 2 * DAY, 8 * 365 * DAY], ids=["16 minutes", "2 days", "8 years"])
def test_a_struggle_that_arrives_late_is_recorded_as_stale_and_never_sent(age_ms):
    aws = memory_aws()
    result = run(aws, records(*rage("u1", NOW_MS - age_ms)))
    assert len(result.signals) == 1  # analysed and recorded
    (decision,) = result.decisions
    assert decision.outcome.value == "stale" and "old when it arrived" in decision.reason
    assert result.stale == 1 and not result.delivered and not aws.sns.published
    (ledger,) = aws.dynamodb.tables["Interventions"].values()
    assert ledger["status"]["S"] == "stale" and "delivery" not in ledger


def test_a_fresh_struggle_is_still_sent():
    aws = memory_aws()
    result = run(aws, records(*rage("u1", NOW_MS - 2000)))
    assert [d.outcome.value for d in result.decisions] == ["sent"] and aws.sns.published


# --- every class at once, at random: small in `make test`, large in the slow tier ---------------------

NAMES = ("checkout", "界" * 340, "Ж" * 511, "😀" * 128, "help " * 25, "\u202eevil", "a" * 512)


def hostile_traffic(seed: int, users: int, events: int) -> list[tuple[str, list]]:
    """Batches (shard, records) mixing every class above: long multibyte names, clocks years ahead and
    behind, offline queues flushed late, users on two partition keys (two shards), bursts."""
    import random

    rng = random.Random(seed)
    now = NOW_MS - DAY
    batches, pending = [], {"shardId-000000000001": [], "shardId-000000000002": []}
    sequences = dict.fromkeys(pending, 49600000000000000000000000000000000000000000)
    for n in range(events):
        now += rng.randint(1, 400)
        user = f"user-{rng.randrange(users)}"
        t = now
        roll = rng.random()
        if roll < 0.02:
            t = rng.choice((4_070_908_800_000, now + DAY, now + 3_600_000))  # future: 2099, a day, an hour
        elif roll < 0.05:
            t = now - rng.choice((16 * 60_000, DAY, 8 * 365 * DAY))  # late: an offline queue, years
        kind = rng.choice(("tap", "tap", "error", "screen_view", "help_request", "start"))
        name = rng.choice(NAMES) if rng.random() < 0.3 else rng.choice(("checkout", "search", "upload"))
        if kind == "tap":
            payload = tap(t, x=100 + rng.random() * 10, user=user, feature=name[:128], target=name[:128])
        elif kind == "start":
            payload = event(user=user, t=t, feature=name[:128], action="start")
        elif kind == "screen_view":
            payload = event("screen_view", user=user, t=t, screen=name)
        else:
            payload = event(kind, user=user, t=t, feature=name[:128], errorType="timeout")
        payload["_arrival"] = now
        if rng.random() < 0.01:  # a device's offline queue: a struggle from days ago, flushed now
            for burst in rage(f"offline-{n}", now - rng.choice((DAY, 30 * DAY))):
                sequences["shardId-000000000001"] += 1
                pending["shardId-000000000001"].append(
                    ({**burst, "_arrival": now}, str(sequences["shardId-000000000001"]), f"offline-{n}")
                )
        two_keys = user.endswith("7")  # these users' producers key some records by device
        shard = "shardId-000000000002" if two_keys and rng.random() < 0.5 else "shardId-000000000001"
        sequences[shard] += rng.randint(1, 1000)
        pending[shard].append((payload, str(sequences[shard]), user + "-tablet" if shard.endswith("2") else user))
        if len(pending[shard]) >= rng.choice((1, 50, 500)):
            batches.append((shard, pending[shard]))
            pending[shard] = []
    batches.extend((shard, rest) for shard, rest in pending.items() if rest)
    return [(shard, [records(p, sequences=[seq], partition_key=pk)[0] for p, seq, pk in batch]) for shard, batch in batches]


def check_hostile_traffic(seed: int, users: int, events: int) -> None:
    aws = memory_aws()
    applied = 0
    batches = hostile_traffic(seed, users, events)
    for shard, batch in batches:
        result = run(aws, batch, shard=shard)
        assert not result.failed_sequences and not result.unstorable_users and not result.rejected
        assert all(d.outcome.value != "sent" or d.decidedAt >= NOW_MS - 2 * DAY for d in result.decisions)
        applied += result.applied
    sent_ids = [r.event.eventId for _, batch in batches for r in batch]
    assert applied == len(sent_ids)
    assert sorted(journaled(aws)) == sorted(sent_ids)  # every event, once
    assert_within_aws_limits(aws)
    for item in aws.dynamodb.tables["UserState"].values():
        assert state_from_item(item).last_event_at <= NOW_MS + SETTINGS.clock.max_future_skew_ms
    published = [json.loads(p["Message"]) for p in aws.sns.published if "Message" in p]
    stale = {
        i["interventionId"]["S"] for i in aws.dynamodb.tables["Interventions"].values() if i.get("status", {}).get("S") == "stale"
    }
    assert stale and not stale & {m.get("interventionId") for m in published}


def test_hostile_traffic_of_every_class_at_once():
    check_hostile_traffic(seed=1, users=12, events=3000)


@pytest.mark.slow
@pytest.mark.parametrize("seed", range(5))
def test_hostile_traffic_of_every_class_at_once_at_scale(seed):
    check_hostile_traffic(seed=seed, users=200, events=60_000)


def test_a_retry_cut_after_a_crash_between_journal_and_state_journals_each_event_once():
    """A crash after the journal write and before the state write; Lambda bisects the retry so that
    the first slice holds only a producer duplicate (it moves the checkpoint, journals nothing); the
    second slice must rewrite the crashed attempt's journal item, not add a second copy."""
    aws = memory_aws()
    first = tap(NOW_MS - 9000, user="u1")
    run(aws, records(first, sequences=["1"]))
    again = dict(first)
    e1, e2 = (event("screen_view", user="u1", t=NOW_MS - t, screen=s) for t, s in ((8000, "home"), (7000, "cart")))
    batch = records(again, e1, e2, sequences=["2", "3", "4"])
    store, real_write = aws.ports.store, aws.ports.store._write

    def crash_after_journal(requests, refused=None):
        real_write([(table, item) for table, item in requests if table == "UserEvents"], refused)
        raise RuntimeError("sandbox ended between the journal and the state")

    store._write = crash_after_journal
    with pytest.raises(RuntimeError):
        run(aws, batch)
    store._write = real_write
    run(aws, batch[:1])  # the duplicate alone
    run(aws, batch[1:])
    assert sorted(journaled(aws)) == sorted([first["eventId"], e1["eventId"], e2["eventId"]])


def test_a_user_refused_in_a_later_write_is_set_aside_whole_and_a_redrive_applies_their_records():
    """Many users, so the batch takes several BatchWriteItem calls, and DynamoDB refuses one user's
    journal item: nothing of hers but the ledger stays written (her sends went out and are recorded),
    and her quarantined records, put back on the stream, are applied and journaled once."""
    aws = memory_aws()
    real_write = aws.dynamodb.batch_write_item

    def refuse_her_journal(RequestItems):
        puts = [r["PutRequest"]["Item"] for r in RequestItems.get("UserEvents", []) if "PutRequest" in r]
        if any(item["userId"]["S"] == "mallory" for item in puts):
            raise validation_error("BatchWriteItem", "Item size has exceeded the maximum allowed size")
        return real_write(RequestItems=RequestItems)

    aws.dynamodb.batch_write_item = refuse_her_journal
    users = [f"user-{n:02d}" for n in range(30)] + ["mallory"]
    batch = records(*[e for n, user in enumerate(users) for e in rage(user, NOW_MS - 9000 + n)])
    result = run(aws, batch)
    assert set(result.unstorable_users) == {"mallory"} and not result.failed_sequences
    tables = aws.dynamodb.tables
    assert ("mallory",) not in tables["UserState"] and not journaled(aws, "mallory") and not signals_of(aws, "mallory")
    (ledger,) = [i for (u, _), i in tables["Interventions"].items() if u == "mallory"]
    assert ledger["delivery"]["S"] == "delivered"  # her send went out, and the ledger says so
    assert len(tables["UserState"]) == 30 and len(journaled(aws)) == 90
    aws.dynamodb.batch_write_item = real_write  # the fix is deployed: redrive her records as new ones
    kept = [json.loads(body) for body in aws.s3.objects.values()]
    again = run(aws, [read_record(next_sequence(), q["partitionKey"], q["data"], NOW_MS / 1000, 65_536) for q in kept])
    assert again.applied == 3 and len(journaled(aws, "mallory")) == 3 and signals_of(aws, "mallory")
    assert not again.delivered  # already delivered: not sent twice


def test_an_old_batch_redriven_later_does_not_move_a_users_clock_back():
    aws = memory_aws()
    old = records(*rage("u1", NOW_MS - 2 * 3_600_000), arrival_ms=NOW_MS - 2 * 3_600_000)  # given up two hours ago
    run(aws, records(*rage("u1", NOW_MS - 60_000, feature="search")))
    before = state_from_item(aws.dynamodb.tables["UserState"][("u1",)]).last_event_at
    run(aws, old)
    assert state_from_item(aws.dynamodb.tables["UserState"][("u1",)]).last_event_at == before


def test_a_partition_key_mismatch_is_logged_once_per_batch_with_an_example(caplog):
    aws = memory_aws()
    with caplog.at_level("WARNING", logger="journey.app.stream_batch"):
        run(aws, records(*rage("u1", NOW_MS - 1000), partition_key="u1-tablet"))
    lines = [r.getMessage() for r in caplog.records if "partition key" in r.getMessage()]
    assert lines == ["records keyed by something other than their user id; first: partition key 'u1-tablet', user 'u1'"]
