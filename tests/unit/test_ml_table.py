"""Labelled feature tables (ml.table) and ``python -m ml train|score`` on them: typing and encoding
of real-world columns, the notes and errors a person sees, and scoring with the layer's evaluator."""

from __future__ import annotations

import csv
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ml.__main__ import main
from ml.table import DATES_DROPPED, MISSING, OTHER, TableError, read_table, scoring_rows, training_data

ROOT = Path(__file__).resolve().parents[2]


def _churn_table(n: int = 400, seed: int = 11) -> pd.DataFrame:
    """A Telco-like table: an id, text categories, Yes/No flags, numbers as text with blank cells,
    a constant column; churn follows tenure and contract."""
    rng = np.random.default_rng(seed)
    tenure = rng.integers(0, 72, n)
    contract = rng.choice(["Month-to-month", "One year", "Two year"], n, p=[0.5, 0.3, 0.2])
    monthly = rng.uniform(18, 118, n).round(2)
    total = [" " if t == 0 else f"{m * t:.2f}" for m, t in zip(monthly, tenure, strict=True)]
    logit = 1.5 - 0.12 * tenure + 2.0 * (contract == "Month-to-month")
    churn = np.where(rng.random(n) < 1 / (1 + np.exp(-logit)), "Yes", "No")
    return pd.DataFrame(
        {
            "customerID": [f"{i:04d}-QWERT" for i in range(n)],
            "gender": rng.choice(["Male", "Female"], n),
            "SeniorCitizen": rng.integers(0, 2, n).astype(str),
            "Partner": rng.choice(["Yes", "No"], n),
            "tenure": tenure.astype(str),
            "Contract": contract,
            "MonthlyCharges": monthly.astype(str),
            "TotalCharges": total,
            "Country": "PT",
            "Churn": churn,
        }
    )


def _write_csv(frame: pd.DataFrame, path: Path) -> Path:
    frame.to_csv(path, index=False)
    return path


def _read_back(frame: pd.DataFrame, tmp_path: Path) -> pd.DataFrame:
    """The frame as the CLI reads a CSV: every cell text."""
    return read_table(_write_csv(frame, tmp_path / "t.csv"))


def test_a_telco_like_table_is_typed_column_by_column(tmp_path):
    data = training_data(_read_back(_churn_table(), tmp_path), "Churn")
    kinds = {c["name"]: c["kind"] for c in data.encoding["columns"]}
    assert kinds == {
        "gender": "categorical",
        "SeniorCitizen": "numeric",
        "Partner": "boolean",
        "tenure": "numeric",
        "Contract": "categorical",
        "MonthlyCharges": "numeric",
        "TotalCharges": "numeric",
    }
    dropped = {d["name"]: d["reason"] for d in data.encoding["dropped"]}
    assert dropped["customerID"].startswith("id-like") and dropped["Country"].startswith("constant")
    assert any("dropped column 'Country': constant" in n for n in data.notes)
    assert any("'TotalCharges': numbers as text" in n and "blank cells read as missing" in n for n in data.notes)
    assert any("'Yes' = 1 (churned), 'No' = 0" in n for n in data.notes)
    assert "Contract=Month-to-month" in data.names and f"Contract={OTHER}" in data.names and f"Contract={MISSING}" in data.names
    assert data.encoding["label"] == "Churn" and data.encoding["positive"] == "Yes"


def test_blank_numeric_cells_and_nan_become_missing_and_text_categories_one_hot(tmp_path):
    frame = pd.DataFrame(
        {"amount": ["1.5", " ", "", "2"], "plan": ["basic", "pro", None, "basic"], "left": ["no", "yes", "no", "yes"]}
    )
    data = training_data(frame, "left")
    assert data.names == ["amount", "plan=basic", "plan=pro", f"plan={OTHER}", f"plan={MISSING}"]
    assert data.rows == [
        [1.5, 1.0, 0.0, 0.0, 0.0],
        [None, 0.0, 1.0, 0.0, 0.0],
        [None, 0.0, 0.0, 0.0, 1.0],
        [2.0, 1.0, 0.0, 0.0, 0.0],
    ]
    assert data.labels == [0, 1, 0, 1]


def test_parquet_types_are_kept_booleans_become_0_1_and_nan_missing(tmp_path):
    frame = pd.DataFrame(
        {
            "age": [31.0, math.nan, 45.0, 52.0],
            "active": [True, False, True, False],
            "region": ["north", "south", "north", None],
            "exited": [1, 0, 1, 0],
        }
    )
    frame.to_parquet(tmp_path / "t.parquet")
    data = training_data(read_table(tmp_path / "t.parquet"), "exited")
    assert [c["kind"] for c in data.encoding["columns"]] == ["numeric", "boolean", "categorical"]
    assert [row[:2] for row in data.rows] == [[31.0, 1.0], [None, 0.0], [45.0, 1.0], [52.0, 0.0]]
    assert data.rows[3][-1] == 1.0  # region=(missing)
    assert data.labels == [1, 0, 1, 0]


@pytest.mark.parametrize(
    ("values", "positive"),
    [
        (["Yes", "No"], "Yes"),
        (["True", "False"], "True"),
        (["1", "0"], "1"),
        (["churned", "retained"], "churned"),
        (["Exited", "Stayed"], "Exited"),
        (["Attrited Customer", "Existing Customer"], "Attrited Customer"),
        (["left", "stayed"], "left"),
    ],
)
def test_two_valued_labels_know_which_value_means_churned(values, positive):
    frame = pd.DataFrame({"x": [1, 2, 3, 4], "label": [values[0], values[1], values[1], values[0]]})
    data = training_data(frame, "label")
    assert data.encoding["positive"] == positive
    assert data.labels == [1, 0, 0, 1]


def test_a_label_of_unknown_meaning_needs_positive_and_says_its_values():
    frame = pd.DataFrame({"x": [1, 2, 3, 4], "status": ["gold", "silver", "gold", "silver"]})
    with pytest.raises(TableError, match=r"add POSITIVE=<value> \(make\) or --positive <value>, with 'gold' or 'silver'"):
        training_data(frame, "status")
    assert training_data(frame, "status", positive="Silver").labels == [0, 1, 0, 1]
    with pytest.raises(TableError, match="'bronze' is not a value"):
        training_data(frame, "status", positive="bronze")


@pytest.mark.parametrize(
    "values",
    [
        ["not churned", "stayed"],
        ["Not Exited", "Active"],
        ["renewed", "did not cancel"],
        ["no_churn", "renewed"],
        ["1", "2"],  # a 1/2 coding says nothing about which is churned
        ["2", "1"],
    ],
)
def test_a_negated_churn_word_or_a_1_2_coding_is_never_taken_as_churned(values):
    frame = pd.DataFrame({"x": [1, 2, 3, 4], "label": [values[0], values[1], values[1], values[0]]})
    with pytest.raises(TableError, match="which value of label 'label' means churned"):
        training_data(frame, "label")
    assert training_data(frame, "label", positive=values[1]).labels == [0, 1, 1, 0]


def test_a_churn_word_against_its_negation_is_the_churned_value():
    frame = pd.DataFrame({"x": [1, 2, 3, 4], "label": ["churn", "no churn", "no churn", "churn"]})
    assert training_data(frame, "label").labels == [1, 0, 0, 1]


def test_label_errors_name_the_problem():
    frame = pd.DataFrame({"x": [1, 2, 3], "Churn": ["No", "No", "No"], "y": [1, 2, 3]})
    with pytest.raises(TableError, match=r"single class \('No' in all 3 rows\)"):
        training_data(frame, "Churn")
    with pytest.raises(TableError, match=r"no label column 'Churned'; the columns are: x, Churn, y"):
        training_data(frame, "Churned")
    with pytest.raises(TableError, match=r"has 3 values: '1' \(1\), '2' \(1\), '3' \(1\); say which one means churned"):
        training_data(frame, "x")
    with pytest.raises(TableError, match="no id column 'customer'"):
        training_data(frame.assign(Churn=["No", "Yes", "No"]), "Churn", ids=["customer"])


def test_rows_without_a_label_are_skipped_with_a_count():
    frame = pd.DataFrame({"x": [1, 2, 3, 4, 5], "Churn": ["Yes", "", "No", None, "No"]})
    data = training_data(frame, "Churn")
    assert data.labels == [1, 0, 0] and [r[0] for r in data.rows] == [1.0, 3.0, 5.0]
    assert "skipped 2 of 5 rows whose label 'Churn' is missing" in data.notes


def test_id_like_columns_are_dropped_numeric_ids_by_name_text_ids_by_uniqueness():
    n = 40
    frame = pd.DataFrame(
        {
            "RowNumber": range(1, n + 1),
            "CustomerId": range(15_600_000, 15_600_000 + n),
            "uid": range(7_000, 7_000 + 3 * n, 3),
            "Surname": [f"name{i}" for i in range(n)],
            "Salary": [1000.0 + i * 37 for i in range(n)],  # a different number in every row, but a measurement
            "Geography": ["France", "Spain"] * (n // 2),
            "Exited": [0, 1] * (n // 2),
        }
    )
    data = training_data(frame, "Exited")
    assert [d["name"] for d in data.encoding["dropped"]] == ["RowNumber", "CustomerId", "uid", "Surname"]
    assert [c["name"] for c in data.encoding["columns"]] == ["Salary", "Geography"]


def test_a_row_number_is_dropped_even_when_unlabelled_rows_are_skipped():
    n = 40
    labels = ["Yes", "No"] * (n // 2)
    labels[4] = labels[8] = ""  # two rows without a label: the numbers left jump over them
    frame = pd.DataFrame({"line": range(1, n + 1), "usage": [i % 7 for i in range(n)], "churn": labels})
    data = training_data(frame, "churn")
    assert [d["name"] for d in data.encoding["dropped"]] == ["line"]
    assert data.encoding["dropped"][0]["reason"].startswith("a row number (1, 2, 3")
    shuffled = frame.assign(line=[n - i for i in range(n)])  # unique whole numbers, not in row order: a measurement
    assert [c["name"] for c in training_data(shuffled, "churn").encoding["columns"]] == ["line", "usage"]


def test_only_the_30_most_frequent_levels_get_their_own_input():
    levels = [f"city{i:02d}" for i in range(40)]
    frame = pd.DataFrame({"city": [levels[i % 40] for i in range(200)] + ["city00"] * 10, "churn": ["yes", "no"] * 105})
    data = training_data(frame, "churn")
    (column,) = data.encoding["columns"]
    assert len(column["levels"]) == 30 and column["levels"][0] == "city00"
    assert any("40 levels; the 30 most frequent kept" in n for n in data.notes)


def test_scoring_reapplies_the_encoding_and_sends_unseen_levels_to_other():
    train = pd.DataFrame(
        {"plan": ["basic", "pro", "basic", "pro"], "n": ["1", "2", "3", "4"], "churn": ["yes", "no", "no", "yes"]}
    )
    encoding = training_data(train, "churn").encoding
    notes: list[str] = []
    rows = scoring_rows(pd.DataFrame({"n": ["7", "x"], "plan": ["enterprise", "pro"]}), encoding, notes)
    assert rows == [[0.0, 0.0, 1.0, 0.0, 7.0], [0.0, 1.0, 0.0, 0.0, None]]  # plan=basic, =pro, =(other), =(missing), n
    assert any("1 cells hold a level the model did not keep" in n for n in notes)
    assert any("1 cells are not numbers" in n for n in notes)
    with pytest.raises(TableError, match="the model needs columns this table lacks: plan"):
        scoring_rows(pd.DataFrame({"n": ["1"]}), encoding)
    assert scoring_rows(pd.DataFrame({"n": ["1", "1"], "plan": ["PRO", " Basic"]}), encoding) == [
        [0.0, 1.0, 0.0, 0.0, 1.0],
        [1.0, 0.0, 0.0, 0.0, 1.0],
    ]  # a level in another case is that level


def test_a_level_in_another_case_goes_to_other_when_the_training_kept_both_cases():
    train = pd.DataFrame({"plan": ["pro", "PRO", "basic", "pro"] * 5, "churn": ["yes", "no"] * 10})
    encoding = training_data(train, "churn").encoding
    assert encoding["columns"][0]["levels"] == ["pro", "PRO", "basic"]
    assert scoring_rows(pd.DataFrame({"plan": ["Pro", "BASIC"]}), encoding) == [
        [0.0, 0.0, 0.0, 1.0, 0.0],
        [0.0, 0.0, 1.0, 0.0, 0.0],
    ]


# --- the command line --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A model trained by the CLI on a Telco-like CSV, with customerID as the id column."""
    root = tmp_path_factory.mktemp("cli")
    table = _write_csv(_churn_table(), root / "churn.csv")
    code = main(["train", "--file", str(table), "--label", "Churn", "--model", str(root / "model"), "--id", "customerID"])
    assert code == 0
    return root


def test_train_prints_the_cross_validated_summary_and_writes_the_model(trained, capsys):
    code = main(
        ["train", "--file", str(trained / "churn.csv"), "--label", "Churn", "--model", str(trained / "again"), "--cv-folds", "3"]
    )
    out, err = capsys.readouterr()
    assert code == 0
    assert "evaluated on k-fold CV" in out and "ROC AUC" in out and "| LOW |" in out and "model.json" in out
    assert "note: dropped column 'customerID': id-like" in err and "fold 1/3" in err
    for name in ("model.json", "metrics.json", "report.md"):
        assert (trained / "again" / name).is_file()
    said = (trained / "again" / "report.md").read_text()
    assert "each predicted by a fold's model that never saw it; the exported model is then fitted on every row" in said


def test_score_writes_one_row_per_input_row_in_order_with_the_id(trained, tmp_path):
    fresh = _churn_table(60, seed=99)
    fresh.loc[0, "Contract"] = "Three year"  # a level never seen in training
    fresh.loc[1, "TotalCharges"] = ""
    fresh = fresh.drop(columns=["Churn"])
    out = tmp_path / "scores.csv"
    code = main(
        ["score", "--model", str(trained / "model"), "--file", str(_write_csv(fresh, tmp_path / "new.csv")), "--out", str(out)]
    )
    assert code == 0
    with out.open(newline="") as f:
        rows = list(csv.DictReader(f))
    assert [r["customerID"] for r in rows] == fresh["customerID"].tolist()
    assert list(rows[0]) == ["customerID", "score"]
    assert all(0 <= int(r["score"]) <= 100 for r in rows)
    month = fresh["Contract"] == "Month-to-month"
    scores = np.array([int(r["score"]) for r in rows])
    assert scores[month.to_numpy()].mean() > scores[~month.to_numpy()].mean()


def test_bad_input_is_one_error_line_and_exit_code_2(trained, tmp_path, capsys):
    table = str(trained / "churn.csv")
    assert main(["train", "--file", table, "--label", "churned", "--model", str(tmp_path / "m")]) == 2
    err = capsys.readouterr().err
    assert err.strip().splitlines()[-1].startswith("error: no label column 'churned'; the columns are: customerID, gender")
    assert "Traceback" not in err
    lacking = _write_csv(_churn_table(10).drop(columns=["tenure", "Contract"]), tmp_path / "lacking.csv")
    assert main(["score", "--model", str(trained / "model"), "--file", str(lacking), "--out", str(tmp_path / "o.csv")]) == 2
    assert "error: the model needs columns this table lacks: tenure, Contract" in capsys.readouterr().err
    assert main(["score", "--model", str(tmp_path / "nowhere"), "--file", str(lacking), "--out", str(tmp_path / "o.csv")]) == 2
    assert "error: no model at" in capsys.readouterr().err


def test_the_cli_runs_as_a_module_and_fails_cleanly_on_a_single_class_label(tmp_path):
    frame = pd.DataFrame({"x": range(30), "Churn": ["No"] * 30})
    frame.to_parquet(tmp_path / "one.parquet")
    command = [
        sys.executable,
        "-m",
        "ml",
        "train",
        "--file",
        str(tmp_path / "one.parquet"),
        "--label",
        "Churn",
        "--model",
        str(tmp_path / "m"),
    ]
    environment = {**os.environ, "PYTHONPATH": f"{ROOT / 'layers/journey/python'}{os.pathsep}{ROOT}"}
    # Several runs: Arrow's reader threads, left running at exit, aborted about one run in three
    # (exit 134 after the error line) until the table was read on the calling thread.
    for _ in range(6):
        done = subprocess.run(command, cwd=ROOT, env=environment, capture_output=True, text=True, check=False)
        assert done.returncode == 2, done.stderr
        assert (
            done.stderr.strip().splitlines()[-1]
            == "error: label 'Churn' has a single class ('No' in all 30 rows); a model needs both"
        )


def test_bench_model_prints_microseconds_per_explain(trained, capsys):
    assert main(["bench-model", "--model", str(trained / "model"), "--calls", "200", "--runs", "3"]) == 0
    out = capsys.readouterr().out
    assert "explain: median" in out and "µs per call" in out


def test_make_train_uses_the_table_only_when_file_is_given():
    def dry_run(*args: str) -> str:
        done = subprocess.run(["make", "-n", "-s", *args], cwd=ROOT, capture_output=True, text=True, check=True)
        return [line for line in done.stdout.splitlines() if " -m ml " in line][-1]

    table = dry_run("train", "FILE=t.csv", "LABEL=Churn", "ID=customerID")
    assert '-m ml train --file "t.csv" --label "Churn" --model "out/models/table" --id "customerID"' in table
    assert '-m ml train --journeys "out/demo/journeys" --model "out/models/exit-risk"' in dry_run("train")
    assert '-m ml score --model "m" --file "f.csv" --out "o.csv"' in dry_run("score", "MODEL=m", "FILE=f.csv", "OUT=o.csv")


def test_train_on_journeys_that_are_not_there_is_a_clear_error(tmp_path, capsys):
    pytest.importorskip("ml.journeys")
    assert main(["train", "--journeys", str(tmp_path / "none"), "--model", str(tmp_path / "m")]) == 2
    assert f"error: no journeys directory at {tmp_path / 'none'}" in capsys.readouterr().err


# --- messy exports -------------------------------------------------------------------------------


def _labelled(n: int = 40, **columns: list[str]) -> pd.DataFrame:
    """Columns of n text cells and a Yes/No churn label."""
    return pd.DataFrame({**columns, "churn": ["Yes", "No"] * (n // 2)})


def _kinds(data) -> dict[str, str]:
    return {c["name"]: c["kind"] for c in data.encoding["columns"]} | {d["name"]: "dropped" for d in data.encoding["dropped"]}


def test_currency_percent_and_thousands_are_numbers_at_training_and_at_scoring():
    money = ["$1,234.50", "€1.234", "1 234", "(12.00)", "$87", "USD 5", "2,000,000", "-$3.25"] * 5
    percent = ["45%", "7 %", "100%", "0%", "12.5%"] * 8
    data = training_data(_labelled(spend=money, share=percent), "churn")
    assert _kinds(data) == {"spend": "numeric", "share": "numeric"}
    assert [row[0] for row in data.rows[:8]] == [1234.5, 1.234, 1234.0, -12.0, 87.0, 5.0, 2_000_000.0, -3.25]
    assert [row[1] for row in data.rows[:5]] == [45.0, 7.0, 100.0, 0.0, 12.5]
    assert any("'spend': " in n and "such as '$1,234.50', read as 1234.5" in n for n in data.notes)
    rows = scoring_rows(pd.DataFrame({"spend": ["£2,500.75", "lots"], "share": ["50%", ""]}), data.encoding)
    assert rows == [[2500.75, 50.0], [None, None]]


def test_null_tokens_and_a_few_junk_cells_in_a_numeric_column_become_missing_with_a_count():
    cells = [str(i) for i in range(76)] + ["#N/A", "-", "unknown", "null", "NA", "n/a", "?", "--"] * 3
    data = training_data(_labelled(100, tenure=cells[:100]), "churn")
    assert _kinds(data) == {"tenure": "numeric"}
    assert [row[0] for row in data.rows].count(None) == 24
    note = next(n for n in data.notes if "'tenure': " in n and "not numbers read as missing" in n)
    assert "'-' x3" in note and "'unknown' x3" in note
    blanks = next(n for n in data.notes if "'tenure': numbers as text, " in n)
    assert "'#N/A' x3" in blanks  # what was read as missing, not only how many
    too_dirty = [str(i) for i in range(80)] + ["see notes"] * 20  # 20% text: not a column of numbers
    assert _kinds(training_data(_labelled(100, tenure=too_dirty), "churn")) == {"tenure": "categorical"}


def test_a_decimal_comma_column_is_read_as_such_and_remembered_for_scoring():
    data = training_data(_labelled(usage=["-0,802", "76,0", "1.234,5", "3"] * 10), "churn")
    (column,) = data.encoding["columns"]
    assert column["kind"] == "numeric" and column["decimal"] == ","
    assert [row[0] for row in data.rows[:4]] == [-0.802, 76.0, 1234.5, 3.0]
    assert scoring_rows(pd.DataFrame({"usage": ["2,5"]}), data.encoding) == [[2.5]]


def test_each_scoring_file_is_read_in_its_own_decimal_mark():
    comma = training_data(_labelled(usage=["-0,802", "76,0", "1.234,5", "3"] * 10), "churn").encoding
    point = training_data(_labelled(usage=["-0.802", "76.0", "1,234.5", "3"] * 10), "churn").encoding
    points = pd.DataFrame({"usage": ["1.250", "9.000", "1.25", "2.5"]})  # "1.25" and "2.5" say the mark is a point
    assert scoring_rows(points, comma) == [[1.25], [9.0], [1.25], [2.5]]
    commas = pd.DataFrame({"usage": ["1.250", "9,5", "1,25"]})
    assert scoring_rows(commas, point) == [[1250.0], [9.5], [1.25]]
    assert scoring_rows(pd.DataFrame({"usage": ["1.250"]}), comma) == [[1250.0]]  # either mark reads it: the training's
    assert scoring_rows(pd.DataFrame({"usage": ["1.250"]}), point) == [[1.25]]


def test_a_numeric_column_mostly_not_numbers_at_scoring_is_an_error_not_missing_values():
    encoding = training_data(_labelled(usage=[str(i % 7) for i in range(40)]), "churn").encoding
    notes: list[str] = []
    assert scoring_rows(pd.DataFrame({"usage": ["1", "2", "lots", "-"]}), encoding, notes) == [[1.0], [2.0], [None], [None]]
    assert any("1 cells are not numbers" in n for n in notes)  # "-" is a null token, not junk
    with pytest.raises(TableError, match=r"column 'usage' held numbers .* 2 of its 3 cells here are not numbers \('high' x1"):
        scoring_rows(pd.DataFrame({"usage": ["high", "low", "3"]}), encoding)


@pytest.mark.parametrize(
    "dates",
    [
        ["2024-03-01", "2024-02-11", "2023-12-31", "2024-01-05"],
        ["03/01/2024", "12/31/2023", "01/18/2024", "07/04/2024"],
        ["2024-03-01 10:00:00", "2024-02-11 23:59:59", "2023-12-31 00:00:01", "2024-01-05 12:30:00"],
        ["2024-03-01T10:00:00Z", "2024-02-11T23:59:59+01:00", "2023-12-31T00:00:01Z", "2024-01-05T12:30:00.123Z"],
        ["31.12.2023", "01.02.2024", "15.03.2024", "28.02.2024"],
    ],
)
def test_dates_and_timestamps_in_text_are_dropped_as_dates_not_made_categories(dates):
    data = training_data(_labelled(x=[str(i % 7) for i in range(40)], last_login=dates * 10), "churn")
    (dropped,) = data.encoding["dropped"]
    assert dropped["name"] == "last_login" and dropped["reason"] == f"{DATES_DROPPED}; e.g. {dates[0]!r}"


def test_id_like_applies_to_text_only_and_every_drop_names_a_sample_value():
    n = 40
    data = training_data(
        _labelled(
            n,
            account=[f"A{i:05d}" for i in range(n)],
            balance=[f"${1000 + 13 * i:,}.{i:02d}" for i in range(n)],  # unique in every row, but an amount
            seq=[str(i) for i in range(n)],  # a row number under a name that does not say so
        ),
        "churn",
    )
    reasons = {d["name"]: d["reason"] for d in data.encoding["dropped"]}
    assert reasons["account"] == "id-like (40 distinct values in 40 rows, e.g. 'A00000')"
    assert reasons["seq"].startswith("a row number (0, 1, 2")
    assert _kinds(data)["balance"] == "numeric"


def test_a_label_of_three_values_is_one_against_the_rest_with_positive_and_an_error_without():
    frame = pd.DataFrame({"x": range(6), "outcome": ["churned", "downgraded", "renewed"] * 2})
    with pytest.raises(TableError) as error:
        training_data(frame, "outcome")
    assert "has 3 values: 'churned' (2), 'downgraded' (2), 'renewed' (2)" in str(error.value)
    assert "add POSITIVE=<value> (make) or --positive <value>" in str(error.value)
    data = training_data(frame, "outcome", positive="Churned")
    assert data.labels == [1, 0, 0, 1, 0, 0]
    assert any("every other value = 0 ('downgraded', 'renewed': one value against the rest)" in n for n in data.notes)


def test_label_values_are_trimmed_case_folded_and_numbers_compare_as_numbers():
    messy = pd.DataFrame({"x": range(6), "churn": ["Yes", "yes", "YES", "Yes ", " No", "no"]})
    assert training_data(messy, "churn").labels == [1, 1, 1, 1, 0, 0]
    floats = pd.DataFrame({"x": range(5), "churn": ["1.0", "0.0", "1", "0", ""]})
    data = training_data(floats, "churn")
    assert data.labels == [1, 0, 1, 0]
    assert training_data(floats, "churn", positive="1").labels == [1, 0, 1, 0]
    assert training_data(floats, "churn", positive="0").labels == [0, 1, 0, 1]
    gone = pd.DataFrame({"x": range(4), "status": ["gone", "stayed"] * 2})
    assert training_data(gone, "status").labels == [1, 0, 1, 0]


def test_a_semicolon_file_with_decimal_commas_is_sniffed_and_sep_can_force(tmp_path):
    path = tmp_path / "eu.csv"
    path.write_text("id;usage;plan;churn\n" + "".join(f"A{i};{i},5;p{i % 3};{'Yes' if i % 2 else 'No'}\n" for i in range(30)))
    frame = read_table(path)
    assert list(frame.columns) == ["id", "usage", "plan", "churn"]
    assert frame.attrs["notes"] == ["eu.csv: read as semicolon-separated"]
    data = training_data(frame, "churn", ids=["id"])
    assert [row[0] for row in data.rows[:3]] == [0.5, 1.5, 2.5]
    with pytest.raises(TableError, match=r"the header holds ';': is the file semicolon-separated\? add SEP=';'"):
        training_data(read_table(path, sep=","), "churn")


def test_header_names_are_trimmed_bom_removed_and_repeats_kept_apart_with_a_note(tmp_path):
    path = tmp_path / "h.csv"
    path.write_bytes("\ufeff id , usage ,usage,churn \n".encode() + b"a,1,2,Yes\nb,3,4,No\n")
    frame = read_table(path)
    assert list(frame.columns) == ["id", "usage", "usage.1", "churn"]
    assert "the header repeats 'usage' (columns 2, 3): read as 'usage', 'usage.1'" in frame.attrs["notes"]
    with pytest.raises(TableError, match=r"the header repeats 'usage'"):
        training_data(frame, "churn", ids=["usage"])


def test_scoring_names_a_near_miss_for_a_missing_column():
    encoding = training_data(pd.DataFrame({"Contract": ["a", "b"] * 3, "churn": ["yes", "no"] * 3}), "churn").encoding
    with pytest.raises(TableError, match=r"lacks: Contract \(did you mean 'contract'\?\)"):
        scoring_rows(pd.DataFrame({"contract": ["a"]}), encoding)


def test_a_file_that_is_not_utf8_is_read_as_windows_1252_with_a_note(tmp_path):
    path = tmp_path / "w.csv"
    path.write_bytes("city,churn\nSão Paulo,Yes\nZürich,No\n€ zone,No\n".encode("cp1252"))
    frame = read_table(path)
    assert frame["city"].tolist() == ["São Paulo", "Zürich", "€ zone"]
    assert frame.attrs["notes"] == ["w.csv is not UTF-8 (byte 12); read as cp1252"]
