"""The same client and SQL against a real ClickHouse server (SEGWORK_TEST_CLICKHOUSE_URL).

No modern ClickHouse server can be installed on the development machines, so these run
only where a server address is given, e.g.
SEGWORK_TEST_CLICKHOUSE_URL=http://default:@localhost:8123 make test
"""
from __future__ import annotations

import os
import uuid

import pandas as pd
import pytest

import segwork
from segwork import synth
from segwork.segments import SegmentRules

from tests import oracle

URL = os.environ.get("SEGWORK_TEST_CLICKHOUSE_URL")
pytestmark = pytest.mark.skipif(
    not URL, reason="SEGWORK_TEST_CLICKHOUSE_URL is not set: no ClickHouse server to test against (the embedded engine is tested everywhere else)"
)
AS_OF = pd.Timestamp("2025-01-01", tz="UTC")


@pytest.fixture
def server_client():
    database = f"segwork_test_{uuid.uuid4().hex[:10]}"
    client = segwork.connect(URL, database=database)
    yield client
    client.command(f"DROP DATABASE IF EXISTS `{database}`")


def test_server_connect_is_idempotent_and_queries_match_pandas(server_client):
    client = server_client
    segwork.connect(URL, database=client.database)  # second call: schema already there
    customers = synth.customers(500, seed=1, end="2025-01-01")
    events = synth.events(5000, 500, seed=2, end="2025-01-01", days=365)
    assert segwork.ingest(client, "customers", customers).inserted == 500
    assert segwork.ingest(client, "customer_events", events).inserted == 5000
    assert segwork.ingest(client, "customer_events", events).duplicates == 5000
    got = segwork.customer_segments_summary(client, as_of=AS_OF)
    want = oracle.summary(customers, AS_OF, SegmentRules())
    assert list(got.customer_count) == list(want.customer_count)
    start, end = pd.Timestamp("2024-07-01", tz="UTC"), pd.Timestamp("2024-12-31 23:59:59", tz="UTC")
    got = segwork.customer_engagement_analysis(client, start, end, ["purchase"], 20, as_of=AS_OF)
    want = oracle.engagement(events, customers, start, end, ["purchase"], 20)
    assert list(got.customer_id) == list(want.customer_id)
    assert segwork.customer_segment_lookup(client, "c0000001", as_of=AS_OF).iloc[0]["customer_id"] == "c0000001"
