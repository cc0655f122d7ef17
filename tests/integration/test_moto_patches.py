"""The local runtime's speed fixes to moto answer exactly what moto answers without them.

Each case is asked twice of the same moto state: once through the patched method, once through the
original (``__wrapped__``); the answers must be equal, page by page.
"""

from __future__ import annotations

import boto3
import pytest
from moto import mock_aws
from moto.dynamodb.models.table import Table
from moto.kinesis.models import Shard

from localrt import moto_patches
from tests.builders import use_fake_aws_credentials

REGION = "us-east-1"


@pytest.fixture
def aws(monkeypatch):
    use_fake_aws_credentials(monkeypatch, REGION)
    moto_patches.apply()
    with mock_aws():
        yield boto3.session.Session(region_name=REGION)


def both_ways(monkeypatch, cls, name: str, call):
    """``call()`` with the patched method, then with moto's own."""
    patched = call()
    with monkeypatch.context() as m:
        m.setattr(cls, name, getattr(cls, name).__wrapped__)
        original = call()
    return patched, original


def every_page(operation, **request) -> list[dict]:
    """Each page of a Query or Scan (``operation``), following LastEvaluatedKey to the end."""
    pages: list[dict] = []
    while True:
        assert len(pages) < 200, "the pages never end"
        page = operation(**request)
        pages.append({"Items": page["Items"], "Count": page["Count"], "Last": page.get("LastEvaluatedKey")})
        if "LastEvaluatedKey" not in page:
            return pages
        request = {**request, "ExclusiveStartKey": page["LastEvaluatedKey"]}


def all_pages(ddb, **query) -> list[dict]:
    return every_page(ddb.query, **query)


def make_tables(ddb) -> None:
    ddb.create_table(
        TableName="ranged",
        KeySchema=[{"AttributeName": "userId", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        AttributeDefinitions=[
            {"AttributeName": "userId", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "S"},
            {"AttributeName": "day", "AttributeType": "S"},
            {"AttributeName": "shard", "AttributeType": "S"},
            {"AttributeName": "due", "AttributeType": "N"},
        ],
        GlobalSecondaryIndexes=[
            {
                "IndexName": "byDay",
                "KeySchema": [{"AttributeName": "day", "KeyType": "HASH"}],
                "Projection": {"ProjectionType": "ALL"},
            },
            {  # like the deadline timer's due index: sparse, a sort key, keys only
                "IndexName": "due",
                "KeySchema": [{"AttributeName": "shard", "KeyType": "HASH"}, {"AttributeName": "due", "KeyType": "RANGE"}],
                "Projection": {"ProjectionType": "KEYS_ONLY"},
            },
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    ddb.create_table(
        TableName="numbered",
        KeySchema=[{"AttributeName": "userId", "KeyType": "HASH"}, {"AttributeName": "n", "KeyType": "RANGE"}],
        AttributeDefinitions=[{"AttributeName": "userId", "AttributeType": "S"}, {"AttributeName": "n", "AttributeType": "N"}],
        BillingMode="PAY_PER_REQUEST",
    )
    ddb.create_table(
        TableName="plain",
        KeySchema=[{"AttributeName": "userId", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "userId", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    for user in range(12):
        uid = f"u{user:02d}"
        ddb.put_item(TableName="plain", Item={"userId": {"S": uid}, "v": {"N": str(user)}})
        # written out of order, so the partition's sort is what orders them
        for k in (7, 2, 11, 0, 5, 9, 1, 10, 3, 8, 4, 6)[: 3 + user % 10]:
            ddb.put_item(
                TableName="ranged",
                Item={
                    "userId": {"S": uid},
                    "sk": {"S": f"{'sig' if k % 2 else 'out'}#{k:03d}"},
                    "day": {"S": f"2026-11-{1 + k % 3:02d}"},
                    "k": {"N": str(k)},
                    "pad": {"S": "x" * (k * 10)},
                    **({"shard": {"S": f"s{user % 3}"}, "due": {"N": str(1000 - 7 * k + user)}} if k % 3 else {}),
                },
            )
            ddb.put_item(TableName="numbered", Item={"userId": {"S": uid}, "n": {"N": str(k * 1.5 - 4)}})


QUERIES = [
    {"TableName": "ranged", "KeyConditionExpression": "userId = :u", "ExpressionAttributeValues": {":u": {"S": "u09"}}},
    {
        "TableName": "ranged",
        "KeyConditionExpression": "userId = :u",
        "ExpressionAttributeValues": {":u": {"S": "u07"}},
        "Limit": 2,
    },
    {
        "TableName": "ranged",
        "KeyConditionExpression": "userId = :u",
        "ExpressionAttributeValues": {":u": {"S": "u08"}},
        "ScanIndexForward": False,
        "Limit": 3,
    },
    {
        "TableName": "ranged",
        "KeyConditionExpression": "userId = :u AND begins_with(sk, :p)",
        "ExpressionAttributeValues": {":u": {"S": "u09"}, ":p": {"S": "sig#"}},
        "Limit": 2,
    },
    {
        "TableName": "ranged",
        "KeyConditionExpression": "userId = :u AND sk BETWEEN :a AND :b",
        "ExpressionAttributeValues": {":u": {"S": "u09"}, ":a": {"S": "out#002"}, ":b": {"S": "sig#009"}},
    },
    {
        "TableName": "ranged",
        "KeyConditionExpression": "userId = :u",
        "FilterExpression": "k > :k",
        "ProjectionExpression": "sk, k",
        "ExpressionAttributeValues": {":u": {"S": "u09"}, ":k": {"N": "4"}},
        "Limit": 4,
    },
    {"TableName": "ranged", "KeyConditionExpression": "userId = :u", "ExpressionAttributeValues": {":u": {"S": "nobody"}}},
    {
        "TableName": "ranged",
        "IndexName": "byDay",
        "KeyConditionExpression": "#d = :d",
        "ExpressionAttributeNames": {"#d": "day"},
        "ExpressionAttributeValues": {":d": {"S": "2026-11-02"}},
        "Limit": 5,
    },
    {
        "TableName": "ranged",
        "IndexName": "due",
        "KeyConditionExpression": "#s = :s AND #d <= :now",
        "ExpressionAttributeNames": {"#s": "shard", "#d": "due"},
        "ExpressionAttributeValues": {":s": {"S": "s1"}, ":now": {"N": "990"}},
        "Limit": 4,
    },
    {
        "TableName": "ranged",
        "IndexName": "due",
        "KeyConditionExpression": "#s = :s",
        "ExpressionAttributeNames": {"#s": "shard"},
        "ExpressionAttributeValues": {":s": {"S": "s2"}},
        "ScanIndexForward": False,
        "Limit": 3,
    },
    {
        "TableName": "numbered",
        "KeyConditionExpression": "userId = :u AND n < :n",
        "ExpressionAttributeValues": {":u": {"S": "u11"}, ":n": {"N": "6"}},
    },
    {
        "TableName": "numbered",
        "KeyConditionExpression": "userId = :u",
        "ExpressionAttributeValues": {":u": {"S": "u11"}},
        "Limit": 4,
    },
    {"TableName": "plain", "KeyConditionExpression": "userId = :u", "ExpressionAttributeValues": {":u": {"S": "u03"}}},
    {"TableName": "plain", "KeyConditionExpression": "userId = :u", "ExpressionAttributeValues": {":u": {"S": "u99"}}},
]


@pytest.mark.parametrize("query", QUERIES, ids=range(len(QUERIES)))
def test_a_dynamodb_query_answers_as_moto_does(aws, monkeypatch, query):
    ddb = aws.client("dynamodb")
    make_tables(ddb)
    patched, original = both_ways(monkeypatch, Table, "query", lambda: all_pages(ddb, **query))
    assert patched == original
    assert sum(page["Count"] for page in patched) == sum(len(page["Items"]) for page in original)


def scan_pages(ddb, **scan) -> list[dict]:
    return every_page(ddb.scan, **scan)


SCANS = [
    {"TableName": "ranged"},
    {"TableName": "ranged", "Limit": 7},
    {"TableName": "ranged", "Limit": 5, "FilterExpression": "k > :k", "ExpressionAttributeValues": {":k": {"N": "6"}}},
    {"TableName": "ranged", "Limit": 9, "ProjectionExpression": "userId, sk, k", "Segment": 1, "TotalSegments": 3},
    {"TableName": "ranged", "IndexName": "due", "Limit": 6},
    {"TableName": "numbered", "Limit": 4},
    {"TableName": "numbered", "Limit": 11, "ConsistentRead": True},
    {"TableName": "plain", "Limit": 5},
    {"TableName": "plain"},
]


@pytest.mark.parametrize("scan", SCANS, ids=range(len(SCANS)))
def test_a_dynamodb_scan_answers_as_moto_does(aws, monkeypatch, scan):
    ddb = aws.client("dynamodb")
    make_tables(ddb)
    patched, original = both_ways(monkeypatch, Table, "scan", lambda: scan_pages(ddb, **scan))
    assert patched == original
    assert len(patched) > 1 or "Limit" not in scan


def test_a_dynamodb_scan_of_big_pages_answers_as_moto_does(aws, monkeypatch):
    """Pages cut by DynamoDB's 1 MB limit, not by Limit (the export's case)."""
    ddb = aws.client("dynamodb")
    make_tables(ddb)
    for user in range(40):
        ddb.put_item(
            TableName="ranged", Item={"userId": {"S": f"big{user:02d}"}, "sk": {"S": "chunk"}, "pad": {"S": "y" * 100_000}}
        )
    patched, original = both_ways(monkeypatch, Table, "scan", lambda: scan_pages(ddb, TableName="ranged"))
    assert patched == original
    assert len(patched) >= 4


def test_a_dynamodb_query_sees_items_written_after_the_last_query(aws):
    ddb = aws.client("dynamodb")
    make_tables(ddb)
    query = {"TableName": "ranged", "KeyConditionExpression": "userId = :u", "ExpressionAttributeValues": {":u": {"S": "u00"}}}
    before = [item["sk"]["S"] for page in all_pages(ddb, **query) for item in page["Items"]]
    ddb.put_item(TableName="ranged", Item={"userId": {"S": "u00"}, "sk": {"S": "aaa"}})
    ddb.delete_item(TableName="ranged", Key={"userId": {"S": "u00"}, "sk": {"S": before[-1]}})
    after = [item["sk"]["S"] for page in all_pages(ddb, **query) for item in page["Items"]]
    assert after == ["aaa", *before[:-1]]


def test_kinesis_get_records_answers_as_moto_does(aws, monkeypatch):
    kinesis = aws.client("kinesis")
    kinesis.create_stream(StreamName="s", ShardCount=1)
    for batch in range(3):
        kinesis.put_records(StreamName="s", Records=[{"Data": f"{batch}-{i}".encode(), "PartitionKey": "k"} for i in range(40)])
    shard = kinesis.list_shards(StreamName="s")["Shards"][0]["ShardId"]

    def read_all(limit: int, start: dict) -> list[tuple[list[bytes], int]]:
        """Every page up to the shard's end, and two polls there (they find nothing)."""
        iterator = kinesis.get_shard_iterator(StreamName="s", ShardId=shard, **start)["ShardIterator"]
        pages, empty = [], 0
        while empty < 2:
            page = kinesis.get_records(ShardIterator=iterator, Limit=limit)
            pages.append(([record["Data"] for record in page["Records"]], page["MillisBehindLatest"]))
            empty += not page["Records"]
            iterator = page["NextShardIterator"]
        return pages

    third = kinesis.get_shard_iterator(StreamName="s", ShardId=shard, ShardIteratorType="TRIM_HORIZON")
    first_page = kinesis.get_records(ShardIterator=third["ShardIterator"], Limit=3)["Records"]
    for limit, start in [
        (7, {"ShardIteratorType": "TRIM_HORIZON"}),
        (1000, {"ShardIteratorType": "TRIM_HORIZON"}),
        (5, {"ShardIteratorType": "AFTER_SEQUENCE_NUMBER", "StartingSequenceNumber": first_page[-1]["SequenceNumber"]}),
        (5, {"ShardIteratorType": "AT_SEQUENCE_NUMBER", "StartingSequenceNumber": first_page[1]["SequenceNumber"]}),
        (5, {"ShardIteratorType": "LATEST"}),
    ]:
        patched, original = both_ways(monkeypatch, Shard, "get_records", lambda: read_all(limit, start))  # noqa: B023
        assert patched == original
        assert patched[-1] == ([], 0)
        assert sum(len(records) for records, _ in patched) > 0 or start["ShardIteratorType"] == "LATEST"


def test_moto_routes_by_the_same_module_listing(aws):
    from moto import backends

    listed = backends.list_of_moto_modules()
    assert tuple(listed) == tuple(backends.list_of_moto_modules.__wrapped__())
    assert {"dynamodb", "kinesis", "sns", "sqs", "s3"} <= set(listed)
