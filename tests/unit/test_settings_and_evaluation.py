"""Configuration from the environment, and the scoring helpers the demo reports with."""

import pytest
from pydantic import ValidationError

from journey.settings import Settings
from localrt.evaluation import match_signals, percentile, roc_auc, uplift_by_signal_type
from localrt.simulator import Episode


def test_every_threshold_can_be_set_from_the_environment(monkeypatch):
    monkeypatch.setenv("JOURNEY_DETECTION__RAGE_TAP_COUNT", "4")
    monkeypatch.setenv("JOURNEY_POLICY__HOLDOUT_PERCENT", "20")
    monkeypatch.setenv("JOURNEY_SWITCHES__TIMESTREAM_ENABLED", "false")
    settings = Settings()
    assert settings.detection.rage_tap_count == 4
    assert settings.policy.holdout_percent == 20
    assert settings.switches.timestream_enabled is False


def test_a_bad_setting_fails_loudly_with_its_name(monkeypatch):
    monkeypatch.setenv("JOURNEY_DETECTION__RAGE_TAP_COUNT", "1")
    with pytest.raises(ValidationError, match="rage_tap_count"):
        Settings()


def test_roc_auc():
    assert roc_auc([0.1, 0.2, 0.8, 0.9], [False, False, True, True]) == 1.0
    assert roc_auc([0.9, 0.8, 0.2, 0.1], [False, False, True, True]) == 0.0
    assert roc_auc([0.5, 0.5], [True, False]) == 0.5


def test_percentile_interpolates():
    assert percentile([1, 2, 3, 4], 50) == 2.5
    assert percentile([], 95) == 0.0


def test_signals_are_matched_to_labelled_episodes():
    episodes = [Episode("u1", "checkout", "rage_tap", 1000, 2000), Episode("u2", "upload", "error_pattern", 5000, 9000)]
    signals = [
        {"userId": "u1", "featureId": "checkout", "detectedAt": 1500},
        {"userId": "u1", "featureId": "checkout", "detectedAt": 99_000},  # outside the episode
    ]
    precision, recall, false_positives, missed = match_signals(signals, episodes)
    assert (precision, recall) == (0.5, 0.5)
    assert len(false_positives) == 1 and missed == [episodes[1]]


def test_uplift_compares_treated_with_holdout():
    decisions = [
        {"interventionId": "a", "signalType": "rage_tap", "status": "sent"},
        {"interventionId": "b", "signalType": "rage_tap", "status": "sent"},
        {"interventionId": "c", "signalType": "rage_tap", "status": "held_out"},
        {"interventionId": "d", "signalType": "rage_tap", "status": "suppressed"},
    ]
    outcomes = [{"interventionId": "outcome#a"}, {"interventionId": "outcome#c"}]
    row = uplift_by_signal_type(decisions, outcomes)["rage_tap"]
    assert (row["treated"], row["held_out"], row["treated_rate"], row["held_out_rate"], row["uplift"]) == (2, 1, 0.5, 1.0, -0.5)


def test_the_demos_exit_risk_table_shows_an_undefined_figure_as_a_dash():
    from rich.console import Console

    from localrt.results import print_exit_risk

    spread = {"evaluatedOn": "grouped 5-fold CV over every user", "rocAuc": 0.94, "rocAucSd": None, "bands": []}
    spread["bands"] = [{"band": "HIGH", "n": 0, "meanPredicted": None, "observed": None}]
    console = Console(record=True, width=200)
    print_exit_risk(console, {"training": {"version": "v1", "cross_validated": spread}})
    text = console.export_text()
    assert "0.94 (± -)" in text and "0 / - / -" in text and "None" not in text


def test_the_demos_exit_risk_table_names_the_calibration_curve_and_its_scores():
    from rich.console import Console

    from localrt.results import print_exit_risk

    curve = {"method": "sigmoid", "outOfFoldBrier": {"sigmoid": 0.03231, "isotonic": 0.03276}}
    console = Console(record=True, width=250)
    print_exit_risk(console, {"training": {"version": "v1", "calibration": curve}})
    assert "sigmoid (sigmoid 0.0323 / isotonic 0.0328)" in console.export_text()
