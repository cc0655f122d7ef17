"""Video intelligence, as docs/video.md defines it: given a user's video events, expect each video's
summary (views, watch time, completion, replays, skips, pauses, speed), its comprehension indicators
and readiness signals, the interest score, and what exit risk and the agent read from them."""

from __future__ import annotations

import json
import random

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from journey.events.decoding import decode_event
from journey.events.model import UserEvent
from journey.events.vocabulary import canonical_action
from journey.kernel.clock import DAY_MS, MINUTE_MS
from journey.kernel.ids import KEY_BYTES
from journey.risk.features import risk_features
from journey.users.codec import decode_state, encode_state
from journey.users.profile import update_profile
from journey.users.state import VIDEOS_CAP, UserState
from journey.video.engagement import VideoSummary, record_video_event, summary_of
from journey.video.intelligence import engagement_overview, interest_score, overall_interest, video_insight
from tests.builders import T0, canonical, event

S = 1_000  # ms
LENGTH = 300_000  # a five-minute video, ms


def video(t: int, action: str | None = None, video_id: str = "intro", **data) -> dict:
    """A video_engagement event at ``t`` (ms after T0) on ``video_id``, five minutes long unless told."""
    data.setdefault("duration", LENGTH)
    if action is not None:
        data["action"] = action
    return event("video_engagement", t=T0 + t, videoId=video_id, **data)


def watch(*events: dict, cap: int = VIDEOS_CAP) -> dict[str, list]:
    """The users's per-video summaries after ``events``, in order."""
    videos: dict[str, list] = {}
    for raw in events:
        record_video_event(videos, canonical(raw), cap)
    return videos


def summary(videos: dict[str, list], video_id: str = "intro") -> VideoSummary:
    return summary_of(videos[video_id])


# --- watching ------------------------------------------------------------------------------------------


def test_a_short_clip_played_to_the_end_is_one_view_completed_with_focus():
    clip = watch(
        video(0, "play", duration=15_000, videoPosition=0),
        video(15 * S, "complete", duration=15_000, completionRate=1.0),
    )
    got = summary(clip)
    assert (got.views, got.watchMs, got.maxCompletion, got.replays, got.skips) == (1, 15_000, 1.0, 0, 0)
    insight = video_insight(got)
    assert insight.comprehensionIndicators == ()
    assert insight.readinessSignals == ("completed_with_focus",)
    assert insight.interestScore == 0.8  # 0.6 x 1 (completion) + 0.2 x 1 (depth) + 0.2 x 0 (no repeat view)


def test_a_watch_reported_in_one_event_as_the_seed_sends_it_is_a_view_each_time():
    videos = watch(video(0, completionRate=0.5), video(10 * MINUTE_MS, completionRate=1.0))
    got = summary(videos)
    assert (got.views, got.watchMs, got.maxCompletion) == (2, 150_000 + 300_000, 1.0)
    assert video_insight(got).interestScore == 0.9  # 0.6 + 0.2 x 1 (450 s played of 300) + 0.2 x 1/2 (one repeat)


def test_scrubbing_to_the_end_then_leaving_is_a_skip_not_a_completion():
    videos = watch(
        video(0, "play", videoPosition=0),
        video(20 * S, "seek", videoPosition=20, seekTo=290),
        video(30 * S, "complete", videoPosition=300, completionRate=1.0),  # the player says "100 %"
    )
    got = summary(videos)
    assert (got.skips, got.watchMs, got.maxCompletion) == (1, 30_000, 0.1)  # 20 s, then the last 10 s
    insight = video_insight(got)
    assert insight.comprehensionIndicators == ("skipped_ahead",)
    assert insight.readinessSignals == ("abandoned_early",)


def test_a_skip_the_player_gives_no_positions_for_counts_nothing_after_it_as_watched():
    got = summary(watch(video(0, "play"), video(5 * S, "skip"), video(9 * S, "complete", completionRate=1.0)))
    assert (got.skips, got.watchMs, got.maxCompletion) == (1, 0, 0.0)


def test_going_back_over_one_part_twice_is_a_rewatched_section_not_readiness():
    videos = watch(
        video(0, "play", videoPosition=0),
        video(100 * S, "seek", videoPosition=100, seekTo=60),
        video(140 * S, "seek", videoPosition=100, seekTo=60),
        video(400 * S, "complete", videoPosition=300, completionRate=1.0),
    )
    got = summary(videos)
    assert (got.replays, got.replayedAt, got.skips) == (2, 60.0, 0)
    assert got.watchMs == (100 + 40 + 240) * S  # the part gone over counts each time it played
    assert got.maxCompletion == 1.0
    insight = video_insight(got)
    assert insight.comprehensionIndicators == ("rewatched_section",)
    assert "completed_with_focus" not in insight.readinessSignals


def test_going_back_over_a_part_does_not_make_a_view_more_complete_than_where_it_got_to():
    videos = watch(
        video(0, "play", videoPosition=0),
        video(100 * S, "replay", videoPosition=100, seekTo=0),
        video(200 * S, "stop", videoPosition=100, completionRate=100 / 300),
    )
    got = summary(videos)
    assert (got.replays, got.watchMs, got.maxCompletion) == (1, 200_000, 0.333)


def test_twice_the_speed_to_the_end_is_watched_at_speed_and_counts_the_videos_own_time():
    videos = watch(
        video(0, "play", videoPosition=0, playbackSpeed=2.0),
        video(150 * S, "complete", videoPosition=300, completionRate=1.0),
    )
    got = summary(videos)
    assert (got.speed, got.watchMs, got.maxCompletion) == (2.0, LENGTH, 1.0)
    insight = video_insight(got)
    assert insight.comprehensionIndicators == ("watched_at_speed",)
    assert insight.readinessSignals == ("completed_with_focus",)


def test_pausing_three_times_in_a_view_is_paused_often():
    events = [video(0, "play", videoPosition=0)]
    for i, at in enumerate((40, 90, 150)):
        events += [video((at + i) * S, "pause", videoPosition=at), video((at + i + 1) * S, "resume", videoPosition=at)]
    got = summary(watch(*events))
    assert got.pauses == 3 and got.watchMs == 150_000
    assert "paused_often" in video_insight(got).comprehensionIndicators


def test_events_out_of_order_give_the_summary_the_order_would():
    in_order = [
        video(0, "play", videoPosition=0),
        video(60 * S, "pause", videoPosition=60),
        video(120 * S, "resume", videoPosition=60),
        video(360 * S, "complete", videoPosition=300, completionRate=1.0),
    ]
    shuffled = [in_order[0], in_order[2], in_order[3], in_order[1]]  # the pause arrives last
    assert summary(watch(*shuffled)) == summary(watch(*in_order))
    got = summary(watch(*shuffled))
    assert (got.views, got.pauses, got.watchMs, got.lastWatchedAt) == (1, 1, LENGTH, T0 + 360 * S)


def test_a_late_play_never_begins_a_view_nor_moves_the_videos_time():
    got = summary(watch(video(300 * S, "complete", completionRate=1.0), video(0, "play", videoPosition=0)))
    assert (got.views, got.lastWatchedAt, got.maxCompletion) == (1, T0 + 300 * S, 1.0)


def test_a_late_report_of_an_earlier_view_adds_no_watch_time_twice():
    got = summary(
        watch(
            video(0, "play"),
            video(300 * S, "complete", completionRate=1.0),
            video(2 * MINUTE_MS + 300 * S, "play", videoPosition=0),  # again
            video(299 * S, "progress", completionRate=1.0),  # the first view's last report, arriving late
        )
    )
    assert (got.views, got.watchMs, got.maxCompletion) == (2, LENGTH, 1.0)


def test_a_new_view_begins_with_a_play_after_the_end_or_after_half_an_hour_and_a_return_after_12_hours():
    videos = watch(
        video(0, "play"),
        video(60 * S, "stop", completionRate=0.2),
        video(61 * S, "dismiss", completionRate=0.2),  # the same view closing: not a new one
        video(2 * MINUTE_MS, "play"),  # again, at once
        video(3 * MINUTE_MS, "pause"),
        video(40 * MINUTE_MS, "resume"),  # 37 minutes later: a new view
        video(DAY_MS, "play"),  # the next day: a new view, and a return
    )
    got = summary(videos)
    assert (got.views, got.returns) == (4, 1)
    assert "returned_to_video" in video_insight(got).readinessSignals


def test_a_view_still_under_way_is_not_abandoned_until_half_an_hour_passes():
    videos = watch(video(0, "play", videoPosition=0), video(20 * S, "pause", videoPosition=20))
    got = summary(videos)
    assert "abandoned_early" not in video_insight(got, now_ms=T0 + 10 * MINUTE_MS).readinessSignals
    assert "abandoned_early" in video_insight(got, now_ms=T0 + 31 * MINUTE_MS).readinessSignals


def test_the_segment_video_specs_own_position_fields_are_read():
    raw = video(20 * S, "seek")
    raw["eventData"] |= {"position": 20, "seek_position": 200}  # Segment's Video Playback Seek Started
    got = summary(watch(video(0, "play", videoPosition=0), raw))
    assert (got.skips, got.watchMs, got.position) == (1, 20_000, 200.0)


def test_the_players_words_are_read_as_the_video_actions():
    spellings = {
        "skipBack": "replay",
        "rewind": "replay",
        "fastForward": "skip",
        "seekStarted": "seek",
        "playbackRate": "speed_change",
        "video_ended": "complete",
        "videoStop": "stop",
        "onPlay": "play",
    }
    assert {word: canonical_action(word) for word in spellings} == spellings


# --- bounds --------------------------------------------------------------------------------------------


def test_a_video_id_longer_than_the_model_allows_is_refused_with_its_reason():
    decoded = decode_event(json.dumps(video(0, "play", video_id="v" * 129)).encode(), 65_536)
    assert not isinstance(decoded, UserEvent) and "videoId" in decoded.reason


def test_a_long_multibyte_video_id_is_kept_under_a_key_bounded_in_bytes():
    long_id = "動画" * 64  # 128 characters, 384 bytes
    videos = watch(video(0, "play", video_id=long_id))
    (key,) = videos
    assert len(key.encode()) <= KEY_BYTES and key != long_id and key.startswith("動画")
    assert summary(videos, key).views == 1


@pytest.mark.parametrize(
    "field, value",
    [("videoPosition", -1), ("videoPosition", 86_401), ("seekTo", 1e9), ("playbackSpeed", 0), ("playbackSpeed", 32)],
)
def test_video_fields_out_of_bounds_are_refused(field, value):
    decoded = decode_event(json.dumps(video(0, "play", **{field: value})).encode(), 65_536)
    assert not isinstance(decoded, UserEvent) and field in decoded.reason


def test_an_event_naming_no_video_changes_no_summary():
    assert watch(event("video_engagement", t=T0, action="play", completionRate=0.5)) == {}


def test_past_the_cap_the_least_recently_watched_video_goes_ties_the_first_watched():
    videos = watch(
        video(0, "play", video_id="a"),
        video(0, "play", video_id="b"),  # the same time as a
        video(1 * S, "play", video_id="c"),
        video(2 * S, "pause", video_id="a"),  # a watched again: now more recent than b
        video(3 * S, "play", video_id="d"),
        cap=3,
    )
    assert list(videos) == ["a", "c", "d"]
    assert list(watch(video(0, "play", video_id="a"), video(0, "play", video_id="b"), cap=1)) == ["b"]


def test_a_full_cap_of_summaries_stays_small_in_the_state_item():
    typical = watch(*[video(i * DAY_MS, "play", video_id=f"v{i}") for i in range(VIDEOS_CAP)])
    for raw in [video(DAY_MS * 9 + i, "complete", video_id=f"v{i}", completionRate=0.82) for i in range(VIDEOS_CAP)]:
        record_video_event(typical, canonical(raw), VIDEOS_CAP)
    assert len(orjson.dumps(typical)) <= 80 * VIDEOS_CAP  # about 70 bytes a video with short ids
    longest = {f"{'動' * 41}{i:02d}"[:43]: [T0, 10**6, 10**11, 0.999, 10**6, 10**6, 10**6, 0.0625, 86_400_000, 10**4,
               86_399.9, 86_399.9, 10**11, 7] for i in range(VIDEOS_CAP)}  # fmt: skip
    assert len(orjson.dumps(longest)) < 2_100  # the largest a user can make: 128-byte keys, counters at a million


@given(
    st.lists(
        st.tuples(
            st.integers(0, 4 * 60 * MINUTE_MS),
            st.sampled_from(["play", "pause", "resume", "seek", "skip", "replay", "complete", "stop", "progress", None]),
            st.sampled_from(["a", "b", "c"]),
            st.one_of(st.none(), st.floats(0, 400)),
            st.one_of(st.none(), st.floats(0, 400)),
            st.one_of(st.none(), st.floats(0, 1)),
        ),
        max_size=25,
    )
)
@settings(max_examples=60, deadline=None)
def test_any_sequence_of_video_events_keeps_every_summary_within_its_bounds(events):
    raws = [
        video(t, action, video_id, videoPosition=pos, seekTo=to, completionRate=rate)
        for t, action, video_id, pos, to, rate in events
    ]
    for raw in raws:
        raw["eventData"] = {k: v for k, v in raw["eventData"].items() if v is not None}
    videos = watch(*raws, cap=2)
    assert len(videos) <= 2
    for stored in videos.values():
        got = summary_of(stored)
        assert 0.0 <= got.maxCompletion <= 1.0 and 0.0 <= interest_score(got) <= 1.0
        assert got.views >= 1 and got.watchMs >= got.viewWatchMs >= 0
        assert min(got.replays, got.skips, got.pauses, got.returns) >= 0


# --- overview, exit risk, the state --------------------------------------------------------------------


def test_the_overview_lists_videos_newest_first_with_a_recency_weighted_interest():
    now = T0 + 7 * DAY_MS
    videos = watch(
        video(0, "play", video_id="old", videoPosition=0),  # a week before now: counts half
        video(300 * S, "complete", video_id="old", videoPosition=300, completionRate=1.0),
        video(now - T0 - 60 * MINUTE_MS, "play", video_id="new", videoPosition=0),
        video(now - T0 - 59 * MINUTE_MS, "stop", video_id="new", videoPosition=30, completionRate=0.1),
    )
    overview = engagement_overview(videos, now)
    assert json.loads(orjson.dumps(overview)) == overview  # JSON as it is
    assert overview["videoCount"] == 2 and [v["videoId"] for v in overview["videos"]] == ["new", "old"]
    new, old = overview["videos"]
    assert set(new) == {"videoId", "engagement", "intelligence"}
    assert new["engagement"] == {
        "lastWatchedAt": now - 59 * MINUTE_MS,
        "views": 1,
        "watchMs": 30_000,
        "maxCompletion": 0.1,
        "replays": 0,
        "skips": 0,
        "pauses": 0,
        "playbackSpeed": 1.0,
        "durationMs": LENGTH,
        "returns": 0,
        "replayedAt": None,
    }
    assert new["intelligence"] == {"interestScore": 0.08, "comprehensionIndicators": [], "readinessSignals": ["abandoned_early"]}
    assert old["intelligence"]["readinessSignals"] == ["completed_with_focus"]
    weight_old = 0.5 ** ((7 * DAY_MS - 300 * S) / (7 * DAY_MS))
    expected = (1.0 * 0.08 * 0.5 ** (59 * MINUTE_MS / (7 * DAY_MS)) + weight_old * 0.8) / (
        0.5 ** (59 * MINUTE_MS / (7 * DAY_MS)) + weight_old
    )
    assert overview["interestScore"] == round(expected, 3) == overall_interest(videos, now)
    assert overview["readinessSignals"] == ["abandoned_early", "completed_with_focus"]
    assert engagement_overview({}, now) == {
        "videoCount": 0,
        "interestScore": None,
        "comprehensionIndicators": [],
        "readinessSignals": [],
        "videos": [],
    }


def profile_of(*events: dict) -> UserState:
    state = UserState(userId="u1")
    for raw in events:
        update_profile(canonical(raw), state)
    return state


def test_a_user_who_abandons_videos_early_is_riskier_on_video_engagement_than_one_who_completes_them():
    rng = random.Random(5)
    leaver, finisher = [], []
    for i in range(4):
        start = i * DAY_MS
        length = rng.randint(60, 600)
        leaver += [
            video(start, "play", f"v{i}", videoPosition=0, duration=length * S),
            video(start + 20 * S, "stop", f"v{i}", videoPosition=0.1 * length, completionRate=0.1, duration=length * S),
        ]
        finisher += [
            video(start, "play", f"v{i}", videoPosition=0, duration=length * S),
            video(start + length * S, "complete", f"v{i}", videoPosition=length, completionRate=1.0, duration=length * S),
        ]
    now = T0 + 4 * DAY_MS
    risky = risk_features(profile_of(*leaver), now).video_engagement_score
    engaged = risk_features(profile_of(*finisher), now).video_engagement_score
    assert risky > 0.9 and engaged <= 0.2 and risky > engaged


def test_a_scrub_to_the_end_weighs_on_exit_risk_though_the_player_reported_it_complete():
    state = profile_of(
        video(0, "play", videoPosition=0),
        video(20 * S, "seek", videoPosition=20, seekTo=295),
        video(25 * S, "complete", videoPosition=300, completionRate=1.0),
    )
    assert state.video_completion == 1.0 and state.videos_watched == 1  # the running mean takes the player's word
    assert risk_features(state, T0 + MINUTE_MS).video_engagement_score > 0.9


def test_video_engagement_falls_back_to_completion_without_video_ids_and_to_one_half_without_videos():
    assert risk_features(UserState(userId="u1"), T0).video_engagement_score == 0.5
    nameless = profile_of(event("video_engagement", t=T0, completionRate=0.8))
    assert nameless.videos == {} and risk_features(nameless, T0).video_engagement_score == pytest.approx(0.2)


def test_events_of_other_types_leave_the_videos_as_they_are():
    state = profile_of(
        video(0, "play", videoPosition=0),
        event("feature_interaction", t=T0 + S, feature="checkout", action="start"),
        event("app_lifecycle", t=T0 + 2 * S, action="pause"),  # the app paused, not the video
    )
    assert summary(state.videos).pauses == 0 and state.videos_watched == 0


def test_the_state_round_trips_with_its_videos_through_the_codec():
    state = profile_of(
        video(0, "play", videoPosition=0, playbackSpeed=1.5),
        video(60 * S, "replay", videoPosition=60, seekTo=30),
        video(400 * S, "complete", videoPosition=300, completionRate=1.0),
        video(DAY_MS, "play", video_id="next"),
    )
    back = decode_state("u1", encode_state(state))
    assert back == state and list(back.videos) == ["intro", "next"]
    assert summary(back.videos) == summary(state.videos)


def test_a_summary_stored_before_a_field_was_appended_reads_with_its_default():
    stored = list(summary(watch(video(0, "play", videoPosition=0))))
    assert summary_of(stored[:-3]) == summary_of([*stored[:-3], -1.0, 0, 0])
