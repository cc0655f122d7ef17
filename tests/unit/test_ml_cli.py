"""``python -m ml train|score`` on tables, as a person runs them: what is refused and why, what is
written when the input is unusual, the warnings the report carries, and the make targets' variables."""

from __future__ import annotations

import csv
import json
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ml.__main__ import main

ROOT = Path(__file__).resolve().parents[2]


def _table(n: int = 160, seed: int = 3, *, positives: float = 0.4) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    usage = rng.normal(size=n)
    churn = rng.random(n) < np.where(usage < 0, positives * 1.5, positives * 0.5)
    return pd.DataFrame(
        {"usage": usage.round(3).astype(str), "plan": rng.choice(["a", "b"], n), "churn": np.where(churn, "Yes", "No")}
    )


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as f:
        return list(csv.DictReader(f))


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    """A model trained without an id column."""
    root = tmp_path_factory.mktemp("cli")
    _table().to_csv(root / "t.csv", index=False)
    assert main(["train", "--file", str(root / "t.csv"), "--label", "churn", "--model", str(root / "m"), "--cv-folds", "2"]) == 0
    return root


def test_without_an_id_the_scores_carry_the_row_number(model, tmp_path, capsys):
    out = tmp_path / "s.csv"
    assert main(["score", "--model", str(model / "m"), "--file", str(model / "t.csv"), "--out", str(out)]) == 0
    rows = _rows(out)
    assert list(rows[0]) == ["row", "score"] and [r["row"] for r in rows[:3]] == ["1", "2", "3"] and len(rows) == 160
    assert "'row' is the input's row number, 1-based" in capsys.readouterr().err


def test_a_model_trained_with_an_id_says_truly_when_the_scored_file_lacks_it(tmp_path, capsys):
    table = _table().assign(cust=[f"c{i}" for i in range(160)], region=["n", "s"] * 80)
    table.to_csv(tmp_path / "t.csv", index=False)
    args = ["--cv-folds", "2", "--id", "cust", "--id", "region"]
    assert main(["train", "--file", str(tmp_path / "t.csv"), "--label", "churn", "--model", str(tmp_path / "m"), *args]) == 0
    capsys.readouterr()
    table.drop(columns=["cust", "region"]).to_csv(tmp_path / "bare.csv", index=False)
    out = tmp_path / "s.csv"
    assert main(["score", "--model", str(tmp_path / "m"), "--file", str(tmp_path / "bare.csv"), "--out", str(out)]) == 0
    err = capsys.readouterr().err
    assert "the model was trained with --id cust, region, which bare.csv lacks" in err
    assert "none of the model's id columns is in the file" in err and "trained without --id" not in err
    assert list(_rows(out)[0]) == ["row", "score"]
    table.drop(columns=["cust"]).to_csv(tmp_path / "half.csv", index=False)
    assert main(["score", "--model", str(tmp_path / "m"), "--file", str(tmp_path / "half.csv"), "--out", str(out)]) == 0
    assert "which half.csv lacks: the output names rows by region only" in capsys.readouterr().err
    assert list(_rows(out)[0]) == ["region", "score"]


def test_an_id_column_named_score_is_refused_and_a_repeated_id_written_once(model, tmp_path, capsys):
    table = _table().assign(score=range(160))
    table.to_csv(tmp_path / "t.csv", index=False)
    out = tmp_path / "s.csv"
    assert (
        main(["score", "--model", str(model / "m"), "--file", str(tmp_path / "t.csv"), "--out", str(out), "--id", "score"]) == 2
    )
    assert "an id column is named 'score'" in capsys.readouterr().err
    args = ["--id", "plan", "--id", "plan"]
    assert main(["score", "--model", str(model / "m"), "--file", str(model / "t.csv"), "--out", str(out), *args]) == 0
    assert list(_rows(out)[0]) == ["plan", "score"]


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda e: e["columns"].reverse(), "input 1 would be 'plan=a' where the model has 'usage'"),
        (lambda e: e.update(columns="abc"), "the model's encoding is malformed (TypeError"),
        (lambda e: e["columns"][1]["levels"].reverse(), "column 'plan''s inputs are not those its kind and levels make"),
        (lambda e: e["columns"][0].update(kind="date"), "column 'usage' is of an unknown kind 'date'"),
        (lambda e: e["columns"][0].pop("name"), "malformed (KeyError"),
    ],
)
def test_a_model_whose_encoding_disagrees_with_its_inputs_is_refused(model, tmp_path, capsys, edit, message):
    document = json.loads((model / "m" / "model.json").read_text())
    assert document["inputs"][:1] == ["usage"] and len(document["inputs"]) == 5  # usage, plan=a, plan=b, (other), (missing)
    edit(document["encoding"])
    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "model.json").write_text(json.dumps(document))
    out = tmp_path / "s.csv"
    assert main(["score", "--model", str(tmp_path / "m"), "--file", str(model / "t.csv"), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err and not out.exists()


def test_a_table_with_a_header_and_no_rows_gets_a_header_only_csv(model, tmp_path, capsys):
    (tmp_path / "empty.csv").write_text("usage,plan\n")
    out = tmp_path / "s.csv"
    assert main(["score", "--model", str(model / "m"), "--file", str(tmp_path / "empty.csv"), "--out", str(out)]) == 0
    assert out.read_text().strip() == "row,score"
    assert "empty.csv has no rows: writing the header only" in capsys.readouterr().err


def test_scores_never_overwrite_the_table_they_score(model, tmp_path, capsys):
    table = tmp_path / "t.csv"
    table.write_bytes((model / "t.csv").read_bytes())
    same = tmp_path / "." / "t.csv"
    assert main(["score", "--model", str(model / "m"), "--file", str(table), "--out", str(same)]) == 2
    assert "error: OUT is FILE" in capsys.readouterr().err
    assert table.read_bytes() == (model / "t.csv").read_bytes()


def test_a_model_directory_of_another_training_is_kept_unless_forced(model, tmp_path, capsys):
    directory = tmp_path / "m"
    directory.mkdir()
    (directory / "model.json").write_bytes((model / "m" / "model.json").read_bytes())
    other = _table().rename(columns={"churn": "left"})
    other.to_csv(tmp_path / "other.csv", index=False)
    command = ["train", "--file", str(tmp_path / "other.csv"), "--label", "left", "--model", str(directory), "--cv-folds", "2"]
    assert main(command) == 2
    err = capsys.readouterr().err
    assert "already holds a model of another label ('churn', not 'left')" in err and "FORCE=1 (make) or --force" in err
    assert json.loads((directory / "model.json").read_text())["encoding"]["label"] == "churn"
    assert main([*command, "--force"]) == 0
    assert json.loads((directory / "model.json").read_text())["encoding"]["label"] == "left"
    assert main(command) == 0  # the same training again: replaced, with a note
    assert "note: replacing the model in" in capsys.readouterr().err


def test_cv_folds_below_two_are_refused_and_folds_the_data_cannot_fill_are_a_note(tmp_path, capsys):
    table = tmp_path / "t.csv"
    _table(60, positives=0.1).to_csv(table, index=False)
    base = ["train", "--file", str(table), "--label", "churn", "--model", str(tmp_path / "m")]
    assert main([*base, "--cv-folds", "1"]) == 2
    assert "error: cross-validation needs 2 folds or more, not 1" in capsys.readouterr().err
    assert main([*base, "--cv-folds", "50"]) == 0
    report = json.loads((tmp_path / "m" / "metrics.json").read_text())
    folds = len(report["folds"])
    assert folds < 50 and any(n.startswith(f"cross-validated with {folds} folds, not 50") for n in report["notes"])
    assert report["rocAuc"] == report["pooledRocAuc"] and "rocAucFoldMean" in report
    out = capsys.readouterr().out
    assert "(pooled; folds " in out and f"warning: only {report['positives']} positives" in out
    assert any(n.startswith(f"warning: only {report['positives']} positives") for n in report["notes"])


def test_a_column_that_records_the_outcome_is_flagged_as_possible_leakage(tmp_path, capsys):
    frame = _table(120)
    frame["cancel_reason"] = np.where(frame["churn"] == "Yes", "price", "")
    frame.to_csv(tmp_path / "t.csv", index=False)
    assert (
        main(["train", "--file", str(tmp_path / "t.csv"), "--label", "churn", "--model", str(tmp_path / "m"), "--cv-folds", "2"])
        == 0
    )
    assert "warning: possible leakage: 'cancel_reason' alone separates the classes" in capsys.readouterr().out
    report = json.loads((tmp_path / "m" / "metrics.json").read_text())
    assert not any("'usage' alone" in w for w in report["warnings"])
    assert "possible leakage: 'cancel_reason'" in (tmp_path / "m" / "report.md").read_text()


def test_train_prints_how_each_column_was_typed(model, capsys):
    assert (
        main(["train", "--file", str(model / "t.csv"), "--label", "churn", "--model", str(model / "m"), "--cv-folds", "2"]) == 0
    )
    out = capsys.readouterr().out
    assert "columns:\n  numeric (1): usage\n  categorical (1): plan\n" in out


def _dry_run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["make", "-n", "-s", *args], cwd=ROOT, capture_output=True, text=True, check=False)


def test_make_passes_positive_folds_seed_sep_and_force_and_score_needs_out():
    done = _dry_run("train", "FILE=t.csv", "LABEL=outcome", "POSITIVE=gone", "CV_FOLDS=3", "SEED=9", "SEP=;", "FORCE=1")
    line = " ".join(done.stdout.replace("\\\n", " ").split())
    assert '--positive "gone" --cv-folds "3" --seed "9" --sep ";" --force' in line
    scored = _dry_run("score", "MODEL=m", "FILE=f.csv", "SEP=;")
    assert scored.returncode != 0 and "OUT is required" in scored.stderr


@pytest.mark.parametrize(
    ("args", "error"),
    [
        (("score", "FILE=f.csv", "OUT=o.csv"), "MODEL is required"),
        (("score", "MODEL=m", "OUT=o.csv"), "FILE is required"),  # not the default FILE the replay targets use
        (("score", "MODEL=m", "FILE=", "OUT=o.csv"), "FILE is required"),
        (("train", "FILE=", "LABEL=churn"), "FILE is empty"),
        (("train", "LABEL=churn"), "LABEL, ID and POSITIVE are for a labelled table: add FILE="),
        (("train", "ID=customer"), "LABEL, ID and POSITIVE are for a labelled table"),
    ],
)
def test_make_train_and_score_refuse_what_they_would_otherwise_ignore_or_guess(args, error):
    done = _dry_run(*args)
    assert done.returncode != 0 and error in done.stderr


def test_ids_may_be_comma_separated_and_are_written_once(model, tmp_path):
    table = _table().assign(cust=[f"c{i}" for i in range(160)])
    table.to_csv(tmp_path / "t.csv", index=False)
    out = tmp_path / "s.csv"
    args = ["--id", "cust, plan", "--id", "plan"]
    assert main(["score", "--model", str(model / "m"), "--file", str(tmp_path / "t.csv"), "--out", str(out), *args]) == 0
    assert list(_rows(out)[0]) == ["cust", "plan", "score"]
