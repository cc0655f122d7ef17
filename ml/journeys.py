"""Training data from the journeys the system stored: a DynamoDB export of its journal, signals and
interventions tables, turned into rows by the same feature code the stream processor serves with
(:mod:`journey.risk.training`, :mod:`journey.risk.features`).

The export's layout (what :func:`export_tables` writes, and what an export to S3 in DYNAMODB_JSON
format becomes once downloaded into folders named by the tables' logical names)::

    <dir>/manifest.json                        {"format": "DYNAMODB_JSON", "exportedAt": ..., "tables": {...}}
    <dir>/UserEvents/data/*.json.gz            each line {"Item": {<attribute>: {"S" | "N" | "BOOL": ...}}}
    <dir>/StruggleSignals/data/*.json.gz
    <dir>/Interventions/data/*.json.gz

AWS writes an export under ``AWSDynamoDB/<export id>/data/``: a table folder holding that tree reads
as well (every ``data/*.json.gz`` under the table's folder is read). The manifest is optional.
"""

from __future__ import annotations

import gzip
import json
import time
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

from journey.adapters.aws.codecs.attributes import plain
from journey.adapters.aws.codecs.interventions import is_escalation, is_outcome, is_report
from journey.adapters.aws.codecs.journal import journal_entries
from journey.interventions.policy import Outcome
from journey.kernel.clock import DAY_MS
from journey.resources import INTERVENTIONS, STRUGGLE_SIGNALS, USER_EVENTS
from journey.risk.features import feature_names
from journey.risk.history import NOT_STRUGGLE_SIGNALS
from journey.risk.training import StoredJourney, choose_vocabulary, data_end, training_rows
from ml.dataset import TrainingData

EXPORT_FORMAT = "DYNAMODB_JSON"
MANIFEST = "manifest.json"
# the tables a training set is built from, by logical name (the export's folder names)
JOURNEY_TABLES = (USER_EVENTS.logical_id, STRUGGLE_SIGNALS.logical_id, INTERVENTIONS.logical_id)
DEFAULT_CUTOFFS = 3  # cutoffs a day apart, the latest one horizon before the data's end
NO_EXPORT_HINT = "run `make demo` first, or pass JOURNEYS=<dir of a DynamoDB export>"


class ExportError(ValueError):
    """The export cannot be read or gives nothing to train on; the message says what to do."""


def export_tables(
    dynamodb_client: Any, table_names: dict[str, str], directory: Path, *, page_size: int | None = None
) -> dict[str, Any]:
    """Scan each table (logical name -> deployed table name), every page, into ``<directory>/<logical
    name>/data/<page>.json.gz`` in DynamoDB's export format, and write the manifest; returns it. A
    table folder's earlier data files are replaced. ``page_size``: items per Scan call (default:
    DynamoDB's 1 MB pages)."""
    directory = Path(directory)
    started = int(time.time() * 1000)
    tables: dict[str, Any] = {}
    for logical, table in table_names.items():
        data = directory / logical / "data"
        data.mkdir(parents=True, exist_ok=True)
        for stale in data.glob("*.json.gz"):
            stale.unlink()
        files: list[str] = []
        items = 0
        paging = {"PageSize": page_size} if page_size else {}
        for page in dynamodb_client.get_paginator("scan").paginate(TableName=table, PaginationConfig=paging):
            found = page.get("Items", [])
            if not found and files:
                continue
            name = f"{len(files):05d}.json.gz"
            lines = b"".join(orjson.dumps({"Item": item}) + b"\n" for item in found)
            (data / name).write_bytes(gzip.compress(lines, mtime=0))
            files.append(f"{logical}/data/{name}")
            items += len(found)
        tables[logical] = {"tableName": table, "itemCount": items, "dataFiles": files}
    manifest = {
        "format": EXPORT_FORMAT,
        "exportedAt": datetime.fromtimestamp(started / 1000, UTC).isoformat(timespec="seconds"),
        "exportTime": started,
        "tables": tables,
    }
    (directory / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return manifest


def read_manifest(directory: Path) -> dict[str, Any] | None:
    path = Path(directory) / MANIFEST
    if not path.is_file():
        return None
    manifest: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    if manifest.get("format", EXPORT_FORMAT) != EXPORT_FORMAT:
        raise ExportError(f"{path}: format {manifest.get('format')!r}; only {EXPORT_FORMAT} exports are read")
    return manifest


def table_items(directory: Path, logical: str) -> list[dict[str, Any]]:
    """The items of one table's folder, file by file in name order, line by line."""
    folder = Path(directory) / logical
    if not folder.is_dir():
        raise ExportError(
            f"{directory} has no {logical}/ folder: an export holds one folder per table "
            f"({', '.join(JOURNEY_TABLES)}), each with data/*.json.gz ({NO_EXPORT_HINT})"
        )
    items: list[dict[str, Any]] = []
    for path in sorted(p for p in folder.rglob("*.json.gz") if p.parent.name == "data"):
        with gzip.open(path, "rb") as lines:
            for number, line in enumerate(lines, 1):
                if not line.strip():
                    continue
                try:
                    items.append(orjson.loads(line)["Item"])
                except (orjson.JSONDecodeError, KeyError, TypeError) as exc:
                    raise ExportError(f"{path}, line {number}: not a DynamoDB JSON export line ({exc})") from exc
    return items


def load_export(directory: Path) -> list[StoredJourney]:
    """The journeys of an export, one per user seen in any of its tables, by user id: journal entries
    in stream order (chunks in sort-key order, then entry order), the times of the struggle signals
    detected (not :data:`~journey.risk.history.NOT_STRUGGLE_SIGNALS`), the times of the sends."""
    directory = Path(directory)
    if not directory.is_dir():
        raise ExportError(f"no export at {directory}: {NO_EXPORT_HINT}")
    read_manifest(directory)
    chunks: dict[str, list[tuple[str, list[list[Any]]]]] = defaultdict(list)
    for item in table_items(directory, USER_EVENTS.logical_id):
        chunks[item["userId"]["S"]].append((item["sk"]["S"], journal_entries(item)))
    signals: dict[str, list[int]] = defaultdict(list)
    for item in table_items(directory, STRUGGLE_SIGNALS.logical_id):
        record = plain(item)
        if record.get("signalType") not in NOT_STRUGGLE_SIGNALS:
            signals[record["userId"]].append(int(record["detectedAt"]))
    sends: dict[str, list[int]] = defaultdict(list)
    for item in table_items(directory, INTERVENTIONS.logical_id):
        if is_report(item) or is_outcome(item) or is_escalation(item):
            continue
        record = plain(item)
        if record.get("status") == Outcome.SEND.value:  # held out, suppressed, escalated, stale: not sends
            sends[record["userId"]].append(int(record["decidedAt"]))
    return [
        StoredJourney(
            user_id=user,
            entries=[entry for _, entries in sorted(chunks.get(user, ())) for entry in entries],
            signal_times=sorted(signals.get(user, ())),
            send_times=sorted(sends.get(user, ())),
        )
        for user in sorted(set(chunks) | set(signals) | set(sends))
    ]


def default_cutoffs(end: int, horizon_ms: int, count: int = DEFAULT_CUTOFFS) -> list[int]:
    """``end - horizon - k days`` for k = 0 .. count - 1: the latest cutoffs whose horizon the data covers."""
    return [end - horizon_ms - k * DAY_MS for k in range(count)]


def training_data(
    source: Path, *, horizon_ms: int, cutoffs_ms: list[int] | None = None, vocabulary_size: int = 8
) -> TrainingData:
    """Rows, churn labels and groups (user ids) from an export: a user is churned at a cutoff when they
    have no activity in ``horizon_ms`` after it. Cutoffs default to :func:`default_cutoffs` of the
    newest activity in the export."""
    if horizon_ms <= 0:
        raise ExportError(f"the churn horizon must be positive, got {horizon_ms} ms")
    journeys = load_export(Path(source))
    end = data_end(journeys)
    if not end:
        raise ExportError(f"{source}: no activity in the journal ({len(journeys)} users seen): nothing to train on")
    cutoffs = sorted(set(cutoffs_ms if cutoffs_ms is not None else default_cutoffs(end, horizon_ms)))
    if not cutoffs:
        raise ExportError("no cutoffs given")
    vocabulary = choose_vocabulary(journeys, until=cutoffs[-1], size=vocabulary_size)
    rows, labels, users, at = training_rows(journeys, cutoffs, horizon_ms, vocabulary)
    if not rows:
        raise ExportError(
            f"{source}: no training rows: of {len(journeys)} users, none was active in the 28 days before a cutoff "
            f"whose horizon ({horizon_ms / DAY_MS:g} days) the data covers (data ends {_iso(end)}; cutoffs "
            f"{', '.join(_iso(c) for c in cutoffs)}): pass earlier cutoffs or a shorter horizon"
        )
    notes = [f"{len(journeys)} users seen in the export ({source}); data ends {_iso(end)}"]
    for cutoff in cutoffs:
        mine = [label for label, when in zip(labels, at, strict=True) if when == cutoff]
        if cutoff + horizon_ms > end:
            notes.append(f"cutoff {_iso(cutoff)}: skipped, the data does not reach its horizon")
        else:
            notes.append(f"cutoff {_iso(cutoff)}: {len(mine)} rows, {sum(mine)} churned")
    notes.append(f"positives (churned): {sum(labels)} of {len(labels)} rows ({100 * sum(labels) / len(labels):.1f}%)")
    return TrainingData(
        names=list(feature_names(vocabulary)), rows=rows, labels=labels, groups=users, vocabulary=vocabulary, notes=notes
    )


def _iso(epoch_ms: int) -> str:
    return datetime.fromtimestamp(epoch_ms / 1000, UTC).isoformat(timespec="minutes")
