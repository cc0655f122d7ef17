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

from localrt.esm import EventSourceMapping, LambdaContext
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
    values = dict(function="F", stream="S", batch_size=10, batching_window_s=0.2, bisect_on_error=True, retry_attempts=2,
                  max_record_age_s=3600, parallelization_factor=1, report_batch_item_failures=True,
                  starting_position="TRIM_HORIZON", on_failure_queue="Q")
    values.update(overrides)
    return EventSourceMappingSpec(**values)


def run_mapping(aws, stream, invoke, records: int, **overrides):
    name, arn, queue = stream
    mapping = EventSourceMapping(
        spec(**overrides), kinesis=aws["kinesis"], sqs=aws["sqs"], stream_name=name, stream_arn=arn,
        function_arn="arn:aws:lambda:us-east-1:123456789012:function:F", on_failure_queue_url=queue, invoke=invoke,
        context_factory=lambda: LambdaContext("F", "arn:aws:lambda:us-east-1:123456789012:function:F", 128, 30), region="us-east-1",
    )
    aws["kinesis"].put_records(StreamName=name, Records=[{"PartitionKey": "k", "Data": json.dumps({"n": i}).encode()} for i in range(records)])
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


def test_event_shape_and_batch_size(aws, stream):
    seen = []

    def invoke(event, context):
        seen.append(event)
        record = event["Records"][0]
        assert set(record) == {"kinesis", "eventSource", "eventVersion", "eventID", "eventName", "invokeIdentityArn", "awsRegion", "eventSourceARN"}
        assert set(record["kinesis"]) == {"kinesisSchemaVersion", "partitionKey", "sequenceNumber", "data", "approximateArrivalTimestamp"}
        assert record["eventID"].endswith(":" + record["kinesis"]["sequenceNumber"]) and record["eventSource"] == "aws:kinesis"
        assert context.get_remaining_time_in_millis() > 0
        return {"batchItemFailures": []}

    run_mapping(aws, stream, invoke, 25)
    assert [len(e["Records"]) for e in seen] == [10, 10, 5]
    assert [n for e in seen for n in numbers(e)] == list(range(25))  # shard order


def test_partial_batch_response_replays_from_the_lowest_failed_record(aws, stream):
    calls = []

    def invoke(event, context):
        calls.append(numbers(event))
        if len(calls) == 1:
            records = event["Records"]
            return {"batchItemFailures": [{"itemIdentifier": records[6]["kinesis"]["sequenceNumber"]}, {"itemIdentifier": records[4]["kinesis"]["sequenceNumber"]}]}
        return {"batchItemFailures": []}

    run_mapping(aws, stream, invoke, 10)
    assert calls == [list(range(10)), list(range(4, 10))]


def test_an_invalid_item_identifier_retries_the_whole_batch(aws, stream):
    calls = []

    def invoke(event, context):
        calls.append(numbers(event))
        return {"batchItemFailures": [{"itemIdentifier": ""}]} if len(calls) == 1 else {"batchItemFailures": []}

    run_mapping(aws, stream, invoke, 4)
    assert calls == [[0, 1, 2, 3], [0, 1, 2, 3]]


def test_function_errors_bisect_the_batch(aws, stream):
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
    def invoke(event, context):
        raise RuntimeError("always")

    mapping = run_mapping(aws, stream, invoke, 3, bisect_on_error=False, retry_attempts=1)
    assert mapping.stats.invocations == 2 and mapping.stats.batches_to_on_failure == 1
    (message,) = aws["sqs"].receive_message(QueueUrl=stream[2], MaxNumberOfMessages=10)["Messages"]
    body = json.loads(message["Body"])
    assert body["requestContext"]["condition"] == "RetryAttemptsExhausted" and body["requestContext"]["approximateInvokeCount"] == 2
    info = body["KinesisBatchInfo"]
    assert info["batchSize"] == 3 and info["shardId"] == "shardId-000000000000" and info["streamArn"] == stream[1]
    assert int(info["startSequenceNumber"]) < int(info["endSequenceNumber"])
    assert "Records" not in body  # only metadata, never the records


def test_records_past_the_maximum_age_are_not_invoked(aws, stream):
    invoked = threading.Event()

    def invoke(event, context):
        invoked.set()
        return {"batchItemFailures": []}

    mapping = run_mapping(aws, stream, invoke, 2, max_record_age_s=0)
    time.sleep(0.1)
    assert not invoked.is_set() and mapping.stats.batches_to_on_failure >= 1
