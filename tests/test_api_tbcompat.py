"""What the seed system's own clients call besides the tutorial's endpoints (its classic and Forward
CLIs, verdin, the SDKs): /v0/workspace, data source and pipe descriptions, headerless CSV appends,
/v1 appends answered with a job, /v0/jobs. Fields are checked as those clients read them."""
from __future__ import annotations

import csv
import gzip
import io
import uuid
from datetime import datetime

import pytest

from segwork.api import create_app
from segwork.ingestion import ingestlog
from segwork.ingestion.csvfile import HEADERLESS_NOTE
from segwork.ingestion.report import IngestReport

from tests.apikit import TestClient, customers, events, ndjson, running_api

EVENT_COLUMNS = ["event_id", "customer_id", "event_type", "event_value", "product_id", "category", "timestamp"]


@pytest.fixture
def api(client, database):
    with running_api(client, database) as a:
        yield a


def headerless(records: list[dict], columns: list[str]) -> bytes:
    """CSV rows in the table's column order without a header, as verdin's append_csv writes them."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerows([[r[c] for c in columns] for r in records])
    return out.getvalue().encode()


def stored_events(api) -> list[dict]:
    rows = api.client.query("SELECT event_id, customer_id, event_type, event_value, product_id, category, "
                            "formatDateTime(timestamp, '%Y-%m-%d %H:%i:%S') FROM customer_events ORDER BY event_id")
    return [dict(zip(EVENT_COLUMNS, r)) for r in rows.result_rows]


def sorted_records(records: list[dict]) -> list[dict]:
    return sorted(({**r, "event_value": float(r["event_value"])} for r in records), key=lambda r: r["event_id"])


def seed_time(text: str) -> datetime:
    """A time as the CLIs read it: the seed system's 'YYYY-MM-DD HH:MM:SS.ffffff', cut by 7 for display."""
    assert len(text) == 26 and text[19] == "."
    datetime.strptime(text[:-7], "%Y-%m-%d %H:%M:%S")
    return datetime.fromisoformat(text)


# --- GET /v0/workspace ----------------------------------------------------------------------

def test_workspace_answers_what_the_clis_store(api):
    r = api.http.get("/v0/workspace", headers=api.bearer())
    assert r.status_code == 200
    ws = r.json()
    assert set(ws) == {"id", "name", "user_email", "user_id", "scope", "main"}  # tinybird-sdk: TinybirdWorkspace(**json)
    assert uuid.UUID(ws["id"]) and uuid.UUID(ws["user_id"]) and "@" in ws["user_email"]
    assert ws["name"] == api.settings.database and ws["scope"] == "admin"
    assert api.http.get("/v1/workspace", headers=api.bearer()).json() == ws  # the SDKs' path
    reader = api.token("reader", "PIPES:READ:customer_segments_summary")
    mine = api.http.get("/v0/workspace", headers=api.bearer(reader)).json()
    assert mine["scope"] is None and mine["id"] == ws["id"]  # not an admin token: the CLIs warn
    assert api.http.get("/v0/workspace").status_code == 401
    assert api.http.get("/v0/workspace", headers=api.bearer("sw_unknown")).status_code == 403


def test_workspace_id_is_stable_across_restarts(api):
    first = api.http.get("/v0/workspace", headers=api.bearer()).json()["id"]
    with TestClient(create_app(api.settings)) as again:
        assert again.get("/v0/workspace", headers=api.bearer()).json()["id"] == first


# --- data source and pipe descriptions --------------------------------------------------------

def test_datasource_description_and_exact_statistics(api):
    sent = events(40)
    assert api.http.post("/v0/events?name=customer_events&wait=true", headers=api.bearer(), content=ndjson(sent)).status_code == 200
    r = api.http.get("/v0/datasources/customer_events?attrs=used_by", headers=api.bearer())
    assert r.status_code == 200
    ds = r.json()
    assert ds["name"] == "customer_events" and ds["id"].startswith("t_") and len(ds["id"]) == 34
    assert [c["name"] for c in ds["schema"]["columns"]] == EVENT_COLUMNS == [c["name"] for c in ds["columns"]]
    assert [c["jsonpath"] for c in ds["schema"]["columns"]] == [f"$.{c}" for c in EVENT_COLUMNS]
    types = {c["name"]: c["type"] for c in ds["schema"]["columns"]}
    assert types["event_value"] == "Float64" and types["event_id"] == "String" and "DateTime" in types["timestamp"]
    assert ds["statistics"]["row_count"] == 40 and ds["statistics"]["bytes"] > 0
    assert seed_time(ds["updated_at"]) >= seed_time(ds["created_at"])
    before = seed_time(ds["updated_at"])
    more = events(25, prefix="x")
    api.http.post("/v0/events?name=customer_events", headers=api.bearer(), content=ndjson(more + sent[:5]))  # 5 known
    after = api.http.get("/v0/datasources/customer_events", headers=api.bearer()).json()
    assert after["statistics"]["row_count"] == 65 == len(stored_events(api))
    assert seed_time(after["updated_at"]) > before and after["id"] == ds["id"]
    assert stored_events(api) == sorted_records(sent + more)


def test_customers_row_count_counts_current_customers(api):
    profiles = customers(12)
    newer = [{**p, "lifetime_value": 9.0, "timestamp": "2025-02-01 00:00:00"} for p in profiles[:4]]
    for batch in (profiles, newer):
        assert api.http.post("/v0/events?name=customers&wait=true", headers=api.bearer(), content=ndjson(batch)).status_code == 200
    stats = api.http.get("/v0/datasources/customers", headers=api.bearer()).json()["statistics"]
    assert stats["row_count"] == 12  # 16 versions stored, 12 customers
    assert api.client.query("SELECT count() FROM customer_history").result_rows[0][0] == 16


def test_datasource_description_needs_a_scope_on_it(api):
    appender = api.token("appender", "DATASOURCES:APPEND:customer_events")
    reader = api.token("reader", "PIPES:READ:customer_segments_summary")
    assert api.http.get("/v0/datasources/customer_events", headers=api.bearer(appender)).status_code == 200
    for token, name in ((appender, "customers"), (reader, "customer_events")):
        r = api.http.get(f"/v0/datasources/{name}", headers=api.bearer(token))
        assert r.status_code == 403 and "DATASOURCES:APPEND" in r.json()["error"]
    assert api.http.get("/v0/datasources/nope", headers=api.bearer()).status_code == 404
    assert api.http.get("/v0/datasources/customers").status_code == 401
    # a token that may read the table with SQL (DATASOURCES:READ) may see it described and listed too
    sql_reader = api.token("sql-reader", "DATASOURCES:READ:customers")
    assert api.http.get("/v0/datasources/customers", headers=api.bearer(sql_reader)).status_code == 200
    listed = api.http.get("/v0/datasources", headers=api.bearer(sql_reader)).json()["datasources"]
    assert [d["name"] for d in listed] == ["customers"]


def test_token_listing_has_scopes_as_the_forward_cli_reads_them(api):
    """`tb endpoint ls` (Forward) reads scope['type'], scope['resource'] and, for a PIPES:READ scope of
    a pipe, token['token'] (null here: only a hash is stored, so the CLI falls back to its own token)."""
    api.token("reader", "PIPES:READ:customer_segment_lookup", customer_id="c1")
    api.token("mixed", "DATASOURCES:APPEND:customers", "DATASOURCES:READ:customer_events")
    listed = {t["name"]: t for t in api.http.get("/v0/tokens", headers=api.bearer()).json()["tokens"]}
    assert listed["reader"]["scopes"] == [{"type": "PIPES:READ", "resource": "customer_segment_lookup", "filter": ""}]
    assert listed["mixed"]["scopes"] == [{"type": "DATASOURCES:APPEND", "resource": "customers", "filter": ""},
                                         {"type": "DATASOURCES:READ", "resource": "customer_events", "filter": ""}]
    assert {"type": "ADMIN"} in next(t for t in listed.values() if t["name"] != "reader" and t["name"] != "mixed")["scopes"]
    assert all(t["token"] is None for t in listed.values())


def test_listings_have_ids_times_and_statistics(api):
    api.http.post("/v0/events?name=customer_events&wait=true", headers=api.bearer(), content=ndjson(events(7)))
    listed = api.http.get("/v0/datasources", headers=api.bearer()).json()["datasources"]
    by_name = {d["name"]: d for d in listed}
    assert by_name["customer_events"]["statistics"]["row_count"] == 7 and by_name["customers"]["statistics"]["row_count"] == 0
    for d in listed:
        seed_time(d["created_at"]), seed_time(d["updated_at"])
        assert d["id"] == api.http.get(f"/v0/datasources/{d['name']}", headers=api.bearer()).json()["id"]
    pipes = api.http.get("/v0/pipes?dependencies=false&node_attrs=name&attrs=name,updated_at", headers=api.bearer()).json()["pipes"]
    assert {"customer_segment_lookup", "customer_engagement_analysis", "customer_segments_summary"} <= {p["name"] for p in pipes}
    for p in pipes:
        seed_time(p["updated_at"])
        assert p["id"].startswith("t_") and len(p["nodes"]) == 1 and p["parameters"]
    assert len({p["id"] for p in pipes}) == len(pipes)


def test_pipe_description_as_the_sdks_read_it(api):
    r = api.http.get("/v0/pipes/customer_engagement_analysis", headers=api.bearer())
    assert r.status_code == 200
    pipe = r.json()
    assert pipe["name"] == "customer_engagement_analysis" and pipe["endpoint"] and pipe["type"] == "endpoint"
    node = pipe["nodes"][-1]
    assert "SELECT" in node["sql"].upper() and node["name"]
    params = {p["name"]: p for p in node["params"]}
    assert {"start_date", "end_date", "event_type", "limit"} <= set(params)
    assert params["limit"]["type"] == "Int32" and params["start_date"]["type"] == "DateTime"
    assert pipe["url"].endswith("/v0/pipes/customer_engagement_analysis.json")
    again = api.http.get("/v0/pipes/customer_engagement_analysis", headers=api.bearer()).json()
    assert (again["id"], again["endpoint"]) == (pipe["id"], pipe["endpoint"])
    reader = api.token("reader", "PIPES:READ:customer_segments_summary")
    assert api.http.get("/v0/pipes/customer_segments_summary", headers=api.bearer(reader)).status_code == 200
    assert api.http.get("/v0/pipes/customer_engagement_analysis", headers=api.bearer(reader)).status_code == 403
    assert api.http.get("/v0/pipes/nope", headers=api.bearer()).status_code == 404
    assert api.http.get("/v0/pipes/customer_segments_summary.json", headers=api.bearer()).status_code == 200  # still the data


# --- headerless CSV through the Data Sources API ----------------------------------------------

def test_classic_cli_multipart_csv_without_header(api):
    """tb datasource append: multipart field 'csv' (file name 'csv'), then statistics.row_count."""
    sent = events(30)
    r = api.http.post("/v0/datasources?name=customer_events&mode=append&format=csv&debug=blocks_block_log",
                      headers=api.bearer(), files={"csv": ("csv", headerless(sent, EVENT_COLUMNS))})
    assert r.status_code == 200, r.text
    body = r.json()
    assert not body["error"] and body["datasource"]["name"] == "customer_events"
    assert sum(b["process_return"][0]["lines"] for b in body["blocks"]) == 30
    assert body["blocks"][0]["process_return"][0]["parser"] != "clickhouse"  # the classic CLI then prints the rows appended
    assert body["report"]["notes"] == [HEADERLESS_NOTE]
    assert stored_events(api) == sorted_records(sent)
    stats = api.http.get("/v0/datasources/customer_events?attrs=", headers=api.bearer()).json()["statistics"]
    assert stats["row_count"] == 30


def test_verdin_append_one_headerless_line(api):
    """verdin's Datasource.append: the raw body, Content-Type text/html, dialect_delimiter=','."""
    one = events(1)
    r = api.http.post("/v0/datasources", params={"mode": "append", "name": "customer_events", "dialect_delimiter": ",",
                                                 "format": "csv"},
                      headers={**api.bearer(), "Content-Type": "text/html; charset=utf-8"},
                      content=headerless(one, EVENT_COLUMNS).rstrip(b"\n"))
    assert r.status_code == 200, r.text
    assert (r.json()["successful_rows"], r.json()["quarantine_rows"]) == (1, 0)
    assert stored_events(api) == sorted_records(one)


def test_headerless_quarantine_keeps_line_numbers_over_http(api):
    sent = events(4)
    data = headerless(sent, EVENT_COLUMNS).splitlines()
    data[0] = data[0].replace(b",purchase,", b",Not A Type!,")
    r = api.http.post("/v0/datasources?name=customer_events&mode=append", headers=api.bearer(), files={"csv": ("x.csv", b"\n".join(data))})
    assert (r.json()["successful_rows"], r.json()["quarantine_rows"]) == (3, 1)
    assert api.client.query("SELECT c__row, event_id FROM customer_events_quarantine").result_rows == [(1, "e0")]
    assert stored_events(api) == sorted_records(sent[1:])


# --- Forward CLI: /v1 appends and jobs --------------------------------------------------------

def test_forward_append_csv_then_job_polling(api):
    sent = events(50)
    r = api.http.post("/v1/datasources/customer_events/append?format=csv", headers={**api.bearer(), "Content-Type": "text/csv"},
                      content=headerless(sent, EVENT_COLUMNS))
    assert r.status_code == 200, r.text
    answer = r.json()
    assert "error" not in answer and isinstance(answer["id"], str)  # the CLI raises on any 'error' key
    job = api.http.get(f"/v0/jobs/{answer['id']}?debug=blocks,block_log", headers=api.bearer()).json()
    assert job["status"] == "done" and job["id"] == answer["id"] and job["kind"] == "import"
    lines = sum(p.get("lines", 0) for b in job["blocks"] for p in b.get("process_return") or [])
    quarantined = sum(p.get("quarantine", 0) for b in job["blocks"] for p in b.get("process_return") or [])
    assert (lines, quarantined) == (50, 0)
    seed_time(job["created_at"]), seed_time(job["updated_at"])
    assert stored_events(api) == sorted_records(sent)


def test_forward_append_ndjson_gzip_with_quarantine(api):
    sent = events(20)
    bad = {**events(1, prefix="bad")[0], "event_value": "lots"}
    r = api.http.post("/v1/datasources/customer_events/append?format=ndjson",
                      headers={**api.bearer(), "Content-Type": "application/x-ndjson", "Content-Encoding": "gzip"},
                      content=gzip.compress(ndjson(sent + [bad])))
    assert r.status_code == 200, r.text
    job = api.http.get(f"/v0/jobs/{r.json()['id']}", headers=api.bearer()).json()
    assert job["status"] == "done"
    assert sum(p["lines"] for b in job["blocks"] for p in b["process_return"]) == 20
    assert sum(p["quarantine"] for b in job["blocks"] for p in b["process_return"]) == 1
    assert stored_events(api) == sorted_records(sent)
    assert api.client.query("SELECT event_id FROM customer_events_quarantine").result_rows == [("bad0",)]


def test_forward_append_with_header_and_errors(api):
    sent = events(3)
    data = (",".join(EVENT_COLUMNS) + "\n").encode() + headerless(sent, EVENT_COLUMNS)
    r = api.http.post("/v1/datasources/customer_events/append", headers={**api.bearer(), "Content-Type": "text/csv"}, content=data)
    assert r.status_code == 200 and api.http.get(f"/v0/jobs/{r.json()['id']}", headers=api.bearer()).json()["status"] == "done"
    assert stored_events(api) == sorted_records(sent)
    r = api.http.post("/v1/datasources/customer_events/append?format=csv", headers=api.bearer(), content=b"a,b\n1,2\n")
    assert r.status_code == 400 and "missing required column" in r.json()["error"]
    assert api.http.post("/v1/datasources/customer_events/replace?format=csv", headers=api.bearer(), content=data).status_code == 400
    assert api.http.post("/v1/datasources/nope/append?format=csv", headers=api.bearer(), content=data).status_code == 404
    appender = api.token("appender", "DATASOURCES:APPEND:customers")
    r = api.http.post("/v1/datasources/customer_events/append?format=csv", headers=api.bearer(appender), content=data)
    assert r.status_code == 403
    assert len(stored_events(api)) == 3


def test_jobs_need_a_scope_survive_a_restart_and_list(api):
    r = api.http.post("/v0/datasources?name=customer_events&mode=append", headers=api.bearer(),
                      files={"ndjson": ("e.ndjson", ndjson(events(5)))})
    job_id = r.json()["import_id"]  # any logged ingest is a job
    appender = api.token("appender", "DATASOURCES:APPEND:customer_events")
    other = api.token("other", "DATASOURCES:APPEND:customers")
    assert api.http.get(f"/v0/jobs/{job_id}", headers=api.bearer(appender)).json()["status"] == "done"
    assert api.http.get(f"/v0/jobs/{job_id}", headers=api.bearer(other)).status_code == 403
    assert api.http.get("/v0/jobs/0000", headers=api.bearer()).status_code == 404
    with TestClient(create_app(api.settings)) as again:
        job = again.get(f"/v0/jobs/{job_id}", headers=api.bearer()).json()
        assert job["status"] == "done" and sum(p["lines"] for b in job["blocks"] for p in b["process_return"]) == 5
    listed = api.http.get("/v0/jobs", headers=api.bearer(appender)).json()["jobs"]
    assert [j["id"] for j in listed] == [job_id]
    assert all({"id", "kind", "status", "created_at", "updated_at", "job_url"} <= set(j) for j in listed)
    assert api.http.get("/v0/jobs", headers=api.bearer(other)).json()["jobs"] == []
    assert api.http.get("/v0/jobs?status=error", headers=api.bearer()).json()["jobs"] == []


def test_failed_and_interrupted_ingests_are_jobs_in_error(api):
    failed = IngestReport("f" * 32, "customer_events", "upload.csv", "csv", rows_read=10, inserted=4)
    ingestlog.log(api.client, failed, "started")
    ingestlog.log(api.client, failed, "failed", "the disk is full")
    stopped = IngestReport("a" * 32, "customer_events", "big.csv", "csv", rows_read=7, inserted=7,
                           started_at=datetime.fromisoformat("2024-01-01T00:00:00+00:00"))
    ingestlog.log(api.client, stopped, "running")
    job = api.http.get(f"/v0/jobs/{'f' * 32}", headers=api.bearer()).json()
    assert (job["status"], job["error"]) == ("error", "the disk is full")
    job = api.http.get(f"/v0/jobs/{'a' * 32}", headers=api.bearer()).json()
    assert job["status"] == "error" and "incomplete" in job["error"] and "Ingest the same input again" in job["error"]
    assert {j["id"] for j in api.http.get("/v0/jobs?status=error", headers=api.bearer()).json()["jobs"]} == {"f" * 32, "a" * 32}


def test_datafile_texts_as_the_sdks_pull_them(api):
    """tinybird-sdk / @tinybirdco/sdk pull a project by .datasource and ?format=pipe texts."""
    for url in ("/v0/datasources/customer_events.datasource", "/v0/datasources/customer_events?format=datasource"):
        r = api.http.get(url, headers=api.bearer())
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain")
        schema = [line.strip().split()[0].strip("`") for line in r.text.split("SCHEMA >")[1].split("\n\n")[0].strip().splitlines()]
        assert schema == EVENT_COLUMNS and "`json:$.event_value`" in r.text and 'ENGINE "MergeTree"' in r.text
    text = api.http.get("/v0/datasources/customers.datasource", headers=api.bearer()).text
    assert 'ENGINE "ReplacingMergeTree"' in text and 'ENGINE_VER "timestamp"' in text
    r = api.http.get("/v0/pipes/customer_segments_summary?format=pipe", headers=api.bearer())
    assert r.status_code == 200 and "NODE customer_segments_summary_endpoint" in r.text and "TYPE endpoint" in r.text
    appender = api.token("appender", "DATASOURCES:APPEND:customers")
    assert api.http.get("/v0/datasources/customer_events.datasource", headers=api.bearer(appender)).status_code == 403


def test_dialect_delimiter_is_the_delimiter(api):
    """verdin's append_csv(records, delimiter=';') sends dialect_delimiter=; (the seed system's parameter)."""
    line = b"e1;c1;purchase;9.5;p1;a,b,c,d,e,f;2024-03-01 10:00:00"
    r = api.http.post("/v0/datasources", params={"mode": "append", "name": "customer_events", "dialect_delimiter": ";", "format": "csv"},
                      headers={**api.bearer(), "Content-Type": "text/html; charset=utf-8"}, content=line)
    assert r.status_code == 200 and r.json()["successful_rows"] == 1, r.text
    assert stored_events(api) == [{"event_id": "e1", "customer_id": "c1", "event_type": "purchase", "event_value": 9.5,
                                   "product_id": "p1", "category": "a,b,c,d,e,f", "timestamp": "2024-03-01 10:00:00"}]


def test_example_url_of_a_pipe_as_the_forward_cli_asks_it(api):
    """`tb endpoint ls` asks /examples/query.http for each pipe's URL (it printed 'Not Found')."""
    reader = api.token("reader", "PIPES:READ:customer_segment_lookup")
    r = api.http.get("/examples/query.http", params={"format": "json", "pipe": "customer_segment_lookup", "q": "", "token": reader})
    assert r.status_code == 200
    url = r.text
    assert url.startswith("http") and url.split("?")[0].endswith("/v0/pipes/customer_segment_lookup.json")
    assert api.http.get(url.replace(str(api.http.base_url).rstrip("/"), "") + "&customer_id=c1").status_code == 200
    for params, status in (({"pipe": "customer_segments_summary", "token": reader}, 403),
                           ({"pipe": "nope", "token": reader}, 404),
                           ({"pipe": "customer_segment_lookup", "format": "exe", "token": reader}, 400),
                           ({"pipe": "customer_segment_lookup"}, 401)):
        assert api.http.get("/examples/query.http", params=params).status_code == status, params
