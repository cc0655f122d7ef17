"""The deadline timer's real handler on moto, configured as the template configures it: the state table
with its sparse due index, and the event stream its commands go to."""

from __future__ import annotations

import importlib.util
import json
import sys
import urllib.request
from datetime import UTC, datetime
from types import SimpleNamespace

import boto3
import pytest
from moto import mock_aws
from moto.server import ThreadedMotoServer

from journey.adapters.aws.clients import client
from journey.adapters.aws.codecs.user_state import state_item
from journey.events.commands import timer_command_id as command_id
from journey.resources import DUE_INDEX, USER_STATE, Env
from journey.users.state import UserState
from localrt.provision import function_environment, provision
from localrt.template import load_template
from tests.builders import T0, use_fake_aws_credentials

REGION = "us-east-1"
MINUTE = 60_000


def _clear_caches() -> None:
    from journey.adapters.aws.factories import aws_ports, timer_ports
    from journey.settings import load_settings

    client.cache_clear()
    aws_ports.cache_clear()
    timer_ports.cache_clear()
    load_settings.cache_clear()


class Context:
    function_name = "DeadlineTimer"
    memory_limit_in_mb = 256
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:DeadlineTimer"
    aws_request_id = "test-request"

    @staticmethod
    def get_remaining_time_in_millis() -> int:
        return 50_000


def _deploy(monkeypatch, endpoint: str | None = None) -> SimpleNamespace:
    """Provision the template (on ``endpoint``, else on moto's in-process mock) and load the timer's
    handler with the schedule's function's environment."""
    template = load_template()
    session = boto3.session.Session(region_name=REGION)
    provisioned = provision(template, session, REGION, endpoint)
    (schedule,) = template.schedules
    assert schedule.rate_ms == MINUTE and schedule.flexible_window == "OFF"
    env = function_environment(template, provisioned, schedule.function)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    spec = template.functions[schedule.function]
    module_spec = importlib.util.spec_from_file_location("timer_under_test", spec.code_path / "handler.py")
    module = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(module)
    return SimpleNamespace(
        handler=module.lambda_handler,
        env=env,
        schedule=schedule,
        ddb=session.client("dynamodb", endpoint_url=endpoint),
        kinesis=session.client("kinesis", endpoint_url=endpoint),
    )


@pytest.fixture
def timer(monkeypatch):
    """The stack's resources in moto, and the deadline timer's handler configured as the template configures it."""
    use_fake_aws_credentials(monkeypatch, REGION, POWERTOOLS_TRACE_DISABLED="true", POWERTOOLS_METRICS_NAMESPACE="Test")
    _clear_caches()
    with mock_aws():
        yield _deploy(monkeypatch)
    _clear_caches()
    sys.modules.pop("timer_under_test", None)


@pytest.fixture
def timer_on_server(monkeypatch):
    """The same on a local moto server (127.0.0.1): botocore's ``before-send`` hooks then stand in for
    Kinesis's answers, below the client's retry logic (as ``localrt.faults`` does)."""
    use_fake_aws_credentials(monkeypatch, REGION, POWERTOOLS_TRACE_DISABLED="true")
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    reset = urllib.request.Request(f"{endpoint}/moto-api/reset", method="POST")  # moto's state is per process
    urllib.request.urlopen(reset, timeout=10).read()
    monkeypatch.setenv("AWS_ENDPOINT_URL", endpoint)
    _clear_caches()
    try:
        yield _deploy(monkeypatch, endpoint)
    finally:
        _clear_caches()
        sys.modules.pop("timer_under_test", None)
        urllib.request.urlopen(reset, timeout=10).read()
        server.stop()


def save(timer, *states: UserState) -> None:
    for state in states:
        timer.ddb.put_item(TableName=timer.env[USER_STATE.env], Item=state_item(state, expires_at=2_000_000_000))


def stream_records(timer) -> list[dict]:
    stream = timer.env[Env.EVENT_STREAM_NAME]
    records = []
    for shard in timer.kinesis.list_shards(StreamName=stream)["Shards"]:
        iterator = timer.kinesis.get_shard_iterator(
            StreamName=stream, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        records += timer.kinesis.get_records(ShardIterator=iterator, Limit=10_000)["Records"]
    return records


def scheduler_input(timer, at_ms: int) -> dict:
    """The schedule's target input with the context attribute replaced, as EventBridge Scheduler does."""
    iso = datetime.fromtimestamp(at_ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return json.loads(timer.schedule.input.replace("<aws.scheduler.scheduled-time>", iso))


def index_entries(timer) -> list[dict]:
    return timer.ddb.scan(TableName=timer.env[USER_STATE.env], IndexName=DUE_INDEX.name)["Items"]


def test_a_due_user_gets_a_timer_command_on_their_stream_and_others_do_not(timer):
    save(
        timer,
        UserState(userId="overdue", deadline=T0 - 5 * MINUTE),
        UserState(userId="not-yet", deadline=T0 + 5 * MINUTE),
        UserState(userId="nothing-due"),
    )
    summary = timer.handler(scheduler_input(timer, T0), Context())
    assert summary["due_users"] == 1 and summary["commands"] == 1 and summary["failed"] == 0
    (record,) = stream_records(timer)
    assert record["PartitionKey"] == "overdue"
    command = json.loads(record["Data"])
    assert command == {
        "eventId": command_id("overdue", T0 - 5 * MINUTE),
        "eventType": "timer",
        "userId": "overdue",
        "sessionId": "timer",
        "timestamp": T0 - 5 * MINUTE,  # the deadline: what is declared does not depend on which run found it
        "eventData": {"action": "deadline"},
    }


def test_a_user_with_no_deadline_has_no_index_entry(timer):
    save(timer, UserState(userId="idle"), UserState(userId="due", deadline=T0))
    assert [item["userId"]["S"] for item in index_entries(timer)] == ["due"]
    save(timer, UserState(userId="due"))  # the processor cleared the deadline: the item leaves the index
    assert index_entries(timer) == []


def test_without_a_scheduled_time_the_clock_is_now(timer):
    save(timer, UserState(userId="long-ago", deadline=T0))  # T0 is in the past of any clock this runs on
    summary = timer.handler({}, Context())
    assert summary["commands"] == 1 and summary["scheduled_ms"] > T0


def test_records_kinesis_refuses_are_put_again_and_land_once(timer):
    users = [f"u{i}" for i in range(6)]
    save(timer, *(UserState(userId=u, deadline=T0 - i) for i, u in enumerate(users)))
    kinesis = client("kinesis")  # the adapter's own client: the hooks act below its retry logic
    refused: list[list[str]] = []

    def hold_back(params, context, **_):  # Kinesis refuses two records of the first call (not put)
        if refused:
            return
        held = params["Records"][1:3]
        params["Records"] = [params["Records"][0], *params["Records"][3:]]
        context["held"] = held
        refused.append([r["PartitionKey"] for r in held])

    def report_refused(parsed, context, **_):
        held = context.pop("held", None)
        if held:
            error = {"ErrorCode": "ProvisionedThroughputExceededException", "ErrorMessage": "Rate exceeded for shard"}
            parsed["Records"][1:1] = [dict(error) for _ in held]
            parsed["FailedRecordCount"] = len(held)

    kinesis.meta.events.register("before-parameter-build.kinesis.PutRecords", hold_back)
    kinesis.meta.events.register("after-call.kinesis.PutRecords", report_refused)
    summary = timer.handler(scheduler_input(timer, T0), Context())
    assert summary == {**summary, "due_users": 6, "commands": 6, "failed": 0}
    assert len(refused) == 1 and len(refused[0]) == 2
    keys = sorted(r["PartitionKey"] for r in stream_records(timer))
    assert keys == sorted(users)  # each once: only the refused records were put again


@pytest.mark.network_local
def test_a_command_still_refused_after_every_attempt_is_counted_and_the_next_run_retries_it(timer_on_server, monkeypatch, capsys):
    timer = timer_on_server
    from journey.adapters.aws import kinesis as kinesis_adapter
    from localrt.faults import _response

    monkeypatch.setattr(kinesis_adapter.time, "sleep", lambda _: None)  # the adapter's backoff
    save(timer, UserState(userId="stuck", deadline=T0 - MINUTE))
    kinesis = client("kinesis")
    calls = []

    def refuse_everything(request, **_):  # Kinesis answers, but takes none of the records
        calls.append(1)
        body = {"FailedRecordCount": 1, "Records": [{"ErrorCode": "InternalFailure", "ErrorMessage": "injected"}]}
        return _response(200, json.dumps(body).encode(), "application/x-amz-json-1.1")

    kinesis.meta.events.register("before-send.kinesis.PutRecords", refuse_everything)
    summary = timer.handler(scheduler_input(timer, T0), Context())
    assert (summary["due_users"], summary["commands"], summary["failed"]) == (1, 0, 1)
    assert len(calls) == kinesis_adapter.KinesisCommandStream(stream_name="s").attempts
    metrics = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"_aws"' in line]
    assert any(m.get("TimerCommandFailures") == [1.0] and m.get("DueUsers") == [1.0] for m in metrics)

    kinesis.meta.events.unregister("before-send.kinesis.PutRecords", refuse_everything)
    summary = timer.handler(scheduler_input(timer, T0 + MINUTE), Context())  # the next run finds the user again
    assert (summary["commands"], summary["failed"]) == (1, 0)
    (record,) = stream_records(timer)  # the refused calls put nothing
    assert json.loads(record["Data"])["eventId"] == command_id("stuck", T0 - MINUTE)


# --- the local runtime's emulation of the schedule ------------------------------------------------------
@pytest.mark.network_local
def test_the_local_schedule_runs_on_the_stream_clock_and_runs_on_once_the_input_is_drained(tmp_path):
    from localrt.runtime import RUN_ON_MS, local_runtime
    from tests.builders import event

    with local_runtime(tmp_path / "function.log", schedule="minute") as rt:
        rt.clients["dynamodb"].put_item(  # a user the processor left with something due in 10 minutes
            TableName=rt.tables[USER_STATE.env],
            Item=state_item(UserState(userId="sleeper", deadline=T0 + 10 * MINUTE), expires_at=2_000_000_000),
        )
        rt.start_polling()
        taps = [event(user="active", t=T0 + i * 20_000, feature="search", action="tap") for i in range(4)]
        rt.put_records([("active", json.dumps(e).encode(), e["eventId"], e["timestamp"] / 1000) for e in taps])
        assert rt.wait_until_drained(timeout_s=90, settle_s=1.0)
        runs = rt.deadline_schedule.runs
        newest = T0 + 3 * 20_000
        # on the stream's clock: runs at minutes of simulated arrival, none finding the sleeper yet
        assert [r["scheduled_ms"] for r in runs[:-1]] and all(r["scheduled_ms"] <= newest for r in runs[:-1])
        assert all(r["commands"] == 0 for r in runs[:-1])
        # then the clock ran on: one run 16 minutes past the newest arrival declared what was left open
        assert runs[-1]["scheduled_ms"] == newest + RUN_ON_MS and runs[-1]["commands"] == 1
        assert rt.put_stats.timer_commands == 1 and rt.put_stats.records_sent == len(taps) + 1
        assert len(rt.arrivals) == 0  # the command was read with its simulated arrival (when it fell due)
        assert rt.mappings[0].newest_arrival_s == (T0 + 10 * MINUTE) / 1000
        before = len(runs)
        assert rt.wait_until_drained(timeout_s=30, settle_s=0.5)  # nothing new delivered: the clock stays
        assert len(rt.deadline_schedule.runs) == before
        rt.clients["dynamodb"].put_item(
            TableName=rt.tables[USER_STATE.env],
            Item=state_item(UserState(userId="other", deadline=T0), expires_at=2_000_000_000),
        )
        answer = rt.run_deadline_timer(T0 + MINUTE)  # on demand, at any time: the real handler, the Scheduler's input
        assert answer["scheduled_ms"] == T0 + MINUTE and answer["commands"] >= 1
