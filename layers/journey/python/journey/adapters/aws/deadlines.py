"""The deadline timer's read side: users due now, from the state table's sparse index (``DueIndex``,
keys only: ``dueShard``, ``dueAt`` and the table's key ``userId``).

One Query per ``dueShard`` value (``dueAt <= :now``, oldest deadline first), paginated. The limit is
shared fairly: each shard first gets its share, then shards with more due users take what the others
left, so one busy shard cannot starve the rest when more users are due than one run wakes."""

from __future__ import annotations

import logging
import math
import os

from journey.adapters.aws.clients import as_transient, client
from journey.app.ports import DueUser
from journey.resources import DUE_INDEX, USER_STATE

log = logging.getLogger(__name__)
KEY_CONDITION = "#shard = :shard AND #due <= :now"


class DynamoDueUsers:
    def __init__(self, table: str | None = None, dynamodb=None):
        self.table = table or os.environ[USER_STATE.env]
        self._ddb = dynamodb

    @property
    def ddb(self):
        if self._ddb is None:
            self._ddb = client("dynamodb")
        return self._ddb

    def due(self, now_ms: int, limit: int) -> list[DueUser]:
        shards = DUE_INDEX.shard_values()
        found: list[DueUser] = []
        # shard -> where its next page starts (absent: exhausted), None before its first page
        resume: dict[str, dict | None] = dict.fromkeys(shards)
        share = max(1, math.ceil(limit / len(shards)))
        for shard in shards:  # first pass: each shard its share
            if len(found) >= limit:
                break
            self._drain(shard, now_ms, min(share, limit - len(found)), found, resume)
        for shard in shards:  # second pass: what the others left, to the shards that have more
            if len(found) >= limit:
                break
            if shard in resume:
                self._drain(shard, now_ms, limit - len(found), found, resume)
        return found

    def _drain(self, shard: str, now_ms: int, want: int, found: list[DueUser], resume: dict[str, dict | None]) -> None:
        """Append up to ``want`` of the shard's due users; leave in ``resume`` where to continue, or
        drop the shard when it has no more."""
        taken = 0
        while taken < want:
            kwargs = {
                "TableName": self.table,
                "IndexName": DUE_INDEX.name,
                "KeyConditionExpression": KEY_CONDITION,
                "ExpressionAttributeNames": {"#shard": DUE_INDEX.partition_key, "#due": DUE_INDEX.sort_key},
                "ExpressionAttributeValues": {":shard": {"S": shard}, ":now": {"N": str(now_ms)}},
                "Limit": want - taken,
            }
            start = resume.get(shard)
            if start:
                kwargs["ExclusiveStartKey"] = start
            try:
                page = self.ddb.query(**kwargs)
            except Exception as exc:
                raise as_transient(exc) from exc
            for item in page.get("Items", []):
                found.append(DueUser(item[USER_STATE.partition_key]["S"], int(item[DUE_INDEX.sort_key]["N"])))
                taken += 1
            last = page.get("LastEvaluatedKey")
            if not last:
                resume.pop(shard, None)
                return
            resume[shard] = last
