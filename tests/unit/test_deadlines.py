"""The deadline timer: which users it wakes, the commands it appends, and the index it reads (the
state item's sparse ``dueAt``/``dueShard``), with in-memory fakes at the port and boto3 seams."""

from __future__ import annotations

import hashlib
import json
from collections import Counter

import orjson
import pytest

from journey.adapters.aws.codecs.user_state import due_shard, state_item
from journey.adapters.aws.deadlines import DynamoDueUsers
from journey.adapters.aws.kinesis import PUT_RECORDS_BYTES, PUT_RECORDS_LIMIT, KinesisCommandStream
from journey.app.deadlines import timer_command, wake_due_users
from journey.app.ports import DueUser, TimerPorts
from journey.events.commands import timer_command_id as command_id
from journey.events.decoding import decode_event
from journey.events.model import EventType, UserEvent
from journey.resources import DUE_INDEX, USER_STATE
from journey.users.state import UserState
from localrt.memory_aws import MemoryDynamoDB, Meter
from tests.builders import T0

MINUTE = 60_000


# --- fakes at the ports ------------------------------------------------------------------------------
class ListedDueUsers:
    """Users and deadlines, answered as the index would: due at or before now, oldest first."""

    def __init__(self, deadlines: dict[str, int]):
        self.deadlines = deadlines
        self.asked: list[tuple[int, int]] = []

    def due(self, now_ms: int, limit: int) -> list[DueUser]:
        self.asked.append((now_ms, limit))
        due = sorted((at, user) for user, at in self.deadlines.items() if 0 < at <= now_ms)
        return [DueUser(user, at) for at, user in due[:limit]]


class RecordingStream:
    def __init__(self, refuse: frozenset[str] = frozenset()):
        self.appended: list[dict] = []
        self.refuse = refuse

    def append(self, events: list[dict]) -> list[str]:
        self.appended.extend(e for e in events if e["userId"] not in self.refuse)
        return [e["userId"] for e in events if e["userId"] in self.refuse]


def ports(deadlines: dict[str, int], refuse: frozenset[str] = frozenset()) -> TimerPorts:
    return TimerPorts(due_users=ListedDueUsers(deadlines), commands=RecordingStream(refuse))


# --- the use case --------------------------------------------------------------------------------------
def test_only_users_whose_deadline_has_passed_get_a_command():
    p = ports({"overdue": T0 - MINUTE, "due-now": T0, "later": T0 + MINUTE, "nothing": 0})
    report = wake_due_users(p, now_ms=T0)
    assert (report.found, report.appended, report.failed) == (2, 2, [])
    assert [e["userId"] for e in p.commands.appended] == ["overdue", "due-now"]


def test_a_command_is_a_native_timer_event_stamped_with_its_deadline():
    p = ports({"u1": T0 - 5 * MINUTE})
    wake_due_users(p, now_ms=T0)
    (command,) = p.commands.appended
    digest = hashlib.blake2b(f"u1|{T0 - 5 * MINUTE}".encode(), digest_size=10).hexdigest()
    assert command == {
        "eventId": f"timer-{digest}",
        "eventType": "timer",
        "userId": "u1",
        "sessionId": "timer",
        "timestamp": T0 - 5 * MINUTE,  # its deadline, not the run's time
        "eventData": {"action": "deadline"},
    }
    decoded = decode_event(orjson.dumps(command), 65_536)  # what the processor reads it as
    assert isinstance(decoded, UserEvent) and decoded.eventType is EventType.TIMER and decoded.eventId == command["eventId"]


def test_the_same_deadline_gives_the_same_id_in_every_run_and_a_new_deadline_a_new_one():
    first = timer_command(DueUser("u1", T0), T0 + MINUTE)
    again = timer_command(DueUser("u1", T0), T0 + 2 * MINUTE)  # the processor has not folded the first yet
    assert first["eventId"] == again["eventId"] == command_id("u1", T0)
    assert command_id("u1", T0 + 1) != command_id("u1", T0) != command_id("u2", T0)


def test_commands_that_could_not_be_appended_are_reported_by_user():
    p = ports({"u1": T0 - 1, "u2": T0 - 2, "u3": T0 - 3}, refuse=frozenset({"u2"}))
    report = wake_due_users(p, now_ms=T0)
    assert (report.found, report.appended, report.failed) == (3, 2, ["u2"])


def test_at_most_the_limit_is_woken_and_the_report_says_the_limit_was_reached():
    p = ports({f"u{i}": T0 - i for i in range(1, 8)})
    report = wake_due_users(p, now_ms=T0, limit=5)
    assert (report.found, report.appended, report.limit_reached) == (5, 5, True)
    assert p.due_users.asked == [(T0, 5)]
    assert not wake_due_users(ports({"u1": T0}), T0, limit=5).limit_reached
    with pytest.raises(ValueError):
        wake_due_users(p, T0, limit=0)


def test_nobody_due_appends_nothing():
    p = ports({"later": T0 + MINUTE})
    report = wake_due_users(p, now_ms=T0)
    assert (report.found, report.appended, report.failed, p.commands.appended) == (0, 0, [], [])


# --- the state item's index attributes ---------------------------------------------------------------
def test_the_index_attributes_are_on_the_item_only_while_something_is_due():
    idle = state_item(UserState(userId="u1"), expires_at=1)
    assert DUE_INDEX.partition_key not in idle and DUE_INDEX.sort_key not in idle
    due = state_item(UserState(userId="u1", deadline=T0 + 5), expires_at=1)
    assert due[DUE_INDEX.sort_key] == {"N": str(T0 + 5)}
    assert due[DUE_INDEX.partition_key] == {"S": due_shard("u1")}


def test_due_shards_are_stable_and_spread_over_the_index():
    assert due_shard("u1") == due_shard("u1")
    assert due_shard("u1") in DUE_INDEX.shard_values()
    spread = Counter(due_shard(f"user-{i}") for i in range(4000))
    assert set(spread) == set(DUE_INDEX.shard_values())
    assert min(spread.values()) > 4000 / DUE_INDEX.shards * 0.8


# --- the index adapter over the in-memory DynamoDB ------------------------------------------------------
def table_with(deadlines: dict[str, int]) -> MemoryDynamoDB:
    ddb = MemoryDynamoDB(Meter(), {USER_STATE.logical_id: USER_STATE.key_names})
    requests = [
        {"PutRequest": {"Item": state_item(UserState(userId=u, deadline=at), expires_at=1)}} for u, at in deadlines.items()
    ]
    for start in range(0, len(requests), 25):
        ddb.batch_write_item(RequestItems={USER_STATE.logical_id: requests[start : start + 25]})
    return ddb


def test_the_adapter_reads_due_users_from_every_shard_of_the_index():
    deadlines = {f"u{i}": T0 - i * MINUTE for i in range(40)} | {"later": T0 + MINUTE, "idle": 0}
    ddb = table_with(deadlines)
    due = DynamoDueUsers(USER_STATE.logical_id, dynamodb=ddb).due(T0, limit=1000)
    assert sorted(d.user_id for d in due) == sorted(f"u{i}" for i in range(40))
    assert all(d.due_at == deadlines[d.user_id] for d in due)
    assert ddb.meter.calls["dynamodb.Query"] >= DUE_INDEX.shards


def test_the_adapter_pages_and_shares_the_limit_fairly_between_shards():
    deadlines = {f"u{i}": T0 - i for i in range(400)}
    ddb = table_with(deadlines)
    adapter = DynamoDueUsers(USER_STATE.logical_id, dynamodb=ddb)
    due = adapter.due(T0, limit=80)
    assert len(due) == 80 == len({d.user_id for d in due})
    per_shard = Counter(due_shard(d.user_id) for d in due)
    assert set(per_shard.values()) == {10}  # each shard its share when every shard has enough
    # one shard with few due users: the others take what it left, and nothing is missed
    few = {u: at for u, at in deadlines.items() if due_shard(u) != "due#0"} | {"solo": T0}
    ddb = table_with({**few, **{u: T0 + MINUTE for u in deadlines if due_shard(u) == "due#0"}})
    due = DynamoDueUsers(USER_STATE.logical_id, dynamodb=ddb).due(T0, limit=len(few))
    assert sorted(d.user_id for d in due) == sorted(few)


def test_the_oldest_deadlines_of_a_shard_come_first():
    users = [f"x{i}" for i in range(200) if due_shard(f"x{i}") == "due#3"][:6]
    ddb = table_with({u: T0 - (i + 1) * MINUTE for i, u in enumerate(users)})
    due = DynamoDueUsers(USER_STATE.logical_id, dynamodb=ddb).due(T0, limit=8)  # share: 1 per shard, then the rest
    assert [d.user_id for d in due] == list(reversed(users))


# --- the command stream over an in-memory Kinesis ------------------------------------------------------
class MemoryKinesis:
    """``PutRecords`` as Kinesis answers it: per-record results; ``refuse`` makes the n-th call (from 1)
    report the records of the given partition keys as throttled (they are not put)."""

    def __init__(self, refuse: dict[int, set[str]] | None = None):
        self.refuse = refuse or {}
        self.calls: list[int] = []
        self.records: list[tuple[str, dict]] = []

    def put_records(self, StreamName: str, Records: list[dict]) -> dict:
        assert len(Records) <= PUT_RECORDS_LIMIT
        assert sum(len(r["Data"]) + len(r["PartitionKey"].encode()) for r in Records) <= PUT_RECORDS_BYTES
        self.calls.append(len(Records))
        refused = self.refuse.get(len(self.calls), set())
        results = []
        for record in Records:
            if record["PartitionKey"] in refused:
                results.append({"ErrorCode": "ProvisionedThroughputExceededException", "ErrorMessage": "Rate exceeded"})
            else:
                self.records.append((record["PartitionKey"], orjson.loads(record["Data"])))
                results.append({"SequenceNumber": str(len(self.records)), "ShardId": "shardId-000000000000"})
        return {"FailedRecordCount": sum("ErrorCode" in r for r in results), "Records": results}


def commands(n: int) -> list[dict]:
    return [timer_command(DueUser(f"u{i}", T0 - i), T0) for i in range(n)]


def test_commands_go_in_calls_of_at_most_500_keyed_by_user():
    kinesis = MemoryKinesis()
    failed = KinesisCommandStream("stream", kinesis=kinesis, sleep=lambda _: None).append(commands(1201))
    assert failed == [] and kinesis.calls == [500, 500, 201]
    assert all(key == data["userId"] for key, data in kinesis.records)


def test_only_the_records_kinesis_refused_are_put_again():
    kinesis = MemoryKinesis(refuse={1: {"u3", "u7"}})
    waits: list[float] = []
    failed = KinesisCommandStream("stream", kinesis=kinesis, sleep=waits.append).append(commands(10))
    assert failed == [] and kinesis.calls == [10, 2] and len(waits) == 1
    assert sorted(key for key, _ in kinesis.records) == sorted(f"u{i}" for i in range(10))


def test_records_still_refused_after_every_attempt_are_reported_not_raised():
    kinesis = MemoryKinesis(refuse={n: {"u2"} for n in range(1, 10)})
    failed = KinesisCommandStream("stream", kinesis=kinesis, attempts=3, sleep=lambda _: None).append(commands(5))
    assert failed == ["u2"] and kinesis.calls == [5, 1, 1]
    assert sorted(key for key, _ in kinesis.records) == ["u0", "u1", "u3", "u4"]


def test_a_command_kinesis_could_never_take_is_reported_without_failing_the_others():
    kinesis = MemoryKinesis()
    too_long = timer_command(DueUser("x" * 300, T0), T0)  # a partition key is at most 256 characters
    failed = KinesisCommandStream("stream", kinesis=kinesis, sleep=lambda _: None).append([*commands(2), too_long])
    assert failed == ["x" * 300] and [key for key, _ in kinesis.records] == ["u0", "u1"]


class FailingKinesis:
    """Every PutRecords call fails as a whole, as botocore raises it once its own retries are spent."""

    def __init__(self, code: str, status: int):
        self.code, self.status, self.calls = code, status, 0

    def put_records(self, StreamName: str, Records: list[dict]) -> dict:
        from botocore.exceptions import ClientError

        self.calls += 1
        raise ClientError(
            {"Error": {"Code": self.code, "Message": "injected"}, "ResponseMetadata": {"HTTPStatusCode": self.status}},
            "PutRecords",
        )


@pytest.mark.parametrize(("code", "status"), [("InternalFailure", 500), ("AccessDeniedException", 400)])
def test_a_call_that_fails_as_a_whole_reports_its_users_and_is_not_called_again(code, status):
    kinesis = FailingKinesis(code, status)
    failed = KinesisCommandStream("stream", kinesis=kinesis, sleep=lambda _: None).append(commands(3))
    assert failed == ["u0", "u1", "u2"] and kinesis.calls == 1  # botocore retried it already; the next run will


def test_a_timer_command_reads_as_native_whatever_format_the_stream_is_in():
    from journey.events.decoding import decode_event
    from journey.events.model import EventType

    command = timer_command(DueUser("u1", T0), T0)
    for fmt in (None, "native", "firebase"):
        event = decode_event(json.dumps(command).encode(), 65_536, fmt)
        assert getattr(event, "eventType", None) is EventType.TIMER, (fmt, event)
