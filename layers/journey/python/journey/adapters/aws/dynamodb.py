"""The journey store on DynamoDB: bulk reads (BatchGetItem, 100 keys) and bulk writes (BatchWriteItem, 25 items).

Items are built and read by the per-table codecs in :mod:`journey.adapters.aws.codecs`, written
with the low-level client: the hot state is one compact string, which keeps both the bill (write
units are per KB of the whole item) and the CPU cost of serialization small.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from journey.adapters.aws.clients import as_transient, batch_write, client
from journey.adapters.aws.codecs.attributes import ttl_of
from journey.adapters.aws.codecs.interventions import decision_item, delivery_of, escalation_item, outcome_item, report_item
from journey.adapters.aws.codecs.journal import journal_items
from journey.adapters.aws.codecs.signals import signal_item
from journey.adapters.aws.codecs.user_state import STATE_ATTRIBUTE, state_from_item, state_item
from journey.adapters.aws.limits import item_problem
from journey.app.ports import Writes
from journey.errors import TransientError
from journey.interventions.ledger import Delivery
from journey.interventions.policy import Decision
from journey.resources import INTERVENTIONS, STRUGGLE_SIGNALS, USER_EVENTS, USER_STATE
from journey.users.state import UserState

log = logging.getLogger(__name__)

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
    """Items expire ``ttl_days`` after they are written (processing time: an event's own time may be
    years old or in the future, and a TTL in the past would have DynamoDB delete the protection the
    item gives: the ledger against resends, the state against re-applying)."""

    def __init__(
        self, tables: TableNames | None = None, ttl_days: int = 30, dynamodb=None, clock: Callable[[], float] = time.time
    ):
        self.tables = tables or TableNames.from_env()
        self.ttl_days = ttl_days
        self.clock = clock
        self._ddb = dynamodb
        t = self.tables
        self._key_names = {
            t.state: USER_STATE.key_names,
            t.events: USER_EVENTS.key_names,
            t.signals: STRUGGLE_SIGNALS.key_names,
            t.interventions: INTERVENTIONS.key_names,
        }

    def expires_at(self) -> int:
        """The ``ttl`` attribute of an item written now (epoch seconds)."""
        return ttl_of(int(self.clock() * 1000), self.ttl_days)

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
        expires = self.expires_at()
        refused = self._write([(self.tables.interventions, decision_item(d, expires, Delivery.PENDING)) for d in decisions])
        if refused:  # decision items are bounded by construction: this would be a bug, not a user's data
            raise ValueError(f"the ledger refused the intent of {len(refused)} users' sends: {refused}")

    # --- writes ------------------------------------------------------------------------
    def requests(self, writes: Writes) -> list[tuple[str, dict]]:
        """Every item the batch writes, as (table, item), one per key (the last wins)."""
        t, expires = self.tables, self.expires_at()
        keyed: dict[tuple, tuple[str, dict]] = {}

        def add(table: str, item: dict, key_names: tuple[str, str]) -> None:
            keyed[(table, item[key_names[0]]["S"], item[key_names[1]]["S"] if key_names[1] else "")] = (table, item)

        tenant = writes.tenants.get
        for decision in writes.decisions:
            iid = decision.interventionId
            error = writes.delivery_errors.get(iid, "")
            item = decision_item(decision, expires, writes.delivery.get(iid), error, tenant(decision.userId, ""))
            add(t.interventions, item, ("userId", "interventionId"))
        for outcome in writes.outcomes:
            add(t.interventions, outcome_item(outcome, expires, tenant(outcome.userId, "")), ("userId", "interventionId"))
        for report in writes.reports:
            add(t.interventions, report_item(report, expires, tenant(report.userId, "")), ("userId", "interventionId"))
        for record in writes.escalations:
            add(t.interventions, escalation_item(record, expires, tenant(record.userId, "")), ("userId", "interventionId"))
        for signal in writes.signals:
            add(t.signals, signal_item(signal, expires, tenant(signal.userId, "")), ("userId", "sk"))
        requests = list(keyed.values())
        # journal items are keyed by user, shard and first sequence number; one state per user
        for user_id, events in writes.journal.items():
            requests.extend((t.events, item) for item in journal_items(user_id, writes.shard, events, expires))
        # states last: a crash before here replays the user, and the ledger stops resends
        requests.extend((t.state, state_item(state, expires)) for state in writes.states)
        return requests

    def persist(self, writes: Writes) -> dict[str, str]:
        """Write the batch. A user whose items DynamoDB refuses (a key or an item over its limit) is
        set aside and returned with the reason, so one user's data never fails the others' writes
        (AWS rejects a BatchWriteItem whole for one bad item). In three phases: the ledger for
        everyone (what was sent must be recorded, and ledger items are bounded by construction),
        then signals, outcomes and journal, then states, only for users nothing was refused of: a
        user set aside keeps the state they had, so a redrive of their records applies them."""
        requests = self.requests(writes)
        refused: dict[str, str] = {}
        for table, item in requests:
            problem = item_problem(item, self._key_names[table])
            if problem:
                refused.setdefault(item["userId"]["S"], f"{table}: {problem}")
        t = self.tables
        ledger = [(table, item) for table, item in requests if table == t.interventions]
        states = [(table, item) for table, item in requests if table == t.state]
        others = [(table, item) for table, item in requests if table not in (t.interventions, t.state)]
        others.sort(key=lambda request: request[1]["userId"]["S"])  # a user's items together, in as few calls as can be
        self._write([r for r in ledger if r[1]["userId"]["S"] not in refused], refused)
        self._write([r for r in others if r[1]["userId"]["S"] not in refused], refused)
        self._write([r for r in states if r[1]["userId"]["S"] not in refused], refused)
        if refused:  # take back what was written of them: a redrive must find them as they were
            self._delete([(table, item) for table, item in others if item["userId"]["S"] in refused])
        return refused

    def _delete(self, requests: list[tuple[str, dict]]) -> None:
        for chunk in _chunks(requests, BATCH_WRITE_LIMIT):
            request: dict[str, list] = {}
            for table, item in chunk:
                key = {name: item[name] for name in self._key_names[table]}
                request.setdefault(table, []).append({"DeleteRequest": {"Key": key}})
            self._send(request)

    def _write(self, requests: list[tuple[str, dict]], refused: dict[str, str] | None = None) -> dict[str, str]:
        """BatchWriteItem in chunks of 25, skipping the items of users in ``refused``. When DynamoDB
        refuses a chunk for what is in it (ValidationException, which the check before writing did not
        foresee), each user's items of the chunk are written alone; the users it refuses are added to
        ``refused`` (userId -> reason), and their later items are not written."""
        refused = {} if refused is None else refused
        for start in range(0, len(requests), BATCH_WRITE_LIMIT):
            chunk = [r for r in requests[start : start + BATCH_WRITE_LIMIT] if r[1]["userId"]["S"] not in refused]
            if not chunk:
                continue
            try:
                self._write_chunk(chunk)
            except ClientError as exc:
                if exc.response.get("Error", {}).get("Code") != "ValidationException":
                    raise
                by_user: dict[str, list[tuple[str, dict]]] = {}
                for table, item in chunk:
                    by_user.setdefault(item["userId"]["S"], []).append((table, item))
                for user_id, items in by_user.items():
                    try:
                        self._write_chunk(items)
                    except ClientError as user_exc:
                        if user_exc.response.get("Error", {}).get("Code") != "ValidationException":
                            raise
                        refused[user_id] = str(user_exc)[:500]
                        log.warning("DynamoDB refused the items of user %r: %s", user_id, user_exc)
        return refused

    def _write_chunk(self, chunk: list[tuple[str, dict]]) -> None:
        request: dict[str, list] = {}
        for table, item in chunk:
            request.setdefault(table, []).append({"PutRequest": {"Item": item}})
        self._send(request)

    def _send(self, request: dict[str, list]) -> None:
        """One BatchWriteItem, its unprocessed items retried with backoff (a ValidationException is isolated above)."""
        batch_write(self.ddb, request)
