"""``make evaluate``: replay a labelled field suite through the pipeline and score what it detected.

A suite is a folder with ``events.jsonl`` (native events, any order) and ``labels.jsonl`` (one
episode a line: ``userId``, ``label`` = positive / hard_negative / ambiguous, ``signalType``, ``start``,
``end`` in epoch ms, plus ``class`` and ``note``). The default suite is the project's own field suite
(``tests/field``, written from the user's point of view before any rule was tuned); point ``SUITE=`` at
your own labelled sessions to measure the rules on your traffic.

The events go through the stream batch use case as they would arrive live (arrival = event time
plus 200 ms), over the real adapters on in-memory AWS, in time order, a batch at a time; every
minute of the suite's time the deadline timer runs (the same use case and index query as the
scheduled function), so abandonment is declared at its timeout as it is deployed.

Scoring: a signal matches an episode of its user when its time falls in the episode's span (1 s
before its start to a slack after its end that depends on the signal's type: 15 min for an
abandonment, which is declared after a grace period or a timeout; 30 s for the rest). A signal in a positive episode of its own type is a true
positive; one in an ambiguous episode is not scored; every other signal (wrong type, a hard
negative, ordinary use) is a false positive. Recall is the share of positive episodes with at least
one true positive; "hard negatives fired" the share of hard negatives with any signal.
"""

from __future__ import annotations

import argparse
import base64
import json
import sys
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from rich.console import Console
from rich.table import Table

from journey.adapters.aws.deadlines import DynamoDueUsers
from journey.app.deadlines import wake_due_users
from journey.app.ports import TimerPorts
from journey.app.stream_batch import process_batch
from journey.detection.signals import SignalType
from journey.events.records import ReadRecord, read_record
from journey.interventions.catalog import load_catalog
from journey.settings import Settings
from localrt.memory_ports import TABLES, memory_aws

ARRIVAL_LAG_MS = 200
BATCH_SIZE = 100
TICK_MS = 60_000
BEFORE_MS = 1_000
SLACK_MS = {SignalType.ABANDONMENT.value: 900_000}
DEFAULT_SLACK_MS = 30_000
TARGETS = {"precision": 0.95, "recall": 0.95, "per_type": 0.90, "hard_negatives_fired": 0.02}


@dataclass
class Episode:
    episodeId: str
    userId: str
    label: str
    signalType: str
    start: int
    end: int
    cls: str = ""
    note: str = ""
    matched: list[dict] = field(default_factory=list)

    def covers(self, signal: dict) -> bool:
        """Whether the signal falls in this episode's span; the slack after its end depends on the
        signal's type (an abandonment is declared after a grace period or a timeout, the rest at once)."""
        slack = SLACK_MS.get(signal["signalType"], DEFAULT_SLACK_MS)
        return self.start - BEFORE_MS <= signal["detectedAt"] <= self.end + slack


class CollectedCommands:
    """The command stream of the evaluation: commands wait here for the next batch."""

    def __init__(self) -> None:
        self.pending: list[dict] = []

    def append(self, events: list[dict]) -> list[str]:
        self.pending.extend(events)
        return []


def load_episodes(path: Path) -> list[Episode]:
    episodes = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            raw = json.loads(line)
            episodes.append(
                Episode(
                    raw["episodeId"],
                    raw["userId"],
                    raw["label"],
                    raw["signalType"],
                    int(raw["start"]),
                    int(raw["end"]),
                    raw.get("class", ""),
                    raw.get("note", ""),
                )
            )
    return episodes


def load_events(path: Path) -> list[tuple[int, str]]:
    """(event time, line) for every line, in time order (a line without a usable time keeps its place)."""
    rows = []
    last = 0
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        try:
            t = int(json.loads(line).get("timestamp"))
        except (TypeError, ValueError, AttributeError):
            t = last
        last = t
        rows.append((t, line))
    rows.sort(key=lambda row: row[0])
    return rows


class Replay:
    """The suite's events through the pipeline, with the deadline timer every minute of suite time."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.aws = memory_aws(timestream=False)
        self.catalog = load_catalog()
        self.commands = CollectedCommands()
        self.timer = TimerPorts(due_users=DynamoDueUsers(TABLES.state, dynamodb=self.aws.dynamodb), commands=self.commands)
        self.sequence = 49_000_000_000_000_000_000_000_000_000_000_000_000_000_000
        self.signals: list[dict] = []
        self.rejected: Counter = Counter()
        self.unknown: Counter = Counter()
        self.ticks = 0
        self.commands_folded = 0

    def record(self, line: str, arrival_ms: int) -> ReadRecord:
        self.sequence += 1
        try:
            key = str(json.loads(line).get("userId") or "unknown")
        except (ValueError, AttributeError):
            key = "unknown"
        data = base64.b64encode(line.encode()).decode()
        return read_record(str(self.sequence), key, data, arrival_ms / 1000, self.settings.max_record_bytes)

    def run_batch(self, batch: list[ReadRecord]) -> None:
        if not batch:
            return
        result = process_batch(
            batch, self.aws.ports, self.settings, self.catalog, "shardId-000000000000/eval", clock=lambda: batch[-1].arrival
        )
        self.signals += [s.as_record() for s in result.signals]
        self.rejected.update(result.rejected)
        self.unknown.update(result.unknown_vocabulary)

    def tick(self, now_ms: int) -> None:
        self.ticks += 1
        wake_due_users(self.timer, now_ms)
        if self.commands.pending:
            lines, self.commands.pending = self.commands.pending, []
            self.commands_folded += len(lines)
            self.run_batch([self.record(json.dumps(c), now_ms) for c in lines])

    def replay(self, rows: list[tuple[int, str]], progress: Console | None = None) -> None:
        if not rows:
            return
        next_tick = (rows[0][0] // TICK_MS + 1) * TICK_MS
        batch: list[ReadRecord] = []
        for n, (t, line) in enumerate(rows):
            arrival = t + ARRIVAL_LAG_MS
            while arrival >= next_tick:
                self.run_batch(batch)
                batch = []
                self.tick(next_tick)
                next_tick += TICK_MS
            batch.append(self.record(line, arrival))
            if len(batch) >= BATCH_SIZE:
                self.run_batch(batch)
                batch = []
            if progress and n and n % 10_000 == 0:
                progress.print(f"  {n:,} of {len(rows):,} events replayed")
        self.run_batch(batch)
        end = rows[-1][0] + self.settings.detection.flow_timeout_ms + 2 * TICK_MS  # the clock runs on past the last event
        while next_tick <= end:
            self.tick(next_tick)
            next_tick += TICK_MS


def score(signals: list[dict], episodes: list[Episode]) -> dict:
    by_user: dict[str, list[Episode]] = defaultdict(list)
    for episode in episodes:
        by_user[episode.userId].append(episode)
    tp: Counter = Counter()
    fp: Counter = Counter()
    false_positives: list[dict] = []
    for signal in signals:
        kind = signal["signalType"]
        covering = [e for e in by_user.get(signal["userId"], ()) if e.covers(signal)]
        for episode in covering:
            episode.matched.append(signal)
        if any(e.label == "positive" and e.signalType == kind for e in covering):
            tp[kind] += 1
        elif any(e.label == "ambiguous" for e in covering):
            continue
        else:
            fp[kind] += 1
            where = next((e for e in covering if e.label != "ambiguous"), None)
            false_positives.append(
                {**signal, "episode": where.episodeId if where else None, "class": where.cls if where else "ordinary use"}
            )
    positives = [e for e in episodes if e.label == "positive"]
    hard = [e for e in episodes if e.label == "hard_negative"]
    found = [e for e in positives if any(s["signalType"] == e.signalType for s in e.matched)]
    per_type = {}
    for kind in sorted({e.signalType for e in positives} | set(tp) | set(fp)):
        kind_positives = [e for e in positives if e.signalType == kind]
        kind_found = [e for e in found if e.signalType == kind]
        fired = tp[kind] + fp[kind]
        per_type[kind] = {
            "precision": round(tp[kind] / fired, 3) if fired else None,
            "recall": round(len(kind_found) / len(kind_positives), 3) if kind_positives else None,
            "episodes": len(kind_positives),
            "signals": fired,
            "false_positives": fp[kind],
            "hard_negatives_fired": sum(1 for e in hard if e.signalType == kind and e.matched),
            "hard_negatives": sum(1 for e in hard if e.signalType == kind),
        }
    all_tp, all_fp = sum(tp.values()), sum(fp.values())
    by_class: dict[str, Counter] = defaultdict(Counter)
    for e in episodes:
        if e.label == "positive":
            by_class[e.cls]["found" if e in found else "missed"] += 1
        elif e.label == "hard_negative":
            by_class[e.cls]["fired" if e.matched else "quiet"] += 1
    return {
        "precision": round(all_tp / (all_tp + all_fp), 3) if all_tp + all_fp else 0.0,
        "recall": round(len(found) / len(positives), 3) if positives else 0.0,
        "hard_negatives_fired": round(sum(1 for e in hard if e.matched) / len(hard), 3) if hard else 0.0,
        "episodes": dict(Counter(e.label for e in episodes)),
        "signals": len(signals),
        "per_type": per_type,
        "by_class": {k: dict(v) for k, v in sorted(by_class.items())},
        "missed": [_episode_row(e) for e in positives if e not in found],
        "hard_negatives_that_fired": [_episode_row(e) for e in hard if e.matched],
        "false_positives": false_positives,
    }


def _episode_row(e: Episode) -> dict:
    return {
        "episodeId": e.episodeId,
        "userId": e.userId,
        "class": e.cls,
        "signalType": e.signalType,
        "note": e.note,
        "fired": sorted({s["signalType"] for s in e.matched}),
    }


def meets_targets(report: dict) -> list[str]:
    """The targets the report misses (empty: every one met)."""
    misses = []
    if report["precision"] < TARGETS["precision"]:
        misses.append(f"precision {report['precision']} < {TARGETS['precision']}")
    if report["recall"] < TARGETS["recall"]:
        misses.append(f"recall {report['recall']} < {TARGETS['recall']}")
    for kind, row in report["per_type"].items():
        for measure in ("precision", "recall"):
            if row[measure] is not None and row[measure] < TARGETS["per_type"]:
                misses.append(f"{kind} {measure} {row[measure]} < {TARGETS['per_type']}")
    if report["hard_negatives_fired"] > TARGETS["hard_negatives_fired"]:
        misses.append(f"hard negatives fired {report['hard_negatives_fired']} > {TARGETS['hard_negatives_fired']}")
    return misses


def print_report(console: Console, report: dict, suite: Path) -> None:
    table = Table(title=f"Struggle detection on {suite}", header_style="bold")
    for column in ("signal type", "precision", "recall", "episodes", "signals", "false pos.", "hard neg. fired"):
        table.add_column(column, justify="left" if column == "signal type" else "right", no_wrap=column == "signal type")
    for kind, row in report["per_type"].items():
        table.add_row(
            kind,
            f"{row['precision']:.3f}" if row["precision"] is not None else "-",
            f"{row['recall']:.3f}" if row["recall"] is not None else "-",
            str(row["episodes"]),
            str(row["signals"]),
            str(row["false_positives"]),
            f"{row['hard_negatives_fired']} / {row['hard_negatives']}",
        )
    table.add_row(
        "overall",
        f"{report['precision']:.3f}",
        f"{report['recall']:.3f}",
        str(report["episodes"].get("positive", 0)),
        str(report["signals"]),
        str(sum(r["false_positives"] for r in report["per_type"].values())),
        f"{report['hard_negatives_fired']:.1%}",
        style="bold",
    )
    console.print(table)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--suite", type=Path, required=True, help="folder with events.jsonl and labels.jsonl")
    parser.add_argument("--out", type=Path, help="where evaluation.json goes (default: out/evaluate/<suite folder name>)")
    args = parser.parse_args(argv)
    console = Console()
    events_path, labels_path = args.suite / "events.jsonl", args.suite / "labels.jsonl"
    for path in (events_path, labels_path):
        if not path.is_file():
            console.print(f"[red]no {path.name} in {args.suite}[/red]: a suite is a folder with events.jsonl and labels.jsonl")
            return 2
    rows = load_events(events_path)
    episodes = load_episodes(labels_path)
    console.print(
        f"replaying {len(rows):,} events of {len({e.userId for e in episodes}):,} labelled users, {len(episodes):,} episodes"
    )
    replay = Replay(Settings())
    replay.replay(rows, console)
    report = score(replay.signals, episodes)
    report["events"] = len(rows)
    report["rejected_by_reason"] = dict(replay.rejected)
    report["unknown_vocabulary"] = {f"{f}={w}": n for (f, w), n in replay.unknown.most_common(20)}
    report["timer"] = {"runs": replay.ticks, "commands": replay.commands_folded}
    out = args.out or Path("out/evaluate") / args.suite.name
    out.mkdir(parents=True, exist_ok=True)
    (out / "evaluation.json").write_text(json.dumps(report, indent=1), encoding="utf-8")
    with (out / "signals.jsonl").open("w", encoding="utf-8") as f:
        for signal in replay.signals:
            f.write(json.dumps(signal) + "\n")
    print_report(console, report, args.suite)
    if report["rejected_by_reason"]:
        console.print(f"rejected events: {report['rejected_by_reason']}")
    if report["unknown_vocabulary"]:
        console.print(f"words the vocabulary lacks: {report['unknown_vocabulary']}")
    misses = meets_targets(report)
    console.print(f"details (misses, false positives, hard negatives that fired): {out / 'evaluation.json'}")
    if misses:
        console.print("[red]below target:[/red] " + "; ".join(misses))
        return 1
    console.print(
        "[green]every target met[/green] (precision and recall ≥ 0.95 overall, ≥ 0.90 per type, hard negatives fired ≤ 2%)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
