"""Shared boto3 client construction: botocore's standard retry mode, created lazily, once."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError, ParamValidationError, ValidationError

from journey.errors import TransientError

RETRY_CONFIG = Config(retries={"mode": "standard", "max_attempts": 5}, connect_timeout=2, read_timeout=5)

# Errors a retry can fix; anything else is a bug or a misconfiguration and should be loud.
TRANSIENT_CODES = frozenset(
    {
        "ProvisionedThroughputExceededException",
        "ThrottlingException",
        "Throttling",
        "RequestLimitExceeded",
        "InternalServerError",
        "InternalFailure",
        "InternalError",
        "ServiceUnavailable",
        "ServiceUnavailableException",
        "KMSThrottlingException",
        "SlowDown",
        "TooManyRequestsException",
        "RequestTimeout",
    }
)


# Throttling, whatever the HTTP status (SNS throttles with a 400 ``Throttling``, and ``KMSThrottling``
# is a 400 too): botocore's standard retry mode's list (botocore.retries.standard), and the services'
# own codes for the same thing.
THROTTLING_CODES = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "Throttled",
        "RequestThrottled",
        "RequestThrottledException",
        "TooManyRequests",
        "TooManyRequestsException",
        "KMSThrottling",
        "KMSThrottlingException",
        "ProvisionedThroughputExceededException",
        "TransactionInProgressException",
        "RequestLimitExceeded",
        "BandwidthLimitExceeded",
        "SlowDown",
        "PriorRequestNotComplete",
    }
)


@dataclass(frozen=True, slots=True)
class Failure:
    """Why one message did not go through, and whether sending it again may succeed."""

    reason: str
    transient: bool  # a retry may succeed: send it again
    uncertain: bool = False  # not an answer from AWS: it may have gone out all the same, so never send it again


def failure_of(exc: Exception) -> Failure:
    """Classify the error of one AWS call, for the messages it carried.

    Transient (a retry may fix it): throttling codes, HTTP 5xx and 429, connection errors and
    timeouts, and anything botocore's retry mode already retried until its attempts ran out.
    Permanent: any other 4xx (the request itself was refused: a bad parameter, a disabled endpoint,
    no permission) and a request botocore refused to build. Anything that is not botocore's is
    ``uncertain``: whether the message went out is not known."""
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        meta = exc.response.get("ResponseMetadata", {})
        code, status = error.get("Code", ""), int(meta.get("HTTPStatusCode") or 0)
        reason = f"{code or 'HTTP ' + str(status)}: {error.get('Message') or exc}"
        transient = (
            code in THROTTLING_CODES
            or code in TRANSIENT_CODES
            or status >= 500
            or status == 429
            or bool(meta.get("MaxAttemptsReached"))
            or not 400 <= status < 500
        )
        return Failure(reason, transient)
    reason = f"{type(exc).__name__}: {exc}"
    if isinstance(exc, ParamValidationError | ValidationError):
        return Failure(reason, transient=False)
    if isinstance(exc, BotoCoreError):
        return Failure(reason, transient=True)
    return Failure(reason, transient=False, uncertain=True)  # not from botocore: a bug, or the unexpected


@cache
def client(service: str):
    """A client honouring AWS_ENDPOINT_URL (the local runtime points it at the embedded moto).

    The endpoint is passed explicitly because services with endpoint discovery (Timestream)
    otherwise replace it with the discovered public endpoint."""
    return boto3.client(service, config=RETRY_CONFIG, endpoint_url=os.environ.get("AWS_ENDPOINT_URL") or None)


def as_transient(exc: Exception) -> Exception:
    """Map a boto error to TransientError when a retry may fix it; return it unchanged otherwise."""
    if isinstance(exc, ClientError):
        code = exc.response.get("Error", {}).get("Code", "")
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
        if code in TRANSIENT_CODES or status >= 500 or status == 429:
            return TransientError(f"{code}: {exc}")
        return exc
    if isinstance(exc, BotoCoreError):
        return TransientError(str(exc))
    return exc


def query_all(ddb: Any, **kwargs: Any) -> Iterator[dict[str, Any]]:
    """Every item a DynamoDB Query matches, page after page (``LastEvaluatedKey``); a retryable
    failure raised as ``TransientError``."""
    while True:
        try:
            page = ddb.query(**kwargs)
        except Exception as exc:
            raise as_transient(exc) from exc
        yield from page.get("Items", [])
        if not page.get("LastEvaluatedKey"):
            return
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


BATCH_WRITE_ROUNDS = 6


def batch_write(ddb: Any, request: dict[str, list]) -> None:
    """One BatchWriteItem (at most 25 requests), its unprocessed items sent again with backoff. A
    retryable failure is raised as ``TransientError``; any other (a ``ValidationException``) as it is."""
    for attempt in range(BATCH_WRITE_ROUNDS):
        try:
            response = ddb.batch_write_item(RequestItems=request)
        except Exception as exc:
            transient = as_transient(exc)
            if transient is exc:
                raise
            raise transient from exc
        request = {table: items for table, items in (response.get("UnprocessedItems") or {}).items() if items}
        if not request:
            return
        time.sleep(min(0.05 * 2**attempt, 1.0))
    raise TransientError(f"BatchWriteItem left items unprocessed after {BATCH_WRITE_ROUNDS} rounds")
