"""The journey store on DynamoDB: bulk reads (BatchGetItem, 100 keys) and bulk writes (BatchWriteItem, 25 items).

Items are written with the low-level client and pre-serialized JSON attributes: the hot state is
one compact string, which keeps both the bill (write units are per KB of the whole item) and the
CPU cost of serialization small.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import orjson
from pydantic_core import to_json

from journey.adapters.aws.clients import as_transient, client
from journey.app.ports import Delivery, TransientError, Writes
from journey.interventions.policy import Decision
from journey.users.state import DAY_MS, UserState

BATCH_GET_LIMIT = 100
BATCH_WRITE_LIMIT = 25
MAX_ROUNDS = 6


@dataclass(frozen=True)
class TableNames:
    state: str
    events: str
    signals: str
    interventions: str

    @classmethod
    def from_env(cls) -> TableNames:
        return cls(
            state=os.environ["STATE_TABLE"],
            events=os.environ["EVENTS_TABLE"],
            signals=os.environ["SIGNALS_TABLE"],
            interventions=os.environ["INTERVENTIONS_TABLE"],
        )


def _chunks(items: list, size: int) -> Iterable[list]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _s(value: str) -> dict:
    return {"S": value}


def _n(value: float | int) -> dict:
    return {"N": str(value)}


def state_item(state: UserState, ttl_days: int) -> dict[str, Any]:
    # written once per user per batch: attribute values spelled out rather than built by _s/_n
    last = state.last
    return {
        "userId": {"S": state.userId},
        "st": {"S": state.to_json()},
        "exitRiskScore": {"N": str(state.risk)},
        "riskBand": {"S": state.band},
        "lastActiveAt": {"N": str(last)},
        "ttl": {"N": str((last + ttl_days * DAY_MS) // 1000)},
    }


JOURNAL_SEQ_DIGITS = 64  # Kinesis sequence numbers are up to 128 bits (39 decimal digits) and usually 56 long


def journal_item(user_id: str, after_seq: str, entries: list[list], ttl_days: int) -> dict[str, Any]:
    """One chunk of the user's journal, keyed by the sequence number their state had reached before
    it. A replay starts from the same state, so it rewrites the same key, however a retry cut the
    batch: the journal never holds an event twice."""
    stamps = [entry[1] for entry in entries]
    latest = max(stamps)
    return {
        "userId": {"S": user_id},
        "sk": {"S": (after_seq or "0").zfill(JOURNAL_SEQ_DIGITS)},
        "from": {"N": str(min(stamps))},
        "to": {"N": str(latest)},
        "ev": {"S": orjson.dumps(entries).decode()},
        "ttl": {"N": str((latest + ttl_days * DAY_MS) // 1000)},
    }


def signal_item(signal, ttl_days: int) -> dict[str, Any]:
    return {
        "userId": _s(signal.userId),
        "sk": _s(f"{signal.featureId}#{signal.detectedAt:013d}#{signal.signalType.value}"),
        "featureId": _s(signal.featureId),
        "detectedAt": _n(signal.detectedAt),
        "signalType": _s(signal.signalType.value),
        "severity": _s(signal.severity.value),
        "signalId": _s(signal.signalId),
        "rule": _s(signal.rule),
        "ctx": _s(to_json(signal.context, fallback=str).decode()),
        "ttl": _n((signal.detectedAt + ttl_days * DAY_MS) // 1000),
    }


def decision_item(decision: Decision, ttl_days: int, delivery: Delivery | None = None) -> dict[str, Any]:
    record = decision.as_record()
    item = {k: _s(v) for k, v in record.items() if isinstance(v, str) and v}
    item["heldOut"] = {"BOOL": record["heldOut"]}
    item["decidedAt"] = _n(decision.decidedAt)
    item["ttl"] = _n((decision.decidedAt + ttl_days * DAY_MS) // 1000)
    if delivery is not None:
        item["delivery"] = _s(delivery.value)
    return item


def outcome_item(outcome, ttl_days: int) -> dict[str, Any]:
    return {
        "userId": _s(outcome.userId),
        "interventionId": _s(f"outcome#{outcome.interventionId}"),
        "signalId": _s(outcome.signalId),
        "signalType": _s(outcome.signalType),
        "featureId": _s(outcome.featureId),
        "heldOut": {"BOOL": outcome.heldOut},
        "resolved": {"BOOL": True},
        "resolvedAt": _n(outcome.resolvedAt),
        "resolutionMs": _n(outcome.resolutionMs),
        "ttl": _n((outcome.resolvedAt + ttl_days * DAY_MS) // 1000),
    }


class DynamoJourneyStore:
    def __init__(self, tables: TableNames | None = None, ttl_days: int = 30, dynamodb=None):
        self.tables = tables or TableNames.from_env()
        self.ttl_days = ttl_days
        self._ddb = dynamodb

    @property
    def ddb(self):
        if self._ddb is None:
            self._ddb = client("dynamodb")
        return self._ddb

    # --- reads -------------------------------------------------------------------------
    def _batch_get(self, table: str, keys: list[dict], projection: str, names: dict | None = None) -> list[dict]:
        found: list[dict] = []
        for chunk in _chunks(keys, BATCH_GET_LIMIT):
            request = {table: {"Keys": chunk, "ProjectionExpression": projection}}
            if names:
                request[table]["ExpressionAttributeNames"] = names
            for attempt in range(MAX_ROUNDS):
                try:
                    response = self.ddb.batch_get_item(RequestItems=request)
                except Exception as exc:
                    raise as_transient(exc) from exc
                found.extend(response.get("Responses", {}).get(table, []))
                request = {t: spec for t, spec in (response.get("UnprocessedKeys") or {}).items() if spec.get("Keys")}
                if not request:
                    break
                time.sleep(min(0.05 * 2**attempt, 1.0))
            else:
                raise TransientError(f"BatchGetItem on {table} left keys unprocessed after {MAX_ROUNDS} rounds")
        return found

    def load_states(self, user_ids: list[str]) -> dict[str, UserState]:
        items = self._batch_get(self.tables.state, [{"userId": _s(u)} for u in user_ids], "userId, st")
        return {item["userId"]["S"]: UserState.from_json(item["userId"]["S"], item.get("st", {}).get("S")) for item in items}

    def delivery_states(self, decisions: list[Decision]) -> dict[str, Delivery]:
        keys = {(d.userId, d.interventionId) for d in decisions}
        items = self._batch_get(
            self.tables.interventions,
            [{"userId": _s(u), "interventionId": _s(i)} for u, i in sorted(keys)],
            "interventionId, delivery",
        )
        return {item["interventionId"]["S"]: Delivery(item["delivery"]["S"]) for item in items if "delivery" in item}

    def record_intent(self, decisions: list[Decision]) -> None:
        self._write([(self.tables.interventions, decision_item(d, self.ttl_days, Delivery.PENDING)) for d in decisions])

    # --- writes ------------------------------------------------------------------------
    def requests(self, writes: Writes) -> list[tuple[str, dict]]:
        """Every item the batch writes, as (table, item), one per key (the last wins)."""
        t, ttl = self.tables, self.ttl_days
        keyed: dict[tuple, tuple[str, dict]] = {}

        def add(table: str, item: dict, key_names: tuple[str, str]) -> None:
            keyed[(table, item[key_names[0]]["S"], item[key_names[1]]["S"] if key_names[1] else "")] = (table, item)

        for decision in writes.decisions:
            add(
                t.interventions,
                decision_item(decision, ttl, writes.delivery.get(decision.interventionId)),
                ("userId", "interventionId"),
            )
        for outcome in writes.outcomes:
            add(t.interventions, outcome_item(outcome, ttl), ("userId", "interventionId"))
        for signal in writes.signals:
            add(t.signals, signal_item(signal, ttl), ("userId", "sk"))
        requests = list(keyed.values())
        # one journal chunk and one state per user by construction (both are keyed by user id)
        requests.extend(
            (t.events, journal_item(user_id, after_seq, entries, ttl)) for user_id, (after_seq, entries) in writes.journal.items()
        )
        # states last: a crash before here replays the user, and the ledger stops resends
        requests.extend((t.state, state_item(state, ttl)) for state in writes.states)
        return requests

    def persist(self, writes: Writes) -> None:
        self._write(self.requests(writes))

    def _write(self, requests: list[tuple[str, dict]]) -> None:
        for chunk in _chunks(requests, BATCH_WRITE_LIMIT):
            request: dict[str, list] = {}
            for table, item in chunk:
                request.setdefault(table, []).append({"PutRequest": {"Item": item}})
            for attempt in range(MAX_ROUNDS):
                try:
                    response = self.ddb.batch_write_item(RequestItems=request)
                except Exception as exc:
                    raise as_transient(exc) from exc
                request = {t: items for t, items in (response.get("UnprocessedItems") or {}).items() if items}
                if not request:
                    break
                time.sleep(min(0.05 * 2**attempt, 1.0))
            else:
                raise TransientError(f"BatchWriteItem left items unprocessed after {MAX_ROUNDS} rounds")
