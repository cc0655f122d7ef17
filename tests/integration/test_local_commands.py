"""`make demo` and `make replay` on the embedded local runtime: what the README promises they produce."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from localrt import demo, replay

pytestmark = pytest.mark.network_local
SAMPLES = Path(__file__).resolve().parents[2] / "samples"
SUMMARY_FIELDS = {
    "events_sent",
    "events_processed",
    "events_rejected",
    "events_lost",
    "duplicates_dropped",
    "signals_by_type",
    "interventions_by_channel",
    "held_out",
    "latency_ms",
    "events_per_second",
}


def lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def test_demo_writes_its_results_and_loses_nothing(tmp_path):
    assert demo.main(["--users", "60", "--seconds", "12", "--out", str(tmp_path)]) == 0
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert SUMMARY_FIELDS | {"struggle_precision", "struggle_recall", "exit_risk_auc"} <= set(summary)
    assert summary["events_lost"] == 0 and summary["events_sent"] > 3000
    assert summary["events_rejected"] > 0 and summary["duplicates_dropped"] > 0  # the demo plays both on purpose
    assert summary["struggle_precision"] >= 0.9 and summary["struggle_recall"] >= 0.9
    assert set(summary["latency_ms"]) >= {"p50", "p95"}
    timer = summary["deadline_timer"]  # the local schedule ran on the stream's clock, and says how often
    assert timer["runs"] > 0 and set(timer["simulated_gap_minutes"]) == set(timer["run_seconds"]) == {"p50", "p95", "max"}
    signals = lines(tmp_path / "signals.jsonl")
    assert signals and set(signals[0]) == {"userId", "featureId", "signalType", "severity", "detectedAt", "rule", "outcome"}
    assert sum(summary["signals_by_outcome"].values()) == len(signals)  # every signal's fate is counted
    assert sum(summary["signals_by_type"].values()) == len(signals)
    decisions = lines(tmp_path / "interventions.jsonl")
    assert decisions and set(decisions[0]) >= {  # the README's fields (delivery state and error may follow)
        "userId",
        "interventionId",
        "signalType",
        "channel",
        "heldOut",
        "status",
        "reason",
        "decidedBy",
        "decidedAt",
    }
    # escalated: a rules' decision held for the agent (the agent's own, or the fallback's, is another item)
    assert {d["status"] for d in decisions} <= {"sent", "held_out", "suppressed", "stale", "escalated"}
    assert all(d.get("delivery") for d in decisions if d["status"] == "sent")  # every send in a known state
    assert summary["held_out"] == sum(1 for d in decisions if d["heldOut"])
    # the apps read their inbox through the HTTPS API and reported outcomes; the uplift comes from the API
    inbox = summary["inbox"]
    assert inbox["inbox_pulls"] > 0 and inbox["acted"] > 0 and inbox["dismissed"] > 0
    assert not inbox["errors"]
    rows = summary["uplift_api"]["signalTypes"]
    assert rows and all({"treated", "holdout", "difference", "ci95", "funnel"} <= set(r) for r in rows)
    reported = sum(r["funnel"]["acted"] + r["funnel"]["dismissed"] for r in rows)
    assert reported == inbox["acted"] + inbox["dismissed"]  # every report reached the stream and was folded
    assert any(r["ci95"] for r in rows)
    # AI decisions: the hard cases went to the agent, played by the local Bedrock stand-in (ok by default)
    ai = summary["ai_decisions"]
    assert ai["bedrock_standin"]["mode"] == "ok" and "not a model" in ai["bedrock_standin"]["label"]
    assert ai["escalations"] > 0 and ai["escalations"] == ai["decided_by_agent"] + ai["decided_by_fallback"] + ai["still_open"]
    assert ai["decided_by_agent"] > 0 and sum(ai["by_reason"].values()) == ai["escalations"]
    assert ai["first_escalations"] and {"escalationId", "reason", "status", "model", "latencyMs", "tokens"} <= set(
        ai["first_escalations"][0]
    )
    assert len(lines(tmp_path / "escalations.jsonl")) == ai["escalations"]
    report = (tmp_path / "report.html").read_text()
    # eight charts: what became of the signals is one, who decided the escalations another
    assert report.count("<svg") == 8 and "Summary" in report and "AI decisions" in report and "not a model" in report


def test_replay_reports_each_bad_line_and_processes_the_rest(tmp_path):
    assert (
        replay.main(["--file", str(SAMPLES / "native_with_malformed.jsonl"), "--format", "native", "--out", str(tmp_path)]) == 0
    )
    rejected = lines(tmp_path / "rejected.jsonl")
    assert [r["line"] for r in rejected] == [41, 81, 121, 161, 201]
    assert [r["code"] for r in rejected] == ["not_json", "schema_violation", "schema_violation", "not_object", "schema_violation"]
    assert "timestamp" in rejected[1]["reason"] and "teleport" in rejected[2]["reason"] and "userId" in rejected[4]["reason"]
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["events_rejected"] == 5 and summary["events_processed"] == summary["lines"] - 5 and summary["events_lost"] == 0


def test_firebase_export_and_native_files_give_the_same_signals(tmp_path):
    native, firebase = tmp_path / "native", tmp_path / "firebase"
    assert replay.main(["--file", str(SAMPLES / "native_events.jsonl"), "--format", "native", "--out", str(native)]) == 0
    assert replay.main(["--file", str(SAMPLES / "firebase_export.jsonl"), "--format", "firebase", "--out", str(firebase)]) == 0
    key = lambda s: (s["userId"], s["featureId"], s["signalType"], s["severity"], s["detectedAt"])  # noqa: E731
    native_signals = sorted(map(key, lines(native / "signals.jsonl")))
    assert native_signals and native_signals == sorted(map(key, lines(firebase / "signals.jsonl")))


def test_replay_refuses_a_missing_file(tmp_path):
    assert replay.main(["--file", str(tmp_path / "nope.jsonl"), "--out", str(tmp_path)]) == 2


def test_chaos_holds_every_invariant_at_a_small_scale(tmp_path):
    from localrt import chaos

    assert chaos.main(["--events", "4000", "--users", "120", "--moto", "thread", "--rate", "3000", "--out", str(tmp_path)]) == 0
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert {
        "events_sent",
        "events_lost",
        "duplicate_effects",
        "poison_injected",
        "poison_quarantined",
        "max_shard_stall_seconds",
        "retry_budget_seconds",
        "interventions_sent_twice",
    } <= set(summary)
    assert summary["events_lost"] == 0 and summary["duplicate_effects"] == 0 and summary["interventions_sent_twice"] == 0
    assert summary["poison_injected"] == summary["poison_quarantined"] > 0 and summary["producer_duplicates"] > 0
    assert sum(summary["faults_injected"].values()) > 0 and summary["reference"]["signals"] > 0


def test_load_reports_throughput_latency_and_memory(tmp_path):
    from localrt import load

    assert load.main(["--minutes", "0.25", "--moto", "thread", "--out", str(tmp_path)]) == 0
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert {"duration_s", "events_per_second", "latency_ms", "rss_mb_first_minute", "rss_mb_last_minute"} <= set(summary)
    assert summary["events_processed"] > 0 and summary["events_per_second"] > 0
    assert 0 < summary["latency_ms"]["p50"] <= summary["latency_ms"]["p95"] <= summary["latency_ms"]["p99"]


def test_replay_warns_about_a_file_out_of_time_order_and_sorts_it(tmp_path, capfd):
    newest_first = tmp_path / "newest_first.jsonl"
    newest_first.write_text("".join(reversed((SAMPLES / "native_events.jsonl").read_text().splitlines(keepends=True)[:150])))
    out = tmp_path / "out"
    assert replay.main(["--file", str(newest_first), "--out", str(out)]) == 0
    printed = " ".join(capfd.readouterr().out.split())
    assert "warning:" in printed and "SORT=1" in printed and "behind" in printed
    summary = json.loads((out / "summary.json").read_text())
    assert summary["lines_out_of_order"] > 100 and summary["worst_behind_ms"] > 3_600_000 and not summary["sorted"]
    assert "processed_late" in summary and "LateEvents" in summary["function_metrics"]

    # the same directory again: refused while it holds a run, unless forced
    assert replay.main(["--file", str(newest_first), "--sort", "--out", str(out)]) == 2
    assert "FORCE=1" in " ".join(capfd.readouterr().out.split())
    assert replay.main(["--file", str(newest_first), "--sort", "--out", str(out), "--force"]) == 0
    assert "warning:" not in capfd.readouterr().out
    summary = json.loads((out / "summary.json").read_text())
    assert summary["sorted"] and summary["lines_out_of_order"] == 0 and summary["events_processed"] == 150


def test_replay_fails_when_nothing_is_processed_and_keeps_each_run(tmp_path, capfd, monkeypatch):
    rejected = tmp_path / "all_bad.jsonl"
    rejected.write_text('{not json\n["a list"]\n{"eventType": "teleport", "userId": "u", "sessionId": "s", "timestamp": 1}\n')
    monkeypatch.chdir(tmp_path)
    assert replay.main(["--file", str(rejected)]) == 1
    printed = " ".join(capfd.readouterr().out.split())
    assert "no event was processed" in printed
    [run] = list((tmp_path / "out" / "replay").iterdir())  # a fresh directory per run, named after the file
    assert run.name.startswith("all_bad-") and (run / "summary.json").is_file() and len(lines(run / "rejected.jsonl")) == 3


def test_demo_trains_the_exit_risk_model_mid_run_and_rescores_silent_users(tmp_path):
    """The demo exports the stored journeys at day 10, trains on them, publishes and deploys the model;
    the rest of the run is scored by it, silent users included (issue 13)."""
    assert demo.main(["--users", "150", "--seconds", "40", "--out", str(tmp_path), "--no-apps"]) == 0
    summary = json.loads((tmp_path / "summary.json").read_text())
    risk = summary["exit_risk_model"]
    training = risk["training"]
    assert "error" not in training, training
    assert training["training_rows"] > 150 and 0.5 < training["heldout_roc_auc"] <= 1.0
    assert (tmp_path / "model" / "model.json").is_file() and (tmp_path / "journeys" / "manifest.json").is_file()
    assert risk["heldout_users_scored_by_model"] > 0  # deployed: the live scores come from the trained model
    assert risk["silent_users_rescored"] > 0
    assert {band["band"] for band in training["heldout_calibration_by_band"]} == {"LOW", "MEDIUM", "HIGH"}
    assert sum(band["n"] for band in training["cross_validated"]["bands"]) == training["training_rows"]
    later = risk["heldout_after_deployment"]  # the deployed model at later cutoffs, on users it never saw
    assert later.get("cutoff_days") and min(later["cutoff_days"]) > training["trained_at_day"], later
    assert sum(band["n"] for band in later["calibration_by_band"]) == later["rows"] > 0
    assert later["users"] <= training["heldout_users"]
    assert later["roc_auc"] is None or 0.0 <= later["roc_auc"] <= 1.0  # None: every row had one outcome


@pytest.mark.slow
def test_the_full_demo_meets_the_exit_risk_done_when_figures(tmp_path):
    """``make demo`` as a newcomer runs it (2,000 users, 14 days): held-out AUC >= 0.90 on users the model
    did not train on, every band of the held-out calibration table populated, silent users re-scored,
    re-engagement sent and measured against its holdout, nothing lost (issue 13). The calibration gaps
    are printed, not asserted: on ~600 held-out users a 10-point bound is still passed or failed partly
    by the sample (1 of 30 held-out splits past it, docs/exit-risk.md; each gap's 95% interval says
    how much)."""
    assert demo.main(["--out", str(tmp_path)]) == 0
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["events_lost"] == 0
    risk = summary["exit_risk_model"]
    training = risk["training"]
    bands = {band["band"]: band for band in training["heldout_calibration_by_band"]}
    print(
        {
            name: (band["n"], band["meanPredicted"], band["observed"], band["gap"], band["gapInterval"])
            for name, band in bands.items()
        }
    )
    assert training["heldout_roc_auc"] >= 0.90, training
    assert all(bands[name]["n"] > 0 for name in ("LOW", "MEDIUM", "HIGH")), bands
    assert risk["silent_users_rescored"] > 0 and risk["heldout_users_scored_by_model"] == training["heldout_users"]
    measured = risk["reengagement"]["treated_vs_holdout"]
    assert risk["reengagement"]["sent_by_channel"] and measured["treated"] > 0 and measured["held_out"] > 0, measured
