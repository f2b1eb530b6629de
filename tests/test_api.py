"""The HTTP API in process: the tutorial's calls, the pipes against the library, every error status."""
from __future__ import annotations

import gzip
import io
import json

import pandas as pd
import pyarrow.parquet as pq
import pytest

import segwork
from segwork import overview
from segwork.errors import EngineBusyError, EngineError

from tests.apikit import customers, events, ndjson, running_api

AS_OF = "2025-06-01 00:00:00"


@pytest.fixture
def api(client, database):
    with running_api(client, database) as a:
        yield a


@pytest.fixture
def loaded(api):
    """The API with 90 customers and 3,000 events loaded through it."""
    r1 = api.http.post("/v0/events?name=customers&wait=true", headers=api.bearer(), content=ndjson(customers(90)))
    r2 = api.http.post("/v0/events?name=customer_events&wait=true", headers=api.bearer(), content=ndjson(events(3000, customers=120)))
    assert (r1.status_code, r1.json()["successful_rows"], r2.status_code, r2.json()["successful_rows"]) == (200, 90, 200, 3000)
    return api


# --- the tutorial's three calls, as written (host aside) ---------------------------------

TUTORIAL_CUSTOMER = b"""{
    "customer_id": "cust123",
    "name": "John Doe",
    "email": "john.doe@example.com",
    "age": 34,
    "gender": "male",
    "location": "New York",
    "signup_date": "2021-03-15 10:00:00",
    "lifetime_value": 1250.5,
    "timestamp": "2023-06-01 12:00:00" }"""
TUTORIAL_EVENT = b"""{
    "event_id": "evt456",
    "customer_id": "cust123",
    "event_type": "purchase",
    "event_value": 99.95,
    "product_id": "prod789",
    "category": "electronics",
    "timestamp": "2023-06-02 14:30:00" }"""
FORM = {"Content-Type": "application/x-www-form-urlencoded"}  # what `curl -d` sends


def test_tutorial_calls_verbatim(api):
    """curl -X POST .../v0/events?name=customers -H 'Authorization: Bearer ..' -d '{...}' and the two GETs."""
    r = api.http.post("/v0/events?name=customers", headers={**api.bearer(), **FORM}, content=TUTORIAL_CUSTOMER)
    assert r.status_code == 202 and r.json()["successful_rows"] == 1 and r.json()["quarantined_rows"] == 0
    r = api.http.post("/v0/events?name=customer_events", headers={**api.bearer(), **FORM}, content=TUTORIAL_EVENT)
    assert r.status_code == 202 and r.json()["successful_rows"] == 1

    r = api.http.get(f"/v0/pipes/customer_segments_summary.json?location=New%20York&min_age=25&max_age=45&token={api.admin}")
    assert r.status_code == 200
    body = r.json()
    assert body["data"][0]["customer_count"] == 1 and body["data"][0]["avg_lifetime_value"] == 1250.5
    assert body["data"][0]["value_segment"] == "High Value"

    r = api.http.get(f"/v0/pipes/customer_engagement_analysis.json?token={api.admin}&event_type=purchase"
                     "&start_date=2023-01-01%2000:00:00&end_date=2023-12-31%2023:59:59&limit=50")
    assert r.status_code == 200
    row = r.json()["data"][0]
    assert (row["customer_id"], row["event_count"], row["total_value"], row["first_event"]) == ("cust123", 1, 99.95, "2023-06-02 14:30:00")

    r = api.http.get(f"/v0/pipes/customer_segment_lookup.json?customer_id=cust123&token={api.admin}")
    assert r.json()["data"][0]["name"] == "John Doe" and r.json()["data"][0]["loyalty_segment"] == "Loyal"


# --- pipes: the envelope, formats, and the library's own answer -----------------------

def _library_records(df: pd.DataFrame) -> list[dict]:
    """The library's frame as the API should render it (independent of segwork.api)."""
    out = df.copy()
    for column in out.columns:
        if isinstance(out[column].dtype, pd.DatetimeTZDtype):
            out[column] = out[column].dt.strftime("%Y-%m-%d %H:%M:%S")
    return json.loads(out.to_json(orient="records", double_precision=15))


PIPE_CALLS = [
    ("customer_segment_lookup", {"customer_id": "c0007"},
     lambda c: segwork.customer_segment_lookup(c, "c0007", as_of=AS_OF)),
    ("customer_engagement_analysis", {"event_type": ["purchase", "login"], "start_date": "2025-03-05 00:00:00",
                                      "end_date": "2025-03-20 23:59:59", "limit": "7"},
     lambda c: segwork.customer_engagement_analysis(c, "2025-03-05 00:00:00", "2025-03-20 23:59:59", ["purchase", "login"], 7, as_of=AS_OF)),
    ("customer_engagement_analysis", {"event_type": "purchase,page_view", "location": "Paris", "order_by": "total_value",
                                      "include_inactive": "true", "limit": "500"},
     lambda c: segwork.customer_engagement_analysis(c, None, None, "purchase,page_view", 500, location="Paris",
                                                    order_by="total_value", include_inactive=True, as_of=AS_OF)),
    ("customer_segments_summary", {"location": "New York", "min_age": "25", "max_age": "45"},
     lambda c: segwork.customer_segments_summary(c, "New York", 25, 45, as_of=AS_OF)),
    ("customer_segments_summary", {}, lambda c: segwork.customer_segments_summary(c, as_of=AS_OF)),
]


@pytest.mark.parametrize("pipe,query,library", PIPE_CALLS, ids=[f"{p}-{i}" for i, (p, _, _) in enumerate(PIPE_CALLS)])
def test_pipe_json_is_the_library_result(loaded, pipe, query, library):
    r = loaded.http.get(f"/v0/pipes/{pipe}.json", params={**query, "as_of": AS_OF}, headers=loaded.bearer())
    assert r.status_code == 200, r.text
    body = r.json()
    expected = library(loaded.client)
    assert len(expected) > 0
    assert [m["name"] for m in body["meta"]] == list(expected.columns)
    _same(body["data"], _library_records(expected))
    assert body["rows"] == len(expected) <= body["rows_before_limit_at_least"]
    stats = body["statistics"]
    assert stats["elapsed"] > 0 and stats["rows_read"] > 0 and stats["bytes_read"] > 0
    assert r.headers["X-RateLimit-Limit"] == str(loaded.settings.api_rate_limit_per_minute)
    assert r.headers["Server-Timing"].startswith("query;dur=")


def _same(got: list[dict], want: list[dict]) -> None:
    assert len(got) == len(want)
    for g, w in zip(got, want):
        assert g.keys() == w.keys()
        for key in g:
            if isinstance(w[key], float):
                assert g[key] == pytest.approx(w[key], rel=1e-12), key
            else:
                assert g[key] == w[key], key


def test_meta_carries_clickhouse_types(loaded):
    body = loaded.http.get("/v0/pipes/customer_segment_lookup.json?customer_id=c0001", headers=loaded.bearer()).json()
    types = {m["name"]: m["type"] for m in body["meta"]}
    assert types["age"] == "Nullable(Int32)" and types["signup_date"] == "DateTime('UTC')" and types["lifetime_value"] == "Float64"
    empty = loaded.http.get("/v0/pipes/customer_segment_lookup.json?customer_id=nobody", headers=loaded.bearer()).json()
    assert empty["data"] == [] and empty["rows"] == 0 and empty["meta"] == body["meta"]


def test_csv_ndjson_parquet_hold_the_same_rows(loaded):
    url = "/v0/pipes/customer_engagement_analysis.{}?event_type=purchase&start_date=2025-03-01&end_date=2025-03-31&limit=20"
    as_json = loaded.http.get(url.format("json"), headers=loaded.bearer()).json()["data"]
    r = loaded.http.get(url.format("csv"), headers=loaded.bearer())
    assert r.headers["content-type"].startswith("text/csv")
    as_csv = pd.read_csv(io.StringIO(r.text), dtype={"customer_id": str})
    assert as_csv["customer_id"].tolist() == [d["customer_id"] for d in as_json]
    assert as_csv["event_count"].tolist() == [d["event_count"] for d in as_json]
    r = loaded.http.get(url.format("ndjson"), headers=loaded.bearer())
    assert [json.loads(line) for line in r.text.splitlines()] == as_json
    r = loaded.http.get(url.format("parquet"), headers=loaded.bearer())
    table = pq.read_table(io.BytesIO(r.content)).to_pandas()
    assert table["customer_id"].tolist() == [d["customer_id"] for d in as_json]
    assert table["total_value"].tolist() == pytest.approx([d["total_value"] for d in as_json])


def test_event_type_repeated_or_comma_separated(loaded):
    base = "/v0/pipes/customer_engagement_analysis.json?start_date=2025-03-01&end_date=2025-03-31&limit=1000"
    a = loaded.http.get(base + "&event_type=purchase&event_type=login", headers=loaded.bearer()).json()["data"]
    b = loaded.http.get(base + "&event_type=purchase,login", headers=loaded.bearer()).json()["data"]
    c = loaded.http.get(base + "&event_type=purchase", headers=loaded.bearer()).json()["data"]
    assert a == b and sum(r["event_count"] for r in a) > sum(r["event_count"] for r in c) > 0


def test_listing_pipes_and_datasources(api):
    pipes = api.http.get("/v0/pipes", headers=api.bearer()).json()["pipes"]
    assert [p["name"] for p in pipes] == ["customer_segment_lookup", "customer_engagement_analysis", "customer_segments_summary",
                                        "segment_sizes_over_time", "segment_transitions", "transition_members", "segment_changes",
                                        "segment_members", "segment_sizes"]
    limit = next(p for p in pipes[1]["parameters"] if p["name"] == "limit")
    assert (limit["type"], limit["default"]) == ("Int32", 100)
    ds = api.http.get("/v0/datasources", headers=api.bearer()).json()["datasources"]
    assert [d["name"] for d in ds] == ["customers", "customer_events"]


def test_datasources_list_interrupted_ingests_with_what_to_do(api):
    from segwork.ingestion import IngestReport, ingestlog

    killed = IngestReport("k" * 32, "customer_events", "events_2026.ndjson", "ndjson", rows_read=500_000, inserted=250_000)
    ingestlog.log(api.client, killed, "running")
    ds = {d["name"]: d for d in api.http.get("/v0/datasources", headers=api.bearer()).json()["datasources"]}
    assert ds["customers"]["incomplete_ingests"] == []
    (entry,) = ds["customer_events"]["incomplete_ingests"]
    assert (entry["import_id"], entry["source"], entry["inserted_at_least"], entry["status"]) == (
        "k" * 32, "events_2026.ndjson", 250_000, "running")
    assert "Ingest the same input again" in entry["what_to_do"]


# --- errors: one status each, always {"error", "documentation"} ------------------------

@pytest.mark.parametrize("url,status,words", [
    ("/v0/pipes/customer_engagement_analysis.json?limit=abc", 400, "Error validating 'abc' to type Int32"),
    ("/v0/pipes/customer_engagement_analysis.json?limit=0", 400, "parameter 'limit'"),
    ("/v0/pipes/customer_engagement_analysis.json?start_date=yesterday", 400, "parameter 'start_date'"),
    ("/v0/pipes/customer_engagement_analysis.json?start_date=2025-02-01&end_date=2025-01-01", 400, "parameter 'start_date'"),
    ("/v0/pipes/customer_engagement_analysis.json?include_inactive=maybe", 400, "to type Boolean"),
    ("/v0/pipes/customer_engagement_analysis.json?event_type=Not%20A%20Type", 400, "parameter 'event_type'"),
    ("/v0/pipes/customer_segments_summary.json?min_age=50&max_age=20", 400, "parameter 'min_age'"),
    ("/v0/pipes/customer_segments_summary.json?min_age=99999999999", 400, "to type Int32"),
    ("/v0/pipes/customer_segment_lookup.json", 400, "Check the parameters customer_id"),
    ("/v0/pipes/customer_segment_lookup.json?customer_id=", 400, "Check the parameters customer_id"),
    ("/v0/pipes/customer_segments_summary.json?q=DROP%20TABLE%20customers", 400, "only SELECT"),  # SQL over _: tests/test_api_sql.py
    ("/v0/pipes/customer_segment_lookup.json?q=SELECT%20*%20FROM%20_", 400, "Check the parameters customer_id"),
    ("/v0/pipes/no_such_pipe.json", 404, "there is no pipe 'no_such_pipe'"),
    ("/v0/pipes/customer_segment_lookup.xml?customer_id=a", 404, "'.xml' is not a format"),
    ("/v0/pipes/customer_segment_lookup/nodes", 404, "there is no endpoint"),  # /v0/pipes/<name> describes the pipe (test_api_tbcompat)
    ("/v0/pipes/no_such_pipe", 404, "there is no pipe 'no_such_pipe'"),
    ("/v0/whatever", 404, "there is no endpoint"),
])
def test_pipe_errors(api, url, status, words):
    r = api.http.get(url, headers=api.bearer())
    assert r.status_code == status, r.text
    body = r.json()
    assert set(body) == {"error", "documentation"} and words in body["error"]


def test_events_errors(api):
    post = api.http.post
    r = post("/v0/events", headers=api.bearer(), content=b"{}")
    assert r.status_code == 400 and "'name' parameter is required" in r.json()["error"]
    r = post("/v0/events?name=orders", headers=api.bearer(), content=b"{}")
    assert r.status_code == 404 and "no data source 'orders'" in r.json()["error"]
    r = post("/v0/events?name=customers", headers=api.bearer(), content=b"  \n")
    assert r.status_code == 400 and "body is empty" in r.json()["error"]
    r = post("/v0/events?name=customers", headers={**api.bearer(), "Content-Encoding": "gzip"}, content=b"not gzip at all")
    assert r.status_code == 400 and "not valid gzip" in r.json()["error"]
    r = post("/v0/events?name=customers", headers={**api.bearer(), "Content-Encoding": "br"}, content=b"{}")
    assert r.status_code == 415
    r = post("/v0/events?name=customers&wait=perhaps", headers=api.bearer(), content=b"{}")
    assert r.status_code == 400 and "wait" in r.json()["error"]
    r = post("/v0/events?name=customer_events", headers=api.bearer(), content=b'{"customer_id": "c1"}')
    assert r.status_code == 400 and "missing required column" in r.json()["error"]  # no record has an event_id
    r = api.http.get("/v0/events?name=customers", headers=api.bearer())
    assert r.status_code == 405 and r.headers["Allow"] and "use POST" in r.json()["error"]
    assert overview.table_counts(api.client)["customers"] == 0


def test_oversized_bodies_get_413(client, database):
    with running_api(client, database, api_max_body_bytes=10_000, api_max_inflated_bytes=50_000, api_max_upload_bytes=20_000) as api:
        big = ndjson(events(200))  # about 33 kB
        r = api.http.post("/v0/events?name=customer_events", headers=api.bearer(), content=big)
        assert r.status_code == 413 and "limit" in r.json()["error"]
        r = api.http.post("/v0/events?name=customer_events", headers=api.bearer(), content=iter([big[:6000], big[6000:]]))
        assert r.status_code == 413  # chunked, no Content-Length: counted while read
        bomb = gzip.compress(ndjson(events(400)))  # small compressed, about 66 kB inflated
        assert len(bomb) < 10_000
        r = api.http.post("/v0/events?name=customer_events", headers={**api.bearer(), "Content-Encoding": "gzip"}, content=bomb)
        assert r.status_code == 413 and "decompressed" in r.json()["error"]
        r = api.http.post("/v0/datasources?name=customer_events&mode=append", headers=api.bearer(), files={"ndjson": ("e.ndjson", big)})
        assert r.status_code == 413
        assert overview.table_counts(api.client)["customer_events"] == 0


def _fail_writes(monkeypatch, failure) -> None:
    """Make both ways an Events API body is written fail: alone (segwork.ingest, big bodies)
    and together with concurrent requests (segwork.ingestion.batch, small ones)."""
    from segwork.api import app as app_module
    from segwork.ingestion import batch

    monkeypatch.setattr(app_module, "ingest", failure)
    monkeypatch.setattr(batch, "write_many", failure)


def test_engine_errors_map_to_5xx_and_bugs_surface(api, monkeypatch):
    def busy(*args, **kwargs):
        raise EngineBusyError("the embedded database is in use by another process")

    _fail_writes(monkeypatch, busy)
    r = api.http.post("/v0/events?name=customers", headers=api.bearer(), content=TUTORIAL_CUSTOMER)
    assert r.status_code == 503 and r.headers["Retry-After"] and "in use" in r.json()["error"]

    def refused(*args, **kwargs):
        raise EngineError("the engine refused statement 'x': Code: 241. MEMORY_LIMIT_EXCEEDED")

    _fail_writes(monkeypatch, refused)
    r = api.http.post("/v0/events?name=customers", headers=api.bearer(), content=TUTORIAL_CUSTOMER)
    assert r.status_code == 500 and "MEMORY_LIMIT_EXCEEDED" in r.json()["error"]



@pytest.mark.parametrize("where", ["ingest", "pipe"])
def test_a_bug_is_a_json_500_and_its_traceback_is_logged(api, monkeypatch, caplog, where):
    """Not a SegworkError: not turned into a 4xx, nor Starlette's plain-text 500; it surfaces
    in the log with its traceback, under the reference the answer gives."""
    from segwork.api import app as app_module

    def bug(*args, **kwargs):
        raise KeyError("a bug")

    if where == "ingest":
        _fail_writes(monkeypatch, bug)
        r = api.http.post("/v0/events?name=customers", headers=api.bearer(), content=TUTORIAL_CUSTOMER)
    else:
        monkeypatch.setattr(app_module.pipes, "run", bug)
        r = api.http.get("/v0/pipes/customer_segment_lookup.json?customer_id=c1", headers=api.bearer())
    assert r.status_code == 500 and r.headers["content-type"] == "application/json"
    body = r.json()
    assert set(body) == {"error", "documentation"} and body["error"].startswith("internal error: not the client's fault; ")
    ref = body["error"].split("reference ")[1][:12]
    logged = [rec for rec in caplog.records if rec.name == "segwork.api" and ref in rec.getMessage()]
    assert len(logged) == 1 and logged[0].levelname == "ERROR"
    assert logged[0].exc_info[0] is KeyError and "bug" in caplog.text and "Traceback" in caplog.text
    assert api.http.get("/v0/pipes", headers=api.bearer()).status_code == 200  # and the API goes on


def test_cors_preflight_and_header(api):
    r = api.http.options("/v0/pipes/customer_segment_lookup.json", headers={"Origin": "https://shop.example", "Access-Control-Request-Method": "GET"})
    assert r.status_code == 204 and "Authorization" in r.headers["Access-Control-Allow-Headers"]
    r = api.http.get("/v0/pipes", headers=api.bearer())
    assert r.headers["Access-Control-Allow-Origin"] == "*"


def test_query_output_is_the_query_df_result_in_engine_format(loaded):
    """db.query_output (the pipes' source) runs the library's query once, in the engine's format."""
    from segwork import db

    plain = segwork.customer_engagement_analysis(loaded.client, "2025-03-01", "2025-03-31", limit=30, as_of=AS_OF)
    with db.query_output("JSON", {"output_format_json_quote_64bit_integers": 0}) as out:
        empty = segwork.customer_engagement_analysis(loaded.client, "2025-03-01", "2025-03-31", limit=30, as_of=AS_OF)
    assert empty.empty and out.query == "customer_engagement_analysis"
    body = json.loads(out.body)
    _same(body["data"], _library_records(plain))
    assert body["statistics"]["rows_read"] >= 3000  # the engine's count of rows scanned, not returned
    again = segwork.customer_engagement_analysis(loaded.client, "2025-03-01", "2025-03-31", limit=30, as_of=AS_OF)
    pd.testing.assert_frame_equal(plain, again)  # outside the block, query_df is unchanged


def test_the_decompressed_limit_holds_on_every_path(client, database):
    """It held only for Content-Encoding: gzip on /v0/events: the reader inflated a second gzip
    layer, a gzip body sent as identity, and any /v0/datasources file, without a bound."""
    with running_api(client, database, api_max_inflated_bytes=50_000, max_upload_inflated_bytes=50_000) as api:
        inflated = ndjson(events(400))  # about 66 kB
        packed = gzip.compress(inflated)
        post = api.http.post
        r = post("/v0/events?name=customer_events", headers={**api.bearer(), "Content-Encoding": "identity"}, content=packed)
        assert r.status_code == 413 and "decompressed" in r.json()["error"]
        r = post("/v0/events?name=customer_events", headers={**api.bearer(), "Content-Encoding": "gzip"}, content=gzip.compress(packed))
        assert r.status_code == 400 and "gzip inside gzip" in r.json()["error"]
        r = post("/v0/events?name=customer_events", headers=api.bearer(), content=gzip.compress(gzip.compress(ndjson(events(3)))))
        assert r.status_code == 400 and "gzip inside gzip" in r.json()["error"]
        r = post("/v0/datasources?name=customer_events&mode=append", headers=api.bearer(), files={"ndjson": ("e.ndjson.gz", packed)})
        assert r.status_code == 413 and "e.ndjson.gz: is larger than 50,000 bytes once decompressed" in r.json()["error"]
        r = post("/v0/datasources?name=customer_events&mode=append&format=ndjson", headers=api.bearer(), content=gzip.compress(packed))
        assert r.status_code == 400 and "gzip inside gzip" in r.json()["error"]
        small = gzip.compress(ndjson(events(100)))
        r = post("/v0/events?name=customer_events", headers={**api.bearer(), "Content-Encoding": "identity"}, content=small)
        assert r.status_code == 202 and r.json()["successful_rows"] == 100  # within the limit: inflated, as before
        assert overview.table_counts(api.client)["customer_events"] == 100


def test_a_json_array_file_over_the_document_limit_gets_413(client, database):
    with running_api(client, database, max_json_document_bytes=5_000) as api:
        body = json.dumps(events(100)).encode()
        r = api.http.post("/v0/datasources?name=customer_events&mode=append", headers=api.bearer(), files={"json": ("e.json", body)})
        assert r.status_code == 413 and "send it as NDJSON" in r.json()["error"]
        r = api.http.post("/v0/events?name=customer_events", headers=api.bearer(), content=body)
        assert r.status_code == 413
        assert overview.table_counts(api.client)["customer_events"] == 0
