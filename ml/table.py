"""A labelled feature table (CSV or Parquet) as :class:`ml.dataset.TrainingData`.

Reading: a CSV's delimiter (``,`` ``;`` tab ``|``) is sniffed from its first lines (or forced with
``sep``), its text decoded as UTF-8 (a BOM dropped), else Windows-1252/Latin-1 with a note; header
names are trimmed, and repeated names kept apart as ``name.1`` with a note.

Every column but the label and the ``--id`` columns becomes inputs, typed from its values:

- numeric: numbers, or text of which at least 95% of the cells that are not blank or a null token
  (``#N/A``, ``-``, ``?``, ``unknown`` ...) read as a number once currency symbols, thousands
  separators, spaces and a trailing ``%`` are set aside (``(12)`` is -12; decimal comma or point
  chosen per column, and again per file scored, the training's mark breaking ties); the other cells
  become missing, with a counted note (at scoring, more than half of them is an error);
- boolean (a bool column, or yes/no, true/false, y/n, t/f text in any case): 1/0, missing kept;
- categorical text: one input per level of the 30 most frequent, plus ``(other)`` (any other level,
  and levels first seen at scoring) and ``(missing)``.

Columns that cannot help are dropped with a note that gives the reason and a sample value: constant,
empty, dates (date types, or text of which 95% reads as a date or timestamp), row numbers, and
id-like ones (text unique in nearly every row; whole numbers unique in every row under an id-like
name). The returned ``encoding`` records every decision so :func:`scoring_rows` re-applies exactly
the same one."""

from __future__ import annotations

import csv
import io
import math
import re
import warnings
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from ml.dataset import TrainingData

MAX_LEVELS = 30
OTHER = "(other)"
MISSING = "(missing)"
ID_LIKE_SHARE = 0.9  # text with this share of distinct values (or more) names rows, it does not describe them
TYPED_SHARE = 0.95  # a column is numbers (or dates) when this share of its cells with a value read as such
DATES_DROPPED = "dates are not used as inputs (derive a number, such as days since)"
SEPARATORS = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}
_BLANK = {"", "na", "n/a", "nan", "null", "none", "nat", "<na>", "#n/a", "#null!", "nil"}
# missing in a column of numbers (in a text column they may be a level that means something)
_NULL_TOKENS = {"-", "--", "---", "?", "??", ".", "unknown", "missing", "n.a.", "not available", "undefined", "#value!"}
_NULL_TOKENS |= {"#div/0!", "#ref!", "#num!", "#name?", "inf", "-inf", "infinity", "-infinity"}
_TRUE = {"yes", "y", "true", "t", "1", "1.0"}
_FALSE = {"no", "n", "false", "f", "0", "0.0"}
_ID_WORDS = {"id", "ids", "uid", "pk", "key", "index", "idx", "row", "number", "no", "num", "uuid", "guid", "unnamed"}
_POSITIVE_WORDS = ("churn", "exit", "attrit", "cancel", "terminat", "leaver", "lost", "gone", "left")
_NEGATIONS = {"not", "no", "non", "never", "didn", "didnt", "dont", "don", "without", "isn", "wasn", "hasn", "hadn"}
_CURRENCY = r"(?:[$€£¥₹₩₽]|r\$|usd|eur|gbp|chf|cad|aud|jpy|inr|brl|sek|nok|dkk|pln|mxn|zar)"
_CURRENCY_FIRST = re.compile(rf"(?i)^([-+]?){_CURRENCY}")
_CURRENCY_LAST = re.compile(rf"(?i){_CURRENCY}$")
_NUMBER = {  # after currency, spaces, % and parentheses are set aside; by decimal mark
    ".": re.compile(r"[-+]?(?:\d{1,3}(?:,\d{3})+|\d*)(?:\.\d+)?(?:[eE][-+]?\d+)?"),
    ",": re.compile(r"[-+]?(?:\d{1,3}(?:\.\d{3})+|\d*)(?:,\d+)?(?:[eE][-+]?\d+)?"),
}
_DATE_FORMATS = (
    "ISO8601",
    "%m/%d/%Y",
    "%d/%m/%Y",
    "%m/%d/%Y %H:%M",
    "%m/%d/%Y %H:%M:%S",
    "%d/%m/%Y %H:%M",
    "%d/%m/%Y %H:%M:%S",
    "%m/%d/%Y %I:%M %p",
    "%m/%d/%y",
    "%d/%m/%y",
    "%d.%m.%Y",
    "%d.%m.%Y %H:%M",
    "%d.%m.%Y %H:%M:%S",
    "%d-%m-%Y",
    "%m-%d-%Y",
    "%Y/%m/%d",
    "%Y/%m/%d %H:%M:%S",
    "%d-%b-%Y",
    "%d %b %Y",
    "%b %d, %Y",
    "%d %B %Y",
    "%B %d, %Y",
)


class TableError(ValueError):
    """The table cannot be used as asked; the message says what to change."""


def read_table(path: Path, *, sep: str | None = None, allow_empty: bool = False) -> pd.DataFrame:
    """A CSV (every cell read as text, typed later) or Parquet file. What a person should know about
    the reading (the delimiter, the text encoding, repeated header names) is in ``frame.attrs["notes"]``;
    ``frame.attrs["decimal"]`` is the decimal mark numbers as text most likely use (``,`` in a
    semicolon-separated file)."""
    if not path.is_file():
        raise TableError(f"no such file: {path}")
    suffix = path.suffix.lower()
    notes: list[str] = []
    decimal = "."
    if suffix in {".parquet", ".pq"}:
        # Arrow's reader threads, left to the interpreter's exit, abort the process about one run in
        # three (exit 134, "terminate called without an active exception"; apache/arrow#34314):
        # read and convert on this thread.
        frame = pq.read_table(path, use_threads=False).to_pandas(use_threads=False)
        header = [str(c) for c in frame.columns]
    elif suffix in {".csv", ".txt", ".tsv"}:
        text = _decoded(path, notes)
        sep = sep or _sniff_separator(text, default="\t" if suffix == ".tsv" else ",")
        if sep != ",":
            notes.append(f"{path.name}: read as {SEPARATORS.get(sep, repr(sep))}-separated")
        decimal = "," if sep == ";" else "."
        header = next(csv.reader(io.StringIO(text[:1_000_000]), delimiter=sep), [])
        try:
            frame = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False, sep=sep)
        except pd.errors.ParserError as exc:
            raise TableError(
                f"{path.name} is not a table with {SEPARATORS.get(sep, repr(sep))}-separated values ({exc}); "
                "if the delimiter is another, add SEP=<char> (make) or --sep <char>"
            ) from exc
        except pd.errors.EmptyDataError as exc:
            raise TableError(f"{path.name} is empty (not even a header line)") from exc
    else:
        raise TableError(f"{path.name}: expected a .csv or .parquet file")
    if frame.empty and not (allow_empty and len(frame.columns)):
        raise TableError(f"{path.name} has no rows")
    if len(header) != len(frame.columns):
        header = [str(c) for c in frame.columns]
    frame.columns = _column_names(header, notes)
    frame.attrs["notes"] = notes
    frame.attrs["decimal"] = decimal
    return frame


def _decoded(path: Path, notes: list[str]) -> str:
    raw = path.read_bytes()
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        where = exc.start
    for encoding in ("cp1252", "latin-1"):
        try:
            text = raw.decode(encoding)
        except UnicodeDecodeError:
            continue
        notes.append(f"{path.name} is not UTF-8 (byte {where}); read as {encoding}")
        return text
    raise TableError(f"{path.name}: cannot decode the text")  # latin-1 decodes any bytes; kept for clarity


def _sniff_separator(text: str, *, default: str) -> str:
    """The delimiter that splits the header into the most columns while the first lines split
    into as many (csv.Sniffer's idea, made stable on numbers with decimal commas)."""
    lines = text[:200_000].splitlines()[:60]
    if len(lines) > 1 and len(text) > 200_000:
        lines = lines[:-1]  # the last one may be cut
    best, best_width = default, 1
    for candidate in (default, *(s for s in SEPARATORS if s != default)):
        rows = [r for r in csv.reader(lines, delimiter=candidate) if r]
        if not rows:
            continue
        width = len(rows[0])
        agree = sum(len(r) == width for r in rows[1:])
        if width > best_width and (len(rows) == 1 or agree >= 0.9 * (len(rows) - 1)):
            best, best_width = candidate, width
    if best_width == 1:
        try:
            return csv.Sniffer().sniff("\n".join(lines[:20]), delimiters="".join(SEPARATORS)).delimiter
        except csv.Error:
            return default
    return best


def _column_names(header: Sequence[str], notes: list[str]) -> list[str]:
    """Trimmed (and BOM-free) names; a blank one is ``Unnamed: i``; a repeated one ``name.1``, ``name.2`` ..."""
    names = [str(h).replace("\ufeff", "").strip() or f"Unnamed: {i}" for i, h in enumerate(header)]
    seen: Counter[str] = Counter()
    out = []
    for name in names:
        out.append(name if not seen[name] else f"{name}.{seen[name]}")
        seen[name] += 1
    for name, count in seen.items():
        if count > 1:
            places = [str(i + 1) for i, n in enumerate(names) if n == name]
            kept = ", ".join(repr(name if k == 0 else f"{name}.{k}") for k in range(count))
            notes.append(f"the header repeats {name!r} (columns {', '.join(places)}): read as {kept}")
    return out


def training_table(path: Path, label: str, *, ids: Sequence[str] = (), positive: str | None = None) -> TrainingData:
    return training_data(read_table(path), label, ids=ids, positive=positive)


def training_data(frame: pd.DataFrame, label: str, *, ids: Sequence[str] = (), positive: str | None = None) -> TrainingData:
    """The table's rows as model inputs and 0/1 labels (rows with no label skipped, with a note)."""
    label, ids = label.strip(), [i.strip() for i in ids]
    _require(frame, [label], "label", flag="LABEL")
    _require(frame, ids, "id", flag="ID")
    repeated = [n for n in [label, *ids] if f"{n}.1" in frame.columns]
    if repeated:
        raise TableError(f"the header repeats {repeated[0]!r}: rename the columns so that it names one column")
    notes: list[str] = list(frame.attrs.get("notes", []))
    decimal = str(frame.attrs.get("decimal", "."))
    labels, keep, positive_value = _labels(frame[label], label, positive, notes)
    labelled = frame.loc[keep]  # typed with the rows' positions in the file: a row number stays one past skipped rows
    frame = labelled.reset_index(drop=True)
    encoding: dict[str, Any] = {"label": label, "positive": positive_value, "ids": list(ids), "columns": [], "dropped": []}
    for name in frame.columns:
        if name == label or name in ids:
            continue
        column, reason = _type_column(labelled[name], name, notes, decimal)
        if column is None:
            encoding["dropped"].append({"name": name, "reason": reason})
            notes.append(f"dropped column {name!r}: {reason}")
        else:
            encoding["columns"].append(column)
    if not encoding["columns"]:
        raise TableError(f"no usable column besides {label!r}: {'; '.join(notes) or 'the table has no other column'}")
    names = input_names(encoding)
    if len(set(names)) != len(names):
        raise TableError(f"two columns encode to the same input name: {sorted({n for n in names if names.count(n) > 1})}")
    rows = scoring_rows(frame, encoding)
    return TrainingData(names=names, rows=rows, labels=labels, encoding=encoding, notes=notes)


def input_names(encoding: dict[str, Any]) -> list[str]:
    return [n for column in encoding["columns"] for n in column["inputs"]]


def category_inputs(name: str, levels: Sequence[str]) -> list[str]:
    """A categorical column's inputs: one per kept level, then (other) and (missing)."""
    return [f"{name}={level}" for level in levels] + [f"{name}={OTHER}", f"{name}={MISSING}"]


def check_encoding(encoding: dict[str, Any], inputs: Sequence[str]) -> None:
    """Refuse an encoding that would not give the model's ``inputs`` in their order (a model.json edited
    by hand, or corrupt): each column's inputs must be what its kind and levels make them."""
    try:
        for column in encoding["columns"]:
            name, kind = column["name"], column["kind"]
            if kind == "categorical":
                expected = category_inputs(name, column["levels"])
            elif kind in ("numeric", "boolean"):
                expected = [name]
            else:
                raise TableError(f"column {name!r} is of an unknown kind {kind!r}")
            if list(column["inputs"]) != expected:
                raise TableError(f"column {name!r}'s inputs are not those its kind and levels make")
        names = input_names(encoding)
    except (TypeError, KeyError) as exc:
        raise TableError(f"the model's encoding is malformed ({type(exc).__name__}: {exc})") from exc
    except TableError as exc:
        raise TableError(f"the model's encoding is malformed: {exc}") from exc
    if names != list(inputs):
        at = next((i for i, (a, b) in enumerate(zip(names, inputs, strict=False)) if a != b), min(len(names), len(inputs)))
        encoded, expected = (names[at] if at < len(names) else "nothing"), (inputs[at] if at < len(inputs) else "nothing")
        raise TableError(
            f"the model's encoding does not give its inputs in order: input {at + 1} would be {encoded!r} where the "
            f"model has {expected!r} (model.json edited or corrupt): train the model again"
        )


def typing_summary(encoding: dict[str, Any]) -> list[str]:
    """How each column was read, a line per kind (and one per dropped column, with its reason)."""
    lines = []
    for kind in ("numeric", "boolean", "categorical"):
        names = [c["name"] for c in encoding.get("columns", []) if c["kind"] == kind]
        if names:
            lines.append(f"{kind} ({len(names)}): {', '.join(names)}")
    if encoding.get("ids"):
        lines.append(f"id (not an input): {', '.join(encoding['ids'])}")
    lines += [f"dropped {d['name']}: {d['reason']}" for d in encoding.get("dropped", [])]
    return lines


def scoring_rows(frame: pd.DataFrame, encoding: dict[str, Any], notes: list[str] | None = None) -> list[list[float | None]]:
    """The rows as model input vectors (None = missing), by the encoding learnt at training."""
    _require(frame, [c["name"] for c in encoding["columns"]], "input", missing_all=True)
    blocks = [_encode_column(frame[c["name"]], c, notes) for c in encoding["columns"]]
    matrix = np.column_stack(blocks) if blocks else np.empty((len(frame), 0))
    return [[None if v != v else v for v in row] for row in matrix.tolist()]


def _near(frame: pd.DataFrame, name: str) -> str | None:
    def squash(text: str) -> str:
        return re.sub(r"[\s_\-.]+", "", text).casefold()

    near = [str(c) for c in frame.columns if squash(str(c)) == squash(name)]
    return near[0] if near else None


def _require(frame: pd.DataFrame, names: Sequence[str], what: str, *, missing_all: bool = False, flag: str = "") -> None:
    missing = [n for n in names if n not in frame.columns]
    if not missing:
        return
    columns = ", ".join(map(str, frame.columns[:40])) + (", ..." if len(frame.columns) > 40 else "")
    if missing_all:
        named = [n + (f" (did you mean {near!r}?)" if (near := _near(frame, n)) else "") for n in missing]
        raise TableError(f"the model needs columns this table lacks: {', '.join(named)} (it has: {columns})")
    near = _near(frame, missing[0])
    hint = f" (did you mean {near!r}?)" if near else ""
    semicolons = ";" in columns and what == "label" and len(frame.columns) == 1
    why = "; the header holds ';': is the file semicolon-separated? add SEP=';' (make) or --sep ';'" if semicolons else ""
    raise TableError(f"no {what} column {missing[0]!r}{hint}{why}; the columns are: {columns}")


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


def _parse_numbers(text: pd.Series, decimal: str) -> pd.Series:
    """Numbers in text cells (None where a cell is not one), by the rules in the module doc."""
    codes, uniques = pd.factorize(text)
    if not len(uniques):
        return pd.Series(np.full(len(text), np.nan), index=text.index)
    cells = pd.Series(uniques, dtype="string").str.replace(r"[\s\u00a0\u202f'’]", "", regex=True)
    negative = cells.str.fullmatch(r"\(.+\)").fillna(False).to_numpy(dtype=bool)
    cells = cells.str.replace(r"^\((.+)\)$", r"\1", regex=True).str.replace(r"%$", "", regex=True)
    cells = cells.str.replace(_CURRENCY_FIRST, r"\1", regex=True).str.replace(_CURRENCY_LAST, "", regex=True)
    shaped = cells.str.fullmatch(_NUMBER[decimal]).fillna(False) & cells.str.contains(r"\d").fillna(False)
    if decimal == ",":
        cells = cells.str.replace(".", "", regex=False).str.replace(",", ".", regex=False)
    else:
        cells = cells.str.replace(",", "", regex=False)
    values = pd.to_numeric(cells.where(shaped), errors="coerce").astype(float).to_numpy()
    values = np.where(negative, -values, values)
    values = np.where(np.isfinite(values), values, np.nan)
    out = np.where(codes >= 0, values[np.maximum(codes, 0)], np.nan)
    return pd.Series(out, index=text.index)


def _numbers_in_either_mark(text: pd.Series, default: str) -> tuple[str, pd.Series]:
    """The decimal mark that reads more of the text cells as numbers (``default`` on a tie), and the
    numbers read in it (None where a cell is not one)."""
    other = "," if default == "." else "."
    first, second = _parse_numbers(text, default), _parse_numbers(text, other)
    return (other, second) if second.notna().sum() > first.notna().sum() else (default, first)


def _numbers(series: pd.Series) -> pd.Series:
    """A numeric or boolean column as floats, NaN where missing or not finite (text: :func:`_numbers_in_either_mark`)."""
    values = series.astype(float) if pd.api.types.is_bool_dtype(series) else pd.to_numeric(series, errors="coerce").astype(float)
    return values.where(np.isfinite(values))


def _label_key(value: str) -> str:
    """What a label value means, whatever its case, spaces or number format (1, 1.0, 1.00 are one)."""
    try:
        number = float(value)
    except ValueError:
        return value.strip().casefold()
    return str(int(number)) if number.is_integer() else repr(number)


def _labels(series: pd.Series, name: str, positive: str | None, notes: list[str]) -> tuple[list[int], pd.Series, str]:
    text = _text(series)
    keep = text.notna()
    if not keep.all():
        notes.append(f"skipped {int((~keep).sum())} of {len(text)} rows whose label {name!r} is missing")
    text = text[keep]
    keys = text.map(_label_key)
    counts = keys.value_counts()
    if counts.empty:
        raise TableError(f"label {name!r} has no values")
    spelling = {key: Counter(text[keys == key]).most_common(1)[0][0] for key in counts.index}
    values = sorted(counts.index, key=str)
    shown = ", ".join(f"{spelling[k]!r} ({counts[k]})" for k in values[:12]) + (", ..." if len(values) > 12 else "")
    if len(values) == 1:
        raise TableError(
            f"label {name!r} has a single class ({spelling[values[0]]!r} in all {len(text)} rows); a model needs both"
        )
    if positive is not None:
        pos = _label_key(positive.strip())
        if pos not in counts.index:
            raise TableError(
                f"{positive!r} is not a value of label {name!r} (--positive, or POSITIVE= with make); its values are {shown}"
            )
    elif len(values) > 2:
        raise TableError(
            f"label {name!r} has {len(values)} values: {shown}; say which one means churned: "
            "add POSITIVE=<value> (make) or --positive <value>, and every other value counts as not churned"
        )
    else:
        chosen = [v for v in values if _positive_like(v, values)]
        if len(chosen) != 1:
            raise TableError(
                f"which value of label {name!r} means churned? add POSITIVE=<value> (make) or --positive <value>, "
                f"with {spelling[values[0]]!r} or {spelling[values[1]]!r}"
            )
        pos = chosen[0]
    labels = (keys == pos).astype(int).tolist()
    others = [spelling[v] for v in values if v != pos]
    variants = sorted(set(text[keys == pos]))
    also = f" (written {', '.join(map(repr, variants))})" if len(variants) > 1 else ""
    if len(others) == 1:
        rest = f"{others[0]!r} = 0"
    else:
        rest = f"every other value = 0 ({', '.join(map(repr, others))}: one value against the rest)"
    notes.append(f"label {name!r}: {spelling[pos]!r} = 1 (churned){also}, {rest}; {sum(labels)} positives in {len(labels)} rows")
    return labels, keep, spelling[pos]


def _positive_like(key: str, keys: Sequence[str]) -> bool:
    """Whether a label value (a :func:`_label_key`) plainly says churned: yes or true; 1 against 0 (not
    against 2: a 1/2 coding says nothing); or a churn word (churned, exited, cancelled ...) that no
    negation turns round ("not churned", "no_churn", "did not cancel" are not)."""
    if key in {"yes", "y", "true", "t"}:
        return True
    if key == "1":
        return set(keys) == {"0", "1"}
    words = re.findall(r"[a-z]+", key)
    return not any(w in _NEGATIONS for w in words) and any(w.startswith(_POSITIVE_WORDS) for w in words)


def _sample(values: pd.Series) -> str:
    return repr(str(values.iloc[0])) if len(values) else "-"


def _type_column(series: pd.Series, name: str, notes: list[str], decimal: str = ".") -> tuple[dict[str, Any] | None, str]:
    """The column's encoding, or None and why it is dropped."""
    if pd.api.types.is_datetime64_any_dtype(series):
        return None, f"{DATES_DROPPED}; e.g. {_sample(series.dropna().astype(str))}"
    text = _text(series)
    present = text.dropna()
    if present.empty:
        return None, "empty (no values)"
    distinct = present.unique()
    if len(distinct) == 1 and len(present) == len(text):
        return None, f"constant ({distinct[0]!r} in every row)"
    lowered = {str(v).lower() for v in distinct}
    if pd.api.types.is_bool_dtype(series) or (
        lowered <= _TRUE | _FALSE and lowered & _TRUE and lowered & _FALSE and not lowered <= {"0", "1", "0.0", "1.0"}
    ):
        return {"name": name, "kind": "boolean", "inputs": [name]}, ""
    numeric = _numeric_column(series, text, name, notes, decimal)
    if numeric is not None:
        return numeric
    tokens = present.str.lower().isin(_NULL_TOKENS)
    valued = present[~tokens]
    if valued.empty:
        return None, f"empty (only {', '.join(map(repr, sorted(set(present))[:5]))})"
    if _dates(valued):
        return None, f"{DATES_DROPPED}; e.g. {_sample(valued)}"
    if len(present) >= 20 and len(distinct) >= ID_LIKE_SHARE * len(present):
        return None, f"id-like ({len(distinct)} distinct values in {len(present)} rows, e.g. {_sample(present)})"
    counts = present.value_counts()
    ranked = sorted(counts.items(), key=lambda kv: (-kv[1], str(kv[0])))
    levels = [str(level) for level, _ in ranked[:MAX_LEVELS]]
    if len(ranked) > MAX_LEVELS:
        notes.append(f"column {name!r}: {len(ranked)} levels; the {MAX_LEVELS} most frequent kept, the rest are {OTHER}")
    return {"name": name, "kind": "categorical", "levels": levels, "inputs": category_inputs(name, levels)}, ""


def _numeric_column(
    series: pd.Series, text: pd.Series, name: str, notes: list[str], default_decimal: str
) -> tuple[dict[str, Any] | None, str] | None:
    """The numeric encoding (or a drop) when the column holds numbers, else None."""
    present = text.dropna()
    column: dict[str, Any] = {"name": name, "kind": "numeric", "inputs": [name]}
    if pd.api.types.is_numeric_dtype(series) or pd.api.types.is_bool_dtype(series):
        numbers = _numbers(series)
    else:
        counted = present[~present.str.lower().isin(_NULL_TOKENS)]
        if counted.empty:
            return None
        decimal, numbers = _numbers_in_either_mark(text, default_decimal)
        if numbers[counted.index].notna().sum() < TYPED_SHARE * len(counted):
            return None
        if decimal == ",":
            column["decimal"] = ","
        plain = pd.to_numeric(counted, errors="coerce")
        styled = counted[plain.isna() & numbers[counted.index].notna()]
        if len(styled):
            example = styled.iloc[0]
            value = numbers[styled.index[0]]
            notes.append(f"column {name!r}: {len(styled)} numbers written as text such as {example!r}, read as {value:g}")
        blanks = len(text) - len(present)
        if blanks:
            raw = series[text.isna()].astype(object).map(lambda v: "" if v is None else str(v).strip())
            tokens = Counter(v for v in raw if v and v.lower() != "nan")
            said = f" ({', '.join(f'{v!r} x{c}' for v, c in tokens.most_common(4))})" if tokens else ""
            notes.append(f"column {name!r}: numbers as text, {blanks} blank cells read as missing{said}")
        unread = present[numbers[present.index].isna()]
        if len(unread):
            top = ", ".join(f"{v!r} x{c}" for v, c in Counter(unread).most_common(4))
            notes.append(f"column {name!r}: {len(unread)} cells that are not numbers read as missing ({top})")
    kept = numbers.dropna()
    whole = bool((kept % 1 == 0).all())
    if whole and kept.is_unique and len(kept) >= 20 and len(kept) == len(present):
        if _id_like_name(name):
            return None, f"id-like (a different whole number in every row under the name {name!r}, e.g. {kept.iloc[0]:g})"
        offset = kept.to_numpy() - kept.index.to_numpy()  # the value less the row's position in the file
        if offset[0] in (0, 1) and (offset == offset[0]).all():
            start = offset[0]
            return None, f"a row number ({start:g}, {start + 1:g}, {start + 2:g} ... in row order)"
    return column, ""


def _dates(values: pd.Series) -> bool:
    """Whether at least 95% of (a sample of) the distinct values read as dates in one format."""
    distinct = pd.Series(values.unique()[:500]).astype(str)
    if not distinct.str.contains(r"\d").all():
        return False
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for form in _DATE_FORMATS:
            parsed = pd.to_datetime(distinct, format=form, errors="coerce", utc=True)
            if parsed.notna().sum() >= TYPED_SHARE * len(distinct):
                return True
    return False


def _id_like_name(name: str) -> bool:
    words = re.findall(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])|\d+", name)
    return any(w.lower() in _ID_WORDS for w in words)


def _encode_column(series: pd.Series, column: dict[str, Any], notes: list[str] | None) -> np.ndarray:
    name, kind = column["name"], column["kind"]
    if kind == "numeric":
        text = _text(series)
        if pd.api.types.is_numeric_dtype(series) or pd.api.types.is_bool_dtype(series):
            values = _numbers(series)
        else:  # each file is read in its own decimal mark: the training's only where both read as many cells
            _, values = _numbers_in_either_mark(text, column.get("decimal", "."))
        valued = text.notna() & ~text.str.lower().isin(_NULL_TOKENS)  # null tokens ("-", "unknown") mean missing
        unread = text[values.isna() & valued]
        top = ", ".join(f"{v!r} x{c}" for v, c in Counter(unread).most_common(4))
        if len(unread) > valued.sum() / 2:
            raise TableError(
                f"column {name!r} held numbers when the model was trained, but {len(unread)} of its {int(valued.sum())} "
                f"cells here are not numbers ({top}): is it the right file, or a column of another meaning under this name?"
            )
        if len(unread) and notes is not None:
            notes.append(f"column {name!r}: {len(unread)} cells are not numbers, read as missing ({top})")
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
        folds = Counter(level.casefold() for level in levels)
        # a level written in another case ("PRO" for "pro") is that level, unless the training kept both
        folded = {level.casefold(): i for i, level in enumerate(levels) if folds[level.casefold()] == 1}

        def code(value: str | None) -> int:
            if value is None:
                return len(levels) + 1
            found = position.get(value)
            return found if found is not None else folded.get(value.casefold(), len(levels))

        codes = text.map(code).to_numpy(dtype=int)
        others = int((codes == len(levels)).sum())
        if others and notes is not None:
            notes.append(f"column {name!r}: {others} cells hold a level the model did not keep, read as {OTHER}")
        block[np.arange(len(series)), codes] = 1.0
        return block
    raise TableError(f"column {name!r}: unknown kind {kind!r} in the model's encoding")
