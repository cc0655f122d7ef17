"""Exit risk: bounded, banded, explained, and ordered the way the features say."""

from hypothesis import given
from hypothesis import strategies as st

from journey.kernel.clock import DAY_MS
from journey.risk.points import WEIGHTS, band_of, score_exit_risk
from journey.settings import RiskSettings
from journey.users.state import UserState

NOW = 1_793_491_200_000 + 14 * DAY_MS
CFG = RiskSettings()


def healthy() -> UserState:
    return UserState(
        userId="h",
        session_starts=[NOW - i * DAY_MS for i in range(13, -1, -2)],
        flows_started=10,
        flows_done=10,
        video_completion=0.9,
        progress=80,
        days_between_sessions=1.0,
    )


def churning() -> UserState:
    return UserState(
        userId="c",
        session_starts=[NOW - 12 * DAY_MS, NOW - 11 * DAY_MS, NOW - 10 * DAY_MS, NOW - 9 * DAY_MS, NOW],
        days_between_sessions=6.0,
        struggle_times=[NOW - i * 3_600_000 for i in range(6)],
        support_contact_times=[NOW - DAY_MS, NOW - 2 * DAY_MS],
        flows_started=8,
        flows_done=3,
        video_completion=0.2,
        progress=20,
    )


def test_churning_user_scores_higher_and_is_explained():
    good, bad = score_exit_risk(healthy(), NOW, CFG), score_exit_risk(churning(), NOW, CFG)
    assert good.band == "LOW" and good.score < 30
    assert bad.band == "HIGH" and bad.score >= 60
    assert next(c[0] for c in bad.contributors) == "struggle_signal_count_7d"
    assert bad.contributors == tuple(sorted(bad.contributors, key=lambda c: -c[1]))


def test_bands_follow_the_seed():
    assert [band_of(s, CFG) for s in (0, 29, 30, 59, 60, 100)] == ["LOW", "LOW", "MEDIUM", "MEDIUM", "HIGH", "HIGH"]


@given(
    struggles=st.integers(0, 40),
    sessions=st.lists(st.integers(0, 27), max_size=30),
    gap=st.floats(0, 60),
    started=st.integers(0, 50),
    done=st.integers(0, 50),
    video=st.floats(-1, 1),
    progress=st.floats(0, 100),
    support=st.integers(0, 10),
)
def test_score_is_always_within_0_and_100(struggles, sessions, gap, started, done, video, progress, support):
    state = UserState(
        userId="x",
        struggle_times=[NOW - i * 1000 for i in range(struggles)],
        session_starts=[NOW - d * DAY_MS for d in sessions],
        days_between_sessions=gap,
        flows_started=started,
        flows_done=min(done, started),
        video_completion=video,
        progress=progress,
        support_contact_times=[NOW - i * 1000 for i in range(support)],
    )
    risk = score_exit_risk(state, NOW, CFG)
    assert 0 <= risk.score <= 100
    assert sum(points for _, points in risk.contributors) <= sum(WEIGHTS.values())
