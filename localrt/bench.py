"""``make bench``: processor cost per event, AWS calls and DynamoDB write units, cold import, $ per million.

The real handler (Powertools decorators, lambda_kit, the stream batch use case, real adapters) runs on one
core against in-memory AWS clients that count calls and write units instead of timing them, on
the stream the demo's simulator produces, cut into batches as the event source mapping would.
Figures are medians of several runs.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import gc
import importlib.util
import io
import json
import logging
import os
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path

from journey.risk.features import feature_names
from journey.risk.model import ExitRiskModel
from localrt.runtime import SimulatorClock
from localrt.simulator import make_population, timeline
from ml.calibration import sigmoid_points

ROOT = Path(__file__).resolve().parent.parent
HANDLER = ROOT / "functions" / "stream_processor" / "handler.py"
T0 = 1_793_491_200_000
DEMO_SECONDS = 400.0  # as the demo plays it
ASSUMED_CALL_LATENCY_MS = 8.0  # per AWS call inside the function, for the Lambda duration estimate
LAMBDA_MEMORY_GB = 1.0

# List prices, us-east-1, on-demand, as published on the AWS pricing pages; dated so a reader can
# check them. Update together with PRICE_TABLE_DATE when AWS changes them.
PRICE_TABLE_DATE = "2025-06-01"
PRICE_TABLE = {
    "kinesis_on_demand_per_gb_ingested": (0.08, "https://aws.amazon.com/kinesis/data-streams/pricing/"),
    "kinesis_on_demand_per_gb_retrieved": (0.04, "https://aws.amazon.com/kinesis/data-streams/pricing/"),
    "lambda_per_gb_second_x86": (0.0000166667, "https://aws.amazon.com/lambda/pricing/"),
    "lambda_per_million_requests": (0.20, "https://aws.amazon.com/lambda/pricing/"),
    "dynamodb_per_million_write_request_units": (0.625, "https://aws.amazon.com/dynamodb/pricing/on-demand/"),
    "dynamodb_per_million_read_request_units": (0.125, "https://aws.amazon.com/dynamodb/pricing/on-demand/"),
    "timestream_per_million_1kb_writes": (0.50, "https://aws.amazon.com/timestream/pricing/"),
    "sns_per_million_publishes": (0.50, "https://aws.amazon.com/sns/pricing/"),
    "s3_per_thousand_put": (0.005, "https://aws.amazon.com/s3/pricing/"),
    "cloudwatch_logs_per_gb_ingested": (0.50, "https://aws.amazon.com/cloudwatch/pricing/"),
}


def demo_stream(users: int, seed: int) -> list[dict]:
    """The demo's events in the order the demo's engine emits them (wall-clock schedule)."""
    return timeline(make_population(users, seed), seed, T0, 14, DEMO_SECONDS)


def kinesis_events(events: list[dict], batch_size: int, true_times: dict[str, int] | None = None) -> list[dict]:
    """Lambda's Kinesis events for ``events``, cut into batches. Each record arrives on the simulator's
    clock (:class:`localrt.runtime.SimulatorClock`): at its event's own timestamp, or at its user's
    newest for one stamped before it, as the local runtime presents the simulator's records.
    ``true_times``: event id -> when it really happened, for events stamped with a wrong time on
    purpose (they arrive then, whatever they claim)."""
    true_times = true_times or {}
    records = []
    base = 49_600_000_000_000_000_000_000_000_000_000_000_000_000_000
    clock = SimulatorClock()
    for n, event in enumerate(events):
        records.append(
            {
                "kinesis": {
                    "kinesisSchemaVersion": "1.0",
                    "partitionKey": event["userId"],
                    "sequenceNumber": str(base + n),
                    "data": base64.b64encode(json.dumps(event, separators=(",", ":")).encode()).decode(),
                    "approximateArrivalTimestamp": clock.arrival(
                        event["userId"], true_times.get(event["eventId"], event["timestamp"])
                    ),
                },
                "eventSource": "aws:kinesis",
                "eventVersion": "1.0",
                "eventID": f"shardId-000000000000:{base + n}",
                "eventName": "aws:kinesis:record",
                "invokeIdentityArn": "arn:aws:iam::123456789012:role/bench",
                "awsRegion": "us-east-1",
                "eventSourceARN": "arn:aws:kinesis:us-east-1:123456789012:stream/bench",
            }
        )
    return [{"Records": records[i : i + batch_size]} for i in range(0, len(records), batch_size)]


class FakeContext:
    """The Lambda context for direct handler calls (the benchmark, the chaos run's reference)."""

    function_name = "bench"
    memory_limit_in_mb = 1024
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:bench"
    aws_request_id = "bench"

    @staticmethod
    def get_remaining_time_in_millis() -> int:
        return 60_000


def full_size_model(trees: int = 100, depth: int = 3, vocabulary_size: int = 8, seed: int = 7) -> ExitRiskModel:
    """An exit-risk model of the largest size the trainer makes (``trees`` complete trees of ``depth``),
    over the served features with a full vocabulary, with random splits: evaluating it costs what a
    trained model of that size costs (what it learned does not change the cost), calibrated by a
    sigmoid exported as ml.calibration exports one (the most points a trained curve has)."""
    rng = random.Random(seed)
    vocabulary = tuple(f"feature_{i}" for i in range(vocabulary_size))
    inputs = feature_names(vocabulary)

    def tree() -> list[list[float]]:
        nodes: list[list[float]] = []

        def grow(level: int) -> int:
            index = len(nodes)
            nodes.append([])
            if level == depth:
                nodes[index] = [-1, 0, 0, 0, 0, rng.uniform(-0.3, 0.3)]
                return index
            left, right = grow(level + 1), grow(level + 1)
            nodes[index] = [rng.randrange(len(inputs)), rng.uniform(0, 5), rng.randint(0, 1), left, right, 0.0]
            return index

        grow(0)
        return nodes

    return ExitRiskModel.from_dict(
        {
            "format": "journey-exit-risk-gbt/1",
            "version": "bench-full-size",
            "createdAt": "2026-11-24T00:00:00Z",
            "inputs": list(inputs),
            "vocabulary": list(vocabulary),
            "encoding": {},
            "baseScore": -1.0,
            "trees": [tree() for _ in range(trees)],
            "calibration": sigmoid_points(1.0, -1.0).points(),  # as many points as a trained curve has
            "metrics": {},
        }
    )


DEMO_MODEL = ROOT / "out" / "demo" / "model"  # where make demo writes the model it trained


def bench_model(choice: str) -> ExitRiskModel | None:
    """``auto``: the model ``make demo`` trained if there is one, else :func:`full_size_model`;
    ``full``: :func:`full_size_model`; ``none``: the points model; else a model directory or model.json."""
    if choice == "none":
        return None
    if choice == "full" or (choice == "auto" and not (DEMO_MODEL / "model.json").is_file()):
        return full_size_model()
    if choice == "auto":
        choice = str(DEMO_MODEL)
    path = Path(choice)
    return ExitRiskModel.from_json((path / "model.json" if path.is_dir() else path).read_bytes())


def load_handler(ports, model: ExitRiskModel | None = None):
    os.environ.setdefault("POWERTOOLS_SERVICE_NAME", "journey-orchestrator")
    os.environ.setdefault("POWERTOOLS_METRICS_NAMESPACE", "JourneyOrchestrator")
    os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "true")
    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "INFO")
    spec = importlib.util.spec_from_file_location("bench_handler", HANDLER)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.aws_ports = lambda: ports
    module.exit_risk_model = lambda: model
    return module


def run_once(batch_size: int, events: list[dict], model: ExitRiskModel | None = None) -> dict:
    from localrt.memory_ports import memory_aws

    aws = memory_aws(timestream=True, retain={"UserState", "Interventions"})  # what the processor reads back
    module = load_handler(aws.ports, model)
    batches = kinesis_events(events, batch_size)
    sink = io.StringIO()
    gc.collect()
    gc.freeze()  # the harness's own input (every batch, in memory at once) is not the function's to scan
    for handler in logging.getLogger(os.environ["POWERTOOLS_SERVICE_NAME"]).handlers:
        handler.setStream(sink)  # the function's log lines are counted (CloudWatch Logs bytes), not printed
    users_per_batch = [len({r["kinesis"]["partitionKey"] for r in b["Records"]}) for b in batches]
    started = time.process_time()
    with contextlib.redirect_stdout(sink):
        for batch in batches:
            response = module.lambda_handler(batch, FakeContext())
            if response.get("batchItemFailures"):
                raise RuntimeError(f"unexpected failures in bench: {response}")
    cpu = time.process_time() - started - aws.meter.fake_seconds
    gc.unfreeze()
    n = len(events)
    return {
        "cpu_s": cpu,
        "us_per_event": cpu / n * 1e6,
        "api_calls": aws.meter.total_calls,
        "calls_by_operation": dict(aws.meter.calls),
        "write_units": aws.meter.write_units,
        "log_bytes": len(sink.getvalue().encode()),
        "batches": len(batches),
        "users_per_batch": statistics.mean(users_per_batch),
        "sns_publishes": len(aws.sns.published),
        "fake_aws_seconds": aws.meter.fake_seconds,
        "timestream_records": aws.timestream.records,
    }


def cold_import_ms(runs: int) -> float:
    code = (
        "import sys,time;t=time.perf_counter();"
        f"sys.path[:0]=[{str(ROOT / 'layers' / 'journey' / 'python')!r},{str(HANDLER.parent)!r}];"
        "import handler;print((time.perf_counter()-t)*1000)"
    )
    env = {**os.environ, "POWERTOOLS_SERVICE_NAME": "bench", "POWERTOOLS_TRACE_DISABLED": "true"}
    times = [
        float(subprocess.run([sys.executable, "-c", code], env=env, check=True, capture_output=True, text=True).stdout.strip())
        for _ in range(runs)
    ]
    return statistics.median(times)


def reference_loop_s(runs: int = 3) -> float:
    """CPU seconds for a fixed 10-million-step Python loop: this machine's speed right now, to read
    the figures against (shared machines vary by half from one minute to the next)."""
    times = []
    for _ in range(runs):
        started = time.process_time()
        total = 0
        for i in range(10_000_000):
            total += i
        times.append(time.process_time() - started)
    return round(statistics.median(times), 3)


def cost_per_million(entry: dict, events: int) -> dict:
    """$ per million 1 KB events, from the measured counts and the dated price table."""
    per_event = 1_000_000 / events
    price = {k: v[0] for k, v in PRICE_TABLE.items()}
    gb = 1_000_000 * 1024 / 1024**3
    duration_s = (entry["cpu_s"] + entry["api_calls"] * ASSUMED_CALL_LATENCY_MS / 1000) * per_event
    calls = entry["calls_by_operation"]
    breakdown = {
        "kinesis": gb * (price["kinesis_on_demand_per_gb_ingested"] + price["kinesis_on_demand_per_gb_retrieved"]),
        "lambda": duration_s * LAMBDA_MEMORY_GB * price["lambda_per_gb_second_x86"]
        + entry["batches"] * per_event / 1e6 * price["lambda_per_million_requests"],
        "dynamodb_writes": entry["write_units"] * per_event / 1e6 * price["dynamodb_per_million_write_request_units"],
        # one eventually consistent state read (0.5 read unit, items < 4 KB) per user per batch
        "dynamodb_reads": entry["batches"]
        * entry["users_per_batch"]
        * 0.5
        * per_event
        / 1e6
        * price["dynamodb_per_million_read_request_units"],
        "timestream": entry["timestream_records"] * per_event / 1e6 * price["timestream_per_million_1kb_writes"],
        "sns": entry["sns_publishes"] * per_event / 1e6 * price["sns_per_million_publishes"],
        "s3_quarantine": calls.get("s3.PutObject", 0) * per_event / 1000 * price["s3_per_thousand_put"],
        "cloudwatch_logs": entry["log_bytes"] * per_event / 1024**3 * price["cloudwatch_logs_per_gb_ingested"],
    }
    breakdown = {k: round(v, 4) for k, v in breakdown.items()}
    breakdown["total"] = round(sum(breakdown.values()), 4)
    return breakdown


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, default=1000)
    parser.add_argument("--events", type=int, default=30_000, help="events per run (a prefix of the demo stream)")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--out", type=Path, default=Path("out/bench"))
    parser.add_argument(
        "--model",
        default="auto",
        help="the exit-risk model scoring every user: auto (the model make demo trained, out/demo/model, if there is one, "
        "else full), full (the largest the trainer makes: 100 trees of depth 3, random splits), none (the points model), "
        "or a model directory / model.json (make train's output)",
    )
    args = parser.parse_args(argv)
    model = bench_model(args.model)
    args.out.mkdir(parents=True, exist_ok=True)
    events = demo_stream(args.users, seed=7)[: args.events]
    print(
        f"benchmark: {len(events):,} events from the demo stream ({args.users:,} users), {args.runs} runs per batch size, one core; "
        f"exit risk scored by {'the points model' if model is None else f'model {model.version} ({len(model.inputs)} inputs)'}"
    )
    result = {
        "batch": {},
        "events": len(events),
        "runs": args.runs,
        "exit_risk_model": "points" if model is None else model.version,
        "price_table_date": PRICE_TABLE_DATE,
        "price_table": {k: {"usd": v[0], "source": v[1]} for k, v in PRICE_TABLE.items()},
    }
    for batch_size in (100, 500, 1000):
        runs = [run_once(batch_size, events, model) for _ in range(args.runs)]
        median_us = statistics.median(r["us_per_event"] for r in runs)
        sample = runs[0]
        entry = {
            "us_per_event": round(median_us, 2),
            "events_per_second_per_core": round(1e6 / median_us),
            "api_calls_per_event": round(sample["api_calls"] / len(events), 4),
            "write_units_per_event": round(sample["write_units"] / len(events), 4),
            "calls_by_operation": sample["calls_by_operation"],
            "users_per_batch": round(sample["users_per_batch"], 1),
            "us_per_event_runs": [round(r["us_per_event"], 2) for r in runs],
        }
        entry["cost_per_million_events_usd"] = cost_per_million({**sample, "cpu_s": median_us * len(events) / 1e6}, len(events))
        result["batch"][str(batch_size)] = entry
        print(
            f"batch {batch_size:>4}: {entry['us_per_event']:>7.1f} µs/event  {entry['events_per_second_per_core']:>7,} events/s/core  "
            f"{entry['api_calls_per_event']:.4f} AWS calls/event  {entry['write_units_per_event']:.3f} DynamoDB WCU/event  "
            f"({entry['users_per_batch']} users/batch)"
        )
    result["cold_import_ms"] = round(cold_import_ms(args.runs), 1)
    result["reference_loop_s"] = reference_loop_s()
    result["cost_per_million_events_usd"] = result["batch"]["500"]["cost_per_million_events_usd"]["total"]
    print(f"handler cold import: {result['cold_import_ms']} ms (median of {args.runs})")
    print(f"machine speed: a 10-million-step Python loop took {result['reference_loop_s']} s of CPU (lower is faster)")
    sizes = list(result["batch"])
    print(f"price table ({PRICE_TABLE_DATE}, us-east-1 list prices; sources in summary.json); $ per million 1 KB events:")
    print(f"  {'batch size':<16}" + "".join(f"{size:>10}" for size in sizes))
    for name in result["batch"]["500"]["cost_per_million_events_usd"]:
        print(f"  {name:<16}" + "".join(f"{result['batch'][size]['cost_per_million_events_usd'][name]:>10.4f}" for size in sizes))
    (args.out / "summary.json").write_text(json.dumps(result, indent=2) + "\n")
    print(f"written: {args.out / 'summary.json'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
