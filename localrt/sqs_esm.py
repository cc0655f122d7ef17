"""An emulator of Lambda's SQS event source mapping, driving a real handler in-process.

It follows the documented behaviour (https://docs.aws.amazon.com/lambda/latest/dg/with-sqs.html,
.../services-sqs-errorhandling.html, .../services-sqs-batchfailurereporting.html):

* the mapping comes from the template: an ``AWS::Lambda::EventSourceMapping`` whose ``EventSourceArn``
  is an ``AWS::SQS::Queue`` (``BatchSize``, default 10; ``MaximumBatchingWindowInSeconds``, default 0;
  ``FunctionResponseTypes``; ``ScalingConfig.MaximumConcurrency``; ``Enabled``);
* it long-polls the queue (``ReceiveMessage`` of up to 10 at a time, every attribute), gathers a batch
  of up to ``BatchSize`` until the batching window closes, and invokes the function with Lambda's SQS
  event: ``Records[]`` of ``messageId``, ``receiptHandle``, ``body``, ``attributes``
  (``ApproximateReceiveCount``, ``SentTimestamp``, ``SenderId``, ``ApproximateFirstReceiveTimestamp``,
  and the FIFO ones when present), ``messageAttributes`` (Lambda's lower-camel shape), ``md5OfBody``,
  ``md5OfMessageAttributes`` (when there are attributes), ``eventSource`` ``aws:sqs``,
  ``eventSourceARN``, ``awsRegion``; a context with the function's timeout;
* success deletes the batch. With ``ReportBatchItemFailures``, a response's ``batchItemFailures``
  keep those messages (only the others are deleted); a failure entry whose ``itemIdentifier`` is
  empty or not in the batch fails the whole batch, as Lambda does. A function error (or an invocation
  past the function timeout) deletes nothing;
* what is not deleted becomes visible again when its visibility timeout ends, and is received again;
  after the redrive policy's ``maxReceiveCount`` receives it goes to the dead-letter queue. moto does
  that on receive, as SQS does (the queue's attributes are provisioned from the template);
* :meth:`SqsEventSourceMapping.all_idle` is true when no batch is in flight and the queue holds no
  message, visible, in flight or delayed: ``LocalRuntime.wait_until_drained`` waits for it too.

Invocations take ``invoke_lock`` (by default the mapping's own): one batch at a time whatever
``MaximumConcurrency`` says; there is one poller."""

from __future__ import annotations

import base64
import hashlib
import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from typing import Any

from localrt.esm import InvocationTimedOut, LambdaContext, SandboxEnded
from localrt.template import Template

log = logging.getLogger(__name__)
RECEIVE_LIMIT = 10  # ReceiveMessage's MaxNumberOfMessages
WAIT_SECONDS = 1  # Lambda long-polls for 20 s; 1 s keeps stopping quick
DELETE_LIMIT = 10
LAMBDA_ATTRIBUTES = (
    "ApproximateReceiveCount",
    "SentTimestamp",
    "SenderId",
    "ApproximateFirstReceiveTimestamp",
    "SequenceNumber",
    "MessageGroupId",
    "MessageDeduplicationId",
    "AWSTraceHeader",
    "DeadLetterQueueSourceArn",
)


@dataclass
class SqsMappingSpec:
    logical_id: str
    function: str  # logical id of the function
    queue: str  # logical id of the queue
    batch_size: int
    batching_window_s: float
    report_batch_item_failures: bool
    maximum_concurrency: int | None
    enabled: bool


def sqs_mappings(template: Template) -> list[SqsMappingSpec]:
    """The template's SQS event source mappings (the Kinesis one is :class:`localrt.esm.EventSourceMapping`'s)."""
    queues = template.of_type("AWS::SQS::Queue")
    found = []
    for lid, resource in template.of_type("AWS::Lambda::EventSourceMapping").items():
        props = resource["Properties"]
        source = _ref_id(props.get("EventSourceArn"))
        if source not in queues:
            continue
        found.append(
            SqsMappingSpec(
                logical_id=lid,
                function=_ref_id(props["FunctionName"]) or "",
                queue=source,
                batch_size=int(props.get("BatchSize", 10)),
                batching_window_s=float(props.get("MaximumBatchingWindowInSeconds", 0)),
                report_batch_item_failures="ReportBatchItemFailures" in props.get("FunctionResponseTypes", []),
                maximum_concurrency=(props.get("ScalingConfig") or {}).get("MaximumConcurrency"),
                enabled=bool(props.get("Enabled", True)),
            )
        )
    return found


def _ref_id(value: Any) -> str | None:
    if isinstance(value, dict):
        if "Ref" in value:
            return value["Ref"]
        if "Fn::GetAtt" in value:
            return value["Fn::GetAtt"][0]
    return None


def lambda_sqs_record(message: dict[str, Any], queue_arn: str, region: str) -> dict[str, Any]:
    """One message as Lambda presents it (``Records[]`` of the SQS event)."""
    attributes = {name: str(message["Attributes"][name]) for name in LAMBDA_ATTRIBUTES if name in message.get("Attributes", {})}
    record: dict[str, Any] = {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message["Body"],
        "attributes": attributes,
        "messageAttributes": {
            name: _message_attribute(value) for name, value in (message.get("MessageAttributes") or {}).items()
        },
        "md5OfBody": message.get("MD5OfBody") or hashlib.md5(message["Body"].encode()).hexdigest(),
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": region,
    }
    if message.get("MD5OfMessageAttributes"):
        record["md5OfMessageAttributes"] = message["MD5OfMessageAttributes"]
    return record


def _message_attribute(value: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"stringListValues": [], "binaryListValues": [], "dataType": value["DataType"]}
    if "StringValue" in value:
        out["stringValue"] = value["StringValue"]
    if "BinaryValue" in value:
        out["binaryValue"] = base64.b64encode(value["BinaryValue"]).decode()
    return out


@dataclass
class SqsMappingStats:
    invocations: int = 0
    records_invoked: int = 0
    deleted: int = 0
    item_failures: int = 0  # messages a partial batch response kept
    invalid_responses: int = 0  # partial batch responses naming an unknown or empty id: the whole batch failed
    function_errors: int = 0
    timeouts: int = 0
    receive_errors: int = 0
    max_receive_count_seen: int = 0
    waits_ms: list[float] = field(default_factory=list)  # each message: sent to the queue → its invocation began

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {k: v for k, v in self.__dict__.items() if k != "waits_ms"}
        waits = sorted(self.waits_ms)
        if waits:
            out["queue_wait_ms"] = {"p50": waits[len(waits) // 2], "p95": waits[min(len(waits) - 1, int(len(waits) * 0.95))]}
        return out


class SqsEventSourceMapping:
    """One SQS event source mapping: ``start`` / ``stop``, ``all_idle``, ``stats``, ``dead_letters()``.

    ``around_batch``, when given, wraps each invocation (the local runtime's agent path sets its clock
    for the batch's messages there)."""

    def __init__(
        self,
        spec: SqsMappingSpec,
        *,
        sqs,
        queue_url: str,
        queue_arn: str,
        invoke: Callable[[dict, LambdaContext], dict | None],
        context_factory: Callable[[], LambdaContext],
        region: str,
        invoke_lock: threading.Lock | None = None,
        dead_letter_url: str | None = None,
        around_batch: Callable[[list[dict]], AbstractContextManager[Any]] | None = None,
    ):
        self.spec = spec
        self.sqs = sqs
        self.queue_url = queue_url
        self.queue_arn = queue_arn
        self.invoke = invoke
        self.context_factory = context_factory
        self.region = region
        self.invoke_lock = invoke_lock or threading.Lock()
        self.dead_letter_url = dead_letter_url
        self.around_batch = around_batch
        self.stats = SqsMappingStats()
        self._stats_lock = threading.Lock()
        self._busy = False  # a batch received and not yet settled (deleted or left to its visibility timeout)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # --- lifecycle -------------------------------------------------------------------------------------
    def start(self) -> None:
        if not self.spec.enabled or self._thread is not None:
            return
        self._thread = threading.Thread(target=self._poll, name=f"sqs-esm-{self.spec.function}", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)

    def all_idle(self) -> bool:
        """No batch in flight and nothing in the queue: visible, in flight (a failed message waiting for
        its visibility timeout is still to be retried) or delayed."""
        with self._stats_lock:
            if self._busy:
                return False
        counts = self.queue_counts(self.queue_url)
        return not any(counts.values())

    def queue_counts(self, url: str) -> dict[str, int]:
        names = ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible", "ApproximateNumberOfMessagesDelayed"]
        attributes = self.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=names)["Attributes"]
        return {name: int(attributes.get(name, 0)) for name in names}

    def dead_letters(self) -> int:
        """Messages in the dead-letter queue (received ``maxReceiveCount`` times without success)."""
        if not self.dead_letter_url:
            return 0
        return sum(self.queue_counts(self.dead_letter_url).values())

    # --- polling ---------------------------------------------------------------------------------------
    def _poll(self) -> None:
        while not self._stop.is_set():
            batch = self._gather()
            if not batch:
                continue
            try:
                self._deliver(batch)
            finally:
                with self._stats_lock:
                    self._busy = False

    def _receive(self, limit: int, wait_s: int) -> list[dict]:
        try:
            return self.sqs.receive_message(
                QueueUrl=self.queue_url,
                MaxNumberOfMessages=limit,
                WaitTimeSeconds=wait_s,
                AttributeNames=["All"],
                MessageAttributeNames=["All"],
            ).get("Messages", [])
        except Exception as exc:  # noqa: BLE001 - a poller outlives a failed receive, as Lambda's does
            log.warning("ReceiveMessage on %s failed, polling again: %s", self.queue_url, exc)
            with self._stats_lock:
                self.stats.receive_errors += 1
            self._stop.wait(0.5)
            return []

    def _gather(self) -> list[dict]:
        """Up to ``BatchSize`` messages: the first receive long-polls; more are gathered until the batch is
        full or the batching window (from the first message) has closed."""
        first = self._receive(min(RECEIVE_LIMIT, self.spec.batch_size), WAIT_SECONDS)
        if not first:
            return []
        with self._stats_lock:
            self._busy = True
        batch = list(first)
        closes = time.monotonic() + self.spec.batching_window_s
        while len(batch) < self.spec.batch_size and not self._stop.is_set():
            left = closes - time.monotonic()
            if left <= 0:
                break
            more = self._receive(min(RECEIVE_LIMIT, self.spec.batch_size - len(batch)), max(0, min(WAIT_SECONDS, int(left))))
            batch.extend(more)
            if not more and left < 1:
                self._stop.wait(min(left, 0.1))
        return batch

    # --- one batch -------------------------------------------------------------------------------------
    def _deliver(self, batch: list[dict]) -> None:
        context = self.context_factory()
        with self._stats_lock:
            self.stats.invocations += 1
            self.stats.records_invoked += len(batch)
            self.stats.max_receive_count_seen = max(
                self.stats.max_receive_count_seen,
                *(int(m.get("Attributes", {}).get("ApproximateReceiveCount", 1)) for m in batch),
            )
        around = self.around_batch(batch) if self.around_batch else nullcontext()
        with self.invoke_lock, around:  # ``around`` may present the messages otherwise: the event is built inside it
            now_ms = time.time() * 1000
            with self._stats_lock:
                self.stats.waits_ms.extend(
                    round(now_ms - int(m.get("Attributes", {}).get("SentTimestamp") or now_ms), 1) for m in batch
                )
            event = {"Records": [lambda_sqs_record(m, self.queue_arn, self.region) for m in batch]}
            context._deadline = time.time() + context.timeout_s
            try:
                response = self.invoke(event, context)
                if time.time() > context._deadline:
                    raise InvocationTimedOut(f"Task timed out after {context.timeout_s} seconds")
            except SandboxEnded as exc:
                log.warning("sandbox ended on %d SQS messages: %s", len(batch), exc)
                with self._stats_lock:
                    self.stats.function_errors += 1
                    self.stats.timeouts += isinstance(exc, InvocationTimedOut)
                return
            except Exception as exc:  # noqa: BLE001 - a function error: the messages come back after their visibility timeout
                log.warning("function error on %d SQS messages: %s: %s", len(batch), type(exc).__name__, exc)
                with self._stats_lock:
                    self.stats.function_errors += 1
                return
        self._settle(batch, response)

    def _settle(self, batch: list[dict], response: dict | None) -> None:
        keep: set[str] = set()
        if self.spec.report_batch_item_failures:
            failures = (response.get("batchItemFailures") or []) if isinstance(response, dict) else []
            ids = {m["MessageId"] for m in batch}
            named = [f.get("itemIdentifier") if isinstance(f, dict) else None for f in failures]
            if any(not name or name not in ids for name in named):
                log.warning("partial batch response names %s, not all of the batch's messages: the whole batch failed", named)
                with self._stats_lock:
                    self.stats.invalid_responses += 1
                return
            keep = {str(name) for name in named}
        done = [m for m in batch if m["MessageId"] not in keep]
        for chunk in _chunks(done, DELETE_LIMIT):
            answer = self.sqs.delete_message_batch(
                QueueUrl=self.queue_url,
                Entries=[{"Id": str(n), "ReceiptHandle": m["ReceiptHandle"]} for n, m in enumerate(chunk)],
            )
            for failed in answer.get("Failed", []):
                log.warning("DeleteMessageBatch left a message: %s", failed)
        with self._stats_lock:
            self.stats.deleted += len(done)
            self.stats.item_failures += len(keep)


def _chunks(items: list[dict], size: int) -> Iterator[list[dict]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
