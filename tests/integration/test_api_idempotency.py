"""The API keeps each event request's answer for an hour (Powertools idempotency on DynamoDB): a
request sent again gets the first answer and nothing more reaches the stream."""

from __future__ import annotations

import time

import pytest

from localrt.api_local import asgi_request

pytestmark = pytest.mark.network_local


def test_a_request_sent_again_gets_the_first_answer_and_appends_nothing_more(tmp_path):
    # found by review: the processor remembers a user's last 24 event ids, so a resent request of more
    # events than that was counted twice; the API keeps each event request's answer for an hour
    from localrt.runtime import local_runtime
    from localrt.serve import runtime_api

    with local_runtime(tmp_path / "function.log", schedule="off") as rt:
        api = runtime_api(rt)
        token = api.tokens()["app_user"]
        now = int(time.time() * 1000)
        events = [
            {
                "eventId": f"e{n}",
                "eventType": "page_view",
                "userId": "demo-user-1",
                "sessionId": "s1",
                "timestamp": now + n,
                "eventData": {"screen": "home"},
            }
            for n in range(100)
        ]
        first = asgi_request(api, "POST", "/v1/events", token=token, body={"events": events})
        again = asgi_request(api, "POST", "/v1/events", token=token, body={"events": events})
        other = asgi_request(api, "POST", "/v1/events", token=api.tokens()["other_user"], body={"events": events})
        assert first[0] == again[0] == 200 and first[1] == again[1] and first[1]["accepted"] == 100
        assert other[1]["accepted"] == 0  # not demo-user-2's events: the answer is theirs, not a replay of the first
        kinesis, stream = rt.clients["kinesis"], rt.stream_name
        shards = kinesis.list_shards(StreamName=stream)["Shards"]
        on_stream = 0
        for shard in shards:
            iterator = kinesis.get_shard_iterator(StreamName=stream, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON")[
                "ShardIterator"
            ]
            on_stream += len(kinesis.get_records(ShardIterator=iterator, Limit=10_000)["Records"])
        assert on_stream == 100
