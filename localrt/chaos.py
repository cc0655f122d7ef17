"""``make chaos``: the real pipeline on the local runtime with every fault at once, checked against an
independent ledger. Results in ``out/chaos/summary.json``; exits non-zero when an invariant breaks.

    python -m localrt.chaos [--events 100000] [--seed 7] [--out out/chaos]

Faults: 10% producer duplicates (new sequence numbers; half at once, half much later), 1% poison
records of every kind, one hot user with 20% of the traffic, out-of-order and clock-skewed
events, valid events that are hostile to the store and the clocks (stamped years in the future or
the past of their arrival, screen and feature names whose keys would pass DynamoDB's byte limits),
users whose producers key part of their records by device (two partition keys, two shards), and in the function's own AWS clients (``localrt.faults``) 5% of DynamoDB calls throttled,
5% of SNS calls failing, and 3% of invocations ending mid-way (crash or timeout, before or after
an AWS call).

The ledger is the producer's own record of what it sent, and a fault-free reference run of the
same unique events through the same pipeline in memory. Because the pipeline folds each user's
events in stream order, the chaos run must end with exactly the reference's signals, decisions
and sends, whatever the faults did to batching.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import io
import json
import logging
import os
import random
import sys
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from botocore.retries import standard as botocore_standard
from rich.console import Console

from journey.adapters.aws.codecs.interventions import intervention_record, is_outcome, is_report
from journey.adapters.aws.codecs.journal import chunk_key, journaled_event_ids
from journey.adapters.aws.codecs.signals import signal_record
from journey.adapters.aws.codecs.user_state import state_from_item
from journey.interventions.ledger import Delivery
from journey.users.state import UserState
from localrt.bench import kinesis_events
from localrt.demo import register_push_endpoints
from localrt.faults import FaultInjector, FaultPlan
from localrt.results import DeliveryReceiver, drain_sqs_into
from localrt.runtime import SimulatorClock, local_runtime
from localrt.simulator import make_population, timeline

T0 = 1_793_491_200_000
HOT_USER = "hot-user-0001"
BAD_BASE64_MARK = b"CHAOS-BAD-BASE64:"
BACKOFF_COMPRESSION = 50  # botocore's retry backoff, scaled down so a run takes minutes, not hours
COUNTED = ("flows_started", "flows_done", "videos_watched")
# A late producer duplicate arrives within this many of the user's later events: inside the
# processor's dedup memory (journey.users.state.RECENT_IDS fingerprints per user, docs/data-model.md).
DUPLICATE_HORIZON = 20


def _poison(kind: str, rng: random.Random, user: str) -> bytes:
    base = {
        "eventId": f"poison-{rng.getrandbits(48):x}",
        "eventType": "page_view",
        "userId": user,
        "sessionId": "s",
        "timestamp": T0,
    }
    if kind == "bad_base64":
        return BAD_BASE64_MARK + b"the harness replaces this record's data with text that is not base64"
    if kind == "not_utf8":
        return b'{"eventType": "\xff\xfe\xfa"}'
    if kind == "not_json":
        return rng.choice((b"{not json", b'{"eventType": "page_view",', b"[1, 2"))
    if kind == "not_object":
        return rng.choice((b'["an", "array"]', b"42", b'"a string"', b"null"))
    if kind == "oversize":
        return json.dumps({**base, "eventData": {"query": "x" * 70_000}}).encode()
    if kind == "wrong_types":
        return json.dumps(
            rng.choice(({**base, "timestamp": "yesterday"}, {**base, "eventType": 42}, {**base, "eventData": "not an object"}))
        ).encode()
    if kind == "unknown_event_type":
        return json.dumps({**base, "eventType": "teleport"}).encode()
    if kind == "hostile_strings":
        return json.dumps(
            rng.choice(
                (
                    {**base, "userId": "A" * 5000},
                    {**base, "eventData": {"feature": "<script>alert(1)</script>" * 200}},
                    {**base, **{f"x{n}\u202e": n for n in range(100)}},
                    {**base, "eventData": {"screen": "'; DROP TABLE users; --" + "\u0000" * 600}},
                )
            )
        ).encode()
    if kind == "deeply_nested":
        return b'{"eventType": "page_view", "eventData": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    raise ValueError(kind)


POISON = {  # kind -> the rejection code it must be quarantined with
    "bad_base64": "bad_base64",
    "not_utf8": "not_utf8",
    "not_json": "not_json",
    "not_object": "not_object",
    "oversize": "oversize",
    "wrong_types": "schema_violation",
    "unknown_event_type": "schema_violation",
    "hostile_strings": "schema_violation",
    "deeply_nested": ("not_json", "oversize"),
}


@dataclass
class Plan:
    records: list[tuple[str, bytes, str | None]]  # (partition key, data, event id of a first copy)
    unique: list[dict]  # every valid event once, in the order of its first copy on the stream
    poison: list[tuple[int, str]]  # (index into records, kind)
    duplicates: int
    skewed_users: int
    reordered: int
    true_times: dict[str, int] = field(default_factory=dict)  # event id -> when it happened, for events stamped otherwise
    hostile: Counter = field(default_factory=Counter)  # kind of valid-but-hostile event -> how many
    two_key_users: set[str] = field(default_factory=set)


def build_plan(users, events_wanted: int, seed: int) -> Plan:
    rng = random.Random(seed)
    events = timeline(users, seed, T0, 14, 360.0)[:events_wanted]
    # one hot user carries a fifth of the traffic: the whole journeys of enough users, renamed
    hot_ids, carried = set(), 0
    per_user = Counter(e["userId"] for e in events)
    for user_id, count in per_user.most_common()[::-1]:
        if carried >= 0.2 * len(events):
            break
        hot_ids.add(user_id)
        carried += count
    skewed = {u.userId: rng.choice((-1, 1)) * rng.randint(60_000, 600_000) for u in users if rng.random() < 0.05}
    two_keys = {u.userId for u in users if u.userId not in hot_ids and rng.random() < 0.01}
    true_times: dict[str, int] = {}
    hostile: Counter = Counter()
    out = []
    for event in events:
        event = dict(event)
        if event["userId"] in skewed:  # a device clock minutes off
            event["timestamp"] += skewed[event["userId"]]
        if event["userId"] in hot_ids:
            event["userId"] = HOT_USER
        elif rng.random() < 0.005:  # an offline queue flushed late: stamped an hour before
            event["timestamp"] -= 3_600_000
        roll = rng.random()
        if roll < 0.002:  # a clock years (or a day) ahead of the stream: clamped to its arrival
            true_times[event["eventId"]] = event["timestamp"]
            event["timestamp"] = rng.choice((4_070_908_800_000, event["timestamp"] + 86_400_000))
            hostile["future_dated"] += 1
        elif roll < 0.004:  # stamped long before it arrived: analysed, never sent
            true_times[event["eventId"]] = event["timestamp"]
            event["timestamp"] -= rng.choice((2 * 86_400_000, 3 * 365 * 86_400_000))
            hostile["past_dated"] += 1
        elif roll < 0.006:  # a name whose key would pass DynamoDB's 1,024-byte sort key
            name = rng.choice(("界" * 340, "Ж" * 511, "😀" * 128))
            event["eventData"] = {**event["eventData"], "screen": name, "feature": name[:128]}
            hostile["long_multibyte_names"] += 1
        if rng.random() < 0.001:  # hostile but valid strings are kept verbatim
            event["eventData"] = {
                **event["eventData"],
                "target": rng.choice(("<img src=x onerror=alert(1)>", "Robert'); DROP TABLE--", "\u202eevil", "😀" * 30)),
            }
        out.append(event)
    reordered = 0
    for i in range(len(out) - 1):  # a user's neighbouring events swapped (client threads race)
        if rng.random() < 0.02 and out[i]["userId"] == out[i + 1]["userId"]:
            out[i], out[i + 1] = out[i + 1], out[i]
            reordered += 1

    records: list[tuple[str, bytes, str | None]] = []
    later: dict[str, list[tuple[int, tuple[str, bytes, None]]]] = defaultdict(list)  # user -> (due after n more events, copy)
    poison: list[tuple[int, str]] = []
    kinds = list(POISON)
    for event in out:
        user = event["userId"]
        data = json.dumps(event, separators=(",", ":")).encode()
        key = f"{user}#tablet" if user in two_keys and rng.random() < 0.5 else user  # a second device keyed by device
        records.append((key, data, event["eventId"]))
        waiting = later[user]
        for item in list(waiting):  # a client resending a batch it thought had failed, a few events on
            if item[0] <= 0:
                records.append(item[1])
                waiting.remove(item)
        later[user] = [(due - 1, copy) for due, copy in waiting]
        if rng.random() < 0.10:
            duplicate = (key, data, None)
            if rng.random() < 0.5:
                records.append(duplicate)  # the producer retried at once
            else:
                later[user].append((rng.randint(1, DUPLICATE_HORIZON), duplicate))
        if rng.random() < 0.01:
            kind = kinds[len(poison) % len(kinds)]
            poison.append((len(records), kind))
            records.append((user, _poison(kind, rng, user), None))
    records.extend(copy for waiting in later.values() for _, copy in waiting)
    duplicates = len(records) - len(out) - len(poison)
    return Plan(records, out, poison, duplicates, len(skewed), reordered, true_times, hostile, two_keys)


def stamp(clock: SimulatorClock, records: list[tuple[str, bytes, str | None]], true_times: dict[str, int]) -> list:
    """The records with their simulated arrival; an event stamped wrongly on purpose arrives when it
    really happened (and does not move its key's clock to the time it claims)."""
    out = []
    for key, data, event_id in records:
        if event_id in true_times:
            out.append((key, data, event_id, clock.arrival(key, true_times[event_id])))
        else:
            out.extend(clock.stamp([(key, data, event_id)]))
    return out


# --- the fault-free reference --------------------------------------------------------------
@dataclass
class Effects:
    signals: set = field(default_factory=set)  # (userId, sk)
    decisions: dict = field(default_factory=dict)  # (userId, interventionId) -> status
    sends: set = field(default_factory=set)  # interventionIds announced on the topic
    counters: dict = field(default_factory=dict)  # userId -> {counter: value}


def reference_effects(unique: list[dict], batch_size: int, true_times: dict[str, int]) -> Effects:
    from localrt.bench import FakeContext, load_handler
    from localrt.memory_ports import memory_aws

    aws = memory_aws(timestream=False)
    module = load_handler(aws.ports)
    sink = io.StringIO()
    for handler in logging.getLogger(os.environ["POWERTOOLS_SERVICE_NAME"]).handlers:
        handler.setStream(sink)  # the reference's logs and metrics are not the run's
    with contextlib.redirect_stdout(sink):
        for batch in kinesis_events(unique, batch_size, true_times):
            response = module.lambda_handler(batch, FakeContext())
            assert not response.get("batchItemFailures"), "the fault-free reference failed"
    tables = aws.dynamodb.tables
    effects = Effects()
    effects.signals = {(k[0], k[1]) for k in tables["StruggleSignals"]}
    effects.decisions = {
        k: intervention_record(i)["status"] for k, i in tables["Interventions"].items() if not is_outcome(i) and not is_report(i)
    }
    effects.sends = {
        json.loads(p["Message"])["interventionId"] for p in aws.sns.published if "Id" in p
    }  # topic entries, not pushes
    effects.counters = {k[0]: _counters(state_from_item(i)) for k, i in tables["UserState"].items()}
    return effects


def _counters(state: UserState | None) -> dict:
    return {name: getattr(state, name) if state else 0 for name in COUNTED}


def ledger_counters(unique: list[dict]) -> dict[str, dict]:
    """What the profile counters must read, counted from the producer's own record."""
    from journey.events.vocabulary import SUCCESSES

    counts: dict[str, Counter] = defaultdict(Counter)
    for e in unique:
        data = e.get("eventData") or {}
        if e["eventType"] == "feature_interaction" and data.get("action") == "start":
            counts[e["userId"]]["flows_started"] += 1
        if e["eventType"] == "feature_interaction" and data.get("action") in SUCCESSES:
            counts[e["userId"]]["flows_done"] += 1
        if e["eventType"] == "video_engagement" and data.get("completionRate") is not None:
            counts[e["userId"]]["videos_watched"] += 1
    return {u: {name: c.get(name, 0) for name in COUNTED} for u, c in counts.items()}


# --- the run ---------------------------------------------------------------------------------
def compress_botocore_backoff(factor: int) -> None:
    config = botocore_standard.ExponentialBackoff._DEFAULT_BACKOFF_CONFIG
    botocore_standard.ExponentialBackoff._DEFAULT_BACKOFF_CONFIG = {k: v / factor for k, v in config.items()}
    botocore_standard.ExponentialBackoff._SERVICE_BACKOFF_CONFIG = {
        s: {k: v / factor for k, v in c.items()} for s, c in botocore_standard.ExponentialBackoff._SERVICE_BACKOFF_CONFIG.items()
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--users", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--rate", type=int, default=1500, help="records per second the producer writes")
    parser.add_argument("--out", type=Path, default=Path("out/chaos"))
    parser.add_argument("--moto", choices=("process", "thread"), default="process")
    args = parser.parse_args(argv)
    console = Console(file=sys.__stdout__)
    args.out.mkdir(parents=True, exist_ok=True)
    started = time.time()
    compress_botocore_backoff(BACKOFF_COMPRESSION)
    users = make_population(args.users, args.seed)

    # the deadline timer is off: its runs follow the wall clock, so the effects of the fault-free reference
    # (one pass, no timer) would not be defined for what it declares; make demo and tests cover the timer
    # no agent, and nothing escalated: the fault-free reference decides every case by the rules, and so must
    # the run (the agent path's own exactly-once is tests/integration/test_agent_local.py's)
    no_agent = {"JOURNEY_AGENT__MODE": "none"}
    with local_runtime(args.out / "function.log", no_agent, moto=args.moto, schedule="off", agent=False) as rt:
        register_push_endpoints(rt, users)
        plan = build_plan(users, args.events, args.seed)
        console.print(
            f"[bold]chaos[/]: {len(plan.unique):,} events, {plan.duplicates:,} duplicates, {len(plan.poison):,} poison records, "
            f"hot user {sum(1 for e in plan.unique if e['userId'] == HOT_USER) / len(plan.unique):.0%} of traffic, "
            f"{plan.skewed_users} users with skewed clocks, {plan.reordered} swapped pairs, "
            f"valid but hostile: {dict(plan.hostile)}, {len(plan.two_key_users)} users on two partition keys"
        )
        from journey.adapters.aws.clients import client

        injector = FaultInjector(FaultPlan(seed=args.seed))
        injector.attach({name: client(name) for name in ("dynamodb", "sns", "s3")})
        mapping = rt.mappings[0]
        handler = mapping.invoke

        def invoke(event, context):
            injector.invocation_started()
            for record in event["Records"]:
                if base64.b64decode(record["kinesis"]["data"]).startswith(BAD_BASE64_MARK):
                    record["kinesis"]["data"] = "%%% not base64 %%%"
            return handler(event, context)

        mapping.invoke = invoke
        receiver = DeliveryReceiver(rt, rt.subscribe_queue())
        receiver.start()
        rt.start_polling()
        sequences: list[str] = []
        producing_started = time.time()
        chunk = 500
        clock = SimulatorClock()  # arrival on the simulator's clock, as the reference run's (bench.kinesis_events)
        for start in range(0, len(plan.records), chunk):
            sequences.extend(rt.put_records(stamp(clock, plan.records[start : start + chunk], plan.true_times)))
            due = producing_started + (start + chunk) / args.rate
            totals = rt.collector.totals()
            console.print(
                f"  sent {min(start + chunk, len(plan.records)):>7,}/{len(plan.records):,} · applied {totals['applied']:,} · "
                f"invocations {mapping.stats.invocations:,} · function errors {mapping.stats.function_errors:,}",
                end="\r",
            )
            time.sleep(max(0.0, due - time.time()))
        console.print()
        drain_deadline = time.time() + 1200
        drained = False
        while not drained and time.time() < drain_deadline:
            drained = rt.wait_until_drained(timeout_s=20, settle_s=5)
            console.print(
                f"  draining · applied {rt.collector.totals()['applied']:,} of {len(plan.unique):,} · invocations {mapping.stats.invocations:,} · "
                f"function errors {mapping.stats.function_errors:,}"
            )
        drain_sqs_into(receiver, quiet_s=3)
        receiver.stop()
        elapsed = time.time() - started

        # --- read back what the system did ----------------------------------------------------
        journal_items = rt.scan("EVENTS_TABLE")
        chunks_of = defaultdict(list)  # event id -> (user, chunk key) of each chunk that holds it
        for item in journal_items:
            for event_id in journaled_event_ids(item):
                chunks_of[event_id].append(chunk_key(item))
        journal = Counter({event_id: len(chunks) for event_id, chunks in chunks_of.items()})
        states = {state.userId: state for state in map(state_from_item, rt.scan("STATE_TABLE"))}
        signals = Counter((s["userId"], s["sk"]) for s in map(signal_record, rt.scan("SIGNALS_TABLE")))
        decisions = {
            (d["userId"], d["interventionId"]): d
            for d in (intervention_record(i) for i in rt.scan("INTERVENTIONS_TABLE") if not is_outcome(i) and not is_report(i))
        }
        quarantined = {(q["partitionKey"], q["sequenceNumber"]): q for q in rt.quarantined()}
        received = Counter(m["interventionId"] for m in receiver.received)
        stats = mapping.stats.as_dict()
        on_failure = rt.on_failure_messages()
        function_spec = rt.template.functions[rt.template.mappings[0].function]
        spec = rt.template.mappings[0]

    console.print("computing the fault-free reference ...")
    reference = reference_effects(plan.unique, spec.batch_size, plan.true_times)
    expected_counters = ledger_counters(plan.unique)

    unique_ids = [e["eventId"] for e in plan.unique]
    lost = [i for i in unique_ids if i not in journal]
    journaled_twice = sum(c - 1 for c in journal.values() if c > 1)
    counter_excess = counter_missing = 0
    for user_id, want in expected_counters.items():
        have = _counters(states.get(user_id))
        for name in COUNTED:
            counter_excess += max(0, have[name] - want[name])
            counter_missing += max(0, want[name] - have[name])
    # A user on two shards is folded in an order the reference (one stream) does not define: their
    # events must all be there (events_lost) and their counters right, but not signal for signal.
    two = plan.two_key_users
    extra_signals = [k for k in signals if k not in reference.signals and k[0] not in two]
    missing_signals = [k for k in reference.signals if k not in signals and k[0] not in two]
    signal_rows_twice = sum(c - 1 for c in signals.values() if c > 1)
    decision_mismatch = [
        k
        for k, status in reference.decisions.items()
        if k[0] not in two and (k not in decisions or decisions[k]["status"] != status)
    ]
    extra_decisions = [k for k in decisions if k not in reference.decisions and k[0] not in two]
    user_of = {iid: user for user, iid in [*reference.decisions, *decisions]}
    sent_twice = sorted(i for i, c in received.items() if c > 1)
    unexpected_sends = [i for i in received if i not in reference.sends and user_of.get(i) not in two]
    unconfirmed = [k for k, d in decisions.items() if d.get("delivery") in (Delivery.PENDING.value, Delivery.UNCONFIRMED.value)]
    missing_sends = [i for i in reference.sends if i not in received and user_of.get(i) not in two]

    poison_records = {(plan.records[index][0], sequences[index]): kind for index, kind in plan.poison}
    poison_ok, poison_wrong = 0, []
    for key, kind in poison_records.items():
        found = quarantined.get(key)
        want = POISON[kind] if isinstance(POISON[kind], tuple) else (POISON[kind],)
        if found and found["code"] in want and found.get("reason"):
            poison_ok += 1
        else:
            poison_wrong.append(
                {"kind": kind, "sequenceNumber": key[1], "found": found and {"code": found["code"], "reason": found["reason"]}}
            )
    quarantined_valid = [k for k in quarantined if k not in poison_records]

    backoffs = sum(min(0.05 * 2**a, 1.0) for a in range(spec.retry_attempts))
    retry_budget = (spec.retry_attempts + 1) * function_spec.timeout_s + backoffs
    summary = {
        "events_sent": len(plan.unique),
        "records_put": len(plan.records),
        "events_lost": len(lost) + len(quarantined_valid),
        "duplicate_effects": journaled_twice
        + counter_excess
        + len(extra_signals)
        + signal_rows_twice
        + len(extra_decisions)
        + len(unexpected_sends)
        + sum(received[i] - 1 for i in sent_twice),
        "journaled_twice_examples": {i: chunks_of[i] for i in sorted(i for i, c in journal.items() if c > 1)[:10]},
        "duplicate_effects_by_kind": {
            "events_journaled_twice": journaled_twice,
            "profile_counter_excess": counter_excess,
            "signals_not_in_reference": len(extra_signals),
            "signal_rows_twice": signal_rows_twice,
            "decisions_not_in_reference": len(extra_decisions),
            "sends_not_in_reference": len(unexpected_sends),
        },
        "missing_effects": {
            "profile_counter_shortfall": counter_missing,
            "signals_missing": len(missing_signals),
            "decisions_differing": len(decision_mismatch),
            "sends_missing": len(missing_sends),
            "sends_unconfirmed": len(unconfirmed),
            "sends_unconfirmed_by_reason": dict(
                Counter((decisions[k].get("deliveryError") or "pending")[:60] for k in unconfirmed)
            ),
        },
        "interventions_sent_twice": len(sent_twice),
        "interventions_sent": sum(received.values()),
        "reference": {"signals": len(reference.signals), "decisions": len(reference.decisions), "sends": len(reference.sends)},
        "producer_duplicates": plan.duplicates,
        "poison_injected": len(poison_records),
        "poison_quarantined": poison_ok,
        "poison_by_kind": dict(Counter(poison_records.values())),
        "poison_not_quarantined_as_expected": poison_wrong[:20],
        "valid_events_quarantined": len(quarantined_valid),
        "hot_user_share": round(sum(1 for e in plan.unique if e["userId"] == HOT_USER) / len(plan.unique), 3),
        "users_with_skewed_clocks": plan.skewed_users,
        "valid_hostile_events": dict(plan.hostile),
        "users_on_two_partition_keys": len(two),
        "records_on_a_second_partition_key": sum(1 for key, _, _ in plan.records if key.endswith("#tablet")),
        "out_of_order_pairs": plan.reordered,
        "faults_injected": dict(injector.counts.injected),
        "max_shard_stall_seconds": round(stats["max_batch_seconds"], 2),
        "retry_budget_seconds": round(retry_budget, 1),
        "retry_budget_basis": f"(MaximumRetryAttempts {spec.retry_attempts} + 1) x function timeout {function_spec.timeout_s} s + emulator backoffs",
        "botocore_backoff_compressed_by": BACKOFF_COMPRESSION,
        "stream_processor": stats,
        "on_failure_messages": on_failure,
        "drained": drained,
        "elapsed_s": round(elapsed, 1),
    }
    checks = {
        "drained": drained,
        "events_lost = 0": summary["events_lost"] == 0,
        "duplicate_effects = 0": summary["duplicate_effects"] == 0,
        "interventions_sent_twice = 0": summary["interventions_sent_twice"] == 0,
        "every poison record quarantined with its reason": poison_ok == len(poison_records),
        "no shard stalled past the retry budget": summary["max_shard_stall_seconds"] <= retry_budget,
    }
    summary["checks"] = checks
    (args.out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    (args.out / "differences.json").write_text(
        json.dumps(
            {
                "lost": lost[:100],
                "extra_signals": extra_signals[:100],
                "missing_signals": missing_signals[:100],
                "decisions_differing": [list(k) for k in decision_mismatch[:100]],
                "sent_twice": sent_twice[:100],
                "missing_sends": missing_sends[:100],
                "unexpected_sends": unexpected_sends[:100],
            },
            indent=1,
        )
        + "\n"
    )
    for name, ok in checks.items():
        console.print(f"  {'[green]ok[/]' if ok else '[red]FAILED[/]'}  {name}")
    console.print(
        f"events {summary['events_sent']:,} · lost {summary['events_lost']} · duplicate effects {summary['duplicate_effects']} · "
        f"sent twice {summary['interventions_sent_twice']} · poison {poison_ok}/{len(poison_records)} quarantined · "
        f"max stall {summary['max_shard_stall_seconds']} s (budget {summary['retry_budget_seconds']} s) · {summary['elapsed_s']} s"
    )
    console.print(f"faults injected: {dict(injector.counts.injected)}")
    console.print(f"results: {args.out / 'summary.json'}")
    return 0 if all(checks.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
