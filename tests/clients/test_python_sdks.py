"""The real Python SDKs against `segwork serve` on loopback, each in its own environment:
tinybird-sdk 0.4.0 (Tinybird's Forward SDK), tinybird-python-sdk 0.3.7 (the older official one),
verdin 0.5.3 (community).

A small script runs in the SDK's environment (guards on), given the host and token as its users
would give them, and prints what the SDK returned as JSON; pipe answers are compared with the
same call over plain HTTP, appends are read back over plain HTTP row by row (tests/clients/rows.py).
"""
from __future__ import annotations

import json

import pytest

from tests.clients import envs
from tests.clients.conftest import SEED_END, SEED_START, make_client
from tests.clients.rows import (CUSTOMER_COLUMNS, assert_customers_stored, assert_events_stored, eventually,
                                new_customers, new_events, to_csv, to_ndjson)

# What each test needed beyond main before tbapi and tbsql were merged (issue 15; calls as the server logged them).
# With both merged (main 3eaeace, 2026-12-01) all pass.
NEEDS = {
    "test_tinybird_sdk_sql": "tbsql: GET /v0/sql?q=...",
    "test_verdin_append_csv": "tbapi: headerless CSV in POST /v0/datasources?mode=append&format=csv (raw body, no header)",
    "test_verdin_sql": "tbsql: GET /v0/sql?q=... and GET /v0/pipes/<pipe>.json?q=SELECT ... FROM _",
    # the rest works on main
}

PIPE_CALLS = [
    ("customer_segment_lookup", {"customer_id": "s0011"}),
    ("customer_engagement_analysis", {"start_date": SEED_START, "end_date": SEED_END, "limit": "5", "event_type": "login"}),
    ("customer_segments_summary", {"min_age": "25", "max_age": "60"}),  # strings: verdin sends only those
]


@pytest.fixture
def sdk(client_home, server, recorder):
    """sdk(name, script, **inputs): run `script` in that SDK's venv; it reads HOST, TOKEN and INPUTS
    (JSON) from the environment and prints one JSON document last."""
    def run(name: str, script: str, **inputs):
        venv = envs.python_env(name)
        client = make_client(client_home, server, recorder)
        path = client_home / f"run_{name.replace('-', '_')}.py"  # not verdin.py: it would shadow the package
        path.write_text("import json, os\nHOST, TOKEN = os.environ['HOST'], os.environ['TOKEN']\n"
                        "INPUTS = json.loads(os.environ['INPUTS'])\n" + script)
        done = client.run([str(venv / "bin" / "python"), str(path)], HOST=server.base, TOKEN=server.admin,
                          INPUTS=json.dumps(inputs))
        return json.loads(done.stdout.strip().splitlines()[-1])
    return run


# --- tinybird-sdk (Forward) ------------------------------------------------------------------

def test_tinybird_sdk_reads_the_three_pipes(sdk, server):
    got = sdk("tinybird-sdk", """
from tinybird_sdk import create_client
client = create_client({"base_url": HOST, "token": TOKEN})
print(json.dumps([client.query(pipe, params) for pipe, params in INPUTS["calls"]]))
""", calls=PIPE_CALLS)
    for (pipe, params), answer in zip(PIPE_CALLS, got):
        want = server.pipe(pipe, params)
        assert answer["data"] == want["data"] and answer["meta"] == want["meta"] and want["data"], pipe


def test_tinybird_sdk_ingest_and_append(sdk, server, client_home):
    """ingest_batch (Events API), ingest (one event) and datasources.append of a CSV and an NDJSON file."""
    streamed, single, filed = new_events("sdke", 4), new_events("sdk1", 1), new_events("sdkf", 3)
    people = new_customers("sdkc")
    (client_home / "customers.csv").write_text(to_csv(people, CUSTOMER_COLUMNS))
    (client_home / "events.ndjson").write_text(to_ndjson(filed))
    got = sdk("tinybird-sdk", """
from tinybird_sdk import create_client
client = create_client({"base_url": HOST, "token": TOKEN})
out = [client.ingest_batch("customer_events", INPUTS["streamed"], {"wait": True}),
       client.ingest("customer_events", INPUTS["single"][0], {"wait": True}),
       client.datasources.append("customers", {"file": "customers.csv"}),
       client.datasources.append("customer_events", {"file": "events.ndjson"})]
print(json.dumps(out))
""", streamed=streamed, single=single)
    assert got[0]["successful_rows"] == 4 and got[1]["successful_rows"] == 1
    assert_events_stored(server, streamed + single + filed)
    assert_customers_stored(server, people)


def test_tinybird_sdk_sql(sdk, server):
    got = sdk("tinybird-sdk", """
from tinybird_sdk import create_client
client = create_client({"base_url": HOST, "token": TOKEN})
print(json.dumps(client.sql("SELECT count() AS n FROM customer_events WHERE startsWith(event_id, 'seed-')")))
""")
    assert got["data"] == [{"n": 300}]


# --- tinybird-python-sdk ---------------------------------------------------------------------

def test_tinybird_python_sdk_streams_events(sdk, server):
    """`with Datasource(...) as ds: ds << record`: buffered NDJSON to /v0/events (wait=false)."""
    sent = new_events("tbps", 5)
    sdk("tinybird-python-sdk", """
from tb.datasource import Datasource
with Datasource("customer_events", TOKEN, api_url=HOST) as ds:
    for record in INPUTS["sent"]:
        ds << record
print("{}")
""", sent=sent)
    eventually(lambda: assert_events_stored(server, sent))  # wait=false: accepted, then written


def test_tinybird_python_sdk_reads_a_pipe(sdk, server):
    """Its API class on a pipe's URL (the SDK has no pipe helper)."""
    pipe, params = PIPE_CALLS[0]
    got = sdk("tinybird-python-sdk", """
from tb.api import API
api = API(TOKEN, HOST)
print(json.dumps(api.get(f"/pipes/{INPUTS['pipe']}.json", params=INPUTS["params"]).json()))
""", pipe=pipe, params=params)
    assert got["data"] == server.pipe(pipe, params)["data"]


# --- verdin ----------------------------------------------------------------------------------

def test_verdin_reads_the_three_pipes(sdk, server):
    got = sdk("verdin", """
from verdin import tinybird
client = tinybird.Client(TOKEN, api=HOST)
out = []
for pipe, params in INPUTS["calls"]:
    answer = client.pipe(pipe).query(params)
    out.append({"data": answer.data, "meta": answer.meta})
print(json.dumps(out))
""", calls=PIPE_CALLS)
    for (pipe, params), answer in zip(PIPE_CALLS, got):
        want = server.pipe(pipe, params)
        assert answer["data"] == want["data"] and want["data"], pipe
        assert answer["meta"] == [[m["name"], m["type"]] for m in want["meta"]], pipe  # verdin gives (name, type) pairs


def test_verdin_events_and_ndjson(sdk, server):
    """send_events (Events API, wait=True), the low-level API gzip-compressed, and append_ndjson."""
    events, gzipped, appended = new_events("vrde", 3), new_events("vrdz", 3), new_events("vrdn", 3)
    got = sdk("verdin", """
from verdin import tinybird
client = tinybird.Client(TOKEN, api=HOST)
ds = client.datasource("customer_events")
r1 = ds.send_events(INPUTS["events"], wait=True)
r2 = client.api.events.send("customer_events", INPUTS["gzipped"], wait=True, compress=True)
r3 = ds.append_ndjson(INPUTS["appended"])
print(json.dumps([r1.successful_rows, r2.successful_rows, r3.status_code]))
""", events=events, gzipped=gzipped, appended=appended)
    assert got == [3, 3, 200]
    assert_events_stored(server, events + gzipped + appended)


def test_verdin_append_csv(sdk, server):
    """append / append_csv: records as CSV rows without a header, in the data source's column order."""
    people, more = new_customers("vrdc", 3), new_customers("vrdd", 1)  # one row alone: no line to take for a header
    got = sdk("verdin", """
from verdin import tinybird
client = tinybird.Client(TOKEN, api=HOST)
ds = client.datasource("customers")
columns = INPUTS["columns"]
r1 = ds.append_csv([[r[c] for c in columns] for r in INPUTS["people"]])
r2 = ds.append([[r[c] for c in columns] for r in INPUTS["more"]])
print(json.dumps([r1.status_code, r2.status_code]))
""", people=people, more=more, columns=CUSTOMER_COLUMNS)
    assert got == [200, 200]
    assert_customers_stored(server, people + more)


def test_verdin_sql(sdk, server):
    got = sdk("verdin", """
from verdin import tinybird
client = tinybird.Client(TOKEN, api=HOST)
a = client.sql("SELECT count() AS n FROM customer_events WHERE startsWith(event_id, 'seed-')").json().data
b = client.pipe("customer_segments_summary").sql("SELECT count() AS n FROM _").data
print(json.dumps([a, b]))
""")
    assert got[0] == [{"n": 300}]
    assert got[1] == [{"n": len(server.pipe("customer_segments_summary")["data"])}]


def test_verdin_ls(sdk, server):
    got = sdk("verdin", """
from verdin import tinybird
client = tinybird.Client(TOKEN, api=HOST)
print(json.dumps([[d["name"] for d in client.api.datasources.list().datasources],
                  [p["name"] for p in client.api.pipes.list().pipes]]))
""")
    assert {"customers", "customer_events"} <= set(got[0])
    assert {"customer_segment_lookup", "customer_engagement_analysis", "customer_segments_summary"} <= set(got[1])
