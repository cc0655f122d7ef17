"""Shared boto3 client construction: botocore's standard retry mode, created lazily, once."""

from __future__ import annotations

import os
from functools import cache

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

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
