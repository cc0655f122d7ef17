"""``make replay FILE=... FORMAT=native|firebase|segment [SORT=1] [OUT=dir] [FORCE=1]``: a user's own
JSON-lines file through the same pipeline.

Every line becomes one Kinesis record (PutRecords, partition key = the line's user id). Lines the
processor rejects are reported with their line number and reason, and the rest is processed.

Arrival is simulated from the file itself (../shared/DESIGN.md, rule 2 "Two clocks"): the arrival
clock advances with the lines in file order and is robust to outliers. Each line's arrival is the
running maximum of its own timestamp, or, when that is an outlier among the five lines around it that
have a usable timestamp (fewer at the file's edges), of their median; a line without one arrives on
the clock as it stands. One line stamped 2099 in a 2024 file is therefore seen as from the future of
its arrival (clamped), and a 2018 line as old (analysed, never a send), instead of moving "now".

A file that is not in time order is warned about (lines more than a minute behind the clock, and how
far behind at worst): the processor treats such lines as late or stale. ``--sort`` (``SORT=1``)
stable-sorts the lines by timestamp first.

Results go to a fresh directory per run (``out/replay/<file stem>-<UTC time>``) unless ``--out``
names one; a non-empty one is refused unless ``--force``. Exits 0 when every line was processed or
rejected with its reason; 1 when records were lost, nothing was processed or the pipeline did not
drain; 2 for bad arguments.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from rich.console import Console

from journey.events.decoding import Rejection, decode_event
from journey.events.normalizers import FORMATS
from localrt.results import DeliveryReceiver, finish_run, print_summary, write_results
from localrt.runtime import local_runtime

USER_KEYS = ("userId", "user_id", "user_pseudo_id", "anonymousId")
ARRIVAL_WINDOW = 5  # lines around each line whose median timestamp says where the file is
OUTLIER_SPREADS = 3 * 1.4826  # a Hampel filter's: three median absolute deviations, scaled to standard deviations
PLAUSIBLE_MS = 60_000  # a line this close to its neighbours' median is never an outlier
OUT_OF_ORDER_MS = 60_000  # a line this far behind the clock counts as out of order
DECODE_LIMIT = 1 << 30  # decoding here only reads ids and timestamps; the processor enforces the real limit


def partition_key(line: bytes, number: int) -> str:
    """The partition key of a line the processor will reject (one it accepts is keyed by its user id,
    normalized exactly as the processor normalizes it: journey.events.identity)."""
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


@dataclass(frozen=True)
class Line:
    number: int  # in the file, from 1
    data: bytes
    event_id: str | None  # None: the processor will reject it
    timestamp: int | None  # canonical epoch ms (Firebase's microseconds, Segment's ISO-8601 converted), None when unusable
    user_id: str | None = None  # the event's user id, normalized as the processor does (the partition key)


def decode_lines(lines: list[tuple[int, bytes]], fmt: str) -> list[Line]:
    decoded_lines = []
    for number, data in lines:
        decoded = decode_event(data, DECODE_LIMIT, fmt)
        if isinstance(decoded, Rejection):
            decoded_lines.append(Line(number, data, None, None))
        else:
            decoded_lines.append(Line(number, data, decoded.eventId, decoded.timestamp, decoded.userId))
    return decoded_lines


def _median_low(values: list[int]) -> int:
    ordered = sorted(values)
    return ordered[(len(ordered) - 1) // 2]


def arrival_clock(timestamps: list[int | None], window: int = ARRIVAL_WINDOW) -> list[int | None]:
    """Each line's simulated arrival (epoch ms), in file order.

    Around each line with a usable timestamp, take the ``window`` lines with one centred on it
    (fewer at the file's edges): their median (the lower one of an even count, so one outlier among
    two never wins) is where the file is, and their median distance from it how far apart its lines
    are. A line stamped within three scaled such distances of the median (at least a minute) is
    plausible and its candidate is its own time; any other (2099 in a 2024 file, or 2018) is an
    outlier and its candidate is the median. The clock is the running maximum of the candidates, so
    it never goes back and no single line moves it, while a line next to an outlier keeps its own
    time (a plain median would shift it by one neighbour, hours in a sparse file). A line without a
    usable timestamp arrives on the clock as it stands (lines before the first usable one on the
    first clock value). None everywhere when no line has a timestamp.
    """
    usable = [(i, t) for i, t in enumerate(timestamps) if t is not None]
    if not usable:
        return [None] * len(timestamps)
    half = window // 2
    candidate: dict[int, int] = {}
    for position, (index, stamp) in enumerate(usable):
        around = [t for _, t in usable[max(0, position - half) : position + half + 1]]
        middle = _median_low(around)
        spread = _median_low([abs(t - middle) for t in around])
        plausible = abs(stamp - middle) <= max(OUTLIER_SPREADS * spread, PLAUSIBLE_MS)
        candidate[index] = stamp if plausible else middle
    arrivals: list[int | None] = []
    clock: int | None = None
    for index in range(len(timestamps)):
        if index in candidate:
            clock = candidate[index] if clock is None else max(clock, candidate[index])
        arrivals.append(clock)
    first = next(a for a in arrivals if a is not None)
    return [first if a is None else a for a in arrivals]


@dataclass(frozen=True)
class Disorder:
    behind: int  # lines stamped more than OUT_OF_ORDER_MS before the clock as the line before them left it
    worst_ms: int
    worst_line: int | None  # line number in the file


def disorder(lines: list[Line], arrivals: list[int | None]) -> Disorder:
    """Lines stamped more than a minute before the newest time the file had reached by the line before
    them (the arrival clock: robust to outliers, so lines after one stamped 2099 are not counted)."""
    behind, worst, worst_line = 0, 0, None
    for index, line in enumerate(lines):
        newest = arrivals[index - 1] if index else None
        if line.timestamp is None or newest is None:
            continue
        lag = newest - line.timestamp
        if lag > OUT_OF_ORDER_MS:
            behind += 1
            if lag > worst:
                worst, worst_line = lag, line.number
    return Disorder(behind, worst, worst_line)


def sort_lines(lines: list[Line]) -> list[Line]:
    """Stable sort by timestamp; a line without one stays right after the line before it (first when
    no line before it has one)."""
    keyed: list[tuple[float, Line]] = []
    last: float = float("-inf")
    for line in lines:
        if line.timestamp is not None:
            last = line.timestamp
        keyed.append((last, line))
    return [line for _, line in sorted(keyed, key=lambda pair: pair[0])]


def span(ms: int) -> str:
    seconds = ms / 1000
    for unit, size in (("years", 365.25 * 86_400), ("days", 86_400), ("hours", 3_600), ("minutes", 60)):
        if seconds >= size:
            return f"{seconds / size:,.1f} {unit}"
    return f"{seconds:.0f} seconds"


def default_out(path: Path) -> Path:
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    out = Path("out/replay") / f"{path.stem}-{stamp}"
    suffix = 1
    while out.exists():
        suffix += 1
        out = Path("out/replay") / f"{path.stem}-{stamp}-{suffix}"
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--file", type=Path, required=True, help="JSON lines, one event per line")
    parser.add_argument("--format", choices=FORMATS, default="native")
    parser.add_argument(
        "--out", type=Path, default=None, help="results directory (default: a new out/replay/<file stem>-<UTC time>)"
    )
    parser.add_argument("--force", action="store_true", help="write into --out even when it is not empty")
    parser.add_argument("--sort", action="store_true", help="stable-sort the lines by timestamp before putting them")
    args = parser.parse_args(argv)
    console = Console(file=sys.__stdout__)
    if not args.file.is_file():
        console.print(f"[red]no such file: {args.file}[/]")
        return 2
    out: Path = args.out or default_out(args.file)
    if out.exists() and not out.is_dir():
        console.print(f"[red]{out} is not a directory[/]")
        return 2
    if out.is_dir() and any(out.iterdir()) and not args.force:
        console.print(f"[red]{out} is not empty: choose another OUT=, or FORCE=1 (--force) to write over it[/]")
        return 2
    lines = decode_lines(read_lines(args.file), args.format)
    if not lines:
        console.print(f"[red]{args.file} has no lines to replay[/]")
        return 2
    if args.sort:
        lines = sort_lines(lines)
    arrivals = arrival_clock([line.timestamp for line in lines])
    late = disorder(lines, arrivals)
    out.mkdir(parents=True, exist_ok=True)
    console.print(
        f"replaying {len(lines):,} lines of {args.file} as {args.format}{' (sorted by timestamp)' if args.sort else ''} "
        f"through the pipeline; results in {out}"
    )
    if late.behind:
        advice = (
            "The file is sorted: these lines carry timestamps far from their neighbours'."
            if args.sort
            else "If the file is not in time order, replay it sorted: SORT=1 (--sort)."
        )
        console.print(
            f"[yellow]warning: {late.behind:,} of {len(lines):,} lines are stamped more than a minute before the newest time "
            f"the file had reached (at worst {span(late.worst_ms)} behind, line {late.worst_line}): the processor records "
            f"them but runs no detection on late ones and sends nothing for stale ones. {advice}[/]"
        )
    started = time.time()
    with local_runtime(out / "function.log", extra_env={"JOURNEY_INPUT_FORMAT": args.format}) as rt:
        receiver = DeliveryReceiver(rt, rt.subscribe_queue())
        receiver.start()
        rt.start_polling()
        records = [
            (
                line.user_id or partition_key(line.data, line.number),
                line.data,
                line.event_id,
                None if arrival is None else arrival / 1000,
            )
            for line, arrival in zip(lines, arrivals, strict=True)
        ]
        sequences = rt.put_records(records)
        line_of = {(r[0], sequence): line.number for r, sequence, line in zip(records, sequences, lines, strict=True)}
        run = finish_run(rt, receiver, started)
        rejected = sorted(
            (
                {"line": line_of.get((q["partitionKey"], q["sequenceNumber"])), "code": q["code"], "reason": q["reason"]}
                for q in rt.quarantined()
            ),
            key=lambda r: r["line"] or 0,
        )
    summary = run.summary
    summary.update(
        {
            "file": str(args.file),
            "format": args.format,
            "lines": len(lines),
            "sorted": args.sort,
            "lines_out_of_order": late.behind,
            "worst_behind_ms": late.worst_ms,
        }
    )
    report = write_results(out, run, None, f"replay of {args.file.name}")
    with open(out / "rejected.jsonl", "w", encoding="utf-8") as handle:
        for row in rejected:
            handle.write(json.dumps(row) + "\n")
    for row in rejected:
        console.print(f"[yellow]line {row['line']}[/]: {row['code']}: {row['reason']}")
    print_summary(console, summary, out, report)
    if rejected:
        console.print(
            f"{len(rejected)} line(s) rejected and quarantined with their reasons; the other {summary['events_processed']:,} processed"
        )
    problems = []
    if summary["events_lost"]:
        problems.append(f"{summary['events_lost']:,} record(s) lost (sent, but neither processed nor rejected)")
    if summary["events_processed"] == 0:
        problems.append(
            "no event was processed" + (" (every line was rejected)" if rejected and len(rejected) == len(lines) else "")
        )
    if not summary["drained"]:
        problems.append("the pipeline did not drain (records still in flight when the wait ended)")
    for problem in problems:
        console.print(f"[red bold]replay failed: {problem}[/]")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
