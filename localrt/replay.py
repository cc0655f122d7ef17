"""``make replay FILE=... FORMAT=native|firebase``: a user's own JSON-lines file through the same pipeline.

Every line becomes one Kinesis record (PutRecords, partition key = the line's user id). Lines the
processor rejects are reported with their line number and reason, and the rest is processed.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from rich.console import Console

from journey.events.decoding import Rejection, decode_event
from journey.events.normalizers import FORMATS
from localrt.results import DeliveryReceiver, finish_run, print_summary, write_results
from localrt.runtime import local_runtime

USER_KEYS = ("userId", "user_id", "user_pseudo_id")


def partition_key(line: bytes, number: int) -> str:
    try:
        payload = json.loads(line)
    except ValueError:
        return f"line-{number}"
    if isinstance(payload, dict):
        for key in USER_KEYS:
            value = payload.get(key)
            if isinstance(value, str) and 0 < len(value) <= 256:
                return value
    return f"line-{number}"


def read_lines(path: Path) -> list[tuple[int, bytes]]:
    with open(path, "rb") as handle:
        return [(number, line.rstrip(b"\r\n")) for number, line in enumerate(handle, start=1) if line.strip()]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--file", type=Path, required=True, help="JSON lines, one event per line")
    parser.add_argument("--format", choices=FORMATS, default="native")
    parser.add_argument("--out", type=Path, default=Path("out/replay"))
    args = parser.parse_args(argv)
    console = Console(file=sys.__stdout__)
    if not args.file.is_file():
        console.print(f"[red]no such file: {args.file}[/]")
        return 2
    lines = read_lines(args.file)
    if not lines:
        console.print(f"[red]{args.file} has no lines to replay[/]")
        return 2
    args.out.mkdir(parents=True, exist_ok=True)
    console.print(f"replaying {len(lines):,} lines of {args.file} as {args.format} through the pipeline")
    started = time.time()
    with local_runtime(args.out / "function.log", extra_env={"JOURNEY_INPUT_FORMAT": args.format}) as rt:
        receiver = DeliveryReceiver(rt, rt.subscribe_queue())
        receiver.start()
        rt.start_polling()
        records = []
        for number, line in lines:
            decoded = decode_event(line, 1 << 30, args.format)  # only to know the event id for latency
            records.append((partition_key(line, number), line, None if isinstance(decoded, Rejection) else decoded.eventId))
        sequences = rt.put_records(records)
        line_of = {(key, sequence): number for (key, _, _), sequence, (number, _) in zip(records, sequences, lines, strict=False)}
        run = finish_run(rt, receiver, started)
        rejected = sorted(
            (
                {"line": line_of.get((q["partitionKey"], q["sequenceNumber"])), "code": q["code"], "reason": q["reason"]}
                for q in rt.quarantined()
            ),
            key=lambda r: r["line"] or 0,
        )
    summary = run.summary
    summary.update({"file": str(args.file), "format": args.format, "lines": len(lines)})
    report = write_results(args.out, run, None, f"replay of {args.file.name}")
    with open(args.out / "rejected.jsonl", "w", encoding="utf-8") as handle:
        for row in rejected:
            handle.write(json.dumps(row) + "\n")
    for row in rejected:
        console.print(f"[yellow]line {row['line']}[/]: {row['code']}: {row['reason']}")
    print_summary(console, summary, args.out, report)
    if rejected:
        console.print(
            f"{len(rejected)} line(s) rejected and quarantined with their reasons; the other {summary['events_processed']:,} processed"
        )
    return 0 if summary["events_lost"] == 0 and summary["drained"] else 1


if __name__ == "__main__":
    sys.exit(main())
