"""What the Bedrock adapters share: their clients, and the one classification of every failure of a
Bedrock call into the domain's agent errors (``journey.agent.invocation``).

The agents are in ``bedrock_agents`` (AgentCore InvokeHarness, Agents Classic InvokeAgent), the
context analyst in ``bedrock_converse`` (Converse).

| failure | error |
|---|---|
| ThrottlingException, ServiceQuotaExceededException, TooManyRequests(Exception), any throttling code, HTTP 429 | AgentThrottled (the use case retries within the budget) |
| ModelTimeoutException, HTTP 408, botocore/urllib3 ReadTimeoutError, a stream past its deadline | AgentTimedOut |
| ValidationException, AccessDeniedException, ResourceNotFoundException, Conflict, DependencyFailed, ModelNotReady, 5xx, RuntimeClientError | AgentUnavailable, with the code and message |
| ConnectTimeoutError, EndpointConnectionError, a connection closed mid-stream, a request the SDK refused | AgentUnavailable |
| the stream cut short, returnControl, tool input that is not JSON, text where the forced tool was due, a schema violation | MalformedAgentReply (raised where it is read) |

An error inside an event stream (botocore's ``EventStreamError``, a ``ClientError``) names its
exception member in camel case (``throttlingException``): it is classified like the HTTP error."""

from __future__ import annotations

from functools import cache
from typing import Any

import boto3
import urllib3.exceptions
from botocore.config import Config
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectTimeoutError,
    EndpointConnectionError,
    ParamValidationError,
    ReadTimeoutError,
)

from journey.adapters.aws.clients import THROTTLING_CODES
from journey.agent.invocation import AgentError, AgentThrottled, AgentTimedOut, AgentUnavailable

CONNECT_TIMEOUT_S = 2.0
THROTTLED = frozenset({*THROTTLING_CODES, "ServiceQuotaExceededException", "ServiceQuotaExceeded"})
TIMED_OUT = frozenset({"ModelTimeoutException", "RequestTimeout", "RequestTimeoutException"})


@cache
def _client(service: str, read_timeout_s: float) -> Any:
    # One attempt per call: the use case owns the retries because it owns the time budget; the SDK's
    # own retries would spend it unseen. (``total_max_attempts`` counts the first call; botocore reads
    # ``max_attempts`` as retries, so ``{"max_attempts": 1}`` would make two attempts.) The read timeout is the whole budget, so a
    # call (or a stalled stream) never blocks a read longer than the budget. The endpoint comes from
    # the environment (AWS_ENDPOINT_URL_BEDROCK_AGENTCORE / _BEDROCK_AGENT_RUNTIME / _BEDROCK_RUNTIME,
    # which the local runtime points at its Bedrock stand-in), as boto3 resolves it.
    config = Config(
        connect_timeout=min(CONNECT_TIMEOUT_S, read_timeout_s),
        read_timeout=read_timeout_s,
        retries={"total_max_attempts": 1, "mode": "standard"},
        tcp_keepalive=True,
    )
    return boto3.client(service, config=config)


def bedrock_client(service: str, budget_ms: int) -> Any:
    """The service's client for calls of at most ``budget_ms`` (one per service and budget, per process)."""
    return _client(service, max(1.0, round(budget_ms / 1000, 1)))


def error_code(exc: ClientError) -> str:
    """The error's code, ``ThrottlingException`` whether it came as an HTTP error or as a stream's
    ``throttlingException`` event."""
    code = str(exc.response.get("Error", {}).get("Code") or "")
    return code[:1].upper() + code[1:]


def classify(exc: BaseException, what: str, **cost: Any) -> AgentError:
    """The agent error for a failure of ``what`` (the operation), with the call's cost so far."""
    if isinstance(exc, AgentError):
        return exc
    if isinstance(exc, ClientError):
        code = error_code(exc)
        status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)
        message = str(exc.response.get("Error", {}).get("Message") or "")
        reason = f"{what}: {code or f'HTTP {status}'}: {message}".rstrip(": ")[:500]
        if code in THROTTLED or status == 429:
            return AgentThrottled(reason, **cost)
        if code in TIMED_OUT or status == 408:
            return AgentTimedOut(reason, **cost)
        return AgentUnavailable(reason, **cost)
    if isinstance(exc, ReadTimeoutError | urllib3.exceptions.ReadTimeoutError | TimeoutError) and not isinstance(
        exc, ConnectTimeoutError
    ):
        return AgentTimedOut(f"{what}: no data within the read timeout ({type(exc).__name__})", **cost)
    if isinstance(exc, ConnectTimeoutError | EndpointConnectionError):
        return AgentUnavailable(f"{what}: could not connect ({type(exc).__name__}: {exc})"[:500], **cost)
    if isinstance(exc, ParamValidationError):
        return AgentUnavailable(f"{what}: the SDK refused the request: {exc}"[:500], **cost)
    if isinstance(exc, BotoCoreError | urllib3.exceptions.HTTPError | OSError):
        return AgentUnavailable(f"{what}: {type(exc).__name__}: {exc}"[:500], **cost)
    return AgentUnavailable(f"{what}: unexpected {type(exc).__name__}: {exc}"[:500], **cost)
