"""Analytics on Timestream for LiveAnalytics: batched WriteRecords, at most 100 records a call.

Timestream is in maintenance mode (no new customers since 20 Jun 2025); it sits behind the
``JOURNEY_SWITCHES__TIMESTREAM_ENABLED`` switch and everything else works with it off.
Records carry the processing time, not the event time, so late events stay inside the memory
store's retention.
"""

from __future__ import annotations

import os

from journey.adapters.aws.clients import as_transient, client
from journey.detection.signals import StruggleSignal
from journey.interventions.policy import Decision
from journey.resources import Env

WRITE_LIMIT = 100


def analytics_records(signals: list[StruggleSignal], decisions: list[Decision], feature_counts: dict) -> list[dict]:
    records = []
    for signal in signals:
        records.append(
            {
                "Dimensions": [
                    {"Name": "featureId", "Value": signal.featureId},
                    {"Name": "signalType", "Value": signal.signalType.value},
                    {"Name": "severity", "Value": signal.severity.value},
                ],
                "MeasureName": "struggle_signal",
                "MeasureValue": "1",
                "MeasureValueType": "BIGINT",
            }
        )
    for decision in decisions:
        records.append(
            {
                "Dimensions": [
                    {"Name": "featureId", "Value": decision.featureId},
                    {"Name": "signalType", "Value": decision.signalType.value},
                    {"Name": "status", "Value": decision.outcome.value},
                    {"Name": "channel", "Value": decision.channel.value if decision.channel else "none"},
                ],
                "MeasureName": "intervention",
                "MeasureValue": "1",
                "MeasureValueType": "BIGINT",
            }
        )
    for (feature, event_type), count in feature_counts.items():
        records.append(
            {
                "Dimensions": [{"Name": "featureId", "Value": feature}, {"Name": "eventType", "Value": event_type}],
                "MeasureName": "events",
                "MeasureValue": str(count),
                "MeasureValueType": "BIGINT",
            }
        )
    return records


class TimestreamAnalytics:
    def __init__(self, database: str | None = None, table: str | None = None, writer=None):
        self.database = database or os.environ[Env.TIMESTREAM_DATABASE]
        self.table = table or os.environ[Env.TIMESTREAM_TABLE]
        self._writer = writer

    def record(self, signals: list[StruggleSignal], decisions: list[Decision], feature_counts: dict, at_ms: int) -> int:
        writer = self._writer or client("timestream-write")
        records = analytics_records(signals, decisions, feature_counts)
        calls = 0
        for start in range(0, len(records), WRITE_LIMIT):
            try:
                writer.write_records(
                    DatabaseName=self.database,
                    TableName=self.table,
                    CommonAttributes={"Time": str(at_ms), "TimeUnit": "MILLISECONDS"},
                    Records=records[start : start + WRITE_LIMIT],
                )
            except Exception as exc:
                raise as_transient(exc) from exc
            calls += 1
        return calls
