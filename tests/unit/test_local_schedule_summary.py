"""The local deadline-timer schedule's figures in a run's summary (localrt.results.timer_summary):
how often the timer ran on the stream's simulated clock and how long each run took."""

from __future__ import annotations

from types import SimpleNamespace

from localrt.results import timer_summary
from localrt.runtime import DeadlineSchedule

MINUTE = 60_000


def test_the_summary_gives_the_runs_the_simulated_gaps_between_them_and_each_runs_seconds():
    schedule = DeadlineSchedule(run=lambda scheduled_ms: {"commands": 0}, mode="minute")
    for at in (0, 30, 90, 100, 400):  # minutes of the stream's clock
        schedule.run(at * MINUTE)
    assert schedule.run(100 * MINUTE) is None  # the clock never goes back: skipped, not counted
    summary = timer_summary(SimpleNamespace(deadline_schedule=schedule))
    assert summary["runs"] == 5
    assert summary["simulated_gap_minutes"] == {"p50": 45.0, "p95": 264.0, "max": 300.0}  # gaps 10, 30, 60, 300
    slowest = max(run["took_s"] for run in schedule.runs)
    assert summary["run_seconds"]["max"] == round(slowest, 2) >= summary["run_seconds"]["p50"]


def test_the_run_on_at_the_end_of_the_input_is_not_a_gap_of_the_cadence():
    schedule = DeadlineSchedule(run=lambda scheduled_ms: {"commands": 0}, mode="minute", run_on_ms=16 * MINUTE)
    schedule.run(0)
    schedule.run(2 * MINUTE)
    schedule.observe(3 * MINUTE / 1000)  # the newest arrival; the input ends there
    assert schedule.run_on() is not None and schedule.runs[-1]["run_on"]
    summary = timer_summary(SimpleNamespace(deadline_schedule=schedule))
    assert summary["runs"] == 2 and summary["simulated_gap_minutes"]["max"] == 2.0


def test_no_figures_without_a_per_minute_schedule():
    assert timer_summary(SimpleNamespace(deadline_schedule=None)) is None
    assert timer_summary(SimpleNamespace(deadline_schedule=DeadlineSchedule(run=lambda _: {}, mode="end"))) is None
