"""The embedded local AWS: moto on 127.0.0.1, resources from the template, the real handler behind
an emulated event source mapping, a producer using PutRecords, and an SNS→SQS subscriber.

Two clocks (../shared/DESIGN.md, rule 2): the function trusts each record's
``approximateArrivalTimestamp``. moto stamps wall-clock time, but the local drivers play simulated
time (the demo plays 14 days of November 2026 in six minutes; a replay plays a file's own dates), so a
record may be put with a simulated arrival, which the event source mapping presents instead
(:class:`localrt.esm.SimulatedArrivals`). :class:`SimulatorClock` gives the simulator's records theirs.

The deadline timer (``functions/deadline_timer``), which EventBridge Scheduler invokes every minute in
AWS, runs on the stream's simulated clock here (:class:`DeadlineSchedule`, docs/local-runtime.md).
"""

from __future__ import annotations

import importlib.util
import json
import logging
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import boto3
from botocore.config import Config
from moto.server import ThreadedMotoServer

from journey.resources import TABLES
from localrt import moto_patches
from localrt.agent_local import AgentPath, agent_path
from localrt.esm import EventSourceMapping, LambdaContext, SandboxEnded, SimulatedArrivals
from localrt.provision import Provisioned, function_environment, provision
from localrt.template import FunctionSpec, Template, load_template

REGION = "us-east-1"
PUT_RECORDS_LIMIT = 500
LOCAL_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": REGION,
    "AWS_REGION": REGION,
    "POWERTOOLS_TRACE_DISABLED": "true",  # no X-Ray daemon on one machine
    "POWERTOOLS_METRICS_DISABLED": "false",
}
# (partition key, data, event id or None) or the same with the record's arrival (epoch seconds, or
# None for moto's wall-clock one)
Record = tuple[str, bytes, str | None] | tuple[str, bytes, str | None, float | None]


class SimulatorClock:
    """The arrival clock of the simulator's records (demo, chaos, load, bench).

    The simulator is a trusted clock: a record arrives once its user's device has reached the
    event's time, so arrival = max(the event's own timestamp, that user's clock), and the user's
    clock moves to it. Each simulated user lives on their own clock (the demo plays a session in
    slow motion while its calendar runs at about an hour per second, so one global clock would
    make every event after a session's first burst look an hour old). An event stamped before its
    user's newest (reordered, an offline queue flushed late) arrives on the user's clock; a record
    with no timestamp of its own (a producer's resend, a malformed record) arrives on its key's
    clock, or on the newest arrival given so far for a key not seen yet. A well-behaved event is
    therefore never skewed into the future nor stale.
    """

    def __init__(self) -> None:
        self._by_key: dict[str, int] = {}
        self.newest_ms: int | None = None

    def arrival(self, key: str, timestamp_ms: int | None = None) -> float | None:
        """Epoch seconds (None only before any timestamp has been seen)."""
        clock = self._by_key.get(key)
        if timestamp_ms is None and clock is None:
            return None if self.newest_ms is None else self.newest_ms / 1000
        at = max(t for t in (timestamp_ms, clock) if t is not None)
        self._by_key[key] = at
        if self.newest_ms is None or at > self.newest_ms:
            self.newest_ms = at
        return at / 1000

    def stamp(self, records: Sequence[tuple[str, bytes, str | None]]) -> list[Record]:
        """The records with their arrival: a record with an event id (an event's first copy) carries
        its timestamp in its data; the others take their key's clock."""
        stamped: list[Record] = []
        for key, data, event_id in records:
            timestamp = None
            if event_id:
                try:
                    value = json.loads(data).get("timestamp")
                except (ValueError, AttributeError, RecursionError):
                    value = None
                timestamp = value if isinstance(value, int) and not isinstance(value, bool) else None
            stamped.append((key, data, event_id, self.arrival(key, timestamp)))
        return stamped


class BatchLogCollector(logging.Handler):
    """Reads the function's structured 'batch processed' log lines, as one would in CloudWatch Logs."""

    FIELDS = (
        "received",
        "applied",
        "rejected",
        "duplicates",
        "redelivered_skipped",
        "signals",
        "sent",
        "failed_records",
        "erased_users_events_refused",
        "silent_rescored",
    )

    def __init__(self) -> None:
        super().__init__(level=logging.INFO)
        self._lock = threading.Lock()
        self._counts = dict.fromkeys((name for name in self.FIELDS if name != "rejected"), 0)
        self._rejected: dict[str, int] = {}
        self._batches = 0

    def emit(self, record: logging.LogRecord) -> None:
        if record.getMessage() == "batch processed":
            with self._lock:
                for name in self._counts:
                    self._counts[name] += getattr(record, name, None) or 0
                for code, count in (getattr(record, "rejected", None) or {}).items():
                    self._rejected[code] = self._rejected.get(code, 0) + count
                self._batches += 1

    def totals(self) -> dict:
        """The sums over every batch logged so far (kept as they arrive: the demo asks several times a
        second, and a run logs thousands of batches)."""
        with self._lock:
            return {**self._counts, "rejected": dict(self._rejected), "invocations_logged": self._batches}


@dataclass
class PutStats:
    records_sent: int = 0
    put_calls: int = 0
    records_retried: int = 0
    put_times: dict[str, float] = field(default_factory=dict)  # partition-key-independent: eventId -> wall time
    # (partition key, sequence number) -> wall time, filled when set to a dict (load measures latency with it)
    record_put_times: dict[tuple[str, str], float] | None = None
    timer_commands: int = 0  # records the deadline timer appended (also counted in records_sent: they are on the stream)


SCHEDULE_ENV = "LOCALRT_SCHEDULE"  # minute (default) | end | off
SCHEDULE_MODES = ("minute", "end", "off")
RUN_ON_MS = 16 * 60_000  # how far the clock runs on once the input is exhausted and drained
MIN_INTERVAL_S = 0.5  # wall-clock seconds between two scheduled runs at least (simulated time runs fast)
RUN_SHARE = 0.2  # and the timer takes at most about this share of the wall clock (a run holds the invoke lock)
log = logging.getLogger(__name__)


class DeadlineSchedule:
    """The deadline timer's schedule (EventBridge Scheduler, ``rate(1 minute)``) on the stream's clock.

    In AWS the schedule fires on the wall clock; here the stream plays simulated time, so the clock is
    the newest arrival the stream processor has been delivered (:attr:`localrt.esm.EventSourceMapping.
    newest_arrival_s`, simulated where records were put with one). Modes:

    * ``minute``: whenever that clock enters a minute it has not run in, the timer runs once with the
      scheduled time = that newest arrival (one run for a jump of many minutes: the runs between would
      find the same users). Runs are at least ``min_interval_s`` of wall time apart, and further when
      a run is slow (moto answers each of the 8 index queries by scanning the table: with thousands of
      users a run takes a good fraction of a second) so that the timer takes at most ``RUN_SHARE`` of
      the wall clock. Simulated time runs fast (the demo plays about 50 minutes per wall-clock second), so
      a deadline may be declared some simulated minutes late, never early;
    * ``end``: only the run-on below;
    * ``off``: never (``LocalRuntime.run_deadline_timer`` still runs it on demand).

    Run-on (``minute`` and ``end``): once the input is exhausted and the stream drained
    (:meth:`LocalRuntime.wait_until_drained`), the clock runs on: the timer runs at the newest arrival
    plus ``run_on_ms`` (16 minutes), so flows left open at the end of a run are declared; the runtime
    then waits until drained again. Once per newest arrival: waiting again with nothing new delivered
    does not move the clock again. The clock never goes back: a run at or before the last run's
    scheduled time is skipped.
    """

    def __init__(
        self,
        run: Callable[[int], dict],
        mode: str = "minute",
        rate_ms: int = 60_000,
        run_on_ms: int = RUN_ON_MS,
        min_interval_s: float = MIN_INTERVAL_S,
    ):
        if mode not in SCHEDULE_MODES:
            raise ValueError(f"schedule mode must be one of {SCHEDULE_MODES}, got {mode!r}")
        self._run = run
        self.mode = mode
        self.rate_ms = rate_ms
        self.run_on_ms = run_on_ms
        self.min_interval_s = min_interval_s
        self.newest_ms: int | None = None  # the clock: newest arrival delivered
        self.last_scheduled_ms: int | None = None
        self.run_on_at: int | None = None  # scheduled time of the last run-on
        self.runs: list[dict] = []  # each run's scheduled time and what the handler returned (or its error)
        self._changed = threading.Condition()
        self._one_run = threading.Lock()
        self._busy = False
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def observe(self, arrival_s: float) -> None:
        """A batch was delivered; ``arrival_s`` is its newest record's arrival (epoch seconds)."""
        arrival_ms = int(arrival_s * 1000)
        with self._changed:
            if self.newest_ms is None or arrival_ms > self.newest_ms:
                self.newest_ms = arrival_ms
                self._changed.notify_all()

    def _minute_due(self) -> bool:
        """(Holding ``_changed``.) The clock has entered a minute the timer has not run in."""
        if self.mode != "minute" or self.newest_ms is None:
            return False
        return self.last_scheduled_ms is None or self.newest_ms // self.rate_ms > self.last_scheduled_ms // self.rate_ms

    def idle(self) -> bool:
        """No run in progress and none due: what the timer would append is on the stream already."""
        with self._changed:
            return not self._busy and not self._minute_due()

    def start(self) -> None:
        if self.mode == "minute" and self._thread is None:
            self._thread = threading.Thread(target=self._loop, name="deadline-schedule", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        with self._changed:
            self._changed.notify_all()
        if self._thread is not None:
            self._thread.join(timeout=30)

    def _loop(self) -> None:
        while not self._stop.is_set():
            with self._changed:
                while not self._stop.is_set() and not self._minute_due():
                    self._changed.wait(0.5)
                if self._stop.is_set():
                    return
                scheduled = self.newest_ms
            started = time.monotonic()
            if scheduled is not None:
                self.run(scheduled)
            took = time.monotonic() - started
            self._stop.wait(max(self.min_interval_s, took * (1 - RUN_SHARE) / RUN_SHARE))

    def run(self, scheduled_ms: int, *, run_on: bool = False) -> dict | None:
        """Run the timer at ``scheduled_ms`` unless the clock has been there already; the handler's
        answer (None when skipped; ``{"error": ...}`` when it raised: the next run finds the same users).
        Each run is kept in :attr:`runs` with its wall seconds (``took_s``) and whether it was the run-on."""
        with self._one_run:
            with self._changed:
                if self.last_scheduled_ms is not None and scheduled_ms <= self.last_scheduled_ms:
                    return None
                self._busy = True
            started = time.monotonic()
            try:
                result = self._run(scheduled_ms)
            except (Exception, SandboxEnded) as exc:  # noqa: BLE001 - a failed run (or its sandbox ending) is one failed run
                log.warning("deadline timer run at %d failed: %s: %s", scheduled_ms, type(exc).__name__, exc)
                result = {"error": f"{type(exc).__name__}: {exc}"}
            finally:
                with self._changed:
                    self.last_scheduled_ms = scheduled_ms
                    self._busy = False
                    self._changed.notify_all()
            self.runs.append({"scheduled_ms": scheduled_ms, "took_s": time.monotonic() - started, "run_on": run_on, **result})
            return result

    def run_on(self) -> dict | None:
        """The input is exhausted and drained: run at the newest arrival plus ``run_on_ms``, once per
        newest arrival. None when nothing ran."""
        with self._changed:
            if self.mode == "off" or self.newest_ms is None:
                return None
            if self.run_on_at is not None and self.newest_ms <= self.run_on_at:
                return None
            self.run_on_at = scheduled = self.newest_ms + self.run_on_ms
        return self.run(scheduled, run_on=True)


def schedule_mode(value: str | None = None) -> str:
    """The mode asked for (argument, else ``LOCALRT_SCHEDULE``, else ``minute``)."""
    mode = (value or os.environ.get(SCHEDULE_ENV) or "minute").strip().lower()
    if mode not in SCHEDULE_MODES:
        raise ValueError(f"{SCHEDULE_ENV} must be one of {', '.join(SCHEDULE_MODES)}, got {mode!r}")
    return mode


class MotoProcess:
    """moto's server in a child process on 127.0.0.1: the function and moto then use both cores."""

    def __init__(self) -> None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.process = subprocess.Popen(
            [sys.executable, "-m", "localrt.moto_patches", "-H", "127.0.0.1", "-p", str(self.port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    def start(self) -> None:
        deadline = time.time() + 30
        while time.time() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"moto server exited with code {self.process.returncode}")
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{self.port}/moto-api/", timeout=1).read()
                return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("moto server did not start within 30 s")

    def get_host_and_port(self) -> tuple[str, int]:
        return "127.0.0.1", self.port

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()


def _command_time(record: dict) -> float:
    """A timer command's own time (epoch seconds), from the record about to be put; 0 if unreadable."""
    try:
        return float(json.loads(record["Data"])["timestamp"]) / 1000
    except (KeyError, TypeError, ValueError):
        return 0.0


class LocalRuntime:
    """Use as a context manager; see :func:`local_runtime`.

    ``moto="process"`` runs moto's server in a child process (the demo: both cores busy);
    ``moto="thread"`` runs it in-process with ThreadedMotoServer (tests: quicker to start).
    ``schedule`` is the deadline timer's schedule emulation (:class:`DeadlineSchedule`): ``"minute"``,
    ``"end"`` or ``"off"`` (default: ``LOCALRT_SCHEDULE``, else ``"minute"``). ``bedrock`` is the mode of
    the local stand-in for Amazon Bedrock on the escalation path (:mod:`localrt.agent_local`): ``"ok"``,
    ``"failing"`` or ``"slow"`` (default: ``LOCALRT_BEDROCK``, else ``"ok"``); the path runs when the
    template declares the escalation queue's event source mapping, unless ``agent`` is False (the queue then
    fills and nothing answers, as when the invoker is down: chaos compares against a reference without one).
    """

    def __init__(
        self,
        template: Template,
        function_log: Path,
        extra_env: dict[str, str] | None = None,
        moto: str = "thread",
        schedule: str | None = None,
        bedrock: str | None = None,
        agent: bool = True,
    ):
        self.moto = moto
        self.bedrock_mode = bedrock
        self.run_agent = agent
        self.agent: AgentPath | None = None
        self.schedule_mode = schedule_mode(schedule)
        self.deadline_schedule: DeadlineSchedule | None = None
        self.timer_handler = None
        self.timer_function: FunctionSpec | None = None
        self._timer_commands: tuple[int, float] | None = None  # (thread, arrival) while a timer run puts
        self._hooked_kinesis = None
        self.template = template
        self.function_log = function_log
        self.extra_env = extra_env or {}
        self.server: ThreadedMotoServer | None = None
        self.provisioned: Provisioned | None = None
        self.collector = BatchLogCollector()
        self.put_stats = PutStats()
        self.arrivals = SimulatedArrivals()
        self.mappings: list[EventSourceMapping] = []
        self._saved_env: dict[str, str | None] = {}
        self._log_handle = None
        self._saved_stdout = None
        self._saved_streams: list[tuple[logging.StreamHandler, object]] = []

    # --- setup -------------------------------------------------------------------------------
    def start(self) -> LocalRuntime:
        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        moto_patches.apply()
        if self.moto == "process":
            self.server = MotoProcess()
        else:
            self.server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        self.server.start()
        host, port = self.server.get_host_and_port()
        self.endpoint = f"http://{host}:{port}"
        # moto keeps its state per process, not per server: start from a clean account every time
        urllib.request.urlopen(urllib.request.Request(f"{self.endpoint}/moto-api/reset", method="POST"), timeout=10).read()
        self._set_env({**LOCAL_ENV, "AWS_ENDPOINT_URL": self.endpoint})
        self.session = boto3.session.Session(region_name=REGION)
        config = Config(retries={"mode": "standard", "max_attempts": 5}, max_pool_connections=32)
        self.clients = {
            name: self.session.client(name, config=config, endpoint_url=self.endpoint)
            for name in ("kinesis", "sqs", "sns", "s3", "dynamodb")
        }
        self.provisioned = provision(self.template, self.session, REGION, self.endpoint)

        kinesis_streams = self.template.of_type("AWS::Kinesis::Stream")
        mapping_spec = next(m for m in self.template.mappings if m.stream in kinesis_streams)
        function = self.template.functions[mapping_spec.function]
        env = function_environment(self.template, self.provisioned, mapping_spec.function)
        self._set_env({**env, **self.extra_env})
        self.handler = self._load_handler(function.code_path, function.handler)
        self._load_deadline_timer(env)
        self._capture_function_output()

        self.stream_name = self.provisioned.names[mapping_spec.stream]
        self.topic_arn = env["INTERVENTIONS_TOPIC_ARN"]
        self.tables = {spec.env: env[spec.env] for spec in TABLES}
        self.quarantine_bucket = env["QUARANTINE_BUCKET"]
        on_failure = mapping_spec.on_failure_queue
        self.on_failure_queue_url = self.provisioned.queue_urls.get(on_failure) if on_failure else None
        mapping = EventSourceMapping(
            mapping_spec,
            kinesis=self.clients["kinesis"],
            sqs=self.clients["sqs"],
            stream_name=self.stream_name,
            stream_arn=self.provisioned.arns[mapping_spec.stream],
            function_arn=self.provisioned.arns[mapping_spec.function],
            on_failure_queue_url=self.on_failure_queue_url,
            invoke=self.handler,
            context_factory=lambda: LambdaContext(
                function_name=function.logical_id,
                invoked_function_arn=self.provisioned.arns[function.logical_id],
                memory_limit_in_mb=function.memory_mb,
                timeout_s=function.timeout_s,
            ),
            region=REGION,
            arrivals=self.arrivals,
            on_delivered=self.deadline_schedule.observe if self.deadline_schedule else None,
        )
        self.mappings.append(mapping)
        self.agent = agent_path(self, self.bedrock_mode) if self.run_agent else None
        return self

    def start_polling(self) -> None:
        for mapping in self.mappings:
            mapping.start()
        if self.agent is not None:
            self.agent.start_polling()
        if self.deadline_schedule is not None:
            self.deadline_schedule.start()

    # --- the deadline timer ------------------------------------------------------------------------
    def _load_deadline_timer(self, processor_env: dict[str, str]) -> None:
        """The function the template's schedule invokes, in this process beside the processor: its
        environment joins the process's (one process plays both functions' sandboxes)."""
        if not self.template.schedules:
            return
        spec = self.template.schedules[0]
        self.timer_function = self.template.functions[spec.function]
        env = function_environment(self.template, self.provisioned, spec.function)
        clashes = sorted(name for name in env.keys() & processor_env.keys() if env[name] != processor_env[name])
        if clashes:
            raise RuntimeError(f"the deadline timer and the processor need different values of {clashes} in one process")
        self._set_env({name: value for name, value in env.items() if name not in self.extra_env})
        module_spec = importlib.util.spec_from_file_location(
            "local_function_deadline_timer", self.timer_function.code_path / f"{self.timer_function.handler.rsplit('.', 1)[0]}.py"
        )
        module = importlib.util.module_from_spec(module_spec)
        module_spec.loader.exec_module(module)
        self.timer_handler = getattr(module, self.timer_function.handler.rsplit(".", 1)[1])
        self.deadline_schedule = DeadlineSchedule(
            lambda scheduled_ms: self.run_deadline_timer(scheduled_ms), self.schedule_mode, rate_ms=spec.rate_ms or 60_000
        )

    def run_deadline_timer(self, now_ms: int) -> dict:
        """Invoke the real deadline timer handler as the schedule does: input ``{"scheduledTime": <now,
        ISO 8601 in whole seconds, as Scheduler gives it>}``. Its commands arrive at that time (the
        processor sees it as their ``approximateArrivalTimestamp``). Serialized with the processor's
        invocations (Powertools' metrics are process-wide). Returns what the handler returned."""
        if self.timer_handler is None or self.timer_function is None:
            raise RuntimeError("the template declares no schedule: no deadline timer to run")
        scheduled_s = now_ms // 1000
        event = {"scheduledTime": datetime.fromtimestamp(scheduled_s, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")}
        self._hook_command_stream()
        function = self.timer_function
        context = LambdaContext(
            function_name=function.logical_id,
            invoked_function_arn=self.provisioned.arns[function.logical_id],
            memory_limit_in_mb=function.memory_mb,
            timeout_s=function.timeout_s,
        )
        with self.mappings[0].invoke_lock, self.arrivals.putting():
            context._deadline = time.time() + context.timeout_s
            self._timer_commands = (threading.get_ident(), float(scheduled_s))
            try:
                result = self.timer_handler(event, context)
            finally:
                self._timer_commands = None
        return result or {}

    def _hook_command_stream(self) -> None:
        """Watch the timer's own Kinesis client (botocore event hooks): each record it puts is handed
        to the event source mapping with the run's scheduled time as its arrival, and counted."""
        from journey.adapters.aws.clients import client

        kinesis = client("kinesis")
        if kinesis is self._hooked_kinesis:
            return
        kinesis.meta.events.register("provide-client-params.kinesis.PutRecords", self._note_commands)
        kinesis.meta.events.register("after-call.kinesis.PutRecords", self._register_commands)
        self._hooked_kinesis = kinesis

    def _note_commands(self, params: dict, context: dict, **_) -> None:
        if self._timer_commands is not None and self._timer_commands[0] == threading.get_ident():
            context["localrt_command_keys"] = [
                (record["PartitionKey"], _command_time(record)) for record in params.get("Records", [])
            ]

    def _register_commands(self, parsed: dict, context: dict, **_) -> None:
        keys = context.pop("localrt_command_keys", None)
        if keys is None or self._timer_commands is None:
            return
        run_arrival = self._timer_commands[1]
        # each command arrives when it fell due in its user's own time (the simulator's clocks are per
        # user, so the run's one scheduled time is many users' future), never after the run itself
        accepted = [
            (key, result["SequenceNumber"], min(run_arrival, due) if due else run_arrival)
            for (key, due), result in zip(keys, parsed.get("Records") or [], strict=False)
            if result.get("SequenceNumber") and not result.get("ErrorCode")
        ]
        self.arrivals.given(accepted)
        self.put_stats.records_sent += len(accepted)
        self.put_stats.timer_commands += len(accepted)

    def subscribe_queue(self, name: str = "interventions-subscriber") -> str:
        """An SQS queue subscribed to the interventions topic (how a back end would receive them)."""
        sqs, sns = self.clients["sqs"], self.clients["sns"]
        url = sqs.create_queue(QueueName=name)["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        sns.subscribe(TopicArn=self.topic_arn, Protocol="sqs", Endpoint=arn, Attributes={"RawMessageDelivery": "true"})
        return url

    def update_processor_configuration(self, values: dict[str, str]) -> None:
        """What ``aws lambda update-function-configuration --environment`` does to the stream processor:
        its next invocation runs in a new sandbox with these variables (settings and the exit-risk model
        loaded afresh)."""
        from journey.adapters.aws.factories import forget_exit_risk_model
        from journey.settings import load_settings

        self._set_env(values)
        load_settings.cache_clear()
        forget_exit_risk_model()

    def _set_env(self, values: dict[str, str]) -> None:
        for name, value in values.items():
            self._saved_env.setdefault(name, os.environ.get(name))
            os.environ[name] = value

    def _load_handler(self, code_path: Path, handler: str):
        module_name, function_name = handler.rsplit(".", 1)
        spec = importlib.util.spec_from_file_location(f"local_function_{module_name}", code_path / f"{module_name}.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        logging.getLogger(os.environ.get("POWERTOOLS_SERVICE_NAME", "service")).addHandler(self.collector)
        self.function_module = module
        return getattr(module, function_name)

    def _capture_function_output(self) -> None:
        """The function's stdout (JSON logs and EMF metrics) goes to a file, as to CloudWatch Logs."""
        self.function_log.parent.mkdir(parents=True, exist_ok=True)
        self._log_handle = open(self.function_log, "w", encoding="utf-8")  # noqa: SIM115 - closed by stop()
        self._saved_stdout = sys.stdout
        sys.stdout = self._log_handle
        for handler in logging.getLogger(os.environ.get("POWERTOOLS_SERVICE_NAME", "service")).handlers:
            if isinstance(handler, logging.StreamHandler) and handler is not self.collector:
                self._saved_streams.append((handler, handler.stream))
                handler.stream = self._log_handle

    # --- producing -----------------------------------------------------------------------------
    def put_records(self, records: Sequence[Record]) -> list[str]:
        """PutRecords in chunks of 500, retrying the records Kinesis reports as failed.

        ``records`` are (partition key, data, event id or None), optionally with a fourth element:
        the record's arrival in epoch seconds, which the event source mapping presents to the
        function as ``approximateArrivalTimestamp`` instead of moto's wall-clock one (None keeps
        moto's). Returns sequence numbers in order (unique together with the partition key: each
        shard numbers its own records). Safe while the mapping polls on other threads.
        """
        kinesis = self.clients["kinesis"]
        sequences: list[str] = [""] * len(records)
        by_record = self.put_stats.record_put_times
        with self.arrivals.putting():
            for start in range(0, len(records), PUT_RECORDS_LIMIT):
                pending = list(range(start, min(start + PUT_RECORDS_LIMIT, len(records))))
                for attempt in range(10):
                    now = time.time()
                    response = kinesis.put_records(
                        StreamName=self.stream_name,
                        Records=[{"PartitionKey": records[i][0], "Data": records[i][1]} for i in pending],
                    )
                    self.put_stats.put_calls += 1
                    retry, accepted = [], []
                    for index, result in zip(pending, response["Records"], strict=False):
                        if result.get("ErrorCode"):
                            retry.append(index)
                            continue
                        record = records[index]
                        sequences[index] = result["SequenceNumber"]
                        accepted.append((record[0], result["SequenceNumber"], record[3] if len(record) > 3 else None))
                        event_id = record[2]
                        if event_id:
                            self.put_stats.put_times.setdefault(event_id, now)
                        if by_record is not None:
                            by_record[(record[0], result["SequenceNumber"])] = now
                    self.arrivals.given(accepted)  # after the put times: the poller waits for this
                    self.put_stats.records_retried += len(retry)
                    if not retry:
                        break
                    pending = retry
                    time.sleep(min(0.05 * 2**attempt, 2.0))
                else:
                    raise RuntimeError(f"{len(pending)} records still failing after 10 PutRecords attempts")
        self.put_stats.records_sent += len(records)
        return sequences

    def flush_function_log(self) -> None:
        """Write out what the function printed so far (its logs and EMF metrics in ``function.log``)."""
        if self._log_handle and not self._log_handle.closed:
            self._log_handle.flush()

    def wait_until_drained(self, timeout_s: float = 120.0, settle_s: float = 2.5, run_on: bool = True) -> bool:
        """True once every shard poller has been idle for ``settle_s`` (all records processed) and the
        deadline timer's schedule has nothing running or due. Then, unless ``run_on`` is False or the
        schedule is off, the clock runs on (:meth:`DeadlineSchedule.run_on`): the timer runs at the
        newest arrival plus 16 minutes, and when it appended commands, this waits for them too."""
        deadline = time.time() + timeout_s
        if not self._wait_idle(deadline, settle_s):
            return False
        if run_on and self.deadline_schedule is not None:
            result = self.deadline_schedule.run_on()
            if result and result.get("commands"):
                return self._wait_idle(deadline, settle_s)
        return True

    def _wait_idle(self, deadline: float, settle_s: float) -> bool:
        idle_since = None
        schedule = self.deadline_schedule
        while time.time() < deadline:
            agent_idle = self.agent is None or self.agent.idle()
            if all(m.all_idle() for m in self.mappings) and agent_idle and (schedule is None or schedule.idle()):
                idle_since = idle_since or time.time()
                if time.time() - idle_since >= settle_s:
                    return True
            else:
                idle_since = None
            time.sleep(0.1)
        return False

    # --- reading back what the system stored ---------------------------------------------------
    def scan(self, table_key: str) -> list[dict]:
        ddb = self.clients["dynamodb"]
        items, start = [], None
        while True:
            kwargs = {"TableName": self.tables[table_key]}
            if start:
                kwargs["ExclusiveStartKey"] = start
            page = ddb.scan(**kwargs)
            items.extend(page["Items"])
            start = page.get("LastEvaluatedKey")
            if not start:
                return items

    def quarantined(self) -> list[dict]:
        s3 = self.clients["s3"]
        found = {}
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=self.quarantine_bucket):
            for obj in page.get("Contents", []):
                body = s3.get_object(Bucket=self.quarantine_bucket, Key=obj["Key"])["Body"].read().decode()
                for line in body.splitlines():
                    if line.strip():
                        item = json.loads(line)
                        found[(item["partitionKey"], item["sequenceNumber"])] = item  # sequence numbers repeat across shards
        return list(found.values())

    def on_failure_messages(self) -> int:
        if not self.on_failure_queue_url:
            return 0
        attributes = self.clients["sqs"].get_queue_attributes(
            QueueUrl=self.on_failure_queue_url, AttributeNames=["ApproximateNumberOfMessages"]
        )
        return int(attributes["Attributes"]["ApproximateNumberOfMessages"])

    # --- teardown ------------------------------------------------------------------------------
    def stop(self) -> None:
        if self.deadline_schedule is not None:
            self.deadline_schedule.stop()
        if self.agent is not None:
            self.agent.stop()
        for mapping in self.mappings:
            mapping.stop()
        if self._saved_stdout is not None:
            sys.stdout = self._saved_stdout
        for handler, stream in self._saved_streams:
            handler.stream = stream
        self._saved_streams.clear()
        if self._log_handle:
            self._log_handle.close()
        logging.getLogger(os.environ.get("POWERTOOLS_SERVICE_NAME", "service")).removeHandler(self.collector)
        if self.server:
            self.server.stop()
        for name, value in self._saved_env.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        _reset_cached_wiring()


def _reset_cached_wiring() -> None:
    """Forget clients bound to this runtime's endpoint so a later runtime gets fresh ones."""
    from journey.adapters.aws.clients import client
    from journey.adapters.aws.factories import aws_ports, forget_exit_risk_model, timer_ports
    from journey.settings import load_settings

    forget_exit_risk_model()
    client.cache_clear()
    aws_ports.cache_clear()
    timer_ports.cache_clear()
    load_settings.cache_clear()


@contextmanager
def local_runtime(
    function_log: Path,
    extra_env: dict[str, str] | None = None,
    template: Template | None = None,
    moto: str = "thread",
    schedule: str | None = None,
    bedrock: str | None = None,
    agent: bool = True,
) -> Iterator[LocalRuntime]:
    runtime = LocalRuntime(template or load_template(), function_log, extra_env, moto, schedule, bedrock, agent)
    try:
        runtime.start()
        yield runtime
    finally:
        runtime.stop()
