"""The trained exit-risk model's evaluator (journey.risk.model): a hand-made model whose answers are
worked out by hand, its explanations, and every way a model document can be wrong."""

from __future__ import annotations

import copy
import json
import math

import pytest

from journey.risk.model import FORMAT, ExitRiskModel, ModelFormatError


def _sigmoid(z: float) -> float:
    return 1 / (1 + math.exp(-z))


# tree 0: "tenure <= 12" (missing goes left) ? leaf +0.5 : ("support <= 1.5" (missing goes right) ? -0.25 : +0.25)
#   node values are count-weighted means, centred so the root is 0
# tree 1: a single leaf (constant), root = leaf = 0
TREE_0 = [
    [0, 12.0, 1, 1, 2, 0.0],
    [-1, 0, 0, 0, 0, 0.5],
    [2, 1.5, 0, 3, 4, -0.5],
    [-1, 0, 0, 0, 0, -0.75],
    [-1, 0, 0, 0, 0, -0.25],
]


def _document(**changes: object) -> dict:
    document = {
        "format": FORMAT,
        "version": "20260101T000000Z-abcdef12",
        "createdAt": "2026-01-01T00:00:00Z",
        "inputs": ["tenure", "plan=basic", "support"],
        "vocabulary": [],
        "encoding": {},
        "baseScore": -1.0,
        "trees": [copy.deepcopy(TREE_0), [[-1, 0, 0, 0, 0, 0.0]]],
        "calibration": {"x": [0.1, 0.2, 0.5], "y": [0.0, 0.3, 0.6]},
        "metrics": {"rocAuc": 0.8},
    }
    document.update(changes)
    return document


def test_the_log_odds_are_the_base_score_plus_the_leaves_reached():
    model = ExitRiskModel.from_dict(_document())
    assert model.log_odds([10, 0, 0]) == pytest.approx(-0.5)  # tenure <= 12: left leaf
    assert model.log_odds([13, 0, 1]) == pytest.approx(-1.75)  # right, support <= 1.5
    assert model.log_odds([13, 0, 2]) == pytest.approx(-1.25)
    assert model.raw([13, 0, 2]) == pytest.approx(_sigmoid(-1.25))


def test_a_value_on_the_threshold_goes_left_as_in_scikit_learn():
    model = ExitRiskModel.from_dict(_document())
    assert model.log_odds([12.0, 0, 0]) == pytest.approx(-0.5)
    assert model.log_odds([13, 0, 1.5]) == pytest.approx(-1.75)


def test_missing_values_as_none_or_nan_follow_each_splits_missing_side():
    model = ExitRiskModel.from_dict(_document())
    assert model.log_odds([None, 0, 0]) == pytest.approx(-0.5)  # tenure: missing goes left
    assert model.log_odds([math.nan, 0, 0]) == pytest.approx(-0.5)
    assert model.log_odds([20, 0, None]) == pytest.approx(-1.25)  # support: missing goes right
    assert model.log_odds([20, 0, math.nan]) == pytest.approx(-1.25)


def test_calibration_interpolates_between_points_and_is_flat_beyond_them():
    model = ExitRiskModel.from_dict(_document())
    assert model.calibrate(0.0) == 0.0
    assert model.calibrate(0.15) == pytest.approx(0.15)
    assert model.calibrate(0.35) == pytest.approx(0.45)
    assert model.calibrate(0.99) == 0.6
    raw = model.raw([13, 0, 2])  # sigmoid(-1.25) = 0.2227
    assert model.probability([13, 0, 2]) == pytest.approx(0.3 + 0.3 * (raw - 0.2) / 0.3)


def test_explain_attributes_each_split_on_the_path_to_its_input():
    model = ExitRiskModel.from_dict(_document())
    probability, contributions = model.explain([13, 1, 1])
    assert probability == pytest.approx(model.probability([13, 1, 1]))
    # root (0) -> node 2 (-0.5): tenure -0.5; node 2 -> leaf 3 (-0.75): support -0.25; plan is never split
    assert contributions == [("tenure", pytest.approx(-0.5)), ("support", pytest.approx(-0.25))]
    assert sum(c for _, c in contributions) == pytest.approx(model.log_odds([13, 1, 1]) - model.base_score)


def test_explain_lists_only_nonzero_contributions_largest_first():
    tree = [[1, 0.5, 0, 1, 2, 0.0], [-1, 0, 0, 0, 0, -0.1], [-1, 0, 0, 0, 0, 0.1]]
    model = ExitRiskModel.from_dict(_document(trees=[TREE_0, tree]))
    _, contributions = model.explain([5, 1, 0])  # tenure +0.5, plan=basic +0.1
    assert [name for name, _ in contributions] == ["tenure", "plan=basic"]
    _, contributions = model.explain([13, 0, 3])  # tenure -0.5, support +0.25, plan -0.1
    assert [name for name, _ in contributions] == ["tenure", "support", "plan=basic"]


def test_a_vector_of_the_wrong_length_is_refused():
    model = ExitRiskModel.from_dict(_document())
    with pytest.raises(ValueError, match="takes 3 inputs"):
        model.probability([1.0, 2.0])
    with pytest.raises(ValueError, match="takes 3 inputs"):
        model.explain([1.0, 2.0, 3.0, 4.0])


def test_from_json_reads_text_and_bytes_and_keeps_the_headers():
    text = json.dumps(_document(vocabulary=["checkout"], encoding={"label": "Churn"}))
    for source in (text, text.encode()):
        model = ExitRiskModel.from_json(source)
        assert model.version == "20260101T000000Z-abcdef12"
        assert model.inputs == ("tenure", "plan=basic", "support")
        assert model.vocabulary == ("checkout",)
        assert model.encoding == {"label": "Churn"}
        assert model.metrics == {"rocAuc": 0.8}
        assert model.tree_count == 2


def test_input_names_never_reach_the_generated_source():
    names = ['x"); import os; ("', "__import__('os')", "tenure"]
    model = ExitRiskModel.from_dict(_document(inputs=names))
    assert model.explain([20, 0, 3])[1][0][0] == names[0]


def test_a_model_with_one_input_and_an_unused_input_compiles():
    one = _document(inputs=["a"], trees=[[[0, 1.0, 0, 1, 2, 0.0], [-1, 0, 0, 0, 0, -1.0], [-1, 0, 0, 0, 0, 1.0]]])
    assert ExitRiskModel.from_dict(one).log_odds([2.0]) == pytest.approx(0.0)
    unused = _document(inputs=["a", "b"], trees=[[[1, 1.0, 0, 1, 2, 0.0], [-1, 0, 0, 0, 0, -1.0], [-1, 0, 0, 0, 0, 1.0]]])
    assert ExitRiskModel.from_dict(unused).log_odds([None, 0.0]) == pytest.approx(-2.0)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"format": "journey-exit-risk-gbt/2"}, "format"),
        ({"version": ""}, "version"),
        ({"inputs": []}, "inputs"),
        ({"inputs": ["a", "a", "b"]}, "repeat"),
        ({"baseScore": "0.1"}, "baseScore"),
        ({"baseScore": math.inf}, "baseScore"),
        ({"trees": {}}, "trees"),
        ({"trees": [[]]}, "tree 0"),
        ({"trees": []}, "trees is empty: every user would get the same score"),
        ({"trees": [[[3, 1.0, 0, 1, 2, 0.0], [-1, 0, 0, 0, 0, 0.1], [-1, 0, 0, 0, 0, 0.2]]]}, "index out of range"),
        ({"trees": [[[0, 1.0, 0, 1, 5, 0.0], [-1, 0, 0, 0, 0, 0.1], [-1, 0, 0, 0, 0, 0.2]]]}, "index out of range"),
        ({"trees": [[[0, 1.0, 0, 1], [-1, 0, 0, 0, 0, 0.1]]]}, "tree 0 node 0"),
        ({"trees": [[[0, math.nan, 0, 1, 2, 0.0], [-1, 0, 0, 0, 0, 0.1], [-1, 0, 0, 0, 0, 0.2]]]}, "threshold"),
        ({"trees": [[[0, 1.0, 2, 1, 2, 0.0], [-1, 0, 0, 0, 0, 0.1], [-1, 0, 0, 0, 0, 0.2]]]}, "missing_goes_left"),
        ({"trees": [[[0, 1.0, 0, 1, 1, 0.0], [-1, 0, 0, 0, 0, 0.1]]]}, "children"),
        ({"trees": [[[-1, 0, 0, 0, 0, 0.0], [0, 1.0, 0, 0, 2, 0.0], [-1, 0, 0, 0, 0, 0.1]]]}, "children"),
        ({"trees": [[[0, 1.0, 0, 1, 2, 0.0], [-1, 0, 0, 0, 0, 0.1], [-1, 0, 0, 0, 0, 0.2], [-1, 0, 0, 0, 0, 0.3]]]}, "reached"),
        ({"calibration": {"x": [0.1, 0.1], "y": [0.2, 0.3]}}, "not ascending"),
        ({"calibration": {"x": [0.1, 0.2], "y": [0.3, 0.2]}}, "not ascending"),
        ({"calibration": {"x": [0.1, 0.2], "y": [0.3, 1.2]}}, "within 0..1"),
        ({"calibration": {"x": [0.1], "y": [0.2, 0.3]}}, "same length"),
        ({"calibration": None}, "calibration"),
        ({"calibration": {"x": [-0.1, 0.2], "y": [0.2, 0.3]}}, r"calibration x \(raw probabilities\) must stay within 0..1"),
        ({"calibration": {"x": [0.1, 1.5], "y": [0.2, 0.3]}}, "calibration x"),
        ({"baseScore": 1e308}, "log-odds beyond"),
        (
            {"trees": [[[0, 1.0, 0, 1, 2, 0.0], [-1, 0, 0, 0, 0, 0.1], [-1, 0, 0, 0, 0, -5e3]]]},
            "tree 0 node 2 value .* log-odds beyond",
        ),
        (
            {"trees": [[[0, 1.0, True, 1, 2, 0.0], [-1, 0, 0, 0, 0, 0.1], [-1, 0, 0, 0, 0, 0.2]]]},
            "missing_goes_left must be 0 or 1",
        ),
        ({"trees": [[[0.0, 1.0, 0, 1, 2, 0.0], [-1, 0, 0, 0, 0, 0.1], [-1, 0, 0, 0, 0, 0.2]]]}, "must be a whole number"),
    ],
)
def test_a_malformed_model_is_refused_with_what_is_wrong(changes, message):
    with pytest.raises(ModelFormatError, match=message):
        ExitRiskModel.from_dict(_document(**changes))


def test_a_tree_deeper_than_the_evaluator_takes_is_refused():
    chain = []  # internal node 2k splits at k: left a leaf, right the next internal node, 60 deep
    for k in range(60):
        chain += [[0, float(k), 0, 2 * k + 1, 2 * k + 2, 0.0], [-1, 0, 0, 0, 0, 0.0]]
    chain.append([-1, 0, 0, 0, 0, 0.0])
    with pytest.raises(ModelFormatError, match="60 deep"):
        ExitRiskModel.from_dict(_document(trees=[chain]))
    assert ExitRiskModel.from_dict(_document(trees=[[*chain[:80], [-1, 0, 0, 0, 0, 0.0]]])).log_odds([100.0, 0, 0]) == -1.0


def test_text_that_is_not_json_or_not_an_object_is_refused():
    with pytest.raises(ModelFormatError, match="not JSON"):
        ExitRiskModel.from_json("{nope")
    with pytest.raises(ModelFormatError, match="object"):
        ExitRiskModel.from_json("[1, 2]")


def test_explain_top_keeps_what_explain_says_of_the_raising_inputs():
    """The stream processor's cheaper call: the same probability, the three largest positive
    contributions of explain, and the sum of all positive ones."""
    import random

    from localrt.bench import full_size_model

    model = full_size_model(trees=40, depth=3, vocabulary_size=2)
    rng = random.Random(3)
    for _ in range(50):
        values = [None if rng.random() < 0.1 else rng.uniform(0, 6) for _ in model.inputs]
        probability, contributions = model.explain(values)
        top_probability, top, total = model.explain_top(values)
        raising = sorted((c for _, c in contributions if c > 0), reverse=True)
        assert top_probability == probability
        assert [c for _, c in top] == raising[:3]
        assert total == pytest.approx(sum(raising))
