"""The SageMaker script-mode entry point trains from the train channel into SM_MODEL_DIR, as a
training job in the scikit-learn container would run it (env vars, ``--name value`` hyperparameters),
and a bad input ends the job with a reason SageMaker shows."""

from __future__ import annotations

import csv
import json
import os
import random
import subprocess
import sys
from pathlib import Path

import pytest

from journey.risk.model import ExitRiskModel
from ml import sagemaker_entry

pytest.importorskip("ml.table", reason="ml.table (the labelled-table reader) is not written yet")
pytest.importorskip("ml.trainer", reason="ml.trainer (the offline trainer) is not written yet")

ROOT = Path(__file__).resolve().parents[2]


def write_table(path: Path, rows: int = 120, seed: int = 3) -> Path:
    """A tiny churn table: long silences and many errors churn; the id column names rows."""
    rng = random.Random(seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["customer", "days_since_login", "errors_7d", "plan", "Churn"])
        for i in range(rows):
            days, errors = rng.randint(0, 30), rng.randint(0, 10)
            churned = days > 14 or (errors > 7 and rng.random() < 0.8)
            writer.writerow([f"c{i:04d}", days, errors, rng.choice(["basic", "pro"]), "Yes" if churned else "No"])
    return path


def job_dirs(tmp_path: Path) -> dict[str, str]:
    channel, model, output = tmp_path / "input" / "data" / "train", tmp_path / "model", tmp_path / "output"
    for folder in (channel, output):
        folder.mkdir(parents=True)
    return {"SM_CHANNEL_TRAIN": str(channel), "SM_MODEL_DIR": str(model), "SM_OUTPUT_DIR": str(output)}


def test_a_table_in_the_channel_becomes_a_model_folder_in_sm_model_dir(tmp_path, capsys):
    env = job_dirs(tmp_path)
    write_table(Path(env["SM_CHANNEL_TRAIN"]) / "part" / "churn.csv")  # SageMaker keeps the prefix's folders
    argv = ["--label", "Churn", "--id", "customer", "--positive", "Yes", "--cv-folds", "3", "--version", "sm-test-1"]
    assert sagemaker_entry.main(argv, env) == 0
    model_dir = Path(env["SM_MODEL_DIR"])
    assert {p.name for p in model_dir.iterdir()} >= {"model.json", "metrics.json", "report.md"}
    model = ExitRiskModel.from_json((model_dir / "model.json").read_bytes())
    assert model.version == "sm-test-1"
    assert "customer" not in model.inputs and "days_since_login" in model.inputs
    assert json.loads((model_dir / "metrics.json").read_text())
    assert "model written to" in capsys.readouterr().out
    assert not (Path(env["SM_OUTPUT_DIR"]) / "failure").exists()


def test_the_job_fails_with_a_reason_sagemaker_shows(tmp_path):
    env = job_dirs(tmp_path)
    failure = Path(env["SM_OUTPUT_DIR"]) / "failure"
    assert sagemaker_entry.main([], env) == 2  # no label for a table
    assert "needs the hyperparameter 'label'" in failure.read_text()

    assert sagemaker_entry.main(["--label", "Churn"], env) == 2  # an empty channel
    assert "holds no table file (it is empty)" in failure.read_text()

    channel = Path(env["SM_CHANNEL_TRAIN"])
    write_table(channel / "a.csv")
    write_table(channel / "b.csv")
    assert sagemaker_entry.main(["--label", "Churn"], env) == 2
    assert "2 table files (a.csv, b.csv)" in failure.read_text() and "'file'" in failure.read_text()

    assert sagemaker_entry.main(["--label", "Churned", "--file", "a.csv"], env) == 2  # no such column
    assert "Churned" in failure.read_text()
    assert not Path(env["SM_MODEL_DIR"]).exists()


def test_it_runs_as_the_container_runs_it_a_script_with_hyperparameters_as_arguments(tmp_path):
    """``python ml/sagemaker_entry.py --label ...`` from the source folder, with no PYTHONPATH: the script
    finds ``ml`` and ``journey`` itself."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env.update(job_dirs(tmp_path))
    write_table(Path(env["SM_CHANNEL_TRAIN"]) / "churn.csv", rows=80)
    done = subprocess.run(
        [sys.executable, "ml/sagemaker_entry.py", "--label", "Churn", "--id", "customer", "--cv-folds", "2"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert (Path(env["SM_MODEL_DIR"]) / "model.json").is_file()


def test_on_python_3_10_the_script_gives_the_code_the_3_11_utc_alias(tmp_path):
    """The 1.4-2 image runs Python 3.10, which has no ``datetime.UTC``: played here by removing it first."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env.update(job_dirs(tmp_path))
    write_table(Path(env["SM_CHANNEL_TRAIN"]) / "churn.csv", rows=60)
    as_on_3_10 = (
        "import datetime, runpy, sys; del datetime.UTC; sys.path.remove(''); sys.argv = sys.argv[1:]; "
        "runpy.run_path(sys.argv[0], run_name='__main__')"
    )
    argv = ["ml/sagemaker_entry.py", "--label", "Churn", "--id", "customer", "--cv-folds", "2"]
    done = subprocess.run(
        [sys.executable, "-c", as_on_3_10, *argv], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert (Path(env["SM_MODEL_DIR"]) / "model.json").is_file()


def test_journeys_need_a_positive_horizon():
    with pytest.raises(sagemaker_entry.EntryError, match="horizon-days must be above 0"):
        sagemaker_entry.parse_args(["--source", "journeys", "--horizon-days", "0"])
    args = sagemaker_entry.parse_args(["--label", "y", "--id", "a,b", "--id", "c"])
    assert args.id == ["a", "b", "c"] and args.holdout == 0.3 and args.horizon_days == 3.0


def test_journeys_are_read_from_the_channel_as_a_dynamodb_export(tmp_path):
    """The journeys source hands the channel to ml.journeys; an export with no tables says so."""
    pytest.importorskip("ml.journeys", reason="ml.journeys (the DynamoDB export reader) is not written yet")
    env = job_dirs(tmp_path)
    assert sagemaker_entry.main(["--source", "journeys", "--horizon-days", "2"], env) == 2
    reason = (Path(env["SM_OUTPUT_DIR"]) / "failure").read_text()
    assert reason.startswith("ExportError: ") and env["SM_CHANNEL_TRAIN"] in reason
