"""Train the exit-risk model as an Amazon SageMaker training job (script mode, the scikit-learn
framework container): docs/exit-risk.md, "Training on SageMaker".

SageMaker copies the ``train`` channel to ``SM_CHANNEL_TRAIN`` (``/opt/ml/input/data/train``), passes
the job's hyperparameters as ``--name value`` arguments, and uploads ``SM_MODEL_DIR``
(``/opt/ml/model``) as ``model.tar.gz`` when the script exits 0. The channel holds either

- a labelled feature table (``--source table``, the default): one ``.csv``/``.tsv``/``.parquet`` file
  (or ``--file`` names it), with hyperparameters ``label`` (the label column), ``id`` (columns that
  name a row and are not inputs, comma-separated) and ``positive`` (the label value that means churned);
- a DynamoDB export of the journeys (``--source journeys``): the export folder as
  ``export-table-to-point-in-time`` wrote it, with ``horizon-days`` (no activity within this many
  days after a cutoff = churned).

It writes the trainer's model folder (``model.json``, ``metrics.json``, ``report.md``) to
``SM_MODEL_DIR``; ``python -m ml.publish`` then publishes it as a version. A failure is also written
to ``/opt/ml/output/failure``, which SageMaker shows as the job's ``FailureReason``.

Runs on the container's Python (3.10 in the 1.4-2 image): standard library only until the trainer
is imported, and :func:`_bootstrap` gives 3.10 the one 3.11 name the code imports.
"""

from __future__ import annotations

import argparse
import os
import sys
import traceback
from collections.abc import Mapping
from pathlib import Path
from typing import Any

CHANNEL = "/opt/ml/input/data/train"
MODEL_DIR = "/opt/ml/model"
OUTPUT_DIR = "/opt/ml/output"
TABLE_SUFFIXES = (".csv", ".tsv", ".txt", ".parquet", ".pq")


class EntryError(ValueError):
    """The job's input or hyperparameters cannot be trained on; the message says what to change."""


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """The job's hyperparameters (the same names and defaults as ``python -m ml train``)."""
    parser = argparse.ArgumentParser(prog="ml/sagemaker_entry.py", description="exit-risk training on SageMaker")
    parser.add_argument("--source", choices=("table", "journeys"), default="table", help="what the train channel holds")
    parser.add_argument("--label", help="table: the label column")
    parser.add_argument("--id", action="append", default=[], help="table: columns naming a row, not inputs (comma-separated)")
    parser.add_argument("--positive", default=None, help="table: the label value that means churned")
    parser.add_argument("--file", default=None, help="table: the file in the channel (default: its only table file)")
    parser.add_argument(
        "--horizon-days", type=float, default=3.0, help="journeys: churned = no activity this long after the cutoff"
    )
    parser.add_argument("--holdout", type=float, default=0.3, help="journeys: share of users held out for the report")
    parser.add_argument("--cv-folds", type=int, default=5, help="table: cross-validation folds")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--version", default=None, help="the model's version (default: the trainer's)")
    args = parser.parse_args(argv)
    from ml.options import id_columns  # after _bootstrap: the container's path reaches ml/ only then

    args.id = id_columns(args.id)
    if args.source == "table" and not args.label:
        raise EntryError("source=table needs the hyperparameter 'label' (the label column)")
    if args.source == "journeys" and not args.horizon_days > 0:
        raise EntryError(f"horizon-days must be above 0, got {args.horizon_days}")
    return args


def table_file(channel: Path, name: str | None) -> Path:
    """The table the channel holds: ``name`` if given, else its only table file (searched recursively,
    as SageMaker keeps the S3 prefix's folders)."""
    if not channel.is_dir():
        raise EntryError(f"the train channel {channel} is missing: give the job an input channel named 'train'")
    if name:
        path = channel / name
        if not path.is_file():
            raise EntryError(f"file={name}: no such file in the train channel ({_listing(channel)})")
        return path
    found = sorted(p for p in channel.rglob("*") if p.is_file() and p.suffix.lower() in TABLE_SUFFIXES)
    if len(found) != 1:
        what = "no table file" if not found else f"{len(found)} table files"
        raise EntryError(
            f"the train channel holds {what} ({_listing(channel)}): give one, or name it with the hyperparameter 'file'"
        )
    return found[0]


def _listing(channel: Path, limit: int = 10) -> str:
    names = sorted(str(p.relative_to(channel)) for p in channel.rglob("*") if p.is_file())
    if not names:
        return "it is empty"
    return ", ".join(names[:limit]) + (f", ... {len(names) - limit} more" if len(names) > limit else "")


def training_data(args: argparse.Namespace, channel: Path) -> Any:
    """The channel's examples as ``ml.dataset.TrainingData``."""
    if args.source == "table":
        from ml.table import training_table

        return training_table(table_file(channel, args.file), args.label, ids=args.id, positive=args.positive)
    if not channel.is_dir():
        raise EntryError(f"the train channel {channel} is missing: give the job an input channel named 'train'")
    from journey.kernel.clock import DAY_MS
    from ml.journeys import training_data as journeys_training_data

    return journeys_training_data(channel, horizon_ms=round(args.horizon_days * DAY_MS))


def train(args: argparse.Namespace, channel: Path, model_dir: Path) -> Path:
    """Fit as ``python -m ml train`` does (tables: cross-validated; journeys: a held-out share of users)
    and write the model folder."""
    from ml.trainer import fit

    data = training_data(args, channel)
    for note in data.notes:
        _say(f"note: {note}")
    _say(f"{len(data.rows)} rows, {sum(data.labels)} positives, {len(data.names)} inputs")
    holdout = None if args.source == "table" else args.holdout
    fitted = fit(data, holdout=holdout, cv_folds=args.cv_folds, seed=args.seed, version=args.version, progress=_say)
    return Path(fitted.write(model_dir))


def _say(line: str) -> None:
    print(line, flush=True)  # the job's CloudWatch log stream


def main(argv: list[str] | None = None, environ: Mapping[str, str] | None = None) -> int:
    env = os.environ if environ is None else environ
    channel = Path(env.get("SM_CHANNEL_TRAIN", CHANNEL))
    model_dir = Path(env.get("SM_MODEL_DIR", MODEL_DIR))
    output_dir = Path(env.get("SM_OUTPUT_DIR", OUTPUT_DIR))
    try:
        args = parse_args(argv)
        written = train(args, channel, model_dir)
    except (EntryError, ValueError, OSError) as exc:  # the input's fault (ml.table.TableError is a ValueError)
        _fail(output_dir, f"{type(exc).__name__}: {exc}")
        return 2
    except Exception:  # noqa: BLE001 - any other failure still reaches the job's FailureReason
        _fail(output_dir, traceback.format_exc())
        return 1
    print(f"model written to {written}: {', '.join(sorted(p.name for p in written.iterdir()))}")
    return 0


def _fail(output_dir: Path, message: str) -> None:
    print(message, file=sys.stderr)
    if output_dir.is_dir():  # only inside a training job (or where a test made it)
        (output_dir / "failure").write_text(message[-1024:])  # SageMaker keeps the first 1 KiB or so: the end says most


def _bootstrap() -> None:
    """Run as a script (``python ml/sagemaker_entry.py``), Python puts ml/ on the path, not the folder
    that holds ``ml`` and ``journey``: add it (the source bundle's root, or this repository's root and
    its journey layer). On Python 3.10 (the scikit-learn 1.4-2 image) add ``datetime.UTC``, the 3.11
    alias of ``datetime.timezone.utc`` that ``ml`` and ``journey`` import."""
    root = Path(__file__).resolve().parents[1]
    for folder in (root / "layers" / "journey" / "python", root):
        if folder.is_dir() and str(folder) not in sys.path:
            sys.path.insert(0, str(folder))
    import datetime

    if not hasattr(datetime, "UTC"):
        datetime.UTC = datetime.timezone.utc  # noqa: UP017 - 3.11 has the alias; this runs where it is missing


if __name__ == "__main__":
    _bootstrap()
    sys.exit(main())
