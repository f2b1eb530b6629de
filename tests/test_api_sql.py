"""The Query API (/v0/sql, q= over a pipe): answers checked against pandas, the forms the seed's
clients send, and every escape attempt refused with nothing changed."""
from __future__ import annotations

import io
import json
import os
import uuid

import pandas as pd
import pytest

import segwork
from segwork import sqlguard
from tests.apikit import customers, events, ndjson, running_api

N_CUSTOMERS, N_EVENTS = 90, 3000
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


@pytest.fixture
def loaded(client, database):
    """The API with 90 customers and 3,000 events, and the same records as pandas frames."""
    with running_api(client, database) as api:
        _load(api)
        yield api


def _load(api):
    r1 = api.http.post("/v0/events?name=customers&wait=true", headers=api.bearer(), content=ndjson(customers(N_CUSTOMERS)))
    r2 = api.http.post("/v0/events?name=customer_events&wait=true", headers=api.bearer(),
                       content=ndjson(events(N_EVENTS, customers=120)))
    assert (r1.json()["successful_rows"], r2.json()["successful_rows"]) == (N_CUSTOMERS, N_EVENTS)


def _frames() -> tuple[pd.DataFrame, pd.DataFrame]:
    return pd.DataFrame(customers(N_CUSTOMERS)), pd.DataFrame(events(N_EVENTS, customers=120))


def sql(api, q: str, token: str | None = None, **params):
    return api.http.get("/v0/sql", params={"q": q, **params}, headers=api.bearer(token))


def data(r) -> pd.DataFrame:
    assert r.status_code == 200, r.text
    return pd.DataFrame(r.json()["data"])


# --- answers against pandas ----------------------------------------------------------------

def test_aggregates_over_events_and_customers_equal_pandas(loaded):
    cust, ev = _frames()
    got = data(sql(loaded, "SELECT location, count() AS n, round(avg(lifetime_value), 6) AS avg_ltv FROM customers "
                           "GROUP BY location ORDER BY location FORMAT JSON"))
    want = (cust.groupby("location").agg(n=("customer_id", "size"), avg_ltv=("lifetime_value", "mean"))
            .round(6).reset_index().sort_values("location"))
    assert got["location"].tolist() == want["location"].tolist()
    assert got["n"].tolist() == want["n"].tolist()
    assert got["avg_ltv"].tolist() == pytest.approx(want["avg_ltv"].tolist())

    got = data(sql(loaded, "SELECT event_type, count() AS n, sum(event_value) AS total FROM customer_events "
                           "WHERE timestamp >= '2025-03-10' GROUP BY event_type ORDER BY event_type"))
    recent = ev[pd.to_datetime(ev["timestamp"]) >= pd.Timestamp("2025-03-10")]
    want = recent.groupby("event_type").agg(n=("event_id", "size"), total=("event_value", "sum")).reset_index()
    assert got["event_type"].tolist() == sorted(want["event_type"])
    assert got["n"].tolist() == want.sort_values("event_type")["n"].tolist()
    assert got["total"].tolist() == pytest.approx(want.sort_values("event_type")["total"].tolist())


def test_a_join_and_a_subquery_equal_pandas(loaded):
    cust, ev = _frames()
    q = ("SELECT c.location AS location, count() AS events FROM customer_events AS e "
         "INNER JOIN customers AS c ON e.customer_id = c.customer_id "
         "WHERE e.customer_id IN (SELECT customer_id FROM customers WHERE age >= 40) GROUP BY location ORDER BY location")
    got = data(sql(loaded, q))
    joined = ev.merge(cust, on="customer_id")
    joined = joined[joined["age"] >= 40]
    want = joined.groupby("location").size().sort_index()
    assert got["location"].tolist() == want.index.tolist()
    assert got["events"].tolist() == want.tolist()


def test_every_form_of_request_and_format_gives_the_same_rows(loaded):
    """GET q=, POST q= in the URL, a form body (verdin), the raw body as text/plain (the SDKs) or
    without a content type (`tb sql` for long queries); FORMAT as the clients write it."""
    q = "SELECT customer_id, age, location FROM customers WHERE age > 50 ORDER BY customer_id"
    cust, _ = _frames()
    want = cust[cust["age"] > 50].sort_values("customer_id")[["customer_id", "age", "location"]].reset_index(drop=True)
    h = loaded.bearer()
    answers = [
        loaded.http.get("/v0/sql", params={"q": q}, headers=h),
        loaded.http.get("/v0/sql", params={"q": q + " FORMAT JSON"}, headers=h),
        loaded.http.post("/v0/sql", params={"q": q}, headers=h),
        loaded.http.post("/v0/sql", content=f"q={q} FORMAT JSON".replace(" ", "+").replace(">", "%3E"), headers={**h, **FORM}),
        loaded.http.post("/v0/sql", content=q, headers={**h, "Content-Type": "text/plain"}),
        loaded.http.post("/v0/sql?release_replacements=true", content=q.encode(), headers=h),
        loaded.http.post("/v0/sql", content=q, headers={**h, **FORM}),  # curl -d 'SELECT ...'
    ]
    for r in answers:
        assert r.headers["content-type"] == "application/json", r.text
        pd.testing.assert_frame_equal(data(r), want, check_dtype=False)
    r = loaded.http.get("/v0/sql", params={"q": q + " FORMAT CSVWithNames"}, headers=h)
    assert r.headers["content-type"].startswith("text/csv")
    pd.testing.assert_frame_equal(pd.read_csv(io.StringIO(r.text)), want, check_dtype=False)
    r = loaded.http.get("/v0/sql", params={"q": q + " FORMAT CSV"}, headers=h)
    pd.testing.assert_frame_equal(pd.read_csv(io.StringIO(r.text), names=list(want.columns)), want, check_dtype=False)
    r = loaded.http.get("/v0/sql", params={"q": q + " format JSONEachRow;"}, headers=h)
    assert r.headers["content-type"] == "application/x-ndjson"
    pd.testing.assert_frame_equal(pd.DataFrame([json.loads(x) for x in r.text.splitlines()]), want, check_dtype=False)
    r = loaded.http.get("/v0/sql", params={"q": q + " FORMAT Parquet"}, headers=h)
    pd.testing.assert_frame_equal(pd.read_parquet(io.BytesIO(r.content)), want, check_dtype=False)
    envelope = loaded.http.get("/v0/sql", params={"q": q}, headers=h).json()
    assert {"meta", "data", "rows", "rows_before_limit_at_least", "statistics"} <= set(envelope)
    assert envelope["meta"][0] == {"name": "customer_id", "type": "String"}


def test_csv_cells_that_look_like_formulas_are_neutralised(loaded):
    r = sql(loaded, "SELECT '=HYPERLINK(1)' AS a, 2 AS b FORMAT CSV")
    assert r.text == "\"'=HYPERLINK(1)\",2\n"


# --- a pipe's result as _ ------------------------------------------------------------------

def test_q_over_a_pipe_equals_pandas_on_the_pipe_output(loaded):
    h = loaded.bearer()
    base = "/v0/pipes/customer_engagement_analysis.json"
    params = {"start_date": "2025-03-01 00:00:00", "end_date": "2025-03-31 23:59:59", "limit": "1000"}
    full = pd.DataFrame(loaded.http.get(base, params=params, headers=h).json()["data"])
    assert len(full) > 20
    r = loaded.http.get(base, params={**params, "q": "SELECT count() AS n, sum(total_value) AS v FROM _"}, headers=h)
    got = data(r)
    assert got["n"].tolist() == [len(full)]
    assert got["v"].tolist() == pytest.approx([full["total_value"].sum()])
    page = data(loaded.http.get(base, params={**params, "q": "SELECT customer_id FROM _ ORDER BY customer_id LIMIT 10 OFFSET 10"},
                                headers=h))
    assert page["customer_id"].tolist() == sorted(full["customer_id"])[10:20]
    # the extension is the default format; a FORMAT in the SQL wins
    r = loaded.http.get(base.replace(".json", ".csv"), params={**params, "q": "SELECT count() AS n FROM _"}, headers=h)
    assert r.text == f'"n"\n{len(full)}\n'
    # the same through /v0/sql?pipeline= (verdin's and tb's way), with the pipe's parameters
    r = loaded.http.post("/v0/sql", data={"q": "SELECT count() AS n FROM _", "pipeline": "customer_engagement_analysis", **params},
                         headers=h)
    assert data(r)["n"].tolist() == [len(full)]


def test_a_pipe_by_name_is_its_result_for_the_request_parameters(loaded):
    h = loaded.bearer()
    pipe = pd.DataFrame(loaded.http.get("/v0/pipes/customer_segments_summary.json?location=London", headers=h).json()["data"])
    got = data(sql(loaded, "SELECT sum(customer_count) AS n FROM customer_segments_summary", location="London"))
    assert got["n"].tolist() == [pipe["customer_count"].sum()] == [30]
    # a pipe joined with a data source: its segments' customers per location
    got = data(sql(loaded, "SELECT count() AS n FROM customers WHERE location IN (SELECT 'London' FROM customer_segments_summary)",
                   location="London"))
    assert got["n"].tolist() == [30]


def test_the_request_database_is_dropped_whatever_happens(loaded):
    def scratch():
        return loaded.client.query("SELECT count() FROM system.databases WHERE name LIKE 'segwork_sql_%'").result_rows[0][0]
    before = scratch()
    h = loaded.bearer()
    assert loaded.http.get("/v0/pipes/customer_segment_lookup.json", params={"q": "SELECT * FROM _"}, headers=h).status_code == 400
    r = loaded.http.get("/v0/pipes/customer_segments_summary.json", params={"q": "SELECT * FROM _ JOIN api_tokens ON 1 = 1"}, headers=h)
    assert r.status_code == 403
    r = loaded.http.get("/v0/pipes/customer_segments_summary.json", params={"q": "SELECT nope FROM _"}, headers=h)
    assert r.status_code == 400
    assert loaded.http.get("/v0/pipes/customer_segments_summary.json", params={"q": "SELECT 1 FROM _"}, headers=h).status_code == 200
    assert scratch() == before


# --- tokens --------------------------------------------------------------------------------

def test_what_each_token_may_read(loaded):
    ds = loaded.token("ds", "DATASOURCES:READ:customers")
    reader = loaded.token("reader", "PIPES:READ:customer_segment_lookup")
    pinned = loaded.token("pinned", "PIPES:READ:customer_segment_lookup", customer_id="c0007")
    appender = loaded.token("appender", "DATASOURCES:APPEND:customers")
    assert data(sql(loaded, "SELECT count() AS n FROM customers", ds))["n"].tolist() == [N_CUSTOMERS]
    assert data(sql(loaded, "SELECT count() AS n FROM customers_quarantine", ds))["n"].tolist() == [0]
    for token in (reader, pinned, appender):
        r = sql(loaded, "SELECT count() FROM customers", token)
        assert r.status_code == 403 and "may not read" in r.json()["error"], r.text
    assert sql(loaded, "SELECT count() FROM customer_events", ds).status_code == 403
    assert sql(loaded, "SELECT count() FROM customer_segments_summary", ds).status_code == 403
    # a pipe token reads its pipe; a pinned one only its own rows, whatever it asks
    url = "/v0/pipes/customer_segment_lookup.json"
    r = loaded.http.get(url, params={"customer_id": "c0003", "q": "SELECT customer_id FROM _"}, headers=loaded.bearer(reader))
    assert data(r)["customer_id"].tolist() == ["c0003"]
    r = loaded.http.get(url, params={"customer_id": "c0003", "q": "SELECT customer_id FROM _"}, headers=loaded.bearer(pinned))
    assert data(r)["customer_id"].tolist() == ["c0007"]
    r = loaded.http.get("/v0/sql", params={"q": "SELECT customer_id FROM customer_segment_lookup", "customer_id": "c0003"},
                        headers=loaded.bearer(pinned))
    assert data(r)["customer_id"].tolist() == ["c0007"]
    r = sql(loaded, "SELECT count() FROM _", reader, pipeline="customer_segments_summary")
    assert r.status_code == 403
    # a pin with a data source scope would let SQL read past it: refused when the token is made
    r = loaded.http.post("/v0/tokens", params=[("name", "x"), ("scope", "PIPES:READ:customer_segment_lookup"),
                                               ("scope", "DATASOURCES:READ:customers"), ("fixed_param", "customer_id=c1")],
                         headers=loaded.bearer())
    assert r.status_code == 400 and "past the pin" in r.json()["error"]


# --- escapes: refused, nothing changed ------------------------------------------------------

FORBIDDEN = {
    # tables it may not read
    "SELECT * FROM api_tokens": 403,
    "SELECT token_hash FROM {db}.api_tokens": 403,
    "SELECT * FROM ingest_log": 403,
    "SELECT * FROM system.tables": 403,
    "SELECT name FROM system.users": 403,
    "SELECT * FROM system.settings": 403,
    "SELECT * FROM {other}.customers": 403,
    "SELECT * FROM customers JOIN api_tokens ON 1 = 1": 403,
    "SELECT * FROM customers, {other}.customers AS o": 403,
    "SELECT count() FROM customers WHERE customer_id IN (SELECT name FROM api_tokens)": 403,
    "SELECT count() FROM customers WHERE customer_id IN api_tokens": 403,
    "SELECT (SELECT toInt32(token_hash) FROM api_tokens LIMIT 1)": 403,
    "SELECT * FROM (SELECT * FROM (SELECT * FROM system.one JOIN api_tokens ON 1 = 1))": 403,
    "WITH t AS (SELECT * FROM api_tokens) SELECT * FROM t": 403,
    "SELECT (WITH api_tokens AS (SELECT 1 AS x) SELECT x FROM api_tokens), (SELECT toInt32(token_hash) FROM api_tokens LIMIT 1)": 403,
    "SELECT * FROM customers UNION ALL SELECT * FROM {other}.customers": 403,
    "SELECT count() FROM _": 403,
    # table functions and functions that reach files, the network, other tables, the server
    "SELECT * FROM file('/etc/passwd', 'LineAsString')": 403,
    "SELECT file('/etc/passwd')": 403,
    "SELECT * FROM url('http://127.0.0.1:9/', 'CSV', 'a String')": 403,
    "SELECT * FROM s3('http://127.0.0.1:9/b/k.csv')": 403,
    "SELECT * FROM remote('127.0.0.1', system.one)": 403,
    "SELECT * FROM cluster('default', system.one)": 403,
    "SELECT * FROM executable('ls', 'TSV', 'x String')": 403,
    "SELECT * FROM mysql('127.0.0.1:9', 'd', 't', 'u', 'p')": 403,
    "SELECT * FROM postgresql('127.0.0.1:9', 'd', 't', 'u', 'p')": 403,
    "SELECT * FROM merge('{db}', '.*')": 403,
    "SELECT * FROM view(SELECT * FROM api_tokens)": 403,
    "SELECT * FROM input('x String')": 403,
    "SELECT * FROM Python(settings)": 403,  # chDB's table function over the process's Python objects
    "SELECT * FROM dictionary('d')": 403,
    "SELECT * FROM loop(numbers(3))": 403,
    "SELECT dictGet('d', 'x', toUInt64(1))": 403,
    "SELECT joinGet('j', 'x', 1)": 403,
    "SELECT hasColumnInTable('system', 'users', 'name')": 403,
    "SELECT getSetting('readonly')": 403,
    "SELECT hostName()": 403,
    "SELECT sleep(3)": 403,
    "SELECT aiGenerate('hello')": 403,
    "SELECT upper(FILE('/etc/passwd'))": 400,  # no such function: names are case-sensitive
    # statements other than one SELECT, with comment tricks
    "INSERT INTO customers (customer_id) VALUES ('x')": 400,
    "INSERT INTO customers SELECT * FROM customers": 400,
    "ALTER TABLE customers DELETE WHERE 1": 400,
    "DROP TABLE customers": 400,
    "TRUNCATE TABLE customer_events": 400,
    "CREATE TABLE x (a Int8) ENGINE = Memory": 400,
    "OPTIMIZE TABLE customers FINAL": 400,
    "SELECT 1; DROP TABLE customers": 400,
    "SELECT 1 -- c\n; DROP TABLE customers": 400,
    "SELECT 1 /* ; */; DROP TABLE customers; --": 400,
    "SELECT * FROM /* customers */ api_tokens": 403,
    "SELECT * FROM customers -- harmless\nUNION ALL SELECT * FROM api_tokens": 403,
    "SET readonly = 0": 400,
    "SYSTEM SHUTDOWN": 400,
    "KILL QUERY WHERE 1": 400,
    "EXPLAIN SELECT * FROM api_tokens": 400,
    "SHOW TABLES": 400,
    "DESCRIBE TABLE api_tokens": 400,
    "EXISTS TABLE api_tokens": 400,
    "SELECT * FROM (EXPLAIN SELECT * FROM api_tokens)": 403,  # the engine's viewExplain() table function
    "GRANT ALL ON *.* TO default": 400,
    # settings, output to files, formats
    "SELECT 1 SETTINGS readonly = 0": 400,
    "SELECT count() FROM customers SETTINGS max_execution_time = 100000, max_result_rows = 0": 400,
    "SELECT 1 INTO OUTFILE '{outfile}'": 400,
    "SELECT 1 INTO OUTFILE '{outfile}' FORMAT CSV": 400,
    "SELECT * FROM customers INTO OUTFILE '{outfile}' TRUNCATE": 400,
    "SELECT 1 FORMAT Native": 400,
    "SELECT 1 FORMAT TabSeparatedRaw": 400,
    "": 400,
}


def test_every_escape_attempt_is_refused_and_nothing_changes(client, database, tmp_path):
    other = f"t_{uuid.uuid4().hex[:12]}"
    segwork.connect("chdb://memory", database=other)
    segwork.ingest(segwork.connect("chdb://memory", database=other), "customers", pd.DataFrame(customers(3, prefix="secret")))
    outfile = tmp_path / "out.txt"
    with running_api(client, database, api_threads=1) as api:  # one engine thread: the one every query used
        _load(api)
        tokens_before = client.query("SELECT count() FROM api_tokens").result_rows
        wrong = []
        for template, status in FORBIDDEN.items():
            q = template.format(db=database, other=other, outfile=outfile)
            r = api.http.get("/v0/sql", params={"q": q}, headers=api.bearer())
            body = r.json()
            if r.status_code != status or set(body) != {"error", "documentation"}:
                wrong.append((q, r.status_code, r.text[:300]))
            if "secret" in r.text.lower() or "token_hash" in r.text and "api_tokens" not in q:
                wrong.append((q, "leaks", r.text[:300]))
        assert not wrong, "\n".join(map(str, wrong))
        assert not outfile.exists()
        counts = client.query("SELECT (SELECT count() FROM customers), (SELECT count() FROM customer_events)").result_rows
        assert counts == [(N_CUSTOMERS, N_EVENTS)]
        assert client.query("SELECT count() FROM api_tokens").result_rows == tokens_before
        assert segwork.connect("chdb://memory", database=other).query("SELECT count() FROM customers").result_rows == [(3,)]
        # the engine thread that ran them still writes: readonly stayed on the reader's session
        r = api.http.post("/v0/events?name=customers&wait=true", headers=api.bearer(),
                          content=ndjson(customers(1, prefix="late")))
        assert r.status_code == 200 and r.json()["successful_rows"] == 1, r.text
        assert data(sql(api, "SELECT count() AS n FROM customers"))["n"].tolist() == [N_CUSTOMERS + 1]


def test_a_syntax_error_is_the_engine_s_message_about_the_client_s_text(loaded):
    r = sql(loaded, "SELECT count( FROM customers")
    assert r.status_code == 400 and r.json()["error"].startswith("parsing the query: the engine refused it: Syntax error")
    assert "parseQueryToJSON" not in r.text and r.json()["error"].endswith("(SYNTAX_ERROR)")


def test_a_scalar_subquery_cannot_leak_a_secret_in_an_error(loaded, database):
    """The engine evaluates scalar subqueries while it analyses a query: the names are checked first."""
    secret = loaded.client.query("SELECT token_hash FROM api_tokens LIMIT 1").result_rows[0][0]
    for q in ("SELECT (SELECT toInt32(token_hash) FROM api_tokens LIMIT 1)",
              f"SELECT (SELECT throwIf(1, token_hash) FROM {database}.api_tokens LIMIT 1)",
              "SELECT 1 WHERE (SELECT toInt32(token_hash) FROM api_tokens LIMIT 1) = 1"):
        r = sql(loaded, q)
        assert r.status_code in (400, 403) and secret not in r.text, r.text


def test_limits_stop_long_and_large_queries(client, database):
    with running_api(client, database, query_max_rows=1000, sql_max_rows_to_read=10_000_000, query_timeout_seconds=0.5,
                     sql_max_memory_bytes=50_000_000, sql_max_query_bytes=10_000) as api:
        r = sql(api, "SELECT number FROM numbers(2000)")
        assert r.status_code == 400 and "SEGWORK_QUERY_MAX_ROWS" in r.json()["error"], r.text
        r = sql(api, "SELECT count() FROM numbers(100000000)")
        assert r.status_code == 400 and "SEGWORK_SQL_MAX_ROWS_TO_READ" in r.json()["error"], r.text
        r = sql(api, "SELECT groupArray(toString(number)) FROM numbers(5000000)")
        assert r.status_code == 503 and "SEGWORK_SQL_MAX_MEMORY_BYTES" in r.json()["error"], r.text
        r = sql(api, "SELECT count() FROM numbers(9000000) AS a, numbers(1000) AS b WHERE cityHash64(a.number, b.number) = 0")
        assert r.status_code in (400, 504), r.text  # the time limit, or the rows-read limit first
        r = api.http.post("/v0/sql", content="SELECT 1 " + " " * 20_000, headers=api.bearer())
        assert r.status_code == 413, r.text
        assert sql(api, "SELECT 1 AS one").json()["data"] == [{"one": 1}]  # still answering


def test_the_time_limit_answers_504(client, database):
    with running_api(client, database, query_timeout_seconds=0.3) as api:
        r = sql(api, "SELECT count() FROM numbers(900000000) WHERE cityHash64(number) = 0")
        assert r.status_code == 504 and "SEGWORK_QUERY_TIMEOUT_SECONDS" in r.json()["error"], r.text


def test_a_failed_query_leaves_nothing_for_the_next_one(client, database):
    """chDB hands a query that failed part-way's JSON header to the next query on the same
    connection: the reader that saw the error is replaced, so the next answer is whole."""
    with running_api(client, database, api_threads=1, query_max_rows=1000) as api:
        for _ in range(2):
            assert sql(api, "SELECT number FROM numbers(2000) FORMAT JSON").status_code == 400
            r = sql(api, "SELECT 1 AS one")
            assert r.status_code == 200 and r.json()["data"] == [{"one": 1}], r.text


def test_the_reader_session_cannot_write_or_lift_its_limits_even_unchecked(client, database):
    """Under the checks: the reader's own session refuses writes and setting changes, and the
    ordinary client of the same thread keeps writing (readonly never reaches it)."""
    from dataclasses import replace

    from clickhouse_connect.driver.exceptions import DatabaseError

    from segwork import db
    from segwork.config import Settings

    settings = replace(Settings(dsn="chdb://memory", database=database), query_max_rows=7)
    reader = db.reader_client(sqlguard.session_settings(settings), settings=settings)
    for statement in ("INSERT INTO customer_events (event_id) VALUES ('x')", "DROP TABLE customers", "SET readonly = 0",
                      "SET max_result_rows = 0", "CREATE TABLE t (a Int8) ENGINE = Memory"):
        with pytest.raises(DatabaseError, match="readonly|READONLY"):
            reader.command(statement)
    with pytest.raises(DatabaseError, match="TOO_MANY_ROWS_OR_BYTES"):
        reader.raw_query("SELECT number FROM numbers(8)", settings={}, fmt="JSON")
    db.discard(reader)
    assert db.reader_client(sqlguard.session_settings(settings), settings=settings) is not reader
    client.command("INSERT INTO customer_events (event_id, customer_id, event_type) VALUES ('e1', 'c1', 'login')")
    assert client.query("SELECT count() FROM customer_events").result_rows == [(1,)]


def test_function_policy_from_the_engine_catalog(client):
    policy = sqlguard.functions(client)
    assert policy.refusal("upper", strict=True) is None
    assert policy.refusal("UPPER", strict=True) is None  # case-insensitive in the engine
    assert policy.refusal("sumIf", strict=False) is None  # a combinator: only the analyzed tree names it
    for name in ("file", "dictGet", "joinGet", "getMacro", "sleep", "aiGenerate", "logTrace", "hostName"):
        assert policy.refusal(name, strict=False), name
    assert policy.refusal("no_such_function", strict=True)


SERVER = os.environ.get("SEGWORK_TEST_CLICKHOUSE_URL")


@pytest.mark.skipif(not SERVER, reason="SEGWORK_TEST_CLICKHOUSE_URL is not set: no ClickHouse server to test against")
def test_on_a_server_the_same_refusals_hold():
    database = f"segwork_test_{uuid.uuid4().hex[:10]}"
    client = segwork.connect(SERVER, database=database)
    try:
        with running_api(client, database, dsn=SERVER) as api:
            _load(api)
            assert data(sql(api, "SELECT count() AS n FROM customers"))["n"].tolist() == [N_CUSTOMERS]
            for q in ("SELECT * FROM api_tokens", "SELECT * FROM system.users", "SELECT 1 SETTINGS readonly = 0",
                      "SELECT * FROM url('http://127.0.0.1:9/', 'CSV', 'a String')", "SELECT 1; DROP TABLE customers"):
                assert sql(api, q).status_code in (400, 403), q
            assert data(sql(api, "SELECT count() AS n FROM customers"))["n"].tolist() == [N_CUSTOMERS]
    finally:
        client.command(f"DROP DATABASE IF EXISTS `{database}`")


def test_queries_at_once_are_capped_the_next_gets_503_and_pipes_still_answer(client, database):
    """At most SEGWORK_SQL_CONCURRENCY queries run at once: the engine checks its time limit between
    blocks, so a heavy expression can run far past it (a review held a thread 91 s against 30), and
    without the cap a few of them held every API thread, pipes and ingests included."""
    import threading

    heavy = "SELECT count() AS n FROM numbers(900000000) WHERE cityHash64(number) % 7 = 3"  # seconds of hashing
    with running_api(client, database, sql_concurrency=1) as api:
        heavy_answers: list = []

        def run_heavy() -> None:  # a probe may take the one slot first: then this one is the 503, and retries
            for _ in range(100):
                heavy_answers.append(sql(api, heavy))
                if heavy_answers[-1].status_code != 503:
                    return

        runner = threading.Thread(target=run_heavy)
        runner.start()
        probes, pipe = [], None
        while runner.is_alive():
            probes.append(sql(api, "SELECT 1 AS one"))
            if pipe is None:  # while the heavy query holds the slot (or is about to)
                pipe = api.http.get("/v0/pipes/customer_segments_summary.json", headers=api.bearer())
        runner.join()
        assert heavy_answers[-1].status_code == 200, heavy_answers[-1].text
        refused = [r for r in probes + heavy_answers if r.status_code == 503]
        assert refused, "no query was refused while another ran"
        assert all(r.headers["Retry-After"] == "1" and "SEGWORK_SQL_CONCURRENCY" in r.json()["error"] for r in refused)
        assert {r.status_code for r in probes} <= {200, 503}
        assert pipe.status_code == 200  # pipes do not wait for the SQL slot
        assert sql(api, "SELECT 1 AS one").status_code == 200  # the slot is free again


def test_a_query_nested_too_deeply_for_python_is_a_400_not_a_500(loaded):
    nested = "SELECT " + "abs(" * 340 + "1" + ")" * 340 + " AS x"
    r = sql(loaded, nested)
    assert r.status_code == 400, r.text
    assert "nested" in r.json()["error"] or "depth" in r.json()["error"].lower() or "deep" in r.json()["error"].lower()


def test_a_request_database_a_killed_process_left_is_dropped(client, database):
    """A process killed mid-request leaves its request database in an embedded folder (reopened at
    the next start); the first Query API request of a process drops such leftovers."""
    client.command("CREATE DATABASE segwork_sql_0123456789abcdef ENGINE = Memory")
    with running_api(client, database) as api:
        assert sql(api, "SELECT 1 AS one").status_code == 200
    left = client.query("SELECT count() FROM system.databases WHERE startsWith(name, 'segwork_sql_')").result_rows[0][0]
    assert left == 0
