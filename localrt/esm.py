"""An emulator of Lambda's Kinesis event source mapping, driving the real handler in-process.

It follows the documented behaviour (https://docs.aws.amazon.com/lambda/latest/dg/with-kinesis.html
and .../services-kinesis-batchfailurereporting.html):

* one poller per shard, records in shard order; ``ParallelizationFactor`` lanes per shard, each
  partition key always in the same lane, at most one batch in flight per lane (so up to that many
  batches per shard at once, and each key's records in order);
* a batch is invoked when it reaches ``BatchSize`` or ``MaximumBatchingWindowInSeconds`` has passed
  since its first record was read;
* an invocation that runs past the function timeout is a function error (``Task timed out``);
* the event has Lambda's exact shape (``Records[].kinesis.{kinesisSchemaVersion, partitionKey,
  sequenceNumber, data, approximateArrivalTimestamp}``, ``eventID`` = ``shardId:sequenceNumber``...);
  a record its producer gave a simulated arrival (:class:`SimulatedArrivals`) presents that arrival
  as ``approximateArrivalTimestamp``; what is about the real stream (``MaximumRecordAgeInSeconds``,
  the on-failure metadata) keeps moto's wall-clock arrival;
* with ``ReportBatchItemFailures``, the checkpoint moves to the lowest reported sequence number and
  the batch is retried from there; an empty or unknown identifier fails the whole batch;
* a function error with ``BisectBatchOnFunctionError`` splits the batch in two and retries each half;
* after ``MaximumRetryAttempts`` retries, or once a record is older than ``MaximumRecordAgeInSeconds``,
  the batch is given up and only its metadata goes to the on-failure destination.

The mapping also keeps the stream's clock as the function sees it, the newest arrival of any record
it has delivered (``newest_arrival_s``), and reports each batch's newest to ``on_delivered`` before
the batch stops counting as pending: the local runtime runs the deadline timer's schedule on it.

Invocations are serialized through one lock: the handler's Powertools Logger and Metrics are
process-wide, as they are per sandbox in Lambda, and one process plays every sandbox here. The
lanes still interleave their batches, so ordering and retry semantics are those of parallel
batches.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime

from journey.lambda_kit.kinesis_shape import lambda_record
from localrt.template import EventSourceMappingSpec

log = logging.getLogger(__name__)
IDLE_POLL_SECONDS = 0.1
SIMULATED_ARRIVAL = "_SimulatedArrival"  # where the poller keeps a record's simulated arrival (never sent to the function)
ARRIVAL_WAIT_SECONDS = 30.0


class SimulatedArrivals:
    """The arrival each record was put with (epoch seconds, or ``None`` for moto's own), by (partition
    key, sequence number): the local drivers play simulated time, while moto stamps wall-clock time.

    A producer registers a ``PutRecords`` call with :meth:`putting` and its records with
    :meth:`given` once Kinesis has numbered them; the poller :meth:`take` s each record's arrival
    as it reads it. A record read before its put has returned is waited for, so put and poll may
    run on different threads.
    """

    def __init__(self) -> None:
        self._changed = threading.Condition()
        self._given: dict[tuple[str, str], float | None] = {}
        self._putting = 0

    @contextmanager
    def putting(self) -> Iterator[None]:
        with self._changed:
            self._putting += 1
        try:
            yield
        finally:
            with self._changed:
                self._putting -= 1
                self._changed.notify_all()

    def given(self, records: list[tuple[str, str, float | None]]) -> None:
        """(partition key, sequence number, arrival or None) of records Kinesis has accepted."""
        with self._changed:
            for key, sequence, arrival in records:
                self._given[(key, sequence)] = arrival
            self._changed.notify_all()

    def take(self, partition_key: str, sequence: str, wait_s: float = ARRIVAL_WAIT_SECONDS) -> float | None:
        """The record's simulated arrival, or None (moto's arrival stands); forgets it (the poller
        reads each record once)."""
        key = (partition_key, sequence)
        deadline = time.monotonic() + wait_s
        with self._changed:
            while key not in self._given and self._putting:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    log.warning("no arrival registered for %s after %.0f s: moto's arrival stands", key, wait_s)
                    break
                self._changed.wait(remaining)
            return self._given.pop(key, None)

    def __len__(self) -> int:
        with self._changed:
            return len(self._given)


class SandboxEnded(BaseException):
    """The sandbox stopped in the middle of an invocation: the work done until then stays done, the
    batch counts as a function error. A ``BaseException``, so the function's own ``except Exception``
    cannot swallow it, as it cannot stop Lambda ending a sandbox."""


class InvocationTimedOut(SandboxEnded):
    """``Task timed out``: raised by the emulator when the handler returns past its deadline, and by
    fault injection to end an invocation at an arbitrary point."""


class RuntimeExited(SandboxEnded):
    """``Runtime exited`` (a crash, out of memory): raised by fault injection."""


@dataclass
class LambdaContext:
    function_name: str
    invoked_function_arn: str
    memory_limit_in_mb: int
    timeout_s: int
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    function_version: str = "$LATEST"
    log_group_name: str = "/aws/lambda/local"
    log_stream_name: str = "local"
    _deadline: float = 0.0

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.time()) * 1000))


@dataclass
class MappingStats:
    invocations: int = 0
    records_invoked: int = 0
    function_errors: int = 0
    partial_failures: int = 0
    retried_records: int = 0
    batches_to_on_failure: int = 0
    records_to_on_failure: int = 0
    poll_errors: int = 0
    timeouts: int = 0
    crashes: int = 0
    max_batch_seconds: float = 0.0  # longest a lane was held by one batch, retries included (its shard's stall)

    def as_dict(self) -> dict:
        return dict(self.__dict__)


def lane_of(partition_key: str, lanes: int) -> int:
    """The lane a partition key's records always take (Kinesis hashes keys with MD5 too)."""
    if lanes == 1:
        return 0
    return int.from_bytes(hashlib.md5(partition_key.encode()).digest()[:8], "big") % lanes


def arrival_of(record: dict) -> float:
    """A record's arrival as the function is shown it (epoch seconds): its simulated arrival when it was
    put with one, else Kinesis's (moto's wall clock)."""
    simulated = record.get(SIMULATED_ARRIVAL)
    if simulated is not None:
        return float(simulated)
    arrival = record["ApproximateArrivalTimestamp"]
    return arrival.timestamp() if isinstance(arrival, datetime) else float(arrival)


class _Lane:
    """Records of some partition keys waiting to be batched, in shard order."""

    def __init__(self) -> None:
        self.records: deque = deque()
        self.first_read = 0.0
        self.changed = threading.Condition()

    def put(self, record: dict) -> None:
        with self.changed:
            if not self.records:
                self.first_read = time.monotonic()
            self.records.append(record)
            self.changed.notify()

    def take(self, batch_size: int, window_s: float, stop: threading.Event) -> list[dict]:
        with self.changed:
            while not stop.is_set():
                if len(self.records) >= batch_size:
                    break
                if self.records:
                    wait = self.first_read + window_s - time.monotonic()
                    if wait <= 0:
                        break
                else:
                    wait = IDLE_POLL_SECONDS
                self.changed.wait(min(wait, IDLE_POLL_SECONDS))
            batch = [self.records.popleft() for _ in range(min(batch_size, len(self.records)))]
            if self.records:
                self.first_read = time.monotonic()
            return batch


class EventSourceMapping:
    def __init__(
        self,
        spec: EventSourceMappingSpec,
        *,
        kinesis,
        sqs,
        stream_name: str,
        stream_arn: str,
        function_arn: str,
        on_failure_queue_url: str | None,
        invoke: Callable[[dict, LambdaContext], dict | None],
        context_factory: Callable[[], LambdaContext],
        region: str,
        invoke_lock: threading.Lock | None = None,
        arrivals: SimulatedArrivals | None = None,
        on_delivered: Callable[[float], None] | None = None,
    ):
        self.spec = spec
        self.kinesis = kinesis
        self.sqs = sqs
        self.stream_name = stream_name
        self.stream_arn = stream_arn
        self.function_arn = function_arn
        self.on_failure_queue_url = on_failure_queue_url
        self.invoke = invoke
        self.context_factory = context_factory
        self.region = region
        self.invoke_lock = invoke_lock or threading.Lock()
        self.arrivals = arrivals
        # the stream's clock as the function sees it: the newest arrival (epoch seconds) of any record
        # delivered so far, simulated where the record was put with one; ``on_delivered`` hears each
        # batch's newest (the local runtime's schedule emulation runs the deadline timer on it)
        self.newest_arrival_s: float | None = None
        self.on_delivered = on_delivered
        self.stats = MappingStats()
        self._stats_lock = threading.Lock()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self.pending: dict[str, int] = {}  # shard -> records read but not yet delivered or given up

    # --- lifecycle ---------------------------------------------------------------------------
    def start(self) -> None:
        shards = self.kinesis.list_shards(StreamName=self.stream_name)["Shards"]
        for shard in shards:
            shard_id = shard["ShardId"]
            self.pending[shard_id] = 0
            lanes = [_Lane() for _ in range(max(1, self.spec.parallelization_factor))]
            for n, lane in enumerate(lanes):
                self._spawn(f"esm-{shard_id}-lane{n}", self._run_lane, shard_id, lane)
            self._spawn(f"esm-{shard_id}", self._poll_shard, shard_id, lanes)

    def _spawn(self, name: str, target, *args) -> None:
        thread = threading.Thread(target=target, args=args, name=name, daemon=True)
        self._threads.append(thread)
        thread.start()

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=30)

    def all_idle(self) -> bool:
        """True when every record read from the stream has been delivered or given up."""
        with self._stats_lock:
            return not any(self.pending.values())

    # --- polling -----------------------------------------------------------------------------
    def _iterator(self, shard_id: str, after: str | None) -> str:
        if after is None:
            return self.kinesis.get_shard_iterator(
                StreamName=self.stream_name, ShardId=shard_id, ShardIteratorType=self.spec.starting_position
            )["ShardIterator"]
        return self.kinesis.get_shard_iterator(
            StreamName=self.stream_name,
            ShardId=shard_id,
            ShardIteratorType="AFTER_SEQUENCE_NUMBER",
            StartingSequenceNumber=after,
        )["ShardIterator"]

    def _poll_shard(self, shard_id: str, lanes: list[_Lane]) -> None:
        """Read the shard in order and deal each record to the lane of its partition key: with a
        parallelization factor above 1, batches of different keys are in flight together while each
        key's records stay in order (one lane per key)."""
        iterator = self._iterator(shard_id, None)
        last_read: str | None = None
        read_ahead = self.spec.batch_size * len(lanes)
        while not self._stop.is_set():
            with self._stats_lock:
                room = read_ahead - self.pending[shard_id]
            if room <= 0:
                time.sleep(0.01)
                continue
            try:
                response = self.kinesis.get_records(ShardIterator=iterator, Limit=min(room, 10_000))
            except Exception as exc:  # noqa: BLE001 - a poller outlives a failed poll, as Lambda's does
                log.warning("GetRecords on %s failed, polling again: %s", shard_id, exc)
                with self._stats_lock:
                    self.stats.poll_errors += 1
                time.sleep(IDLE_POLL_SECONDS)
                iterator = self._iterator(shard_id, last_read)
                continue
            iterator = response["NextShardIterator"]
            fetched = response["Records"]
            if not fetched:
                time.sleep(IDLE_POLL_SECONDS)
                continue
            last_read = fetched[-1]["SequenceNumber"]
            if self.arrivals is not None:
                for record in fetched:
                    arrival = self.arrivals.take(record["PartitionKey"], record["SequenceNumber"])
                    if arrival is not None:
                        record[SIMULATED_ARRIVAL] = arrival
            with self._stats_lock:
                self.pending[shard_id] += len(fetched)
            for record in fetched:
                lanes[lane_of(record["PartitionKey"], len(lanes))].put(record)

    def _run_lane(self, shard_id: str, lane: _Lane) -> None:
        """One lane: at most one batch in flight; a batch goes when it reaches ``BatchSize`` or when
        ``MaximumBatchingWindowInSeconds`` has passed since its first record was read."""
        while not self._stop.is_set():
            batch = lane.take(self.spec.batch_size, self.spec.batching_window_s, self._stop)
            if not batch:
                continue
            self._deliver(shard_id, batch)
            newest = max(arrival_of(record) for record in batch)
            with self._stats_lock:
                if self.newest_arrival_s is None or newest > self.newest_arrival_s:
                    self.newest_arrival_s = newest
            if self.on_delivered is not None:  # before the batch stops counting as pending: no drain in between
                self.on_delivered(newest)
            with self._stats_lock:
                self.pending[shard_id] -= len(batch)

    # --- one batch, with retries, bisection and the on-failure destination -----------------------
    def _deliver(self, shard_id: str, batch: list[dict]) -> None:
        started = time.monotonic()
        try:
            self._deliver_with_retries(shard_id, batch)
        finally:
            with self._stats_lock:
                self.stats.max_batch_seconds = max(self.stats.max_batch_seconds, time.monotonic() - started)

    def _deliver_with_retries(self, shard_id: str, batch: list[dict]) -> None:
        pending: deque[tuple[list[dict], int]] = deque([(batch, 0)])
        while pending and not self._stop.is_set():
            records, attempt = pending.popleft()
            oldest = records[0]["ApproximateArrivalTimestamp"]
            oldest_ts = oldest.timestamp() if isinstance(oldest, datetime) else float(oldest)
            if self.spec.max_record_age_s >= 0 and time.time() - oldest_ts > self.spec.max_record_age_s:
                self._give_up(shard_id, records, attempt, "RecordAgeExceeded")
                continue
            outcome, failed_from = self._invoke(shard_id, records)
            if outcome == "ok":
                continue
            retries_left = self.spec.retry_attempts < 0 or attempt < self.spec.retry_attempts
            if outcome == "partial":
                retry = [r for r in records if int(r["SequenceNumber"]) >= int(failed_from)]
                with self._stats_lock:
                    self.stats.partial_failures += 1
                    self.stats.retried_records += len(retry)
                if retries_left:
                    pending.appendleft((retry, attempt + 1))
                else:
                    self._give_up(shard_id, retry, attempt, "RetryAttemptsExhausted")
                continue
            # function error
            if self.spec.bisect_on_error and len(records) > 1 and retries_left:
                middle = len(records) // 2
                pending.appendleft((records[middle:], attempt + 1))
                pending.appendleft((records[:middle], attempt + 1))
            elif retries_left:
                pending.appendleft((records, attempt + 1))
            else:
                self._give_up(shard_id, records, attempt, "RetryAttemptsExhausted")
            time.sleep(min(0.05 * 2**attempt, 1.0))

    def _lambda_record(self, shard_id: str, record: dict) -> dict:
        shaped = lambda_record(shard_id, record, self.stream_arn, self.region)
        arrival = record.get(SIMULATED_ARRIVAL)
        if arrival is not None:
            shaped["kinesis"]["approximateArrivalTimestamp"] = float(arrival)
        return shaped

    def _invoke(self, shard_id: str, records: list[dict]) -> tuple[str, str | None]:
        event = {"Records": [self._lambda_record(shard_id, r) for r in records]}
        context = self.context_factory()
        with self.invoke_lock:
            context._deadline = time.time() + context.timeout_s
            with self._stats_lock:
                self.stats.invocations += 1
                self.stats.records_invoked += len(records)
            try:
                response = self.invoke(event, context)
                if time.time() > context._deadline:
                    raise InvocationTimedOut(f"Task timed out after {context.timeout_s} seconds")
            except SandboxEnded as exc:  # Lambda ends the sandbox: what ran so far stays done
                log.warning("sandbox ended on %s (%d records): %s", shard_id, len(records), exc)
                with self._stats_lock:
                    self.stats.function_errors += 1
                    self.stats.timeouts += isinstance(exc, InvocationTimedOut)
                    self.stats.crashes += isinstance(exc, RuntimeExited)
                return "error", None
            except Exception as exc:
                log.warning("function error on %s (%d records): %s: %s", shard_id, len(records), type(exc).__name__, exc)
                log.debug("function error traceback", exc_info=True)
                with self._stats_lock:
                    self.stats.function_errors += 1
                return "error", None
        if not self.spec.report_batch_item_failures:
            return "ok", None
        failures = (response or {}).get("batchItemFailures") or []
        if not failures:
            return "ok", None
        sequences = {r["SequenceNumber"] for r in records}
        identifiers = [f.get("itemIdentifier") for f in failures]
        if any(not i or i not in sequences for i in identifiers):
            return "partial", records[0]["SequenceNumber"]  # invalid report: the whole batch is retried
        return "partial", min(identifiers, key=int)

    def _give_up(self, shard_id: str, records: list[dict], attempt: int, condition: str) -> None:
        with self._stats_lock:
            self.stats.batches_to_on_failure += 1
            self.stats.records_to_on_failure += len(records)
        if not self.on_failure_queue_url:
            return
        first, last = records[0], records[-1]

        def iso(value) -> str:
            ts = value if isinstance(value, datetime) else datetime.fromtimestamp(float(value), tz=UTC)
            return ts.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")

        message = {
            "requestContext": {
                "requestId": str(uuid.uuid4()),
                "functionArn": self.function_arn,
                "condition": condition,
                "approximateInvokeCount": attempt + 1,
            },
            "responseContext": {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"},
            "version": "1.0",
            "timestamp": iso(time.time()),
            "KinesisBatchInfo": {
                "shardId": shard_id,
                "startSequenceNumber": first["SequenceNumber"],
                "endSequenceNumber": last["SequenceNumber"],
                "approximateArrivalOfFirstRecord": iso(first["ApproximateArrivalTimestamp"]),
                "approximateArrivalOfLastRecord": iso(last["ApproximateArrivalTimestamp"]),
                "batchSize": len(records),
                "streamArn": self.stream_arn,
            },
        }
        self.sqs.send_message(QueueUrl=self.on_failure_queue_url, MessageBody=json.dumps(message))
