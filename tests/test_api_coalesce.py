"""Concurrent small Events API requests are written together (segwork.api.coalesce,
segwork.ingestion.batch) and each is still answered, counted and quarantined as if alone."""
from __future__ import annotations

import json
import threading
from concurrent.futures import ThreadPoolExecutor

import httpx
import pandas as pd
import pytest

import segwork
from segwork.config import Settings
from segwork.ingestion import batch
from tests.apikit import ndjson
from tests.test_api_server import server  # noqa: F401 - the fixture: the API under uvicorn on loopback

THREADS = 12


def event(i, prefix="e", **changes) -> dict:
    e = {"event_id": f"{prefix}{i}", "customer_id": f"c{i % 7}", "event_type": "purchase", "event_value": 1.25 + i,
         "product_id": "p1", "category": "books", "timestamp": f"2025-0{1 + i % 9}-1{i % 10} 12:00:00"}
    return {**e, **changes}


def post_all(host, admin, bodies: list[tuple[bytes, bool]]) -> list[httpx.Response]:
    """POST each (body, wait) to /v0/events from THREADS threads at once; the answers in order."""
    auth = {"Authorization": f"Bearer {admin}"}
    local = threading.local()

    def send(item):
        body, wait = item
        if not hasattr(local, "http"):
            local.http = httpx.Client(headers=auth, timeout=60)
        return local.http.post(f"{host}/v0/events?name=customer_events" + ("&wait=true" if wait else ""), content=body)

    with ThreadPoolExecutor(THREADS) as pool:
        return list(pool.map(send, bodies))


def test_concurrent_single_event_posts_land_exactly_once_each_answered_for_itself(server):
    host, admin, client = server
    bodies = [(ndjson([event(i)]), i % 2 == 0) for i in range(240)]
    answers = post_all(host, admin, bodies)
    assert [r.status_code for r in answers] == [200 if i % 2 == 0 else 202 for i in range(240)]
    for r in answers:
        assert {k: r.json()[k] for k in ("successful_rows", "quarantined_rows", "duplicate_rows")} == \
            {"successful_rows": 1, "quarantined_rows": 0, "duplicate_rows": 0}, r.text
    ids = [r.json()["import_id"] for r in answers]
    assert len(set(ids)) == 240
    assert client.query("SELECT count(), uniqExact(event_id) FROM customer_events").result_rows[0] == (240, 240)
    logged = client.query_df("SELECT ingest_id, status, rows_read, inserted, duplicates, quarantined FROM ingest_log")
    finished = logged[logged.status == "finished"].set_index("ingest_id")
    assert sorted(finished.index) == sorted(ids)  # each request logged as its own ingest, with its own counts
    assert (finished[["rows_read", "inserted", "duplicates", "quarantined"]].to_numpy() == [1, 1, 0, 0]).all()
    assert set(logged.status) == {"started", "finished"}


def test_an_event_sent_by_several_concurrent_requests_is_stored_once(server):
    """Each id is in three requests sent at once (and twice in one of them): stored once, and
    exactly one answer counts it as new; the others as duplicates."""
    host, admin, client = server
    bodies = []
    for i in range(60):
        bodies += [(ndjson([event(i), event(i + 1000)]), i % 3 == 0), (ndjson([event(i, event_value=99.0)]), True),
                   (ndjson([event(i + 1000)]), False)]
    answers = post_all(host, admin, bodies)
    assert all(r.status_code in (200, 202) and r.json()["quarantined_rows"] == 0 for r in answers), [r.text for r in answers]
    assert [r.json()["successful_rows"] for r in answers] == [2, 1, 1] * 60
    new = sum(r.json()["successful_rows"] - r.json()["duplicate_rows"] for r in answers)
    assert new == 120
    assert client.query("SELECT count(), uniqExact(event_id) FROM customer_events").result_rows[0] == (120, 120)


def test_bad_records_in_concurrent_requests_are_quarantined_with_their_request(server):
    """Mixed bodies at once with good ones: each answer's counts are its own, and the quarantine
    holds each request's bad records under its import id, with its own line numbers and reasons."""
    host, admin, client = server
    bodies, expected = [], []
    for i in range(40):
        if i % 2:
            bodies.append((ndjson([event(i, prefix=f"g{i}-")]), i % 4 == 1))
            expected.append((1, 0))
        else:
            lines = [json.dumps(event(0, prefix=f"m{i}-")), "{not json " + str(i), json.dumps(event(1, prefix=f"m{i}-", timestamp="soon")),
                     json.dumps(event(0, prefix=f"m{i}-")), json.dumps(event(2, prefix=f"m{i}-", event_value=f"lots {i}"))]
            bodies.append((("\n".join(lines) + "\n").encode(), i % 4 == 0))
            expected.append((1, 4))  # line 4 repeats line 1's event_id within its own body: quarantined
    answers = post_all(host, admin, bodies)
    assert [(r.json()["successful_rows"], r.json()["quarantined_rows"]) for r in answers] == expected, [r.text for r in answers]
    q = client.query_df("SELECT c__import_id, c__row, c__error, event_value FROM customer_events_quarantine")
    assert len(q) == 80
    for i, r in enumerate(answers):
        mine = q[q.c__import_id == r.json()["import_id"]].sort_values("c__row")
        if i % 2:
            assert mine.empty
            continue
        assert list(mine.c__row) == [2, 3, 4, 5]
        reasons = [" ".join(e) for e in mine.c__error]
        assert "timestamp" in reasons[1] and "repeats an event_id" in reasons[2] and "event_value" in reasons[3]
        assert list(mine.event_value)[3] == f"lots {i}"
        assert sum(x["rows"] for x in r.json()["quarantine_reasons"]) == 4
    assert client.query("SELECT count() FROM customer_events").result_rows[0][0] == 40


def test_wait_true_answered_means_queryable_at_once(server):
    """Each client posts one event with wait=true and at once reads it through the engagement pipe."""
    host, admin, client = server
    auth = {"Authorization": f"Bearer {admin}"}
    failures: list[str] = []

    def one(k: int) -> None:
        with httpx.Client(headers=auth, timeout=60) as http:
            for j in range(10):
                e = event(j, prefix=f"w{k}-", customer_id=f"writer{k}", timestamp="2025-05-05 10:00:00")
                r = http.post(f"{host}/v0/events?name=customer_events&wait=true", content=ndjson([e]))
                if r.status_code != 200:
                    failures.append(r.text)
                    return
                seen = http.get(f"{host}/v0/pipes/customer_engagement_analysis.json?start_date=2025-05-01&end_date=2025-05-31"
                                "&limit=100&event_type=purchase").json()["data"]
                count = {d["customer_id"]: d["event_count"] for d in seen}.get(f"writer{k}")
                if count != j + 1:
                    failures.append(f"writer{k}: {count} events read after {j + 1} were answered")

    threads = [threading.Thread(target=one, args=(k,)) for k in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    assert failures == []


def bodies_for_the_batch() -> list[bytes]:
    """Inputs whose outcome depends on what came before them, in the same batch or earlier."""
    a = [event(1), event(2), event(3, timestamp="never"), event(2)]  # a bad record, and a repeat within the input
    b = [event(2, event_value=5.0), event(4), event(3, timestamp="never")]  # a's event 2 again; a's bad record again
    c = ["{broken", json.dumps(event(5)), json.dumps(event(5)), json.dumps(event(4))]
    d = [event(6, customer_id=""), event(7)]
    return [ndjson(a), ndjson(b), ("\n".join(c) + "\n").encode(), ndjson(d), ndjson(a)]


@pytest.mark.engine_paths
def test_a_batch_gives_each_input_what_it_would_get_alone_in_turn(client, database):
    """validate_many + write_many over several inputs = segwork.ingest of each, one after another."""
    settings = Settings(dsn="chdb://memory", database=database)
    items = [batch.prepare("customer_events", body, "ndjson", f"input {k}", settings) for k, body in enumerate(bodies_for_the_batch())]
    batch.write_many(client, "customer_events", items, batch.validate_many("customer_events", items))
    reports = same_as_alone(client, database, items, settings)
    assert [counts(r)[:5] for r in reports] == [(4, 2, 0, 2, 0), (3, 1, 2, 0, 1), (4, 1, 1, 2, 0), (2, 1, 0, 1, 0),
                                                 (4, 0, 4, 0, 2)]


def counts(r):
    """What a report says happened to its records."""
    return (r.rows_read, r.inserted, r.duplicates, r.quarantined, r.known_bad, sorted(r.reasons))


def stored(c):
    """The stored events and quarantine rows, comparable across databases."""
    events = c.query_df("SELECT event_id, event_value FROM customer_events ORDER BY event_id")
    bad = c.query_df("SELECT c__source, c__row, c__error, c__token FROM customer_events_quarantine ORDER BY c__source, c__row")
    return events, bad.assign(c__error=bad.c__error.map(tuple))


def same_as_alone(client, database, items, settings) -> list:
    """Assert that the written `items` (reports) and `client`'s tables equal segwork.ingest of each of
    bodies_for_the_batch() in turn into a database of its own; that database's reports."""
    alone = segwork.connect("chdb://memory", database=database + "_alone")
    try:
        reports = [segwork.ingest(alone, "customer_events", body, format="ndjson", settings=settings, source_name=f"input {k}")
                   for k, body in enumerate(bodies_for_the_batch())]
        assert [counts(i.report) for i in items] == [counts(r) for r in reports]
        for got, want in zip(stored(client), stored(alone)):
            pd.testing.assert_frame_equal(got, want)
        return reports
    finally:
        alone.command(f"DROP DATABASE IF EXISTS `{database}_alone`")


def test_a_body_refused_whole_in_a_concurrent_write_gets_its_own_400_and_the_others_land(server):
    """Bodies written together: one without event_id at all is refused as it would be alone (400,
    nothing of it stored), the bodies around it are written and answered as usual."""
    host, admin, client = server
    bodies = [(b'{"customer_id": "c1", "event_type": "login", "timestamp": "2025-01-01 00:00:00"}\n', i % 2 == 0) if i % 5 == 0
              else (ndjson([event(i, prefix="mix")]), i % 2 == 0) for i in range(60)]
    answers = post_all(host, admin, bodies)
    for i, r in enumerate(answers):
        if i % 5 == 0:
            assert r.status_code == 400 and "missing required column(s) event_id" in r.json()["error"], r.text
        else:
            assert r.status_code in (200, 202) and r.json()["successful_rows"] == 1, r.text
    assert client.query("SELECT count() FROM customer_events").result_rows[0][0] == 48
    assert client.query("SELECT count() FROM customer_events_quarantine").result_rows[0][0] == 0
