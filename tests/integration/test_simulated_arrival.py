"""The local runtime's simulated arrival clock: a record put with an arrival reaches the function with
that ``approximateArrivalTimestamp``; one put without keeps moto's wall-clock arrival; what is about
the real stream (``MaximumRecordAgeInSeconds``) stays on the wall clock."""

from __future__ import annotations

import threading
import time

import pytest

from localrt.esm import SimulatedArrivals
from localrt.runtime import local_runtime

pytestmark = pytest.mark.network_local
NOV_2026 = 1_793_491_200.0  # 2026-11-01, seconds
YEAR_2020 = 1_577_836_800.0  # older than any MaximumRecordAgeInSeconds


def test_the_function_sees_the_arrival_each_record_was_put_with(tmp_path):
    seen: dict[tuple[str, str], float] = {}
    lock = threading.Lock()

    def invoke(event, context):
        with lock:
            for record in event["Records"]:
                kinesis = record["kinesis"]
                seen[(kinesis["partitionKey"], kinesis["sequenceNumber"])] = kinesis["approximateArrivalTimestamp"]
        return {"batchItemFailures": []}

    with local_runtime(tmp_path / "function.log") as rt:
        mapping = rt.mappings[0]
        mapping.invoke = invoke
        rt.start_polling()  # polling while the records are put: put and poll race on different threads
        given = {}
        records = []
        for n in range(1300):  # three PutRecords chunks
            key = f"user-{n % 37}"
            arrival = None if n % 10 == 0 else (YEAR_2020 if n % 10 == 1 else NOV_2026 + n)
            records.append((key, b'{"n": %d}' % n, None, arrival))
        before = time.time()
        for start in range(0, len(records), 650):
            sequences = rt.put_records(records[start : start + 650])
            given.update({(r[0], s): r[3] for r, s in zip(records[start : start + 650], sequences, strict=True)})
        after = time.time()
        assert rt.wait_until_drained(timeout_s=60, settle_s=1.0)
        stats = mapping.stats.as_dict()
    assert stats["records_to_on_failure"] == 0  # a record "from 2020" is young on the wall clock: never given up for age
    assert set(seen) == set(given)
    for identity, arrival in given.items():
        if arrival is None:
            assert before - 5 <= seen[identity] <= after + 5  # moto's wall-clock arrival
        else:
            assert seen[identity] == arrival
    assert len(rt.arrivals) == 0  # each arrival is forgotten once read


def test_the_poller_waits_for_a_put_still_in_flight():
    arrivals = SimulatedArrivals()
    taken: list[float | None] = []

    def poller():
        taken.append(arrivals.take("k", "1"))

    with arrivals.putting():
        thread = threading.Thread(target=poller)
        thread.start()
        time.sleep(0.2)
        assert not taken  # read before its put returned: waiting
        arrivals.given([("k", "1", NOV_2026)])
        thread.join(timeout=5)
    assert taken == [NOV_2026]
    assert arrivals.take("k", "2") is None  # never given and no put in flight: moto's arrival stands
