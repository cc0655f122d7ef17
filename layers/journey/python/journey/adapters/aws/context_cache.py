"""The ContextAnalyses table: Amazon Nova's analysis of a user, cached (``{userId: <pseudonym>,
analysis: <JSON>, model, analysedAt (epoch ms), ttl (epoch s)}``). The HTTPS API writes it (its own
item, never user state: DESIGN.md rule 1); DynamoDB's TTL removes it after the cache time, and the
use case judges freshness by ``analysedAt`` (TTL deletion lags by hours)."""

from __future__ import annotations

import os
from typing import Any

import orjson

from journey.adapters.aws.clients import as_transient, client
from journey.adapters.aws.codecs.attributes import n, s
from journey.agent.context import CachedAnalysis
from journey.errors import JourneyError
from journey.resources import CONTEXT_ANALYSES, TTL_ATTRIBUTE


def analysis_item(user_id: str, entry: CachedAnalysis, expires_at_ms: int) -> dict[str, Any]:
    return {
        "userId": s(user_id),
        "analysis": s(orjson.dumps(entry.analysis, option=orjson.OPT_SORT_KEYS).decode()),
        "model": s(entry.model),
        "analysedAt": n(entry.analysed_at),
        TTL_ATTRIBUTE: n(-(-expires_at_ms // 1000)),
    }


def cached_analysis(item: dict[str, Any]) -> CachedAnalysis | None:
    """The item as a cached analysis (None: not one this code wrote, or damaged)."""
    try:
        analysis = orjson.loads(item["analysis"]["S"])
        return CachedAnalysis(analysis, item.get("model", {}).get("S", ""), int(item["analysedAt"]["N"]))
    except (KeyError, ValueError, TypeError):
        return None


class DynamoAnalysisCache:
    """The ``AnalysisCache`` port. A failure raises ``TransientError`` when a retry may fix it, else a
    ``JourneyError`` with the reason (the use case treats both as a miss: the cache never fails a request)."""

    def __init__(self, table: str | None = None, dynamodb: Any = None):
        self.table = table or os.environ[CONTEXT_ANALYSES.env]
        self._ddb = dynamodb

    @property
    def ddb(self) -> Any:
        if self._ddb is None:
            self._ddb = client("dynamodb")
        return self._ddb

    def get(self, user_id: str) -> CachedAnalysis | None:
        try:
            item = self.ddb.get_item(TableName=self.table, Key={"userId": s(user_id)}).get("Item")
        except Exception as exc:
            raise _failure(exc, "read") from exc
        return cached_analysis(item) if item else None

    def put(self, user_id: str, entry: CachedAnalysis, expires_at_ms: int) -> None:
        try:
            self.ddb.put_item(TableName=self.table, Item=analysis_item(user_id, entry, expires_at_ms))
        except Exception as exc:
            raise _failure(exc, "write") from exc


def _failure(exc: Exception, what: str) -> JourneyError:
    mapped = as_transient(exc)
    if isinstance(mapped, JourneyError):
        return mapped
    return JourneyError(f"context analysis cache {what} failed: {type(exc).__name__}: {exc}"[:500])
