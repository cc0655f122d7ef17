"""The simulated arrival clocks of the local runtime (../shared/DESIGN.md, rule 2 "Two clocks"): a replay's
arrival advances with the file and shrugs off outliers; the simulator's records arrive on their user's clock."""

from __future__ import annotations

import json

from localrt.replay import Line, arrival_clock, decode_lines, disorder, sort_lines
from localrt.runtime import SimulatorClock

MINUTE = 60_000
Y2018 = 1_514_764_800_000  # 2018-01-01
Y2024 = 1_717_200_000_000  # 2024-06-01
Y2099 = 4_070_908_800_000  # 2099-01-01


def lines_of(timestamps: list[int | None]) -> list[Line]:
    return [Line(n, b"{}", None if t is None else f"e{n}", t) for n, t in enumerate(timestamps, start=1)]


def steady(count: int, start: int = Y2024, step: int = 10_000) -> list[int | None]:
    return [start + i * step for i in range(count)]


def test_an_ordered_file_arrives_at_its_own_times():
    timestamps = steady(20)
    arrivals = arrival_clock(timestamps)
    assert arrivals == timestamps
    assert disorder(lines_of(timestamps), arrivals).behind == 0


def test_one_line_stamped_2099_is_from_the_future_not_the_new_now():
    timestamps = steady(20)
    timestamps[10] = Y2099
    arrivals = arrival_clock(timestamps)
    assert all(a is not None and a < Y2024 + 20 * 10_000 for a in arrivals)
    assert arrivals[10] == timestamps[11]  # its arrival is its neighbours' time: the processor clamps it
    assert arrivals[:10] == timestamps[:10] and arrivals[11:] == timestamps[11:]  # the others on time, not 75 years old
    assert disorder(lines_of(timestamps), arrivals).behind == 0


def test_one_line_stamped_2018_is_old_and_moves_nothing():
    timestamps = steady(20)
    timestamps[10] = Y2018
    arrivals = arrival_clock(timestamps)
    assert arrivals[10] == timestamps[9] and arrivals[11:] == timestamps[11:]
    late = disorder(lines_of(timestamps), arrivals)
    assert late.behind == 1 and late.worst_line == 11 and late.worst_ms > 6 * 365 * 86_400_000


def test_in_a_sparse_file_the_neighbours_of_an_outlier_keep_their_own_time():
    hourly = steady(12, step=60 * MINUTE)  # one session an hour: a plain median would shift a neighbour by an hour
    for outlier in (Y2018, Y2099):
        timestamps = list(hourly)
        timestamps[6] = outlier
        arrivals = arrival_clock(timestamps)
        assert arrivals[:6] == hourly[:6] and arrivals[7:] == hourly[7:]
        assert arrivals[6] in (hourly[5], hourly[7])


def test_the_2099_outlier_as_first_or_last_line_does_not_win():
    for position in (0, -1):
        timestamps = steady(10)
        timestamps[position] = Y2099
        assert max(a for a in arrival_clock(timestamps) if a is not None) < Y2099


def test_a_newest_first_file_keeps_its_newest_time_and_is_reported():
    timestamps = list(reversed(steady(30, step=MINUTE)))
    arrivals = arrival_clock(timestamps)
    assert len(set(arrivals)) <= 2 and min(a for a in arrivals if a is not None) >= timestamps[2]  # the clock never goes back
    late = disorder(lines_of(timestamps), arrivals)
    assert late.behind >= 27 and late.worst_ms >= 28 * MINUTE and late.worst_line == 30
    resorted = sort_lines(lines_of(timestamps))
    sorted_times = [line.timestamp for line in resorted]
    assert sorted_times == sorted(timestamps)
    assert disorder(resorted, arrival_clock(sorted_times)).behind == 0


def test_lines_without_a_timestamp_take_the_clock_and_keep_their_place_when_sorted():
    timestamps = [None, Y2024 + 30_000, None, Y2024, Y2024 + 10_000, None, Y2024 + 20_000]
    arrivals = arrival_clock(timestamps)
    assert arrivals[0] == arrivals[1] and arrivals[2] == arrivals[1] and arrivals[5] == arrivals[4]
    assert arrival_clock([None, None]) == [None, None]
    numbers = [line.number for line in sort_lines(lines_of(timestamps))]
    assert numbers == [1, 4, 5, 6, 7, 2, 3]  # a line without one follows the line it came after


def test_firebase_rows_are_read_in_milliseconds():
    row = {
        "event_timestamp": str(Y2024 * 1000),
        "event_name": "screen_view",
        "event_params": [{"key": "firebase_screen", "value": {"string_value": "home"}}],
        "user_pseudo_id": "u1",
        "platform": "WEB",
    }
    [line] = decode_lines([(1, json.dumps(row).encode())], "firebase")
    assert line.timestamp == Y2024 and line.event_id
    [bad] = decode_lines([(2, b"{not json")], "native")
    assert bad.timestamp is None and bad.event_id is None


def test_the_simulator_clock_never_makes_an_event_future_or_stale():
    clock = SimulatorClock()
    assert clock.arrival("bad-1") is None  # nothing seen yet: moto's arrival stands
    assert clock.arrival("u1", Y2024) == Y2024 / 1000
    assert clock.arrival("u2", Y2024 + 3_600_000) == (Y2024 + 3_600_000) / 1000  # another user's clock runs apart
    assert clock.arrival("u1", Y2024 + 1000) == (Y2024 + 1000) / 1000  # u1 is not dragged to u2's hour
    assert clock.arrival("u1", Y2024 - MINUTE) == (Y2024 + 1000) / 1000  # stamped before the user's newest: the user's clock
    assert clock.arrival("u1") == (Y2024 + 1000) / 1000  # a resend: the user's clock
    assert clock.arrival("bad-2") == (Y2024 + 3_600_000) / 1000  # an unknown key: the newest arrival so far
    event = {"eventId": "e", "userId": "u3", "timestamp": Y2024 + 5}
    stamped = clock.stamp([("u3", json.dumps(event).encode(), "e"), ("u3", b"[" * 5000, None), ("u3", b"{", "x")])
    assert [record[3] for record in stamped] == [(Y2024 + 5) / 1000] * 3
