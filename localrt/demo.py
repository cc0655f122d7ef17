"""``make demo``: a population of app users played through the real pipeline on the local runtime.

python -m localrt.demo [--users 2000] [--seconds 150] [--seed 7] [--out out/demo] [--bedrock ok|failing|slow]

The hard cases go to the agent through the escalation queue; Amazon Bedrock is played by a local,
deterministic stand-in (``localrt.bedrock_standin``, not a model) whose mode ``--bedrock`` sets
(``make demo BEDROCK=failing``: every Bedrock call fails, and the rules decide alone).
"""

from __future__ import annotations

import argparse
import heapq
import json
import random
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from journey.kernel.tenancy import pseudonym
from localrt.agent_local import BEDROCK_ENV
from localrt.api_local import issue_token
from localrt.apps import InboxApps, call
from localrt.bedrock_standin import MODES as BEDROCK_MODES
from localrt.evaluation import match_signals, percentile, roc_auc
from localrt.learning import TRAIN_AT_DAY, ModelTraining, Returns, demo_environment, live_evaluation, reengagement_summary
from localrt.results import DeliveryReceiver, finish_run, print_summary, write_results
from localrt.runtime import LocalRuntime, Record, SimulatorClock, local_runtime
from localrt.serve import LOCAL_PSEUDONYM_KEY, start_api_server
from localrt.simulator import DAY_MS, Burst, GroundTruth, make_population, user_journey

T0 = int(datetime(2026, 11, 1, tzinfo=UTC).timestamp() * 1000)
DAYS = 14
TENANT = "demo"  # the app the simulated users use; their apps sign in to the API as its users
DUPLICATE_SHARE = 0.005  # producer retries that resend a record (same event, new sequence number)
MALFORMED_SHARE = 0.002  # broken records a buggy client sends
PAUSE_LABEL = "training the exit-risk model on the stored journeys"


def register_push_endpoints(rt: LocalRuntime, users) -> int:
    """What an app back end does at install: one SNS platform endpoint per device with push consent."""
    sns = rt.clients["sns"]
    app_arn = sns.create_platform_application(Name="journey-demo", Platform="GCM", Attributes={"PlatformCredential": "demo-key"})[
        "PlatformApplicationArn"
    ]
    count = 0
    for user in users:
        if user.consent["push"]:
            user.push_endpoint = sns.create_platform_endpoint(PlatformApplicationArn=app_arn, Token=f"token-{user.userId}")[
                "EndpointArn"
            ]
            count += 1
    return count


def sign_up(users) -> dict[str, str]:
    """Give each simulated user the pseudonymous id the API derives for them: their app sends events
    to the stream under it (a back end that pseudonymizes, as the contract asks) and signs in to the
    API under its own id. Returns pseudonymous id -> the app's own id."""
    app_id_of = {}
    for user in users:
        user.app_id, user.tenant = user.userId, TENANT
        user.userId = pseudonym(LOCAL_PSEUDONYM_KEY, TENANT, user.app_id)
        app_id_of[user.userId] = user.app_id
    return app_id_of


class SimulatedNow:
    """The simulated time the API reads as "now" while the demo plays (the 14 days run in minutes)."""

    def __init__(self, seconds: float, rt: LocalRuntime | None = None) -> None:
        self.seconds = seconds
        self.rt = rt
        self.started: float | None = None

    def __call__(self) -> int:
        if self.started is None:
            return T0
        elapsed = min(time.time() - self.started, self.seconds)
        now = T0 + int(elapsed / self.seconds * DAYS * DAY_MS)
        # never ahead of what the stream has delivered: the API's commands are then not "from the future"
        delivered = max((m.newest_arrival_s or 0.0 for m in self.rt.mappings), default=0.0) if self.rt else 0.0
        return min(now, int(delivered * 1000)) if delivered else now


def inbox_summary(apps: InboxApps, base_url: str, server_token: str) -> dict:
    """What the simulated apps did with their inbox, and the uplift the API reports from it."""
    asked = time.time()
    # moto answers a day's index Query by reading the whole table: far slower than DynamoDB, so a long wait
    status, uplift = call(base_url, "GET", f"/v1/analytics/uplift?days={DAYS + 1}", server_token, timeout=600)
    answered_ms = round((time.time() - asked) * 1000)
    return {
        "inbox": {
            **dict(apps.counts),
            "errors": dict(apps.errors),
            "announced_to_reported_ms": {
                "p50": round(percentile(apps.latencies_ms, 50), 1),
                "p95": round(percentile(apps.latencies_ms, 95), 1),
            },
        },
        "uplift_api": uplift if status == 200 else {"error": status, "body": uplift},
        "uplift_api_answered_ms": answered_ms,
    }


def malformed_record(rng: random.Random) -> bytes:
    return rng.choice(
        (
            b"{not json",
            b'{"eventType": "feature_interaction", "userId": "u-x", "sessionId": "s", "timestamp": "yesterday"}',
            b'["an", "array"]',
            b'{"hello": "world"}',
            ("x" * 70_000).encode(),
        )
    )


def play(
    rt: LocalRuntime,
    users,
    seconds: float,
    seed: int,
    receiver: DeliveryReceiver,
    console: Console,
    truth: GroundTruth,
    now: SimulatedNow | None = None,
    pause: tuple[int, Callable[[], None]] | None = None,
) -> Returns:
    """Play the users' journeys onto the stream on the wall clock. ``pause``: (simulated time, what to
    do then): the simulated clock stops while it runs (the model is trained there), then plays on."""
    rng = random.Random(seed + 1)
    clock = SimulatorClock()  # each record arrives on its simulated user's clock, not moto's wall clock
    helped = lambda user_id, feature: (user_id, feature) in receiver.helped  # noqa: E731
    journeys = [user_journey(u, random.Random(seed * 7919 + i), truth, T0, DAYS, helped) for i, u in enumerate(users)]
    returns = Returns(users, random.Random(seed + 2))
    index_of = {u.userId: i for i, u in enumerate(users)}
    newest = [0] * len(users)  # each user's newest event time played so far (their own clock)
    next_start = [0] * len(users)  # the time of the session a user is waiting to start (0: in a session)
    finished = [False] * len(users)
    start = time.time()
    if now is not None:
        now.started = start

    def wall_of(sim_ms: int) -> float:
        return start + (sim_ms - T0) / (DAYS * DAY_MS) * seconds

    heap: list[tuple[float, int, Burst | None]] = []
    for index, journey in enumerate(journeys):
        first = next(journey)
        heapq.heappush(heap, (wall_of(first.events[0]["timestamp"]), index, first))
    recent: list[bytes] = []
    columns = (
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        TextColumn("{task.percentage:>3.0f}%"),
        TimeElapsedColumn(),
        TextColumn("{task.fields[status]}"),
    )
    with Progress(*columns, console=console, transient=False) as progress:
        task = progress.add_task("playing 14 days of app usage", total=seconds, status="")
        while heap:
            wall = time.time()
            if pause is not None and wall >= wall_of(pause[0]):
                progress.update(task, status="simulated clock paused: " + PAUSE_LABEL)
                pause[1]()
                paused = time.time() - wall
                start += paused
                if now is not None and now.started is not None:
                    now.started += paused
                heap = [(due + paused, index, burst) for due, index, burst in heap]
                heapq.heapify(heap)
                pause = None
            for user_id, at, visit in returns.new_visits(receiver):
                index = index_of[user_id]
                end = visit.events[-1]["timestamp"]
                if newest[index] < at and (finished[index] or next_start[index] > end):
                    heapq.heappush(heap, (wall_of(at), len(journeys) + returns.visits, visit))
                    newest[index] = end  # their next session starts after it
                    returns.visits += 1
                else:
                    returns.skipped += 1
            now_wall = time.time()
            batch: list[Record] = []
            while heap and heap[0][0] <= now_wall:
                _, index, burst = heapq.heappop(heap)
                if burst is None:
                    burst = next(journeys[index], None)
                    if burst is None:
                        finished[index] = True
                        continue
                    if (
                        burst.events[0]["eventType"] == "app_lifecycle"
                        and burst.events[0]["eventData"].get("action") == "session_start"
                    ):
                        due = wall_of(burst.events[0]["timestamp"])
                        if due > now_wall:
                            heapq.heappush(heap, (due, index, burst))
                            next_start[index] = burst.events[0]["timestamp"]
                            continue
                if index < len(journeys):
                    next_start[index] = 0
                    newest[index] = max(newest[index], burst.events[-1]["timestamp"])
                for event in burst.events:
                    data = json.dumps(event, separators=(",", ":")).encode()
                    batch.append((event["userId"], data, event["eventId"], clock.arrival(event["userId"], event["timestamp"])))
                    recent.append(data)
                    if rng.random() < DUPLICATE_SHARE and recent:
                        duplicate = rng.choice(recent[-2000:])
                        user_id = json.loads(duplicate)["userId"]
                        batch.append((user_id, duplicate, None, clock.arrival(user_id)))  # resent now: its user's clock
                    if rng.random() < MALFORMED_SHARE:
                        key = f"bad-{rng.randint(0, 99)}"
                        batch.append((key, malformed_record(rng), None, clock.arrival(key)))
                if index < len(journeys):  # a re-engaged user's visit is not part of their journey
                    heapq.heappush(heap, (now_wall + burst.wait_s, index, None))
            if batch:
                rt.put_records(batch)
            totals = rt.collector.totals()
            progress.update(
                task,
                completed=min(seconds, time.time() - start),
                status=f"sent {rt.put_stats.records_sent:,} · processed {totals['applied'] + totals['duplicates']:,} · "
                f"signals {totals['signals']:,} · sent interventions {totals['sent']:,}",
            )
            time.sleep(0.05)
        progress.update(task, completed=seconds, status=f"sent {rt.put_stats.records_sent:,}; waiting for the stream to drain")
    return returns


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, default=2000)
    parser.add_argument("--seconds", type=float, default=400.0, help="wall-clock seconds the 14 simulated days take")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out", type=Path, default=Path("out/demo"))
    parser.add_argument(
        "--moto", choices=("process", "thread"), default="process", help="moto server in a child process or a thread"
    )
    parser.add_argument(
        "--no-apps",
        action="store_true",
        help="no simulated apps on the API: an in-app message helps as soon as it is announced (for comparison)",
    )
    parser.add_argument(
        "--bedrock",
        choices=BEDROCK_MODES,
        default=None,
        help=f"the local Bedrock stand-in: ok (default), failing (every call 503 or 429) or slow (past the time budget); "
        f"default {BEDROCK_ENV} or ok",
    )
    args = parser.parse_args(argv)
    console = Console(file=sys.__stdout__)
    args.out.mkdir(parents=True, exist_ok=True)
    users = make_population(args.users, args.seed)
    app_id_of = sign_up(users)
    truth = GroundTruth()
    console.print(
        f"[bold]Intelligent User Journey Orchestrator[/] demo: {args.users:,} users, 14 days, on the embedded local AWS"
    )
    started = time.time()
    # A simulated user's next session comes hours later in their time but a fraction of a second later here,
    # often before the agent's answer (real milliseconds): the escalations' answer grace is a simulated day
    # (its maximum), or the rules would decide some hard cases for want of an answer (docs/local-runtime.md).
    grace = {"JOURNEY_AGENT__ANSWER_GRACE_MS": str(DAY_MS), **demo_environment()}
    with local_runtime(args.out / "function.log", moto=args.moto, bedrock=args.bedrock, extra_env=grace) as rt:
        console.print(f"local AWS (moto) on {rt.endpoint}; provisioned from {rt.template.path.name}")
        if rt.agent is not None:
            console.print(
                f"escalations → agent invoker → [bold]{rt.agent.standin.summary()['label']}[/] on {rt.agent.standin.endpoint}, "
                f"mode [bold]{rt.agent.mode}[/] (plays {', '.join(rt.provisioned.played_by_standin) or 'Bedrock'})"
            )
        endpoints = register_push_endpoints(rt, users)
        receiver = DeliveryReceiver(rt, rt.subscribe_queue())
        now = SimulatedNow(args.seconds, rt)
        api = start_api_server(rt, clock_ms=now)
        tokens: dict[str, str] = {}
        token_for = lambda app_id: tokens.get(app_id) or tokens.setdefault(app_id, issue_token(api.api.secret, TENANT, app_id))  # noqa: E731
        apps = InboxApps(api.base_url, token_for, app_id_of, receiver.helped, seed=args.seed)
        if not args.no_apps:
            receiver.on_in_app = apps.announced
            apps.start()
        receiver.start()
        rt.start_polling()
        console.print(f"HTTPS API on {api.base_url}: simulated apps pull their inbox and report outcomes")
        console.print(
            f"{endpoints} push endpoints registered; stream processor polling {len(rt.mappings[0].pending) or 'all'} shard(s)"
        )
        setup_done = time.time()
        training = ModelTraining(rt, args.out, T0, args.seed)
        returns = play(
            rt, users, args.seconds, args.seed, receiver, console, truth, now, (T0 + int(TRAIN_AT_DAY * DAY_MS), training)
        )
        play_done = time.time()
        run = finish_run(rt, receiver, started)
        apps.stop()  # the apps finish what was announced; their reports travel the stream as commands
        rt.wait_until_drained(timeout_s=60, run_on=False)
        after_deployment = training.after_deployment()
        run.summary.update(inbox_summary(apps, api.base_url, api.tokens()["server"]))
        api.stop()
        console.print(
            f"setup {setup_done - started:.1f}s · play {play_done - setup_done:.1f}s · drain {time.time() - play_done:.1f}s"
        )

    struggles = [s for s in run.signals if s.get("signalType") != "gone_quiet"]  # re-engagement is not a struggle
    precision, recall, false_positives, missed = match_signals(struggles, truth.episodes)
    labels = {u.userId: u.churner for u in users}
    risk, summary = run.risk, run.summary
    scored = [(risk[u]["exitRiskScore"], labels[u]) for u in labels if u in risk]
    summary.update(
        {
            "users": len(users),
            "struggle_precision": round(precision, 4),
            "struggle_recall": round(recall, 4),
            "episodes_labelled": len(truth.episodes),
            "hard_negatives_played": truth.hard_negatives,
            "false_positives": len(false_positives),
            "missed_episodes": len(missed),
            "exit_risk_auc": round(roc_auc([s for s, _ in scored], [y for _, y in scored]), 4),
            "exit_risk_model": {
                "training": training.summary,
                "heldout_after_deployment": after_deployment,
                **live_evaluation(risk, labels, training),
                "silent_users_rescored": run.summary.get("silent_rescored", 0),
                "reengagement": reengagement_summary(run, returns),
            },
            "risk_bands": {
                band: sum(1 for r in risk.values() if r.get("riskBand") == band) for band in ("LOW", "MEDIUM", "HIGH")
            },
        }
    )
    report = write_results(args.out, run, labels, "demo")
    (args.out / "missed_episodes.jsonl").write_text("".join(json.dumps(e.__dict__) + "\n" for e in missed))
    (args.out / "false_positives.jsonl").write_text("".join(json.dumps(s) + "\n" for s in false_positives))
    print_summary(console, summary, args.out, report)
    ok = summary["events_lost"] == 0 and summary["drained"]
    if not ok:
        console.print("[red bold]events were lost or the stream did not drain[/]")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
