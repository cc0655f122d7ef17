"""Uplift statistics: Wilson score intervals and Newcombe's hybrid score interval of a difference,
against the published worked examples (Newcombe 1998, Statistics in Medicine 17:873-890, Table II,
method 10), and the edge cases (no samples, everything resolved, nothing resolved)."""

from __future__ import annotations

import pytest

from journey.interventions.uplift import Observation, newcombe_interval, uplift_by_signal_type, wilson_interval


@pytest.mark.parametrize(
    ("x1", "n1", "x2", "n2", "low", "high"),
    [
        (56, 70, 48, 80, 0.0524, 0.3339),
        (9, 10, 3, 10, 0.1705, 0.8090),
        (6, 7, 2, 7, 0.0582, 0.8062),
        (5, 56, 0, 29, -0.0381, 0.1926),
        (0, 10, 0, 20, -0.1611, 0.2775),
        (10, 10, 0, 20, 0.6791, 1.0000),
    ],
)
def test_newcombe_hybrid_score_interval_matches_the_published_examples(x1, n1, x2, n2, low, high):
    interval = newcombe_interval(x1, n1, x2, n2)
    assert interval is not None
    assert interval == (pytest.approx(low, abs=5e-5), pytest.approx(high, abs=5e-5))


def test_wilson_interval_of_a_known_proportion():
    # 81 of 263 (Wilson 1927's form; e.g. Brown, Cai & DasGupta): 0.2553 to 0.3662
    assert wilson_interval(81, 263) == (pytest.approx(0.2553, abs=5e-5), pytest.approx(0.3662, abs=5e-5))


def test_all_resolved_and_none_resolved_stay_within_zero_and_one():
    low, high = wilson_interval(20, 20)
    assert high == 1.0 and 0.83 < low < 0.84
    low, high = wilson_interval(0, 20)
    assert low == 0.0 and 0.16 < high < 0.17


def test_no_samples_in_an_arm_means_no_rate_and_no_interval():
    assert wilson_interval(0, 0) is None
    assert newcombe_interval(3, 10, 0, 0) is None
    (row,) = uplift_by_signal_type([Observation("rage_tap", held_out=False, resolved=True)])
    assert row.treated.rate == 1.0 and row.holdout.rate is None
    assert row.difference is None and row.interval is None


def test_successes_beyond_the_sample_are_an_error():
    with pytest.raises(ValueError):
        wilson_interval(11, 10)


def test_per_signal_type_arms_and_the_funnel_of_app_reports():
    seen = [
        *[Observation("rage_tap", False, True, ("shown", "acted"), in_app=True) for _ in range(6)],
        *[Observation("rage_tap", False, False, ("shown", "dismissed"), in_app=True) for _ in range(2)],
        *[Observation("rage_tap", False, False, (), in_app=True) for _ in range(2)],
        Observation("rage_tap", False, True, (), in_app=False),  # a push: in the arms, not in the funnel
        *[Observation("rage_tap", True, True) for _ in range(2)],
        *[Observation("rage_tap", True, False) for _ in range(3)],
        Observation("abandonment", True, False),
    ]
    abandonment, rage = uplift_by_signal_type(seen)
    assert (rage.treated.n, rage.treated.resolved, rage.holdout.n, rage.holdout.resolved) == (11, 7, 5, 2)
    assert rage.difference == pytest.approx(7 / 11 - 2 / 5)
    low, high = rage.interval
    assert low < rage.difference < high
    assert (rage.funnel.sent, rage.funnel.reported) == (10, 8)
    assert rage.funnel.outcomes == {"shown": 8, "dismissed": 2, "acted": 6, "resolved": 0}
    assert abandonment.treated.n == 0 and abandonment.interval is None
