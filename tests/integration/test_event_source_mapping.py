"""The event source mapping emulator follows Lambda's documented Kinesis semantics
(https://docs.aws.amazon.com/lambda/latest/dg/with-kinesis.html,
 https://docs.aws.amazon.com/lambda/latest/dg/services-kinesis-batchfailurereporting.html)."""

from __future__ import annotations

import json
import threading
import time

import boto3
import pytest
from moto.server import ThreadedMotoServer

from localrt.esm import EventSourceMapping, InvocationTimedOut, LambdaContext, lane_of
from localrt.template import EventSourceMappingSpec

pytestmark = pytest.mark.network_local


@pytest.fixture(scope="module")
def aws():
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    session = boto3.session.Session(aws_access_key_id="t", aws_secret_access_key="t", region_name="us-east-1")
    yield {name: session.client(name, endpoint_url=f"http://{host}:{port}") for name in ("kinesis", "sqs")}
    server.stop()


@pytest.fixture
def stream(aws, request):
    name = f"s{abs(hash(request.node.name)) % 10**8}"
    aws["kinesis"].create_stream(StreamName=name, ShardCount=1)
    queue = aws["sqs"].create_queue(QueueName=f"{name}-failures")["QueueUrl"]
    arn = aws["kinesis"].describe_stream_summary(StreamName=name)["StreamDescriptionSummary"]["StreamARN"]
    return name, arn, queue


def spec(**overrides) -> EventSourceMappingSpec:
    values = {
        "function": "F",
        "stream": "S",
        "batch_size": 10,
        "batching_window_s": 0.2,
        "bisect_on_error": True,
        "retry_attempts": 2,
        "max_record_age_s": 3600,
        "parallelization_factor": 1,
        "report_batch_item_failures": True,
        "starting_position": "TRIM_HORIZON",
        "on_failure_queue": "Q",
    }
    values.update(overrides)
    return EventSourceMappingSpec(**values)


def run_mapping(aws, stream, invoke, records: int, keys=("k",), timeout_s=30, **overrides):
    name, arn, queue = stream
    mapping = EventSourceMapping(
        spec(**overrides),
        kinesis=aws["kinesis"],
        sqs=aws["sqs"],
        stream_name=name,
        stream_arn=arn,
        function_arn="arn:aws:lambda:us-east-1:123456789012:function:F",
        on_failure_queue_url=queue,
        invoke=invoke,
        context_factory=lambda: LambdaContext("F", "arn:aws:lambda:us-east-1:123456789012:function:F", 128, timeout_s),
        region="us-east-1",
    )
    aws["kinesis"].put_records(
        StreamName=name,
        Records=[{"PartitionKey": keys[i % len(keys)], "Data": json.dumps({"n": i}).encode()} for i in range(records)],
    )
    mapping.start()
    deadline = time.time() + 20
    time.sleep(0.5)
    while time.time() < deadline and not mapping.all_idle():
        time.sleep(0.1)
    time.sleep(0.5)
    mapping.stop()
    return mapping


def numbers(event):
    import base64

    return [json.loads(base64.b64decode(r["kinesis"]["data"]))["n"] for r in event["Records"]]


def keys_of(event):
    return {r["kinesis"]["partitionKey"] for r in event["Records"]}


def test_event_shape_and_batch_size(aws, stream):
    """The event Lambda sends for Kinesis (with-kinesis.html, Example event) and BatchSize: "the maximum
    number of records in each batch that Lambda pulls from your stream"; records in shard order."""
    seen = []

    def invoke(event, context):
        seen.append(event)
        record = event["Records"][0]
        assert set(record) == {
            "kinesis",
            "eventSource",
            "eventVersion",
            "eventID",
            "eventName",
            "invokeIdentityArn",
            "awsRegion",
            "eventSourceARN",
        }
        assert set(record["kinesis"]) == {
            "kinesisSchemaVersion",
            "partitionKey",
            "sequenceNumber",
            "data",
            "approximateArrivalTimestamp",
        }
        assert record["eventID"].endswith(":" + record["kinesis"]["sequenceNumber"]) and record["eventSource"] == "aws:kinesis"
        assert context.get_remaining_time_in_millis() > 0
        return {"batchItemFailures": []}

    run_mapping(aws, stream, invoke, 25)
    assert [len(e["Records"]) for e in seen] == [10, 10, 5]
    assert [n for e in seen for n in numbers(e)] == list(range(25))  # shard order


def test_partial_batch_response_replays_from_the_lowest_failed_record(aws, stream):
    """ "Lambda treats the lowest sequence number as the checkpoint ... retries the batch starting from
    that record" (services-kinesis-batchfailurereporting.html)."""
    calls = []

    def invoke(event, context):
        calls.append(numbers(event))
        if len(calls) == 1:
            records = event["Records"]
            return {
                "batchItemFailures": [
                    {"itemIdentifier": records[6]["kinesis"]["sequenceNumber"]},
                    {"itemIdentifier": records[4]["kinesis"]["sequenceNumber"]},
                ]
            }
        return {"batchItemFailures": []}

    run_mapping(aws, stream, invoke, 10)
    assert calls == [list(range(10)), list(range(4, 10))]


def test_an_invalid_item_identifier_retries_the_whole_batch(aws, stream):
    """ "If the batchItemFailures contains an empty or null itemIdentifier, or a malformed one, Lambda
    treats it as a complete failure and retries the whole batch" (services-kinesis-batchfailurereporting.html)."""
    calls = []

    def invoke(event, context):
        calls.append(numbers(event))
        return {"batchItemFailures": [{"itemIdentifier": ""}]} if len(calls) == 1 else {"batchItemFailures": []}

    run_mapping(aws, stream, invoke, 4)
    assert calls == [[0, 1, 2, 3], [0, 1, 2, 3]]


def test_function_errors_bisect_the_batch(aws, stream):
    """BisectBatchOnFunctionError: "If the function returns an error, split the batch in two and retry"
    (API_CreateEventSourceMapping)."""
    calls = []

    def invoke(event, context):
        batch = numbers(event)
        calls.append(batch)
        if 3 in batch and len(batch) > 1:
            raise RuntimeError("boom")
        return {"batchItemFailures": []}

    run_mapping(aws, stream, invoke, 8, retry_attempts=5)
    assert calls[0] == list(range(8)) and calls[1] == [0, 1, 2, 3] and [3] in calls
    assert sorted(n for c in calls if not (3 in c and len(c) > 1) for n in c) == list(range(8))


def test_exhausted_retries_send_batch_metadata_to_the_on_failure_destination(aws, stream):
    """MaximumRetryAttempts and the on-failure destination: "Lambda sends a document to the destination
    that contains details about the batch", not the records (with-kinesis.html, Error handling;
    the document's shape is the one shown there: requestContext, responseContext, KinesisBatchInfo)."""

    def invoke(event, context):
        raise RuntimeError("always")

    mapping = run_mapping(aws, stream, invoke, 3, bisect_on_error=False, retry_attempts=1)
    assert mapping.stats.invocations == 2 and mapping.stats.batches_to_on_failure == 1
    (message,) = aws["sqs"].receive_message(QueueUrl=stream[2], MaxNumberOfMessages=10)["Messages"]
    body = json.loads(message["Body"])
    assert (
        body["requestContext"]["condition"] == "RetryAttemptsExhausted" and body["requestContext"]["approximateInvokeCount"] == 2
    )
    info = body["KinesisBatchInfo"]
    assert info["batchSize"] == 3 and info["shardId"] == "shardId-000000000000" and info["streamArn"] == stream[1]
    assert int(info["startSequenceNumber"]) < int(info["endSequenceNumber"])
    assert "Records" not in body  # only metadata, never the records


def test_records_past_the_maximum_age_are_not_invoked(aws, stream):
    """MaximumRecordAgeInSeconds: "Discard records older than the specified age" and send their
    metadata on (API_CreateEventSourceMapping; condition RecordAgeExceeded)."""
    invoked = threading.Event()

    def invoke(event, context):
        invoked.set()
        return {"batchItemFailures": []}

    mapping = run_mapping(aws, stream, invoke, 2, max_record_age_s=0)
    time.sleep(0.1)
    assert not invoked.is_set() and mapping.stats.batches_to_on_failure >= 1


def test_a_batch_goes_when_the_batching_window_ends_before_it_is_full(aws, stream):
    """MaximumBatchingWindowInSeconds: "the maximum amount of time, in seconds, that Lambda spends
    gathering records before invoking the function" (with-kinesis.html, Batching behavior)."""
    seen = []

    def invoke(event, context):
        seen.append((time.monotonic(), numbers(event)))
        return {"batchItemFailures": []}

    started = time.monotonic()
    run_mapping(aws, stream, invoke, 3, batch_size=100, batching_window_s=1.0)
    ((at, batch),) = seen
    assert batch == [0, 1, 2] and at - started >= 1.0


def test_parallelization_factor_runs_lanes_and_keeps_each_keys_order(aws, stream):
    """ParallelizationFactor: "process multiple batches from each shard concurrently ... Lambda still
    ensures in-order processing at the partition-key level" (with-kinesis.html, Polling and batching
    streams). Here one lane keeps failing its first batch while the other lane goes on."""
    calls = []
    keys = tuple(f"user-{n}" for n in range(8))
    failing = {k for k in keys if lane_of(k, 2) == 0}
    assert failing and failing != set(keys)

    def invoke(event, context):
        calls.append((keys_of(event), numbers(event)))
        if keys_of(event) <= failing and sum(1 for k, _ in calls if k <= failing) <= 2:
            raise RuntimeError("the first lane's batch fails twice")
        return {"batchItemFailures": []}

    run_mapping(
        aws, stream, invoke, 80, keys=keys, batch_size=10, parallelization_factor=2, bisect_on_error=False, retry_attempts=3
    )
    lanes = {frozenset(lane_of(k, 2) for k in batch_keys) for batch_keys, _ in calls}
    assert lanes == {frozenset({0}), frozenset({1})}  # a batch never mixes lanes; both lanes ran
    lane0_calls = [i for i, (k, _) in enumerate(calls) if k <= failing]
    first_success_of_lane0 = lane0_calls[2]
    assert any(k.isdisjoint(failing) for k, _ in calls[:first_success_of_lane0])  # lane 1 was not held up
    delivered = {}
    for _batch_keys, batch in calls:
        for n in batch:
            delivered.setdefault(keys[n % len(keys)], []).append(n)
    for key, ns in delivered.items():
        deduped = list(dict.fromkeys(ns))
        assert deduped == sorted(deduped), f"{key} out of order: {ns}"
    assert sorted({n for ns in delivered.values() for n in ns}) == list(range(80))


def test_an_invocation_past_its_timeout_is_a_function_error_and_is_retried(aws, stream):
    """Timeouts are function errors: "Task timed out" ends the invocation and the batch is retried
    like any other error (with-kinesis.html, Error handling)."""
    calls = []

    def invoke(event, context):
        calls.append(numbers(event))
        if len(calls) == 1:
            time.sleep(1.2)  # past the 1 s timeout: whatever it returns is discarded
        return {"batchItemFailures": []}

    mapping = run_mapping(aws, stream, invoke, 4, timeout_s=1, bisect_on_error=False)
    assert calls == [[0, 1, 2, 3], [0, 1, 2, 3]]
    assert mapping.stats.timeouts == 1 and mapping.stats.function_errors == 1


def test_a_fault_injected_timeout_ends_the_invocation_where_it_happens(aws, stream):
    calls = []

    def invoke(event, context):
        calls.append(numbers(event))
        if len(calls) == 1:
            raise InvocationTimedOut("injected")
        return {"batchItemFailures": []}

    mapping = run_mapping(aws, stream, invoke, 2, bisect_on_error=False)
    assert calls == [[0, 1], [0, 1]] and mapping.stats.timeouts == 1
