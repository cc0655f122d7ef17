"""A labelled feature table (CSV or Parquet) as :class:`ml.dataset.TrainingData`.

Every column but the label and the ``--id`` columns becomes inputs, typed from its values:

- numeric (numbers, or text whose every non-blank cell is a number: blanks become missing);
- boolean (a bool column, or two-valued yes/no, true/false, y/n, t/f text): 1/0, missing kept;
- categorical text: one input per level of the 30 most frequent, plus ``(other)`` (any other level,
  and levels first seen at scoring) and ``(missing)``.

Columns that cannot help are dropped with a note: constant, empty, dates, and id-like ones (text
unique in nearly every row; whole numbers unique in every row under an id-like name). The returned
``encoding`` records every decision so :func:`scoring_rows` re-applies exactly the same one."""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ml.dataset import TrainingData

MAX_LEVELS = 30
OTHER = "(other)"
MISSING = "(missing)"
ID_LIKE_SHARE = 0.9  # text with this share of distinct values (or more) names rows, it does not describe them
_BLANK = {"", "na", "n/a", "nan", "null", "none", "nat", "<na>"}
_TRUE = {"yes", "y", "true", "t", "1", "1.0"}
_FALSE = {"no", "n", "false", "f", "0", "0.0"}
_ID_WORDS = {"id", "ids", "key", "index", "idx", "row", "number", "no", "num", "uuid", "guid"}
_POSITIVE_WORDS = ("churn", "exit", "attrit", "cancel")


class TableError(ValueError):
    """The table cannot be used as asked; the message says what to change."""


def read_table(path: Path) -> pd.DataFrame:
    """A CSV (every cell read as text, typed later) or Parquet file."""
    if not path.is_file():
        raise TableError(f"no such file: {path}")
    suffix = path.suffix.lower()
    if suffix in {".parquet", ".pq"}:
        frame = pd.read_parquet(path)
    elif suffix in {".csv", ".txt", ".tsv"}:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, sep="\t" if suffix == ".tsv" else ",", encoding="utf-8-sig")
    else:
        raise TableError(f"{path.name}: expected a .csv or .parquet file")
    if frame.empty:
        raise TableError(f"{path.name} has no rows")
    frame.columns = [str(c) for c in frame.columns]
    return frame


def training_table(path: Path, label: str, *, ids: Sequence[str] = (), positive: str | None = None) -> TrainingData:
    return training_data(read_table(path), label, ids=ids, positive=positive)


def training_data(frame: pd.DataFrame, label: str, *, ids: Sequence[str] = (), positive: str | None = None) -> TrainingData:
    """The table's rows as model inputs and 0/1 labels (rows with no label skipped, with a note)."""
    _require(frame, [label], "label")
    _require(frame, ids, "id")
    notes: list[str] = []
    labels, keep, positive_value = _labels(frame[label], label, positive, notes)
    frame = frame.loc[keep].reset_index(drop=True)
    encoding: dict[str, Any] = {"label": label, "positive": positive_value, "ids": list(ids), "columns": [], "dropped": []}
    for name in frame.columns:
        if name == label or name in ids:
            continue
        column, reason = _type_column(frame[name], name, notes)
        if column is None:
            encoding["dropped"].append({"name": name, "reason": reason})
            notes.append(f"dropped column {name!r}: {reason}")
        else:
            encoding["columns"].append(column)
    if not encoding["columns"]:
        raise TableError(f"no usable column besides {label!r}: {'; '.join(notes) or 'the table has no other column'}")
    names = [n for column in encoding["columns"] for n in column["inputs"]]
    if len(set(names)) != len(names):
        raise TableError(f"two columns encode to the same input name: {sorted({n for n in names if names.count(n) > 1})}")
    rows = scoring_rows(frame, encoding, notes)
    return TrainingData(names=names, rows=rows, labels=labels, encoding=encoding, notes=notes)


def input_names(encoding: dict[str, Any]) -> list[str]:
    return [n for column in encoding["columns"] for n in column["inputs"]]


def scoring_rows(frame: pd.DataFrame, encoding: dict[str, Any], notes: list[str] | None = None) -> list[list[float | None]]:
    """The rows as model input vectors (None = missing), by the encoding learnt at training."""
    _require(frame, [c["name"] for c in encoding["columns"]], "input", missing_all=True)
    blocks = [_encode_column(frame[c["name"]], c, notes) for c in encoding["columns"]]
    matrix = np.column_stack(blocks) if blocks else np.empty((len(frame), 0))
    return [[None if v != v else v for v in row] for row in matrix.tolist()]


def _require(frame: pd.DataFrame, names: Sequence[str], what: str, *, missing_all: bool = False) -> None:
    missing = [n for n in names if n not in frame.columns]
    if not missing:
        return
    columns = ", ".join(map(str, frame.columns[:40])) + (", ..." if len(frame.columns) > 40 else "")
    if missing_all:
        raise TableError(f"the model needs columns this table lacks: {', '.join(missing)} (it has: {columns})")
    near = [str(c) for c in frame.columns if str(c).strip().lower() == missing[0].strip().lower()]
    hint = f" (did you mean {near[0]!r}?)" if near else ""
    raise TableError(f"no {what} column {missing[0]!r}{hint}; the columns are: {columns}")


def _text(series: pd.Series) -> pd.Series:
    """Cells as stripped text, None where blank or missing (numbers formatted without a stray .0)."""

    def clean(value: object) -> str | None:
        if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA or value is pd.NaT:
            return None
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        text = str(value).strip()
        return None if text.lower() in _BLANK else text

    return series.astype(object).map(clean)


def _numbers(series: pd.Series) -> pd.Series:
    if pd.api.types.is_bool_dtype(series):
        values = series.astype(float)
    elif pd.api.types.is_numeric_dtype(series):
        values = pd.to_numeric(series, errors="coerce").astype(float)
    else:
        values = pd.to_numeric(_text(series), errors="coerce").astype(float)
    return values.where(np.isfinite(values))


def _labels(series: pd.Series, name: str, positive: str | None, notes: list[str]) -> tuple[list[int], pd.Series, str]:
    text = _text(series)
    keep = text.notna()
    if not keep.all():
        notes.append(f"skipped {int((~keep).sum())} of {len(text)} rows whose label {name!r} is missing")
    text = text[keep]
    values = sorted(text.unique(), key=str)
    if not values:
        raise TableError(f"label {name!r} has no values")
    if len(values) == 1:
        raise TableError(f"label {name!r} has a single class ({values[0]!r} in all {len(text)} rows); a model needs both")
    if len(values) > 2:
        shown = ", ".join(repr(v) for v in values[:10]) + (", ..." if len(values) > 10 else "")
        raise TableError(f"label {name!r} must have two values; it has {len(values)}: {shown}")
    if positive is not None:
        chosen = [v for v in values if v.lower() == positive.strip().lower()]
        if not chosen:
            raise TableError(
                f"--positive {positive!r} is not a value of {name!r}; its values are {values[0]!r} and {values[1]!r}"
            )
    else:
        chosen = [v for v in values if _positive_like(v)]
        if len(chosen) != 1:
            raise TableError(f"which value of label {name!r} means churned? add --positive with {values[0]!r} or {values[1]!r}")
    pos = chosen[0]
    labels = (text == pos).astype(int).tolist()
    negative = values[1] if values[0] == pos else values[0]
    notes.append(f"label {name!r}: {pos!r} = 1 (churned), {negative!r} = 0; {sum(labels)} positives in {len(labels)} rows")
    return labels, keep, pos


def _positive_like(value: str) -> bool:
    low = value.lower()
    words = re.findall(r"[a-z]+", low)
    return low in {"yes", "y", "true", "t", "1"} or "left" in words or any(w.startswith(_POSITIVE_WORDS) for w in words)


def _type_column(series: pd.Series, name: str, notes: list[str]) -> tuple[dict[str, Any] | None, str]:
    """The column's encoding, or None and why it is dropped."""
    if pd.api.types.is_datetime64_any_dtype(series):
        return None, "dates are not used as inputs (derive a number, such as days since)"
    text = _text(series)
    present = text.dropna()
    if present.empty:
        return None, "empty (no values)"
    distinct = present.unique()
    if len(distinct) == 1 and len(present) == len(text):
        return None, f"constant ({distinct[0]!r} in every row)"
    lowered = {str(v).lower() for v in distinct}
    if pd.api.types.is_bool_dtype(series) or (
        len(lowered) == 2 and lowered <= _TRUE | _FALSE and lowered & _TRUE and lowered & _FALSE and not lowered <= {"0", "1"}
    ):
        return {"name": name, "kind": "boolean", "inputs": [name]}, ""
    numbers = _numbers(series)
    if numbers.notna().sum() == len(present):  # every non-blank cell is a number
        whole = bool((numbers.dropna() % 1 == 0).all())
        if whole and numbers.dropna().is_unique and len(present) >= 20 and _id_like_name(name):
            return None, f"id-like (a different whole number in every row under the name {name!r})"
        if not pd.api.types.is_numeric_dtype(series) and len(present) < len(text):
            notes.append(f"column {name!r}: numbers as text, {len(text) - len(present)} blank cells read as missing")
        return {"name": name, "kind": "numeric", "inputs": [name]}, ""
    if len(present) >= 20 and len(distinct) >= ID_LIKE_SHARE * len(present):
        return None, f"id-like ({len(distinct)} distinct values in {len(present)} rows)"
    counts = present.value_counts()
    ranked = sorted(counts.items(), key=lambda kv: (-kv[1], str(kv[0])))
    levels = [str(level) for level, _ in ranked[:MAX_LEVELS]]
    if len(ranked) > MAX_LEVELS:
        notes.append(f"column {name!r}: {len(ranked)} levels; the {MAX_LEVELS} most frequent kept, the rest are {OTHER}")
    inputs = [f"{name}={level}" for level in levels] + [f"{name}={OTHER}", f"{name}={MISSING}"]
    return {"name": name, "kind": "categorical", "levels": levels, "inputs": inputs}, ""


def _id_like_name(name: str) -> bool:
    words = re.findall(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])|\d+", name)
    return any(w.lower() in _ID_WORDS for w in words)


def _encode_column(series: pd.Series, column: dict[str, Any], notes: list[str] | None) -> np.ndarray:
    name, kind = column["name"], column["kind"]
    if kind == "numeric":
        values = _numbers(series)
        unreadable = int((values.isna() & _text(series).notna()).sum())
        if unreadable and notes is not None:
            notes.append(f"column {name!r}: {unreadable} cells are not numbers, read as missing")
        return values.to_numpy(dtype=float)
    if kind == "boolean":
        low = _text(series).map(lambda v: None if v is None else v.lower())
        values = np.where(low.isin(_TRUE), 1.0, np.where(low.isin(_FALSE), 0.0, np.nan))
        unreadable = int((low.notna() & ~low.isin(_TRUE | _FALSE)).sum())
        if unreadable and notes is not None:
            notes.append(f"column {name!r}: {unreadable} cells are neither yes nor no, read as missing")
        return values
    if kind == "categorical":
        levels: list[str] = column["levels"]
        text = _text(series)
        block = np.zeros((len(series), len(levels) + 2))
        position = {level: i for i, level in enumerate(levels)}
        codes = text.map(lambda v: len(levels) + 1 if v is None else position.get(v, len(levels))).to_numpy(dtype=int)
        others = int((codes == len(levels)).sum())
        if others and notes is not None:
            notes.append(f"column {name!r}: {others} cells hold a level the model did not keep, read as {OTHER}")
        block[np.arange(len(series)), codes] = 1.0
        return block
    raise TableError(f"column {name!r}: unknown kind {kind!r} in the model's encoding")
