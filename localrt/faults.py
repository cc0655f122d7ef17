"""Faults injected into the function's own AWS clients, below botocore's retry layer.

Hooks on botocore's event system make a share of the calls fail the way AWS fails them, so the
real retry mode (standard, 5 attempts) sees them first and the pipeline sees what is left:

* DynamoDB: ``ProvisionedThroughputExceededException`` for a whole call, or a partial
  ``UnprocessedItems`` / ``UnprocessedKeys`` (what throttled batch operations really return);
* SNS: ``InternalError`` (500) or ``Throttling`` for a whole call, or failed entries in a
  ``PublishBatch`` response (those entries are not published);
* some throttles persist across every attempt of a call (a hot partition staying hot), so the
  adapters' own handling and Kinesis redelivery are exercised, not only botocore's;
* scripted faults (:class:`CallFault`): the n-th call of an SNS operation fails on every attempt with
  a given error, e.g. a 400 ``InvalidParameter`` on the second ``PublishBatch`` (the request is
  refused: nothing in it is published, and a retry would fail the same way) or a 400
  ``EndpointDisabled`` on a push ``Publish``; :meth:`CallFault.client_error` is the same error as
  botocore raises it, for the in-memory clients (:class:`localrt.memory_aws.MemorySNS`);
* the sandbox ends in the middle of an invocation: before or after the k-th AWS call, as a crash
  or a timeout (:class:`localrt.esm.SandboxEnded`), so writes and sends are left half done.
"""

from __future__ import annotations

import functools
import json
import random
import threading
from collections import Counter
from dataclasses import dataclass, field

from botocore.awsrequest import AWSResponse
from botocore.exceptions import ClientError

from localrt.esm import InvocationTimedOut, RuntimeExited


class _Raw:
    def __init__(self, body: bytes):
        self.body = body

    def stream(self, **_):
        yield self.body


def _response(status: int, body: bytes, content_type: str) -> AWSResponse:
    return AWSResponse("https://127.0.0.1/fault", status, {"Content-Type": content_type, "x-amzn-RequestId": "fault"}, _Raw(body))


def dynamodb_throttle() -> AWSResponse:
    body = json.dumps(
        {
            "__type": "com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException",
            "message": "The level of configured provisioned throughput for the table was exceeded.",
        }
    ).encode()
    return _response(400, body, "application/x-amz-json-1.0")


def _fault_type(status: int) -> str:
    """SNS's ``Error/Type``: ``Sender`` for a request it refuses (4xx), ``Receiver`` for its own failures."""
    return "Sender" if 400 <= status < 500 else "Receiver"


def sns_error(code: str, status: int) -> AWSResponse:
    body = (
        f'<ErrorResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><Error><Type>{_fault_type(status)}</Type>'
        f"<Code>{code}</Code><Message>injected {code}</Message></Error><RequestId>fault</RequestId></ErrorResponse>"
    ).encode()
    return _response(status, body, "text/xml")


@dataclass(frozen=True)
class CallFault:
    """The ``nth`` call (counted from 1, first attempts only) of the SNS ``operation`` fails on every
    attempt with ``code`` and HTTP ``status``. Codes and statuses are those of the SNS API
    (botocore's service model): ``InvalidParameter`` 400, ``EndpointDisabled`` 400, ``InternalError``
    500, ``Throttling`` 400 (SNS throttles with a 400 and that code)."""

    operation: str  # "PublishBatch" (the topic) or "Publish" (a push to a platform endpoint)
    nth: int
    code: str
    status: int

    def client_error(self) -> ClientError:
        """The error as botocore raises it after parsing SNS's response."""
        response = {
            "Error": {"Type": _fault_type(self.status), "Code": self.code, "Message": f"injected {self.code}"},
            "ResponseMetadata": {"RequestId": "fault", "HTTPStatusCode": self.status, "HTTPHeaders": {}, "RetryAttempts": 0},
        }
        return ClientError(response, self.operation)


def rejected_publish(nth: int, code: str = "InvalidParameter") -> CallFault:
    """The topic refuses the n-th ``PublishBatch`` outright (a 400: nothing in it is published)."""
    return CallFault("PublishBatch", nth, code, 400)


def failing_publish(nth: int, code: str = "InternalError", status: int = 500) -> CallFault:
    """The n-th ``PublishBatch`` fails transiently on every attempt (what is left after botocore's retries)."""
    return CallFault("PublishBatch", nth, code, status)


def disabled_endpoint(nth: int) -> CallFault:
    """The n-th push (``Publish`` to a platform endpoint) finds the endpoint disabled (the device
    token expired or the app was uninstalled): a 400 that no retry fixes."""
    return CallFault("Publish", nth, "EndpointDisabled", 400)


@dataclass
class FaultPlan:
    dynamodb_rate: float = 0.05
    sns_rate: float = 0.05
    persistent_share: float = 0.2  # of failing calls, the share that fails every attempt
    crash_rate: float = 0.03  # of invocations, the share whose sandbox ends mid-way
    seed: int = 11
    sns_call_faults: tuple[CallFault, ...] = ()  # scripted: the n-th call of an SNS operation fails


@dataclass
class FaultCounts:
    injected: Counter = field(default_factory=Counter)

    def add(self, name: str) -> None:
        self.injected[name] += 1


class FaultInjector:
    def __init__(self, plan: FaultPlan):
        self.plan = plan
        self.rng = random.Random(plan.seed)
        self.counts = FaultCounts()
        self._persistent: set[str] = set()  # invocation ids of calls that fail every attempt
        self._lock = threading.Lock()
        self._crash_at: tuple[int, str, str] | None = None  # (call number, before|after, crash|timeout)
        self._calls = 0
        self._operation_calls: Counter = Counter()  # SNS operation -> calls so far (first attempts)
        self._scripted: dict[str, CallFault] = {}  # invocation ids of calls a scripted fault fails, every attempt

    # --- wiring ---------------------------------------------------------------------------
    def attach(self, clients: dict) -> None:
        for service, client in clients.items():
            events = client.meta.events
            events.register(
                f"before-send.{client.meta.service_model.service_id.hyphenize()}", functools.partial(self._before_send, service)
            )
            events.register("after-call", self._after_call)
            if service == "dynamodb":
                events.register("before-parameter-build.dynamodb.BatchWriteItem", self._hold_back_items)
                events.register("after-call.dynamodb.BatchWriteItem", self._return_unprocessed)
            if service == "sns":
                events.register("before-parameter-build.sns.PublishBatch", self._hold_back_entries)
                events.register("after-call.sns.PublishBatch", self._return_failed_entries)

    def invocation_started(self) -> None:
        """Called by the harness as each invocation begins: decide whether this sandbox ends mid-way."""
        self._calls = 0
        self._crash_at = None
        if self.rng.random() < self.plan.crash_rate:
            self._crash_at = (self.rng.randint(1, 8), self.rng.choice(("before", "after")), self.rng.choice(("crash", "timeout")))

    # --- the sandbox ending ---------------------------------------------------------------
    def _maybe_end(self, moment: str) -> None:
        if self._crash_at and self._crash_at[0] == self._calls and self._crash_at[1] == moment:
            kind = self._crash_at[2]
            self._crash_at = None
            self.counts.add(f"sandbox_{kind}_{moment}_call")
            raise (InvocationTimedOut if kind == "timeout" else RuntimeExited)(f"injected {kind} {moment} AWS call {self._calls}")

    def _after_call(self, **kwargs) -> None:
        self._maybe_end("after")

    # --- whole-call failures ----------------------------------------------------------------
    def _before_send(self, service: str, request, event_name: str = "", **kwargs):
        def header(name: str) -> str:
            value = request.headers.get(name, b"")
            return value.decode() if isinstance(value, bytes) else value

        first_attempt = header("amz-sdk-request").startswith("attempt=1")
        if first_attempt:
            self._calls += 1
            self._maybe_end("before")
        if service not in ("dynamodb", "sns"):
            return None
        call_id = header("amz-sdk-invocation-id")
        if service == "sns":
            scripted = self._scripted_fault(event_name.rsplit(".", 1)[-1], call_id, first_attempt)
            if scripted is not None:
                return scripted
        with self._lock:
            if call_id and call_id in self._persistent:
                return self._failure(service, persistent=True)
            if not first_attempt:
                return None
            rate = self.plan.dynamodb_rate if service == "dynamodb" else self.plan.sns_rate
            if self.rng.random() >= rate / 2:  # the other half of the rate is partial failures, below
                return None
            if self.rng.random() < self.plan.persistent_share:
                self._persistent.add(call_id)
                return self._failure(service, persistent=True)
            return self._failure(service, persistent=False)

    def _scripted_fault(self, operation: str, call_id: str, first_attempt: bool) -> AWSResponse | None:
        with self._lock:
            fault = self._scripted.get(call_id) if call_id else None
            if fault is None and first_attempt:
                self._operation_calls[operation] += 1
                number = self._operation_calls[operation]
                fault = next((f for f in self.plan.sns_call_faults if f.operation == operation and f.nth == number), None)
                if fault is not None and call_id:
                    self._scripted[call_id] = fault
            if fault is None:
                return None
            self.counts.add(f"sns_{operation}_{fault.code}_{fault.status}")
            return sns_error(fault.code, fault.status)

    def _failure(self, service: str, persistent: bool) -> AWSResponse:
        suffix = "_persistent" if persistent else ""
        if service == "dynamodb":
            self.counts.add("dynamodb_throttled_call" + suffix)
            return dynamodb_throttle()
        if self.rng.random() < 0.5:
            self.counts.add("sns_internal_error" + suffix)
            return sns_error("InternalError", 500)
        self.counts.add("sns_throttled" + suffix)
        return sns_error("Throttling", 400)

    # --- partial failures ---------------------------------------------------------------------
    def _hold_back_items(self, params, context, **kwargs) -> None:
        if self.rng.random() >= self.plan.dynamodb_rate / 2:
            return
        held = {}
        for table, requests in params.get("RequestItems", {}).items():
            keep = [r for r in requests if self.rng.random() >= 0.3]
            if len(keep) < len(requests):
                held[table] = [r for r in requests if r not in keep]
                params["RequestItems"][table] = keep
        params["RequestItems"] = {t: r for t, r in params["RequestItems"].items() if r}
        if not params["RequestItems"]:  # keep the call valid: hold back all but one item
            table, requests = next(iter(held.items()))
            params["RequestItems"] = {table: [requests.pop()]}
            held = {t: r for t, r in held.items() if r}  # AWS never reports a table with nothing unprocessed
        if held:
            context["fault_unprocessed"] = held
            self.counts.add("dynamodb_unprocessed_items")

    def _return_unprocessed(self, parsed, context, **kwargs) -> None:
        held = context.pop("fault_unprocessed", None)
        if held:
            unprocessed = parsed.setdefault("UnprocessedItems", {})
            for table, requests in held.items():
                unprocessed.setdefault(table, []).extend(requests)

    def _hold_back_entries(self, params, context, **kwargs) -> None:
        entries = params.get("PublishBatchRequestEntries", [])
        if len(entries) < 2 or self.rng.random() >= self.plan.sns_rate / 2:
            return
        held = entries[len(entries) // 2 :]
        params["PublishBatchRequestEntries"] = entries[: len(entries) // 2]
        context["fault_failed_entries"] = [e["Id"] for e in held]
        self.counts.add("sns_failed_entries")

    def _return_failed_entries(self, parsed, context, **kwargs) -> None:
        held = context.pop("fault_failed_entries", None)
        if held:
            parsed.setdefault("Failed", []).extend(
                {"Id": entry_id, "Code": "InternalError", "SenderFault": False, "Message": "injected"} for entry_id in held
            )
