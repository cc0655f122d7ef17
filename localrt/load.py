"""``make load``: a sustained stream through the real pipeline on the local runtime, for ten minutes.

    python -m localrt.load [--minutes 10] [--max-backlog 5000] [--out out/load]

The producer writes simulated app traffic (fresh users and event ids every cycle, timestamps moving
forward) as fast as the pipeline keeps up: it holds the backlog (records written but not yet
processed) under ``--max-backlog``, so the rate it reaches is the highest this machine sustains.
Every minute it prints throughput, latency (wall clock from the record's PutRecords to the end of
the invocation that processed it: the records carry the simulator's arrival, so the event's
``approximateArrivalTimestamp`` is simulated time) and the resident memory of the process running
the function; moto runs in its own process and is reported apart (it keeps every record and item, so it grows by design).
Results in ``out/load/summary.json``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import threading
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

from rich.console import Console

from localrt.runtime import Record, SimulatorClock, local_runtime
from localrt.simulator import DAY_MS, make_population, timeline

T0 = 1_793_491_200_000
CYCLE_USERS = 500
LATENCY_BINS_MS = 120_000  # a histogram of 1 ms bins: constant memory however long the run


def rss_mb(pid: str = "self") -> float:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


class LatencyHistogram:
    def __init__(self) -> None:
        self.bins = [0] * (LATENCY_BINS_MS + 1)
        self.count = 0
        self._lock = threading.Lock()

    def add(self, ms: float) -> None:
        with self._lock:
            self.bins[min(LATENCY_BINS_MS, max(0, int(ms)))] += 1
            self.count += 1

    def percentile(self, q: float) -> float:
        with self._lock:
            target, seen = q / 100 * self.count, 0
            for ms, n in enumerate(self.bins):
                seen += n
                if n and seen >= target:
                    return float(ms)
        return 0.0


def traffic(seed: int) -> Iterator[Record]:
    """Endless app traffic: each cycle a new population, two weeks later than the last; each record
    arrives on the simulator's clock."""
    cycle = 0
    clock = SimulatorClock()
    while True:
        users = make_population(CYCLE_USERS, seed + cycle)
        for user in users:
            user.userId = f"c{cycle}-{user.userId}"
        shift = cycle * 14 * DAY_MS
        for event in timeline(users, seed + cycle, T0 + shift, 14, 360.0):
            arrival = clock.arrival(event["userId"], event["timestamp"])
            yield event["userId"], json.dumps(event, separators=(",", ":")).encode(), None, arrival
        cycle += 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--max-backlog", type=int, default=5000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out", type=Path, default=Path("out/load"))
    parser.add_argument("--moto", choices=("process", "thread"), default="process")
    args = parser.parse_args(argv)
    console = Console(file=sys.__stdout__)
    args.out.mkdir(parents=True, exist_ok=True)
    latencies, minute_latencies = LatencyHistogram(), LatencyHistogram()
    processed = [0]

    with local_runtime(args.out / "function.log", moto=args.moto) as rt:
        mapping = rt.mappings[0]
        handler = mapping.invoke
        put_at = rt.put_stats.record_put_times = {}  # (partition key, sequence number) -> wall time of its put

        def invoke(event, context):
            response = handler(event, context)
            done = time.time()
            failed = {f["itemIdentifier"] for f in (response or {}).get("batchItemFailures", [])}
            for record in event["Records"]:
                kinesis = record["kinesis"]
                if kinesis["sequenceNumber"] not in failed:
                    put = put_at.pop((kinesis["partitionKey"], kinesis["sequenceNumber"]), None)
                    if put is not None:
                        ms = (done - put) * 1000
                        latencies.add(ms)
                        minute_latencies.add(ms)
                    processed[0] += 1
            return response

        mapping.invoke = invoke
        rt.start_polling()
        moto_pid = str(rt.server.process.pid) if hasattr(rt.server, "process") else None
        console.print(
            f"[bold]load[/]: {args.minutes:g} minutes on {rt.endpoint}, backlog held under {args.max_backlog:,} records"
        )
        source = traffic(args.seed)
        started = time.time()
        end = started + args.minutes * 60
        minutes: list[dict] = []
        next_report, last_processed = started + 60, 0
        sent = 0
        while time.time() < end:
            if sent - processed[0] < args.max_backlog:
                chunk = [next(source) for _ in range(500)]
                rt.put_records(chunk)
                sent += len(chunk)
                rt.put_stats.put_times.clear()
            else:
                time.sleep(0.02)
            if time.time() >= next_report:
                row = {
                    "minute": len(minutes) + 1,
                    "events_per_second": round((processed[0] - last_processed) / 60, 1),
                    "latency_ms": {
                        "p50": minute_latencies.percentile(50),
                        "p95": minute_latencies.percentile(95),
                        "p99": minute_latencies.percentile(99),
                    },
                    "rss_mb": round(rss_mb(), 1),
                    "moto_rss_mb": round(rss_mb(moto_pid), 1) if moto_pid else None,
                    "backlog": sent - processed[0],
                }
                minutes.append(row)
                console.print(
                    f"  minute {row['minute']:>2}: {row['events_per_second']:>7,.1f} events/s · p50 {row['latency_ms']['p50']:,.0f} ms · "
                    f"p95 {row['latency_ms']['p95']:,.0f} ms · p99 {row['latency_ms']['p99']:,.0f} ms · function process RSS {row['rss_mb']} MB · "
                    f"moto RSS {row['moto_rss_mb']} MB · backlog {row['backlog']:,}"
                )
                minute_latencies = LatencyHistogram()
                last_processed = processed[0]
                next_report += 60
        duration = time.time() - started
        rt.wait_until_drained(timeout_s=120)
        stats = mapping.stats.as_dict()

    first, last = minutes[0]["rss_mb"] if minutes else rss_mb(), minutes[-1]["rss_mb"] if minutes else rss_mb()
    summary = {
        "duration_s": round(duration, 1),
        "events_sent": sent,
        "events_processed": processed[0],
        "events_per_second": round(processed[0] / duration, 1),
        "latency_ms": {"p50": latencies.percentile(50), "p95": latencies.percentile(95), "p99": latencies.percentile(99)},
        "rss_mb_first_minute": first,
        "rss_mb_last_minute": last,
        "rss_growth_mb": round(last - first, 1),
        "rss_mb_median": round(statistics.median(m["rss_mb"] for m in minutes), 1) if minutes else first,
        "minutes": minutes,
        "stream_processor": stats,
        "finished_at": datetime.now().isoformat(timespec="seconds"),
    }
    (args.out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    console.print(
        f"{summary['events_processed']:,} events in {summary['duration_s']} s = {summary['events_per_second']:,} events/s; "
        f"latency p50/p95/p99 {summary['latency_ms']['p50']:.0f}/{summary['latency_ms']['p95']:.0f}/{summary['latency_ms']['p99']:.0f} ms; "
        f"function process RSS {first} MB in minute 1, {last} MB in the last"
    )
    console.print(f"results: {args.out / 'summary.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
