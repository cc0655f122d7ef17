"""Reads back what the system stored and writes the machine-readable results of a run."""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import pairwise
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from journey.adapters.aws.codecs.interventions import intervention_record, is_escalation, is_outcome, is_report
from journey.adapters.aws.codecs.signals import signal_record
from journey.adapters.aws.codecs.user_state import risk_summary
from localrt.evaluation import percentile, uplift_by_signal_type
from localrt.report import write_report
from localrt.runtime import LocalRuntime
from ml.text import interval_text

SIGNAL_FIELDS = ("userId", "featureId", "signalType", "severity", "detectedAt", "rule", "outcome")
# function metrics the summary table already shows in other words; any other nonzero one gets its own row
SHOWN_METRICS = frozenset(
    {
        "EventsIn",
        "EventsApplied",
        "EventsRejected",
        "DuplicatesDropped",
        "LateEvents",
        "InterventionsHeldOut",
        "InterventionsSuppressed",
    }
)
SHOWN_METRIC_PREFIXES = ("Rejected_", "Signals_", "Interventions_")
# ``delivery``: the send's ledger state (journey.interventions.ledger.Delivery; none for held-out and
# suppressed decisions); ``deliveryError``: why it did not go through, or why its outcome is unknown
DECISION_FIELDS = (
    "userId",
    "interventionId",
    "signalType",
    "channel",
    "heldOut",
    "status",
    "reason",
    "decidedBy",
    "decidedAt",
    "delivery",
    "deliveryError",
)
# an escalation's provenance (journey.agent.escalation.EscalationRecord)
ESCALATION_FIELDS = (
    "userId",
    "escalationId",
    "signalId",
    "signalType",
    "featureId",
    "severity",
    "reason",
    "ruleIntervention",
    "status",
    "fallbackReason",
    "finalInterventionId",
    "model",
    "latencyMs",
    "inputTokens",
    "outputTokens",
    "escalatedAt",
    "closedAt",
)


def read_signals(rt: LocalRuntime) -> list[dict]:
    return sorted((signal_record(i) for i in rt.scan("SIGNALS_TABLE")), key=lambda s: (s["detectedAt"], s["userId"]))


def read_decisions(rt: LocalRuntime) -> tuple[list[dict], list[dict]]:
    """(decisions, outcomes) from the Interventions table (its escalation records: :func:`read_escalations`)."""
    items = rt.scan("INTERVENTIONS_TABLE")
    outcomes = [intervention_record(i) for i in items if is_outcome(i)]
    decisions = sorted(
        (intervention_record(i) for i in items if not is_outcome(i) and not is_report(i) and not is_escalation(i)),
        key=lambda d: (d["decidedAt"], d["userId"]),
    )
    return decisions, outcomes


def read_escalations(rt: LocalRuntime) -> list[dict]:
    """The escalation records (sort key ``escalation#<escalationId>``), oldest first."""
    records = (intervention_record(i) for i in rt.scan("INTERVENTIONS_TABLE") if is_escalation(i))
    return sorted(records, key=lambda e: (e.get("escalatedAt", 0), e.get("escalationId", "")))


def decider(decided_by: str | None) -> str:
    """Who decided, in a word: ``agent`` (``agent:<model>``), ``fallback`` (``fallback:rule:<type>``), ``rule``."""
    return str(decided_by or "none").split(":", 1)[0]


def fallback_code(reason: str | None) -> str:
    """A fallback's reason code (the invoker's ``<code>: <detail>``; the processor's ``no_answer``, ``displaced``)."""
    return str(reason or "unknown").split(":", 1)[0].strip() or "unknown"


def ai_decisions(escalations: list[dict], decisions: list[dict], path: dict | None, first: int = 10) -> dict:
    """The escalation path's figures: escalations by reason and by who decided (agent, fallback by
    reason, still open), the agent's latency and tokens, the decisions by decider, the Bedrock stand-in's
    calls and mode, and the first escalations with their provenance."""
    status = Counter(e.get("status") or "open" for e in escalations)
    agent_latency = [float(e["latencyMs"]) for e in escalations if e.get("status") == "agent" and e.get("latencyMs")]
    by_id = {d["interventionId"]: d for d in decisions}
    sent = Counter(decider(d.get("decidedBy")) for d in decisions if d.get("status") == "sent")
    provenance = []
    for e in escalations[:first]:
        final = by_id.get(e.get("finalInterventionId") or "", {})
        provenance.append(
            {
                "escalationId": e.get("escalationId"),
                "reason": e.get("reason"),
                "signal": f"{e.get('signalType')} on {e.get('featureId')} ({e.get('severity')})",
                "status": e.get("status"),
                "fallbackReason": e.get("fallbackReason") or None,
                "rulesChoice": e.get("ruleIntervention") or None,
                "final": {k: final.get(k) for k in ("interventionType", "channel", "status", "decidedBy", "delivery")}
                if final
                else None,
                "model": e.get("model") or None,
                "latencyMs": e.get("latencyMs"),
                "tokens": {"input": e.get("inputTokens", 0), "output": e.get("outputTokens", 0)},
            }
        )
    return {
        "escalations": len(escalations),
        "by_reason": dict(Counter(e.get("reason") for e in escalations).most_common()),
        "decided_by_agent": status.get("agent", 0),
        "decided_by_fallback": status.get("fallback", 0),
        "still_open": status.get("open", 0),
        "fallback_by_reason": dict(
            Counter(fallback_code(e.get("fallbackReason")) for e in escalations if e.get("status") == "fallback").most_common()
        ),
        "agent_latency_ms": {
            "p50": round(percentile(agent_latency, 50), 1),
            "p95": round(percentile(agent_latency, 95), 1),
            "samples": len(agent_latency),
        },
        "tokens": {
            "input": sum(int(e.get("inputTokens") or 0) for e in escalations),
            "output": sum(int(e.get("outputTokens") or 0) for e in escalations),
        },
        "sends_by_decider": dict(sorted(sent.items())),
        "agent_decisions_by_status": dict(
            sorted(Counter(d.get("status") for d in decisions if decider(d.get("decidedBy")) == "agent").items())
        ),
        **(path or {}),
        "first_escalations": provenance,
    }


def read_risk(rt: LocalRuntime) -> dict[str, dict]:
    return {i["userId"]: i for i in (risk_summary(x) for x in rt.scan("STATE_TABLE"))}


def function_metrics(function_log: Path) -> dict[str, float]:
    """Every count metric the function emitted (CloudWatch embedded metric format in its log),
    summed over the run by name: what a CloudWatch dashboard would total. New metrics show up here
    without a change (``LateEvents`` and whatever else the processor counts)."""
    totals: dict[str, float] = {}
    if not function_log.is_file():
        return totals
    with open(function_log, encoding="utf-8", errors="replace") as handle:
        for line in handle:
            if '"_aws"' not in line:
                continue
            try:
                entry = json.loads(line)
                directives = entry["_aws"]["CloudWatchMetrics"]
            except (ValueError, KeyError, TypeError):
                continue
            for directive in directives:
                for metric in directive.get("Metrics", []):
                    name = metric.get("Name")
                    if metric.get("Unit") != "Count" or name not in entry:
                        continue
                    values = entry[name] if isinstance(entry[name], list) else [entry[name]]
                    totals[name] = totals.get(name, 0) + sum(v for v in values if isinstance(v, int | float))
    return {name: int(value) if float(value).is_integer() else value for name, value in sorted(totals.items())}


def delivery_summary(decisions: list[dict]) -> dict:
    """Every send by its final ledger state (delivered; undeliverable, with a reason; unconfirmed:
    outcome unknown; failed or announced: a transient failure still waiting for, or out of, retries),
    and the sends that did not go through by reason (channel and error code)."""
    sends = [d for d in decisions if d.get("status") == "sent"]
    reasons = Counter(": ".join(str(d["deliveryError"]).split(": ")[:2]) for d in sends if d.get("deliveryError"))
    return {
        "sends_by_delivery": dict(sorted(Counter(d.get("delivery") or "none" for d in sends).items())),
        "sends_not_delivered_by_reason": dict(reasons.most_common()),
    }


def write_jsonl(path: Path, rows: list[dict], fields: tuple[str, ...]) -> None:
    with open(path, "w", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps({name: row.get(name) for name in fields}, separators=(",", ":")) + "\n")


@dataclass
class DeliveryReceiver:
    """Drains the SNS→SQS subscription: what a subscribing back end receives, and when."""

    rt: LocalRuntime
    queue_url: str
    received: list[dict] = field(default_factory=list)
    latencies_ms: list[float] = field(default_factory=list)
    helped: set = field(default_factory=set)  # (userId, featureId) that received an intervention
    # called for each in-app announcement (the badge a real app gets): the app pulls its inbox; None: seen at once
    on_in_app: Callable[[dict], None] | None = None
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="sqs-receiver", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        sqs = self.rt.clients["sqs"]
        while not self._stop.is_set():
            messages = sqs.receive_message(QueueUrl=self.queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=1).get("Messages", [])
            now = time.time()
            for message in messages:
                body = json.loads(message["Body"])
                self.received.append(body)
                if body.get("channel") == "in_app" and self.on_in_app is not None:
                    self.on_in_app(body)  # the app reads its inbox through the API; the user is helped if they act on it
                else:
                    self.helped.add((body["userId"], body["featureId"]))
                put_at = self.rt.put_stats.put_times.get(body.get("triggerEventId", ""))
                if put_at:
                    self.latencies_ms.append((now - put_at) * 1000)
            if messages:
                sqs.delete_message_batch(
                    QueueUrl=self.queue_url,
                    Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)],
                )

    def stop(self) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(timeout=5)


def pipeline_summary(
    rt: LocalRuntime, signals: list[dict], decisions: list[dict], receiver: DeliveryReceiver, elapsed_s: float
) -> dict:
    """The fields every run reports (demo and replay)."""
    totals = rt.collector.totals()
    commands = rt.put_stats.timer_commands  # on the stream, applied (or dropped as repeats) like events, but not events
    processed = totals["applied"] + totals["duplicates"] - commands
    rejected = len(rt.quarantined())
    sent = rt.put_stats.records_sent - commands
    rt.flush_function_log()
    metrics = function_metrics(rt.function_log)
    return {
        "events_sent": sent,
        "events_processed": processed,
        "events_rejected": rejected,
        "events_lost": sent - processed - rejected,
        "duplicates_dropped": totals["duplicates"],
        "timer_commands": commands,  # the deadline timer's, appended to users' streams
        "silent_rescored": totals["silent_rescored"],  # users re-scored because their silence passed a threshold
        "rejected_by_reason": totals["rejected"],
        "signals_by_type": dict(sorted(Counter(s["signalType"] for s in signals).items())),
        "signals_by_outcome": signals_by_outcome(signals),
        "unknown_vocabulary": metrics.get("UnknownVocabulary"),  # actions / target types no vocabulary word matched
        "interventions_by_channel": dict(sorted(Counter(d["channel"] for d in decisions if d.get("status") == "sent").items())),
        "held_out": sum(1 for d in decisions if d.get("status") == "held_out"),
        **delivery_summary(decisions),
        "suppressed": dict(sorted(Counter(d.get("reason") for d in decisions if d.get("status") == "suppressed").items())),
        "latency_ms": {
            "p50": round(percentile(receiver.latencies_ms, 50), 1),
            "p95": round(percentile(receiver.latencies_ms, 95), 1),
            "max": round(max(receiver.latencies_ms, default=0.0), 1),
            "samples": len(receiver.latencies_ms),
        },
        "events_per_second": round(processed / elapsed_s, 1) if elapsed_s else 0.0,
        "elapsed_s": round(elapsed_s, 1),
        "processed_late": metrics.get("LateEvents"),  # profiled and journaled, detection skipped (None: not reported)
        "function_metrics": metrics,
        "stream_processor": {**rt.mappings[0].stats.as_dict(), "redelivered_skipped": totals["redelivered_skipped"]},
        "on_failure_messages": rt.on_failure_messages(),
        "put_records": {"calls": rt.put_stats.put_calls, "records_retried": rt.put_stats.records_retried},
        "deadline_timer": timer_summary(rt),
    }


def timer_summary(rt: LocalRuntime) -> dict[str, Any] | None:
    """The deadline timer's schedule over the run: how many runs, the simulated minutes between two
    consecutive runs on the per-minute cadence (the run-on at the end of the input is left out), and
    each run's wall seconds (median / 95th percentile / max). None without a per-minute schedule."""
    schedule = rt.deadline_schedule
    if schedule is None or schedule.mode != "minute":
        return None
    scheduled = [run["scheduled_ms"] for run in schedule.runs if not run.get("run_on")]
    gaps = [(later - earlier) / 60_000 for earlier, later in pairwise(scheduled)]
    took = [run["took_s"] for run in schedule.runs]

    def spread(values: list[float], digits: int) -> dict[str, float]:
        return {f"p{q}": round(percentile(values, q), digits) for q in (50, 95)} | {
            "max": round(max(values, default=0.0), digits)
        }

    return {"runs": len(scheduled), "simulated_gap_minutes": spread(gaps, 1), "run_seconds": spread(took, 2)}


def signals_by_outcome(signals: list[dict]) -> dict[str, int]:
    """How many signals ended each way (sent, held_out, suppressed:<reason>, stale, below_action_threshold,
    no_intervention), most frequent first: every signal has one."""
    return dict(Counter(s.get("outcome") or "undecided" for s in signals).most_common())


def drain_sqs_into(receiver: DeliveryReceiver, quiet_s: float = 2.0, timeout_s: float = 20.0) -> None:
    """Wait until no new deliveries have arrived for ``quiet_s``."""
    deadline = time.time() + timeout_s
    last_count, last_change = len(receiver.received), time.time()
    while time.time() < deadline:
        time.sleep(0.25)
        if len(receiver.received) != last_count:
            last_count, last_change = len(receiver.received), time.time()
        elif time.time() - last_change >= quiet_s:
            return


@dataclass
class RunResults:
    """What a run left in the system, read back, with its summary."""

    summary: dict
    signals: list[dict]
    decisions: list[dict]
    outcomes: list[dict]
    risk: dict[str, dict]
    latencies_ms: list[float]
    escalations: list[dict] = field(default_factory=list)


def finish_run(rt: LocalRuntime, receiver: DeliveryReceiver, started: float) -> RunResults:
    """Wait for the stream and the subscriber to go quiet, then read back everything stored."""
    drained = rt.wait_until_drained(timeout_s=300)
    drain_sqs_into(receiver)
    receiver.stop()
    elapsed = time.time() - started
    signals = read_signals(rt)
    decisions, outcomes = read_decisions(rt)
    summary = pipeline_summary(rt, signals, decisions, receiver, elapsed)
    summary["drained"] = drained
    summary["uplift_by_signal_type"] = uplift_by_signal_type(decisions, outcomes)
    summary["interventions_received_by_subscriber"] = len(receiver.received)
    escalations = read_escalations(rt)
    if rt.agent is not None or escalations:
        summary["ai_decisions"] = ai_decisions(escalations, decisions, rt.agent.summary() if rt.agent else None)
    return RunResults(summary, signals, decisions, outcomes, read_risk(rt), receiver.latencies_ms, escalations)


def write_results(out: Path, run: RunResults, labels: dict[str, bool] | None, title: str) -> Path:
    """summary.json, signals.jsonl, interventions.jsonl, escalations.jsonl (when the run escalated) and
    report.html; returns the report's path."""
    (out / "summary.json").write_text(json.dumps(run.summary, indent=2) + "\n")
    write_jsonl(out / "signals.jsonl", run.signals, SIGNAL_FIELDS)
    write_jsonl(out / "interventions.jsonl", run.decisions, DECISION_FIELDS)
    if "ai_decisions" in run.summary:
        write_jsonl(out / "escalations.jsonl", run.escalations, ESCALATION_FIELDS)
    return write_report(out / "report.html", run.summary, run.signals, run.decisions, run.risk, labels, run.latencies_ms, title)


def print_summary(console: Console, summary: dict, out: Path, report: Path) -> None:
    table = Table(title="What the system noticed and did", show_header=True, header_style="bold")
    table.add_column("measure")
    table.add_column("value", justify="right")
    rows = [
        (
            "events sent / processed / rejected / lost",
            f"{summary['events_sent']:,} / {summary['events_processed']:,} / {summary['events_rejected']:,} / {summary['events_lost']:,}",
        ),
        ("duplicates dropped", f"{summary['duplicates_dropped']:,}"),
        ("signals by type", ", ".join(f"{k} {v:,}" for k, v in summary["signals_by_type"].items())),
        ("what became of the signals", ", ".join(f"{k} {v:,}" for k, v in summary.get("signals_by_outcome", {}).items())),
        ("interventions by channel", ", ".join(f"{k} {v:,}" for k, v in summary["interventions_by_channel"].items())),
        ("held out (control group)", f"{summary['held_out']:,}"),
        ("sends by delivery state", ", ".join(f"{k} {v:,}" for k, v in summary.get("sends_by_delivery", {}).items())),
        ("latency put → delivered p50 / p95 ms", f"{summary['latency_ms']['p50']:,} / {summary['latency_ms']['p95']:,}"),
        ("events per second", f"{summary['events_per_second']:,}"),
    ]
    for reason, count in list(summary.get("sends_not_delivered_by_reason", {}).items())[:5]:
        rows.append((f"send not delivered: {reason[:60]}", f"{count:,}"))
    if "struggle_precision" in summary:
        rows += [
            ("struggle precision / recall", f"{summary['struggle_precision']:.3f} / {summary['struggle_recall']:.3f}"),
            ("exit-risk AUC, every user's final score (churners vs not)", f"{summary['exit_risk_auc']:.3f}"),
        ]
    inbox = summary.get("inbox")
    if inbox:
        rows.append(
            (
                "in-app inbox via the API: pulls / shown / acted / dismissed",
                f"{inbox.get('inbox_pulls', 0):,} / {inbox.get('shown', 0):,} / {inbox.get('acted', 0):,} / {inbox.get('dismissed', 0):,}",
            )
        )
        if inbox.get("errors"):
            rows.append(("in-app inbox errors", ", ".join(f"{k} {v:,}" for k, v in inbox["errors"].items())))
    api_rows = (summary.get("uplift_api") or {}).get("signalTypes")
    if api_rows:  # from the API: the outcomes the apps reported, with 95% intervals
        for row in api_rows:
            if row.get("difference") is None:
                continue
            ci = row.get("ci95") or {}
            rows.append(
                (
                    f"uplift {row['signalType']} (treated vs holdout, n {row['treated']['n']} / {row['holdout']['n']})",
                    f"{row['treated']['rate']:.2f} vs {row['holdout']['rate']:.2f}: {row['difference']:+.2f} "
                    f"[{ci.get('low', 0):+.2f}, {ci.get('high', 0):+.2f}]",
                )
            )
    else:
        for signal_type, row in summary.get("uplift_by_signal_type", {}).items():
            if row.get("uplift") is not None:
                rows.append(
                    (f"uplift {signal_type} (treated vs holdout)", f"{row['treated_rate']:.2f} vs {row['held_out_rate']:.2f}")
                )
    metrics = summary.get("function_metrics") or {}
    if summary.get("processed_late") is not None:
        rows.append(("processed late (detection skipped)", f"{summary['processed_late']:,}"))
    for name, value in metrics.items():
        if value and name not in SHOWN_METRICS and not name.startswith(SHOWN_METRIC_PREFIXES):
            rows.append((f"function metric {name}", f"{value:,}"))
    for name, value in rows:
        table.add_row(name, value)
    console.print(table)
    if summary.get("exit_risk_model"):
        print_exit_risk(console, summary["exit_risk_model"])
    if summary.get("ai_decisions"):
        print_ai_decisions(console, summary["ai_decisions"])
    console.print(f"results: {out / 'summary.json'}, {out / 'signals.jsonl'}, {out / 'interventions.jsonl'}")
    console.print(f"[bold]report: {report.resolve()}[/]")


def print_ai_decisions(console: Console, ai: dict) -> None:
    """The "AI decisions" table: the escalations, who decided them, and what played Bedrock."""
    standin = ai.get("bedrock_standin") or {}
    title = "AI decisions (the hard cases)"
    if standin:
        title += f": Bedrock played by the {standin.get('label', 'local stand-in')}, mode {standin.get('mode')}"
    table = Table(title=title, show_header=True, header_style="bold")
    table.add_column("measure")
    table.add_column("value", justify="right")
    latency = ai.get("agent_latency_ms") or {}
    rows = [
        ("escalations by reason", ", ".join(f"{k} {v:,}" for k, v in ai.get("by_reason", {}).items()) or "none"),
        (
            "decided by the agent / by the rules (fallback) / still open",
            f"{ai.get('decided_by_agent', 0):,} / {ai.get('decided_by_fallback', 0):,} / {ai.get('still_open', 0):,}",
        ),
        ("fallbacks by reason", ", ".join(f"{k} {v:,}" for k, v in ai.get("fallback_by_reason", {}).items()) or "none"),
        ("agent latency p50 / p95 ms", f"{latency.get('p50', 0):,} / {latency.get('p95', 0):,}"),
        ("tokens in / out", f"{ai.get('tokens', {}).get('input', 0):,} / {ai.get('tokens', {}).get('output', 0):,}"),
        ("sends by decider", ", ".join(f"{k} {v:,}" for k, v in ai.get("sends_by_decider", {}).items()) or "none"),
    ]
    for operation, outcomes in (standin.get("calls") or {}).items():
        rows.append((f"stand-in {operation} calls", ", ".join(f"{k} {v:,}" for k, v in outcomes.items())))
    for name, value in rows:
        table.add_row(name, value)
    console.print(table)


def _shown(value: Any) -> str:
    """A figure, or "-" where it is undefined (an empty band, a fold with one class)."""
    return "-" if value is None else str(value)


def print_exit_risk(console: Console, risk: dict) -> None:
    """The "exit risk that learns" table: the model trained mid-run, judged on users it never saw."""
    training = risk.get("training") or {}
    table = Table(title="Exit risk that learns (trained on the first days, judged on the rest)", header_style="bold")
    table.add_column("measure")
    table.add_column("value", justify="right")
    rows = [
        (
            "model version, trained at day / on rows from users",
            f"{training.get('version', 'not trained')} · day {_shown(training.get('trained_at_day'))} · "
            f"{training.get('training_rows', 0):,} rows / {training.get('users', 0):,} users",
        ),
        (
            "held-out users: ROC AUC / PR AUC (history labels, at the cutoffs)",
            f"{_shown(training.get('heldout_roc_auc'))} / {_shown(training.get('heldout_pr_auc'))}",
        ),
        (
            "held-out users: live AUC of the final scores vs the simulator's truth",
            f"{_shown(risk.get('live_heldout_auc_vs_simulator'))} (n {risk.get('heldout_users_scored_by_model', 0):,})",
        ),
    ]
    curve = training.get("calibration") or {}
    if curve:
        brier = " / ".join(f"{method} {value:.4f}" for method, value in (curve.get("outOfFoldBrier") or {}).items())
        rows.append(
            (
                "calibration curve of the exported model (out-of-fold Brier score of each shape)",
                f"{curve['method']} ({brier or '-'})",
            )
        )
    for band in training.get("heldout_calibration_by_band") or []:
        rows.append(
            (
                f"calibration {band.get('band')} (held out, history labels): n / predicted % / observed % (gap's 95% interval)",
                f"{band.get('n')} / {_shown(band.get('meanPredicted'))} / {_shown(band.get('observed'))}"
                f" ({interval_text(band.get('gapInterval'))})",
            )
        )
    spread = training.get("cross_validated") or {}
    if spread:
        rows.append(
            (
                f"spread check, {spread.get('evaluatedOn')}: ROC AUC (folds ± sd)",
                f"{_shown(spread.get('rocAuc'))} (± {_shown(spread.get('rocAucSd'))})",
            )
        )
    for band in spread.get("bands") or []:
        rows.append(
            (
                f"calibration {band.get('band')} (every user, CV): n / predicted % / observed % (gap's 95% interval)",
                f"{band.get('n')} / {_shown(band.get('meanPredicted'))} / {_shown(band.get('observed'))}"
                f" ({interval_text(band.get('gapInterval'))})",
            )
        )
    later = risk.get("heldout_after_deployment") or {}
    if later.get("calibration_by_band"):
        rows.append(
            (
                f"held-out users after deployment, days {', '.join(map(str, later['cutoff_days']))} (a drift check: "
                "the simulator's churners come back for late sessions from day 10.5): ROC AUC (rows / users)",
                f"{_shown(later.get('roc_auc'))} ({later['rows']:,} / {later['users']:,})",
            )
        )
    elif later.get("error"):
        rows.append(("held-out users after deployment", later["error"]))
    for band in later.get("calibration_by_band") or []:
        rows.append(
            (
                f"calibration {band.get('band')} (held out, after deployment): n / predicted % / observed % (gap's 95% interval)",
                f"{band.get('n')} / {_shown(band.get('meanPredicted'))} / {_shown(band.get('observed'))}"
                f" ({interval_text(band.get('gapInterval'))})",
            )
        )
    for band in risk.get("live_bands") or []:
        rows.append(
            (
                f"live band {band['band']} (held out; the persona, not the 3-day label): users / mean score / churners %",
                f"{band['users']} / {band['predicted_pct']} / {band['observed_churner_pct']}",
            )
        )
    re = risk.get("reengagement") or {}
    rows += [
        ("silent users re-scored (deadline timer)", f"{risk.get('silent_users_rescored', 0):,}"),
        ("gone_quiet signals / users", f"{re.get('signals', 0):,} / {re.get('users', 0):,}"),
        ("re-engagement decisions", ", ".join(f"{k} {v:,}" for k, v in (re.get("decisions_by_status") or {}).items()) or "none"),
    ]
    treated = re.get("treated_vs_holdout") or {}
    if treated:
        rows.append(("re-engagement resolved: treated vs held out", json.dumps(treated)))
    for name, value in rows:
        table.add_row(name, value)
    console.print(table)
