"""Events API and Data Sources API: what goes in, what is quarantined, and the counts."""
from __future__ import annotations

import gzip
import io
import json

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from segwork import overview

from tests.apikit import customers, events, ndjson, running_api


@pytest.fixture
def api(client, database):
    with running_api(client, database) as a:
        yield a


def _count(client, sql: str) -> int:
    return int(client.query(sql).result_rows[0][0])


def test_malformed_ndjson_good_lines_in_bad_lines_quarantined(api):
    good = events(5, prefix="g")
    lines = [json.dumps(good[0]), "{not json", json.dumps(good[1]),
             json.dumps({**good[2], "event_id": "bad-time", "timestamp": "yesterday"}),
             "", json.dumps(good[3]), "[1, 2]",
             json.dumps({**good[4], "event_id": "bad-type", "event_type": "Not A Type!"}),
             json.dumps(good[4]), json.dumps(good[2])]
    r = api.http.post("/v0/events?name=customer_events&wait=true", headers=api.bearer(), content="\n".join(lines).encode())
    assert r.status_code == 200
    body = r.json()
    assert (body["successful_rows"], body["quarantined_rows"]) == (5, 4)
    reasons = {x["reason"] for x in body["quarantine_reasons"]}
    assert "not valid JSON" in reasons and "not a JSON object" in reasons
    assert any(reason.startswith("timestamp") for reason in reasons) and any(reason.startswith("event_type") for reason in reasons)
    # queryable at once (wait=true), and nothing lost: in the table or in the quarantine
    assert _count(api.client, "SELECT count() FROM customer_events") == 5
    assert _count(api.client, "SELECT count() FROM customer_events_quarantine") == 4
    ids = {r[0] for r in api.client.query("SELECT event_id FROM customer_events").result_rows}
    assert ids == {e["event_id"] for e in good}
    rows = api.client.query("SELECT c__row, c__source FROM customer_events_quarantine ORDER BY c__row").result_rows
    assert [r[0] for r in rows] == [2, 4, 7, 8]  # physical line numbers in the body
    assert all(r[1] == "POST /v0/events (admin)" for r in rows)


def test_a_body_of_100k_events_gzip(api):
    records = events(100_000, customers=5000, seconds=86400 * 60)
    raw = ndjson(records)
    assert len(raw) > api.settings.api_max_body_bytes  # too big plain ...
    r = api.http.post("/v0/events?name=customer_events", headers=api.bearer(), content=raw)
    assert r.status_code == 413
    packed = gzip.compress(raw)  # ... fine compressed, as clients send it
    r = api.http.post("/v0/events?name=customer_events&wait=true",
                      headers={**api.bearer(), "Content-Encoding": "gzip", "Content-Type": "application/x-ndjson"}, content=packed)
    assert r.status_code == 200, r.text
    assert r.json()["successful_rows"] == 100_000 and r.json()["quarantined_rows"] == 0
    assert _count(api.client, "SELECT count() FROM customer_events") == 100_000
    assert _count(api.client, "SELECT uniqExact(event_id) FROM customer_events") == 100_000
    expected = pd.DataFrame(records)
    total = api.client.query("SELECT sum(event_value) FROM customer_events").result_rows[0][0]
    assert total == pytest.approx(expected["event_value"].sum())


def test_replayed_batch_is_not_inserted_twice(api):
    body = ndjson(events(50, prefix="r"))
    first = api.http.post("/v0/events?name=customer_events", headers=api.bearer(), content=body).json()
    again = api.http.post("/v0/events?name=customer_events", headers=api.bearer(), content=body).json()
    assert (first["successful_rows"], first["duplicate_rows"]) == (50, 0)
    assert (again["successful_rows"], again["duplicate_rows"]) == (50, 50)
    assert _count(api.client, "SELECT count() FROM customer_events") == 50


def test_json_array_body_and_gzip_without_header(api):
    body = json.dumps(customers(3)).encode()
    r = api.http.post("/v0/events?name=customers", headers=api.bearer(), content=body)
    assert r.status_code == 202 and r.json()["successful_rows"] == 3
    r = api.http.post("/v0/events?name=customers", headers=api.bearer(), content=gzip.compress(ndjson(customers(5, prefix="g"))))
    assert r.json()["successful_rows"] == 5
    assert overview.table_counts(api.client)["customers"] == 8


@pytest.mark.parametrize("kind", ["csv", "ndjson.gz", "parquet", "raw-csv"])
def test_datasources_append_a_file(api, kind):
    frame = pd.DataFrame(customers(40))
    frame.loc[3, "age"] = 300  # invalid: quarantined
    frame.loc[7, "timestamp"] = None  # missing: quarantined
    if kind == "parquet":
        sink = io.BytesIO()
        pq.write_table(pa.Table.from_pandas(frame.astype({"age": "float64"}), preserve_index=False), sink)
        files = {"parquet": ("customers.parquet", sink.getvalue())}
    elif kind == "ndjson.gz":
        files = {"ndjson": ("customers.ndjson.gz", gzip.compress(frame.to_json(orient="records", lines=True).encode()))}
    else:
        files = {"csv": ("customers.csv", frame.to_csv(index=False).encode())}
    if kind == "raw-csv":
        r = api.http.post("/v0/datasources?name=customers&mode=append&format=csv", headers=api.bearer(), content=files["csv"][1])
    else:
        r = api.http.post("/v0/datasources?name=customers&mode=append", headers=api.bearer(), files=files)
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["rows_read"], body["successful_rows"], body["quarantine_rows"]) == (40, 38, 2)
    assert body["datasource"] == {"name": "customers"} and body["import_id"]
    history = overview.ingest_history(api.client, limit=5)
    assert body["import_id"] == history["ingest_id"].iloc[0] and history["quarantined"].iloc[0] == 2
    assert overview.table_counts(api.client)["customers"] == 38


def test_datasources_errors(api):
    post = api.http.post
    r = post("/v0/datasources?name=customers&mode=replace", headers=api.bearer(), files={"csv": ("c.csv", b"a\n1\n")})
    assert r.status_code == 400 and "mode=append" in r.json()["error"]
    r = post("/v0/datasources?name=customers&url=https://example.com/c.csv", headers=api.bearer())
    assert r.status_code == 400 and "url=" in r.json()["error"]
    r = post("/v0/datasources?name=nope&mode=append", headers=api.bearer(), files={"csv": ("c.csv", b"a\n1\n")})
    assert r.status_code == 404
    r = post("/v0/datasources?name=customers&mode=append", headers={**api.bearer(), "Content-Type": "multipart/form-data; boundary=xx"},
             content=b'--xx\r\nContent-Disposition: form-data; name="just"\r\n\r\na field\r\n--xx--\r\n')
    assert r.status_code == 400 and "has no file" in r.json()["error"]
    r = post("/v0/datasources?name=customers&mode=append", headers=api.bearer(), files={"csv": ("c.csv", b"x,y\n1,2\n")})
    assert r.status_code == 400 and "missing required column" in r.json()["error"]


def test_a_line_nested_too_deep_is_quarantined_and_the_batch_goes_in(api):
    good = events(3, prefix="n")
    deep = json.dumps(good[1])[:-1] + ', "payload": ' + "[" * 3000 + "]" * 3000 + "}"
    body = "\n".join([json.dumps(good[0]), deep, json.dumps(good[2])]).encode()
    r = api.http.post("/v0/events?name=customer_events&wait=true", headers=api.bearer(), content=body)
    assert r.status_code == 200, r.text
    assert (r.json()["successful_rows"], r.json()["quarantined_rows"]) == (2, 1)
    assert r.json()["quarantine_reasons"] == [{"reason": "nested deeper than 64 levels", "rows": 1}]
    # one object spread over lines (the body is tried as one JSON document first)
    spread = json.dumps(good[1])[:-1] + ',\n "payload": ' + "[" * 3000 + "\n" + "]" * 3000 + "}"
    r = api.http.post("/v0/events?name=customer_events&wait=true", headers=api.bearer(), content=spread.encode())
    assert r.status_code == 200, r.text
    assert r.json()["successful_rows"] == 0 and r.json()["quarantined_rows"] == 3
    assert _count(api.client, "SELECT count() FROM customer_events") == 2


def test_a_line_that_is_not_utf8_is_quarantined_and_the_batch_goes_in(api):
    good = events(3, prefix="u")
    body = b"\n".join([json.dumps(good[0]).encode(), json.dumps(good[1]).encode().replace(b'"toys"', b'"to\xffys"'),
                       json.dumps(good[2]).encode()])
    r = api.http.post("/v0/events?name=customer_events&wait=true", headers=api.bearer(), content=body)
    assert r.status_code == 200, r.text
    assert (r.json()["successful_rows"], r.json()["quarantined_rows"]) == (2, 1)
    assert r.json()["quarantine_reasons"] == [{"reason": "not valid UTF-8", "rows": 1}]
    raw = api.client.query("SELECT c__raw FROM customer_events_quarantine").result_rows[0][0]
    assert '"to\ufffdys"' in raw
