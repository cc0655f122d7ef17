"""What a trainer learns from: named numeric columns, one row per example, a 0/1 label.

Both training inputs end here: the system's own journeys (:mod:`ml.journeys`, rows built by the same
feature code the stream processor serves with) and a labelled feature table (:mod:`ml.table`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class TrainingData:
    names: list[str]  # the model's inputs, in vector order
    rows: list[list[float | None]]  # one per example; None = missing
    labels: list[int]  # 1 = the positive class (churned), 0 = not
    groups: list[str] = field(default_factory=list)  # per row: who it is about (a user id); splits keep a group together
    vocabulary: tuple[str, ...] = ()  # journeys: the app features whose activity counts are inputs (journey.risk.features)
    encoding: dict[str, Any] = field(default_factory=dict)  # tables: how each column became inputs (ml.table), for scoring
    notes: list[str] = field(default_factory=list)  # what a person should know: columns dropped and why, rows skipped

    def __post_init__(self) -> None:
        if len(self.rows) != len(self.labels):
            raise ValueError(f"{len(self.rows)} rows but {len(self.labels)} labels")
        if self.groups and len(self.groups) != len(self.rows):
            raise ValueError(f"{len(self.rows)} rows but {len(self.groups)} groups")
        width = len(self.names)
        bad = next((i for i, row in enumerate(self.rows) if len(row) != width), None)
        if bad is not None:
            raise ValueError(f"row {bad} has {len(self.rows[bad])} values, the names {width}")
