"""``python -m ml train|score|bench-model``: train the exit-risk model, score a table with it, time it.

    python -m ml train --file churn.csv --label Churn --model out/models/table [--id customerID] [--positive Yes]
        [--cv-folds 5] [--seed 7] [--sep ';'] [--force]
    python -m ml train --journeys out/demo/journeys --model out/models/exit-risk [--horizon-days 3] [--holdout 0.3]
    python -m ml score --model out/models/table --file new.csv --out scores.csv [--id customerID] [--sep ';']
    python -m ml bench-model --model out/models/table

Bad input ends with exit code 2 and one line ``error: ...``; stage lines go to stderr."""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from journey.kernel.clock import DAY_MS
from journey.risk.model import ExitRiskModel, ModelFormatError
from ml.options import id_columns


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return int(args.run(args))
    except (ValueError, OSError, ImportError) as exc:  # TableError, ModelFormatError, unreadable files
        print(f"error: {exc}", file=sys.stderr)
        return 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m ml", description="Train, score with and time the exit-risk model.")
    commands = parser.add_subparsers(required=True, metavar="command")
    train = commands.add_parser("train", help="fit the model on a labelled table (--file) or the system's journeys (--journeys)")
    source = train.add_mutually_exclusive_group(required=True)
    source.add_argument("--file", type=Path, help="a labelled feature table, .csv or .parquet")
    source.add_argument("--journeys", type=Path, help="a directory of the system's journeys (ml.journeys)")
    train.add_argument("--label", help="the table's label column (with --file)")
    train.add_argument(
        "--positive",
        help="the label value that means churned, when the label does not say it plainly (yes/true, 1 against 0, "
        "or a churn word such as churned/exited/cancelled that no negation turns round); "
        "with a label of 3 or more values, this one against the rest",
    )
    train.add_argument(
        "--id", action="append", default=[], help="a column that names rows: not an input (repeatable, or comma-separated)"
    )
    train.add_argument("--model", type=Path, required=True, help="directory for model.json, metrics.json, report.md")
    train.add_argument("--horizon-days", type=float, default=3.0, help="journeys: a user churned if silent this long")
    train.add_argument("--holdout", type=float, default=0.3, help="journeys: share of users held out for the report")
    train.add_argument("--cv-folds", type=int, default=5, help="tables: cross-validation folds")
    train.add_argument("--seed", type=int, default=7)
    train.add_argument("--sep", type=_separator, help="the CSV's delimiter (default: sniffed among , ; tab |)")
    train.add_argument("--force", action="store_true", help="replace a model of another training in --model")
    train.set_defaults(run=_train)
    score = commands.add_parser("score", help="score every row of a table with a trained model")
    score.add_argument("--model", type=Path, required=True, help="the model's directory (or its model.json)")
    score.add_argument("--file", type=Path, required=True, help="the table to score, .csv or .parquet")
    score.add_argument("--out", type=Path, required=True, help="the CSV to write: id columns and score (0-100)")
    score.add_argument(
        "--id",
        action="append",
        default=[],
        help="a column to copy to the output (repeatable, or comma-separated; default: the training's --id)",
    )
    score.add_argument("--sep", type=_separator, help="the CSV's delimiter (default: sniffed among , ; tab |)")
    score.set_defaults(run=_score)
    bench = commands.add_parser("bench-model", help="microseconds per explain() call of a trained model")
    bench.add_argument("--model", type=Path, required=True)
    bench.add_argument("--calls", type=int, default=2000)
    bench.add_argument("--runs", type=int, default=7)
    bench.set_defaults(run=_bench)
    return parser


def _separator(text: str) -> str:
    named = {"tab": "\t", "\\t": "\t", "comma": ",", "semicolon": ";", "pipe": "|"}
    sep = named.get(text.lower(), text)
    if len(sep) != 1 or sep.isalnum() or sep in "\"'":
        raise argparse.ArgumentTypeError(f"a delimiter is one character such as ',' ';' '|' or 'tab', not {text!r}")
    return sep


def _stage(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def _train(args: argparse.Namespace) -> int:
    from ml import report
    from ml.trainer import fit

    if args.file is not None:
        from ml.table import read_table, training_data

        if not args.label or not args.label.strip():
            raise ValueError("a label column is required with a table: add LABEL=<column> (make) or --label <column>")
        _stage(f"reading {args.file}")
        data = training_data(read_table(args.file, sep=args.sep), args.label, ids=id_columns(args.id), positive=args.positive)
        holdout = None
    else:
        from ml.journeys import training_data

        if not args.journeys.is_dir():
            raise ValueError(f"no journeys directory at {args.journeys} (make demo writes out/demo/journeys)")
        _stage(f"building training rows from the journeys in {args.journeys}")
        data = training_data(args.journeys, horizon_ms=round(args.horizon_days * DAY_MS))
        holdout = args.holdout
    if holdout is None and args.cv_folds < 2:
        raise ValueError(f"cross-validation needs 2 folds or more, not {args.cv_folds}: CV_FOLDS=5 (make) or --cv-folds 5")
    _check_model_directory(args.model, data, force=args.force)
    for note in data.notes:
        _stage(f"note: {note}")
    _stage(f"{len(data.rows)} rows, {sum(data.labels)} positives, {len(data.names)} inputs")
    fitted = fit(data, holdout=holdout, cv_folds=args.cv_folds, seed=args.seed, progress=_stage)
    directory = fitted.write(args.model)
    if data.encoding.get("columns"):
        from ml.table import typing_summary

        print("columns:")
        print("\n".join(f"  {line}" for line in typing_summary(data.encoding)))
    print("\n".join(report.summary(fitted.report)))
    print(f"model {fitted.model['version']}: {directory / 'model.json'} (report: {directory / 'report.md'})")
    return 0


def _training_of(encoding: dict[str, Any], inputs: Sequence[str]) -> dict[str, Any]:
    """What makes two trainings the same one: the label and the table's columns (or the inputs)."""
    if not encoding.get("columns"):
        return {"inputs": sorted(inputs)}
    named = [c["name"] for c in encoding["columns"]] + [d["name"] for d in encoding.get("dropped", [])]
    return {"label": encoding.get("label"), "columns": sorted(named + list(encoding.get("ids", [])))}


def _check_model_directory(directory: Path, data: Any, *, force: bool) -> None:
    """A model.json already there must be of the same training (then replaced, with a note) or --force."""
    if directory.exists() and not directory.is_dir():
        raise ValueError(f"--model {directory} is a file; give a directory (MODEL=<dir> with make)")
    existing = directory / "model.json"
    if not existing.is_file():
        return
    try:
        document = json.loads(existing.read_bytes())
        before = _training_of(document.get("encoding") or {}, document.get("inputs") or [])
    except (ValueError, AttributeError):
        before = {"unreadable": True}
    now = _training_of(data.encoding, data.names)
    if before == now or force:
        _stage(f"note: replacing the model in {directory} (version {document.get('version', '?')})")
        return
    if "label" in before and "label" in now and before["label"] != now["label"]:
        what = f"another label ({before['label']!r}, not {now['label']!r})"
    elif "label" in before and "label" in now:
        added, gone = set(now["columns"]) - set(before["columns"]), set(before["columns"]) - set(now["columns"])
        what = (
            "other columns ("
            + "; ".join(
                part
                for part in (
                    f"new: {', '.join(sorted(added)[:8])}" if added else "",
                    f"gone: {', '.join(sorted(gone)[:8])}" if gone else "",
                )
                if part
            )
            + ")"
        )
    else:
        what = "another kind of training" if "unreadable" not in before else "a model.json this tool cannot read"
    raise ValueError(
        f"{directory} already holds a model of {what}; use another MODEL directory, "
        "or add FORCE=1 (make) or --force to replace it"
    )


def _model_file(path: Path) -> Path:
    file = path / "model.json" if path.is_dir() else path
    if not file.is_file():
        raise ModelFormatError(f"no model at {file} (train one with `python -m ml train`)")
    return file


def load_model(path: Path) -> ExitRiskModel:
    """The model in a directory written by ``train`` (or a model.json path)."""
    return ExitRiskModel.from_json(_model_file(path).read_bytes())


def _score(args: argparse.Namespace) -> int:
    from ml.table import TableError, check_encoding, read_table, scoring_rows

    if not str(args.out).strip() or str(args.out) == ".":
        raise TableError("OUT is required: the CSV to write (OUT=scores.csv with make, or --out scores.csv)")
    if args.out.is_dir():
        raise TableError(f"--out {args.out} is a directory; give a file name such as {args.out / 'scores.csv'}")
    if args.file.exists() and args.out.resolve() == args.file.resolve():
        raise TableError(f"OUT is FILE ({args.file}): writing the scores would overwrite the table; choose another OUT")
    model = load_model(args.model)
    if not model.encoding.get("columns"):
        raise TableError(f"{args.model} was not trained on a table (its encoding is empty): it scores journeys")
    check_encoding(model.encoding, model.inputs)
    frame = read_table(args.file, sep=args.sep, allow_empty=True)
    notes: list[str] = list(frame.attrs.get("notes", []))
    trained_ids = list(model.encoding.get("ids", []))
    ids = id_columns(args.id) or [c for c in trained_ids if c in frame.columns]
    missing = [c for c in ids if c not in frame.columns]
    if missing:
        near = [str(c) for c in frame.columns if str(c).casefold() == missing[0].casefold()]
        hint = f" (did you mean {near[0]!r}?)" if near else ""
        raise TableError(f"no id column {missing[0]!r} in {args.file.name}{hint}")
    if "score" in ids:
        raise TableError("an id column is named 'score', the name of the output's score column: rename it in the file")
    lacking = [c for c in trained_ids if c not in frame.columns] if not args.id else []
    if lacking:
        notes.append(
            f"the model was trained with --id {', '.join(lacking)}, which {args.file.name} lacks"
            + (f": the output names rows by {', '.join(ids)} only" if ids else "")
        )
    rows = scoring_rows(frame, model.encoding, notes)
    out = frame[ids].copy()
    if not ids:
        out.insert(0, "row", range(1, len(frame) + 1))
        why = "none of the model's id columns is in the file" if trained_ids else "the model was trained without --id"
        notes.append(f"no id column ({why}, and none given): 'row' is the input's row number, 1-based")
    if frame.empty:
        notes.append(f"{args.file.name} has no rows: writing the header only")
    for note in notes:
        _stage(f"note: {note}")
    _stage(f"scoring {len(rows)} rows with model {model.version}")
    out["score"] = [round(model.probability(row) * 100) for row in rows]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    out.to_csv(args.out, index=False)
    print(f"{len(out)} scores: {args.out}")
    return 0


def _bench(args: argparse.Namespace) -> int:
    document = json.loads(_model_file(args.model).read_bytes())
    model = ExitRiskModel.from_dict(document)
    vectors = _sample_vectors(document["trees"], len(model.inputs), args.calls)
    timings = []
    for _ in range(args.runs):
        start = time.perf_counter()
        for vector in vectors:
            model.explain(vector)
        timings.append((time.perf_counter() - start) / len(vectors) * 1e6)
    start = time.perf_counter()
    for vector in vectors:
        model.probability(vector)
    probability_us = (time.perf_counter() - start) / len(vectors) * 1e6
    depth = max(_depth(tree) for tree in document["trees"]) if document["trees"] else 0
    print(f"model {model.version}: {model.tree_count} trees (at most {depth} deep), {len(model.inputs)} inputs")
    print(f"explain: median {statistics.median(timings):.1f} µs per call ({args.runs} runs of {len(vectors)} calls)")
    print(f"probability: {probability_us:.1f} µs per call")
    return 0


def _depth(tree: list[list[float]]) -> int:
    depth = [0] * len(tree)
    for n, node in enumerate(tree):
        if node[0] >= 0:
            depth[int(node[3])] = depth[int(node[4])] = depth[n] + 1
    return max(depth)


def _sample_vectors(trees: list[list[list[float]]], width: int, count: int) -> list[list[float | None]]:
    """Input vectors that take every side of the model's splits: each input just below or above
    one of its thresholds, sometimes missing."""
    thresholds: dict[int, list[float]] = {}
    for tree in trees:
        for node in tree:
            if node[0] >= 0:
                thresholds.setdefault(int(node[0]), []).append(float(node[1]))
    rng = random.Random(7)
    vectors: list[list[float | None]] = []
    for _ in range(count):
        vector: list[float | None] = []
        for i in range(width):
            cuts = thresholds.get(i)
            if not cuts or rng.random() < 0.05:
                vector.append(None if rng.random() < 0.5 else 0.0)
            else:
                vector.append(rng.choice(cuts) + rng.choice((-1e-6, 1e-6)))
        vectors.append(vector)
    return vectors


if __name__ == "__main__":
    sys.exit(main())
