"""Quarantine on S3: every rejected record, as it arrived, with its reason; one object per batch.

The key is derived from the batch (shard and sequence range), so a redelivered batch overwrites
its own object instead of adding a copy.
"""

from __future__ import annotations

import json
import os
import time

from journey.adapters.aws.clients import as_transient, client
from journey.events.records import Quarantined
from journey.resources import Env


class S3Quarantine:
    def __init__(self, bucket: str | None = None, s3=None):
        self.bucket = bucket or os.environ[Env.QUARANTINE_BUCKET]
        self._s3 = s3

    def keep(self, batch_key: str, rejected: list[Quarantined]) -> None:
        s3 = self._s3 or client("s3")
        day = time.strftime("%Y/%m/%d", time.gmtime())
        body = "\n".join(json.dumps(item.as_record(), separators=(",", ":")) for item in rejected) + "\n"
        try:
            s3.put_object(
                Bucket=self.bucket,
                Key=f"quarantine/{day}/{batch_key}.jsonl",
                Body=body.encode(),
                ContentType="application/x-ndjson",
            )
        except Exception as exc:
            raise as_transient(exc) from exc
