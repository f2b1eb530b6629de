"""The real JavaScript clients against `segwork serve` on loopback (node, one `npm ci` of
tests/clients/package-lock.json): @tinybirdco/sdk 0.0.84 (Tinybird's TypeScript SDK),
@chronark/zod-bird 1.0.0 (community, typed pipes and ingestion), @tinybirdco/mockingbird 1.1.4
(the data generator that streams to the Events API).

An ES module runs with node (guard preloaded), is given the host and token as its users would give
them, and prints what the client returned as JSON; pipe answers are compared with the same call
over plain HTTP, sent rows are read back over plain HTTP row by row (tests/clients/rows.py).
"""
from __future__ import annotations

import json

import pytest

from tests.clients import envs
from tests.clients.conftest import SEED_END, SEED_START, make_client
from tests.clients.rows import (CUSTOMER_COLUMNS, APRIL, assert_customers_stored, assert_events_stored, eventually,
                                new_customers, new_events, to_csv, to_ndjson)

# What each test needed beyond main before tbapi and tbsql were merged (issue 15; calls as the server logged them).
# With both merged (main 3eaeace, 2026-12-01) all pass.
NEEDS = {
    "test_tinybird_sdk_js_sql": "tbsql: GET|POST /v0/sql",
    # the rest works on main
}

PIPE_CALLS = [
    ("customer_segment_lookup", {"customer_id": "s0013"}),
    ("customer_engagement_analysis", {"start_date": SEED_START, "end_date": SEED_END, "limit": 6, "event_type": "page_view"}),
    ("customer_segments_summary", {"location": "Paris"}),
]

PRELUDE = "const HOST = process.env.HOST, TOKEN = process.env.TOKEN, INPUTS = JSON.parse(process.env.INPUTS);\n"


@pytest.fixture
def node(client_home, server, recorder):
    """node(script, **inputs): run an ES module that reads HOST, TOKEN, INPUTS and prints one JSON document last."""
    modules = envs.node_env() / "node_modules"
    (client_home / "node_modules").symlink_to(modules)  # ES modules resolve packages from the script's folder up

    def run(script: str, **inputs):
        client = make_client(client_home, server, recorder)
        path = client_home / "client.mjs"
        path.write_text(PRELUDE + script)
        done = client.run(["node", str(path)], HOST=server.base, TOKEN=server.admin, INPUTS=json.dumps(inputs))
        return json.loads(done.stdout.strip().splitlines()[-1])
    return run


# --- @tinybirdco/sdk -------------------------------------------------------------------------

def test_tinybird_sdk_js_reads_the_three_pipes(node, server):
    got = node("""
import { createClient } from "@tinybirdco/sdk";
const client = createClient({ baseUrl: HOST, token: TOKEN });
const out = [];
for (const [pipe, params] of INPUTS.calls) out.push(await client.query(pipe, params));
console.log(JSON.stringify(out));
""", calls=PIPE_CALLS)
    for (pipe, params), answer in zip(PIPE_CALLS, got):
        want = server.pipe(pipe, params)
        assert answer["data"] == want["data"] and answer["meta"] == want["meta"] and want["data"], pipe


def test_tinybird_sdk_js_ingest_and_append(node, server, client_home):
    """ingestBatch / ingest (Events API) and datasources.append of a CSV and an NDJSON file."""
    streamed, single, filed = new_events("jse", 4), new_events("js1", 1), new_events("jsf", 3)
    people = new_customers("jsc")
    (client_home / "customers.csv").write_text(to_csv(people, CUSTOMER_COLUMNS))
    (client_home / "events.ndjson").write_text(to_ndjson(filed))
    got = node("""
import { createClient } from "@tinybirdco/sdk";
const client = createClient({ baseUrl: HOST, token: TOKEN });
const out = [await client.ingestBatch("customer_events", INPUTS.streamed, { wait: true }),
             await client.ingest("customer_events", INPUTS.single[0], { wait: true }),
             await client.datasources.append("customers", { file: "customers.csv" }),
             await client.datasources.append("customer_events", { file: "events.ndjson" })];
console.log(JSON.stringify(out));
""", streamed=streamed, single=single)
    assert got[0]["successful_rows"] == 4 and got[1]["successful_rows"] == 1
    assert_events_stored(server, streamed + single + filed)
    assert_customers_stored(server, people)


def test_tinybird_sdk_js_sql(node, server):
    got = node("""
import { createClient } from "@tinybirdco/sdk";
const client = createClient({ baseUrl: HOST, token: TOKEN });
console.log(JSON.stringify(await client.sql("SELECT count() AS n FROM customer_events WHERE startsWith(event_id, 'seed-')")));
""")
    assert got["data"] == [{"n": 300}]


# --- @chronark/zod-bird ----------------------------------------------------------------------

def test_zod_bird_pipes_and_ingestion(node, server):
    """buildPipe with zod schemas for parameters and rows; buildIngestEndpoint (Events API, wait)."""
    sent = new_events("zod", 4)
    lookup, engagement, summary = PIPE_CALLS
    got = node("""
import { Tinybird } from "@chronark/zod-bird";
import { z } from "zod";
const tb = new Tinybird({ token: TOKEN, baseUrl: HOST });
const lookup = tb.buildPipe({ pipe: "customer_segment_lookup", parameters: z.object({ customer_id: z.string() }),
  data: z.object({ customer_id: z.string(), name: z.string(), lifetime_value: z.number(), value_segment: z.string() }).passthrough() });
const engagement = tb.buildPipe({ pipe: "customer_engagement_analysis",
  parameters: z.object({ start_date: z.string(), end_date: z.string(), limit: z.number().int(), event_type: z.string() }),
  data: z.object({ customer_id: z.string(), event_count: z.number(), total_value: z.number() }).passthrough() });
const summary = tb.buildPipe({ pipe: "customer_segments_summary", parameters: z.object({ location: z.string().optional() }),
  data: z.object({}).passthrough() });
const ingest = tb.buildIngestEndpoint({ datasource: "customer_events", wait: true,
  event: z.object({ event_id: z.string(), customer_id: z.string(), event_type: z.string(), event_value: z.number(),
                    product_id: z.string(), category: z.string(), timestamp: z.string() }) });
const out = [await lookup(INPUTS.lookup), await engagement(INPUTS.engagement), await summary(INPUTS.summary),
             await ingest(INPUTS.sent)];
console.log(JSON.stringify(out));
""", lookup=lookup[1], engagement=engagement[1], summary=summary[1], sent=sent)
    for (pipe, params), answer in zip(PIPE_CALLS, got):
        want = server.pipe(pipe, params)
        assert answer["data"] == want["data"] and want["data"], pipe
    assert got[3]["successful_rows"] == 4
    assert_events_stored(server, sent)


# --- @tinybirdco/mockingbird -----------------------------------------------------------------

def test_mockingbird_streams_events(node, server):
    """TinybirdGenerator with a customer_events schema streams N generated events to the Events API;
    the rows it reports sent are exactly the rows stored."""
    n = 30
    got = node("""
import { TinybirdGenerator } from "@tinybirdco/mockingbird";
const schema = {
  event_id: { type: "string.uuid" },
  customer_id: { type: "string.uuid" },
  event_type: { type: "helpers.arrayElement", params: [["purchase", "page_view", "login", "add_to_cart"]] },
  event_value: { type: "number.int", params: [{ min: 1, max: 500 }] },
  product_id: { type: "string.alphanumeric", params: [8] },
  category: { type: "helpers.arrayElement", params: [["toys", "books", "garden"]] },
  timestamp: { type: "date.between", params: [{ from: INPUTS.from, to: INPUTS.to }] },
};
const generator = new TinybirdGenerator({ endpoint: HOST, datasource: "customer_events", token: TOKEN, schema,
                                          eps: 10, limit: INPUTS.n, logs: true });
const sent = [];
await generator.generate((rows) => sent.push(...rows));
console.log(JSON.stringify(sent));
""", n=n, **{"from": "2025-04-01T00:00:00Z", "to": "2025-04-30T23:00:00Z"})
    assert len(got) == n and len({r["customer_id"] for r in got}) == n
    eventually(lambda: assert_events_stored(server, got, APRIL))  # it posts without wait: the spool writes a moment later
