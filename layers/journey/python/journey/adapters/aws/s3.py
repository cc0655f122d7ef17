"""Quarantine on S3: every rejected record, as it arrived, with its reason; one object per record.

The key is derived from the record alone (:func:`quarantine_key`):
``quarantine/<owner>/<UTC date of its arrival>/<shard>/<sequence number>.json``. The owner is a hash
of the record's partition key (the pseudonymous user id, :func:`quarantine_owner`), so a user's
records are found by prefix when the user is erased or exports their data. A shard numbers its own
records, and the date is the record's arrival, not the day it is written, so the same record always
has the same key however Lambda cuts, retries or bisects the batch, and on whichever day.

Each object is written only if its key is free (an S3 conditional write, ``If-None-Match: *``): a
412 ``PreconditionFailed`` means the record was kept before, and it is neither written nor counted
again. :meth:`S3Quarantine.keep` returns the records it newly kept; that is what the caller counts.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from concurrent.futures import ThreadPoolExecutor

from botocore.exceptions import ClientError

from journey.adapters.aws.clients import as_transient, client
from journey.app.ports import QuarantineIncomplete
from journey.errors import TransientError
from journey.events.records import Quarantined
from journey.resources import Env

QUARANTINE_PREFIX = "quarantine/"
WRITERS = 8  # concurrent PutObject calls for one batch (a batch can hold 500 rejected records)
KEPT_BEFORE = ("PreconditionFailed",)  # If-None-Match failed: the object is there already
# Another conditional write to the same key was in flight (S3 asks the caller to retry).
CONFLICT = ("ConditionalRequestConflict",)


def shard_of(batch_key: str) -> str:
    """The shard part of a batch key (``lambda_kit.kinesis.batch_key``: ``<shard>/<first>-<last>``)."""
    return batch_key.split("/", 1)[0] or "shard"


def quarantine_owner(partition_key: str) -> str:
    """The part of a quarantine key that names whose record it is: 16 hex digits of a hash of the
    record's partition key (the pseudonymous user id: the id itself stays out of key listings)."""
    return hashlib.blake2b(partition_key.encode(), digest_size=8).hexdigest()


def owner_prefix(user_id: str) -> str:
    """The key prefix under which every quarantined record of a user (keyed by their id) is kept."""
    return f"{QUARANTINE_PREFIX}{quarantine_owner(user_id)}/"


def quarantine_key(shard: str, sequence: str, arrival: float, partition_key: str = "") -> str:
    """The one key a record is kept under: its owner, the UTC date of its arrival, its shard, its sequence number."""
    try:
        day = time.strftime("%Y/%m/%d", time.gmtime(arrival))
    except (OverflowError, OSError, ValueError):  # not a time Kinesis gives; still one fixed key per record
        day = "0000/00/00"
    return f"{owner_prefix(partition_key)}{day}/{shard}/{sequence}.json"


class S3Quarantine:
    def __init__(self, bucket: str | None = None, s3=None):
        self.bucket = bucket or os.environ[Env.QUARANTINE_BUCKET]
        self._s3 = s3

    def keep(self, batch_key: str, rejected: list[Quarantined]) -> list[Quarantined]:
        """Write each rejected record once; return those newly kept (not those kept before).

        A transient failure raises :class:`~journey.app.ports.QuarantineIncomplete` (a
        ``TransientError``) naming the records it did keep and those it did not; any other failure
        (a missing bucket, access denied) is raised as it is."""
        if not rejected:
            return []
        s3 = self._s3 or client("s3")
        shard = shard_of(batch_key)
        if len(rejected) == 1:
            outcomes = [self._put(s3, shard, rejected[0])]
        else:
            with ThreadPoolExecutor(max_workers=min(WRITERS, len(rejected)), thread_name_prefix="quarantine") as pool:
                outcomes = list(pool.map(lambda item: self._put(s3, shard, item), rejected))
        kept = [item for item, outcome in zip(rejected, outcomes, strict=True) if outcome is True]
        errors = [(item, outcome) for item, outcome in zip(rejected, outcomes, strict=True) if isinstance(outcome, Exception)]
        if not errors:
            return kept
        permanent = [exc for _, exc in errors if not isinstance(exc, TransientError)]
        if permanent:
            raise permanent[0]
        raise QuarantineIncomplete(
            f"{len(errors)} of {len(rejected)} rejected records could not be kept: {errors[0][1]}",
            kept=kept,
            failed=[item for item, _ in errors],
        )

    def _put(self, s3, shard: str, item: Quarantined) -> bool | Exception:
        """True if written now, False if it was kept before, or the (mapped) error."""
        try:
            s3.put_object(
                Bucket=self.bucket,
                Key=quarantine_key(shard, item.sequence, item.arrival, item.partition_key),
                Body=json.dumps(item.as_record(), separators=(",", ":")).encode(),
                ContentType="application/json",
                IfNoneMatch="*",
            )
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            if code in KEPT_BEFORE or exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") == 412:
                return False
            if code in CONFLICT:
                return TransientError(f"{code}: {exc}")
            return as_transient(exc)
        except Exception as exc:  # noqa: BLE001 - mapped and raised by keep(), after the other writes
            return as_transient(exc)
        return True
