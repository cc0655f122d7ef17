"""Build the field suite: a week of app use by 640 people with human-labelled episodes of struggle,
hard negatives and ambiguous moments. Standard library only; the same seed gives the same files.

    python -m tests.field.build_suite --out DIR [--seed N]

writes DIR/events.jsonl (native events of everyone, interleaved in time order) and DIR/labels.jsonl
(one line per episode), and prints a summary. See tests/field/README.md."""

from __future__ import annotations

import argparse
import json
import random
import sys
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

from . import ambiguous, innocents, struggles  # noqa: F401  (importing them registers the episode classes)
from .casebook import CASEBOOK
from .life import Ticket, live
from .world import LANGUAGES, Person, cast_people

PEOPLE = 640
WITHOUT_EPISODES = 0.15
MOST_EPISODES = 3
DEFAULT_SEED = 20261102


def all_tickets() -> list[Ticket]:
    """Every episode of the suite, with its variant and platform spread evenly (and language, for help)."""
    tickets = []
    rank = {"positive": 0, "hard_negative": 1, "ambiguous": 2}  # a fixed order, whatever the import order
    for spec in sorted(CASEBOOK, key=lambda s: rank[s.label]):
        rounds = [v for v in spec.variants for _ in range(v.share)]
        seen: Counter[str] = Counter()
        for i in range(spec.quota):
            v = rounds[i % len(rounds)]
            k = seen[v.name] + rounds.index(v)
            seen[v.name] += 1
            lang = LANGUAGES[i % len(LANGUAGES)] if spec.by_language else None
            tickets.append(Ticket(spec, v.name, v.platforms[k % len(v.platforms)], v.apps, lang))
    return tickets


def hand_out(people: list[Person], tickets: list[Ticket], seed: int) -> dict[str, list[Ticket]]:
    """Give each ticket to someone it fits: 15% of people get none, the rest one to three, spread thin."""
    rng = random.Random(f"{seed}:hand-out")
    quiet = set(rng.sample(range(len(people)), round(WITHOUT_EPISODES * len(people))))
    fits = {id(t): [i for i, p in enumerate(people) if i not in quiet and t.fits(p)] for t in tickets}
    order = list(tickets)
    rng.shuffle(order)
    order.sort(key=lambda t: len(fits[id(t)]))  # the choosiest first
    room = {i: rng.choices((1, 2, 3), (5, 3, 2))[0] for i in range(len(people)) if i not in quiet}
    held: dict[int, list[Ticket]] = defaultdict(list)
    for t in order:
        open_ = [i for i in fits[id(t)] if len(held[i]) < room[i]] or [i for i in fits[id(t)] if len(held[i]) < MOST_EPISODES]
        if not open_:
            raise RuntimeError(f"nobody left for {t.spec.cls}/{t.variant} on {t.platform}")
        # someone with nothing yet first, and not twice the same class for one person if it can be helped
        best = min((bool(held[i]), any(h.spec.cls == t.spec.cls for h in held[i])) for i in open_)
        held[rng.choice([i for i in open_ if (bool(held[i]), any(h.spec.cls == t.spec.cls for h in held[i])) == best])].append(t)
    # Everyone who is meant to have an episode gets at least one: take one from someone holding several.
    for i in range(len(people)):
        if i in quiet or held[i]:
            continue
        for j in sorted(held, key=lambda j: -len(held[j])):
            movable = [t for t in held[j] if len(held[j]) > 1 and t.fits(people[i])]
            if movable:
                t = rng.choice(movable)
                held[j].remove(t)
                held[i].append(t)
                break
    return {people[i].user_id: held[i] for i in range(len(people))}


def build(out: Path, seed: int = DEFAULT_SEED) -> dict[str, Any]:
    people = cast_people(PEOPLE, seed)
    given = hand_out(people, all_tickets(), seed)
    events: list[dict[str, Any]] = []
    labels: list[dict[str, Any]] = []
    for p in people:
        mine, marked = live(p, given[p.user_id], seed)
        events += mine
        labels += marked
    events.sort(key=lambda e: (e["timestamp"], e["userId"]))
    labels.sort(key=lambda x: (x["start"], x["userId"]))
    for n, label in enumerate(labels, 1):
        label["episodeId"] = f"ep-{n:04d}"
    out.mkdir(parents=True, exist_ok=True)
    _write(out / "events.jsonl", events)
    _write(out / "labels.jsonl", labels)
    return {"people": people, "events": events, "labels": labels}


def _write(path: Path, rows: list[dict[str, Any]]) -> None:
    with path.open("w", encoding="utf-8") as f:
        for row in rows:
            f.write(json.dumps(row, ensure_ascii=False, separators=(",", ":")) + "\n")


def summary(built: dict[str, Any]) -> str:
    people, events, labels = built["people"], built["events"], built["labels"]
    with_episodes = {x["userId"] for x in labels}
    lines = [
        f"users: {len(people)} ({len(people) - len(with_episodes)} without any episode)   events: {len(events)}   "
        f"episodes: {len(labels)}",
        "platforms (users): " + ", ".join(f"{k} {v}" for k, v in sorted(Counter(p.platform for p in people).items())),
        "by label: " + ", ".join(f"{k} {v}" for k, v in sorted(Counter(x["label"] for x in labels).items())),
        "",
        f"{'signalType':<18} {'positive':>8} {'hard_negative':>14} {'ambiguous':>10}",
    ]
    by_signal = Counter((x["signalType"], x["label"]) for x in labels)
    for signal in sorted({x["signalType"] for x in labels}):
        lines.append(
            f"{signal:<18} {by_signal[signal, 'positive']:>8} {by_signal[signal, 'hard_negative']:>14} "
            f"{by_signal[signal, 'ambiguous']:>10}"
        )
    lines += ["", f"{'class':<26} {'label':<14} {'signalType':<18} {'n':>4}  iOS/Android/Web"]
    by_class: dict[tuple[str, str, str], Counter[str]] = defaultdict(Counter)
    for x in labels:
        by_class[x["class"], x["label"], x["signalType"]][x["platform"]] += 1
    for (cls, label, signal), platforms in sorted(
        by_class.items(), key=lambda kv: (kv[0][1] != "positive", kv[0][1], kv[0][2], kv[0][0])
    ):
        lines.append(
            f"{cls:<26} {label:<14} {signal:<18} {sum(platforms.values()):>4}  "
            f"{platforms['iOS']}/{platforms['Android']}/{platforms['Web']}"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", required=True, type=Path, help="directory to write events.jsonl and labels.jsonl into")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    args = parser.parse_args(argv)
    built = build(args.out, args.seed)
    print(summary(built))
    print(f"\nwrote {args.out / 'events.jsonl'} and {args.out / 'labels.jsonl'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
