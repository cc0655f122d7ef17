"""The journey store on DynamoDB: bulk reads (BatchGetItem, 100 keys) and bulk writes (BatchWriteItem, 25 items).

Items are built and read by the per-table codecs in :mod:`journey.adapters.aws.codecs`, written
with the low-level client: the hot state is one compact string, which keeps both the bill (write
units are per KB of the whole item) and the CPU cost of serialization small.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from journey.adapters.aws.clients import as_transient, client
from journey.adapters.aws.codecs.interventions import decision_item, delivery_of, outcome_item
from journey.adapters.aws.codecs.journal import journal_item
from journey.adapters.aws.codecs.signals import signal_item
from journey.adapters.aws.codecs.user_state import STATE_ATTRIBUTE, state_from_item, state_item
from journey.app.ports import Writes
from journey.errors import TransientError
from journey.interventions.ledger import Delivery
from journey.interventions.policy import Decision
from journey.resources import INTERVENTIONS, STRUGGLE_SIGNALS, USER_EVENTS, USER_STATE
from journey.users.state import UserState

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
            state=os.environ[USER_STATE.env],
            events=os.environ[USER_EVENTS.env],
            signals=os.environ[STRUGGLE_SIGNALS.env],
            interventions=os.environ[INTERVENTIONS.env],
        )


def _chunks(items: list[Any], size: int) -> Iterable[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


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
            request: dict[str, dict[str, Any]] = {table: {"Keys": chunk, "ProjectionExpression": projection}}
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
        items = self._batch_get(self.tables.state, [{"userId": {"S": u}} for u in user_ids], f"userId, {STATE_ATTRIBUTE}")
        return {item["userId"]["S"]: state_from_item(item) for item in items}

    def delivery_states(self, decisions: list[Decision]) -> dict[str, Delivery]:
        keys = {(d.userId, d.interventionId) for d in decisions}
        items = self._batch_get(
            self.tables.interventions,
            [{"userId": {"S": u}, "interventionId": {"S": i}} for u, i in sorted(keys)],
            "interventionId, delivery",
        )
        return {item["interventionId"]["S"]: state for item in items if (state := delivery_of(item)) is not None}

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
                decision_item(
                    decision,
                    ttl,
                    writes.delivery.get(decision.interventionId),
                    writes.delivery_errors.get(decision.interventionId, ""),
                ),
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
