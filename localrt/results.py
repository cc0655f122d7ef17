"""Reads back what the system stored and writes the machine-readable results of a run."""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from rich.console import Console
from rich.table import Table

from journey.adapters.aws.codecs.interventions import intervention_record, is_outcome
from journey.adapters.aws.codecs.signals import signal_record
from journey.adapters.aws.codecs.user_state import risk_summary
from localrt.evaluation import percentile, uplift_by_signal_type
from localrt.report import write_report
from localrt.runtime import LocalRuntime

SIGNAL_FIELDS = ("userId", "featureId", "signalType", "severity", "detectedAt")
DECISION_FIELDS = ("userId", "interventionId", "signalType", "channel", "heldOut", "decidedBy", "decidedAt")


def read_signals(rt: LocalRuntime) -> list[dict]:
    return sorted((signal_record(i) for i in rt.scan("SIGNALS_TABLE")), key=lambda s: (s["detectedAt"], s["userId"]))


def read_decisions(rt: LocalRuntime) -> tuple[list[dict], list[dict]]:
    """(decisions, outcomes) from the Interventions table."""
    items = rt.scan("INTERVENTIONS_TABLE")
    outcomes = [intervention_record(i) for i in items if is_outcome(i)]
    decisions = sorted((intervention_record(i) for i in items if not is_outcome(i)), key=lambda d: (d["decidedAt"], d["userId"]))
    return decisions, outcomes


def read_risk(rt: LocalRuntime) -> dict[str, dict]:
    return {i["userId"]: i for i in (risk_summary(x) for x in rt.scan("STATE_TABLE"))}


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
    processed = totals["applied"] + totals["duplicates"]
    rejected = len(rt.quarantined())
    sent = rt.put_stats.records_sent
    return {
        "events_sent": sent,
        "events_processed": processed,
        "events_rejected": rejected,
        "events_lost": sent - processed - rejected,
        "duplicates_dropped": totals["duplicates"],
        "rejected_by_reason": totals["rejected"],
        "signals_by_type": dict(sorted(Counter(s["signalType"] for s in signals).items())),
        "interventions_by_channel": dict(sorted(Counter(d["channel"] for d in decisions if d.get("status") == "sent").items())),
        "held_out": sum(1 for d in decisions if d.get("status") == "held_out"),
        "suppressed": dict(sorted(Counter(d.get("reason") for d in decisions if d.get("status") == "suppressed").items())),
        "latency_ms": {
            "p50": round(percentile(receiver.latencies_ms, 50), 1),
            "p95": round(percentile(receiver.latencies_ms, 95), 1),
            "max": round(max(receiver.latencies_ms, default=0.0), 1),
            "samples": len(receiver.latencies_ms),
        },
        "events_per_second": round(processed / elapsed_s, 1) if elapsed_s else 0.0,
        "elapsed_s": round(elapsed_s, 1),
        "stream_processor": {**rt.mappings[0].stats.as_dict(), "redelivered_skipped": totals["redelivered_skipped"]},
        "on_failure_messages": rt.on_failure_messages(),
        "put_records": {"calls": rt.put_stats.put_calls, "records_retried": rt.put_stats.records_retried},
    }


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
    return RunResults(summary, signals, decisions, outcomes, read_risk(rt), receiver.latencies_ms)


def write_results(out: Path, run: RunResults, labels: dict[str, bool] | None, title: str) -> Path:
    """summary.json, signals.jsonl, interventions.jsonl and report.html; returns the report's path."""
    (out / "summary.json").write_text(json.dumps(run.summary, indent=2) + "\n")
    write_jsonl(out / "signals.jsonl", run.signals, SIGNAL_FIELDS)
    write_jsonl(out / "interventions.jsonl", run.decisions, DECISION_FIELDS)
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
        ("interventions by channel", ", ".join(f"{k} {v:,}" for k, v in summary["interventions_by_channel"].items())),
        ("held out (control group)", f"{summary['held_out']:,}"),
        ("latency put → delivered p50 / p95 ms", f"{summary['latency_ms']['p50']:,} / {summary['latency_ms']['p95']:,}"),
        ("events per second", f"{summary['events_per_second']:,}"),
    ]
    if "struggle_precision" in summary:
        rows += [
            ("struggle precision / recall", f"{summary['struggle_precision']:.3f} / {summary['struggle_recall']:.3f}"),
            ("exit-risk AUC (churners vs not)", f"{summary['exit_risk_auc']:.3f}"),
        ]
    for signal_type, row in summary.get("uplift_by_signal_type", {}).items():
        if row.get("uplift") is not None:
            rows.append(
                (f"uplift {signal_type} (treated vs holdout)", f"{row['treated_rate']:.2f} vs {row['held_out_rate']:.2f}")
            )
    for name, value in rows:
        table.add_row(name, value)
    console.print(table)
    console.print(f"results: {out / 'summary.json'}, {out / 'signals.jsonl'}, {out / 'interventions.jsonl'}")
    console.print(f"[bold]report: {report.resolve()}[/]")
