"""Exact counts: an event_id is stored once however it arrives; a re-sent bad record is
recognised; concurrent writers and failures never make the counts lie."""
from __future__ import annotations

import threading

import pandas as pd
import pytest

import segwork
from segwork import overview, queries, synth
from segwork.ingestion import ingestlog
from segwork.errors import EngineError, SegworkError
from tests import oracle

pytestmark = pytest.mark.engine_paths  # every test on the embedded fast path and on the client API (conftest)


def events(n, prefix="e", seed=2, customers=10):
    return synth.events(n, customers, seed=seed).assign(event_id=[f"{prefix}{i}" for i in range(n)])


def stored_events(client) -> pd.DataFrame:
    return client.query_df("SELECT event_id, customer_id, event_type, event_value, timestamp FROM customer_events")


def check_invariant(report):
    assert report.rows_read == report.inserted + report.duplicates + report.quarantined


def test_same_event_id_in_two_chunks_of_one_file_goes_in_once(client, tmp_path, settings):
    df = events(3000)
    df.loc[2500, "event_id"] = df.loc[10, "event_id"]  # chunks are 1000 rows: a repeat in another chunk
    df.loc[2999, "event_id"] = df.loc[1999, "event_id"]
    path = tmp_path / "e.csv"
    df.to_csv(path, index=False)
    report = segwork.ingest(client, "customer_events", path, settings=settings)
    check_invariant(report)
    assert (report.inserted, report.duplicates) == (2998, 2)
    got = stored_events(client)
    assert len(got) == got.event_id.nunique() == 2998
    assert got.set_index("event_id").loc["e10", "event_value"] == pytest.approx(df.loc[10, "event_value"])  # first copy won


def test_a_retried_batch_with_one_more_event_adds_only_that_event(client):
    batch = events(200)
    first = segwork.ingest(client, "customer_events", batch.to_json(orient="records", lines=True, date_format="iso").encode())
    retry = pd.concat([batch, events(1, prefix="new")], ignore_index=True)
    again = segwork.ingest(client, "customer_events", retry.to_json(orient="records", lines=True, date_format="iso").encode())
    assert (first.inserted, again.inserted, again.duplicates) == (200, 1, 200)
    check_invariant(again)
    assert overview.table_counts(client)["customer_events"] == 201


def test_a_later_copy_with_other_content_is_a_duplicate_and_the_first_wins(client):
    batch = events(20)
    segwork.ingest(client, "customer_events", batch)
    changed = batch.head(5).assign(event_value=999.0, timestamp=pd.Timestamp("2025-01-01", tz="UTC"), event_type="login")
    report = segwork.ingest(client, "customer_events", changed)
    assert (report.inserted, report.duplicates) == (0, 5)
    got = stored_events(client).set_index("event_id")
    assert (got.loc[batch.event_id.head(5), "event_value"].to_numpy() != 999.0).all()


def test_queries_count_each_event_once_over_overlapping_files(client, tmp_path):
    """Two exports overlapping by half, re-sent in pieces: the engagement query equals pandas on the distinct events."""
    customers = synth.customers(10, seed=1)
    segwork.ingest(client, "customers", customers)
    df = events(600)
    for i, part in enumerate((df.iloc[:400], df.iloc[200:], df.iloc[100:300], df.sample(frac=1, random_state=3))):
        path = tmp_path / f"part{i}.ndjson"
        part.to_json(path, orient="records", lines=True, date_format="iso")
        check_invariant(segwork.ingest(client, "customer_events", path))
    start, end = df.timestamp.min().strftime("%Y-%m-%d"), (df.timestamp.max() + pd.Timedelta(days=1)).strftime("%Y-%m-%d")
    got = queries.customer_engagement_analysis(client, start, end, limit=100)
    want = oracle.engagement(df, customers, pd.Timestamp(start, tz="UTC"), pd.Timestamp(end, tz="UTC"), limit=100)
    assert got.event_count.sum() == want.event_count.sum() == 600
    assert got.set_index("customer_id").total_value.round(6).to_dict() == want.set_index("customer_id").total_value.round(6).to_dict()


def test_a_profile_version_sent_twice_is_a_duplicate(client):
    v = pd.DataFrame({"customer_id": ["a", "b"], "signup_date": ["2024-01-01"] * 2, "lifetime_value": [1.0, 2.0],
                      "timestamp": ["2024-02-01 00:00:00"] * 2})
    segwork.ingest(client, "customers", v)
    report = segwork.ingest(client, "customers", pd.concat([v.assign(lifetime_value=5.0), v.assign(customer_id=["c", "a"])]))
    assert (report.inserted, report.duplicates) == (1, 3)
    assert client.query("SELECT count() FROM customers").result_rows[0][0] == 3


def test_reingesting_a_file_does_not_quarantine_its_bad_rows_again(client, tmp_path, settings):
    df = events(2500).astype({"event_value": object})
    df.loc[[5, 1700, 1701], "event_value"] = "abc"  # bad rows in two chunks; 1700 and 1701 identical but for the id
    df.loc[1701, "event_id"] = df.loc[1700, "event_id"] = "same"
    path = tmp_path / "e.csv"
    df.to_csv(path, index=False)
    first = segwork.ingest(client, "customer_events", path, settings=settings)
    assert first.quarantined == 3
    again = segwork.ingest(client, "customer_events", path, settings=replace_chunks(settings, 700))
    check_invariant(again)
    assert (again.inserted, again.quarantined, again.duplicates) == (0, 0, 2500)
    assert overview.table_counts(client)["customer_events_quarantine"] == 3


def replace_chunks(settings, n):
    from dataclasses import replace

    return replace(settings, chunk_rows=n, insert_rows=2 * n)


def test_concurrent_identical_ingests_report_the_truth(client, database):
    payload = events(3000).to_json(orient="records", lines=True, date_format="iso").encode()
    reports, errors = [], []

    def run():
        try:
            c = segwork.connect("chdb://memory", database=database)
            reports.append(segwork.ingest(c, "customer_events", payload))
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not errors
    assert sorted(r.inserted for r in reports) == [0] * 5 + [3000]
    assert all(r.duplicates == 3000 for r in reports if r.inserted == 0)
    log = overview.ingest_history(client, limit=100)
    assert log.inserted.sum() == 3000 and set(log.status) == {"finished"}
    assert overview.table_counts(client)["customer_events"] == 3000


def test_an_engine_failure_mid_file_is_logged_and_a_rerun_completes(client, tmp_path, settings, monkeypatch):
    import importlib

    ingest_module = importlib.import_module("segwork.ingestion.write")

    df = events(5000)
    path = tmp_path / "e.csv"
    df.to_csv(path, index=False)
    real, calls = ingest_module.insert, []

    def failing(client_, table, block):
        if table == "customer_events":
            calls.append(block.num_rows)
            if len(calls) == 3:
                raise EngineError("inserting into customer_events failed: disk full (simulated)")
        return real(client_, table, block)

    monkeypatch.setattr(ingest_module, "insert", failing)
    with pytest.raises(SegworkError, match=r"3,000 inserted.*ingest the same input again"):
        segwork.ingest(client, "customer_events", path, settings=settings)
    history = overview.ingest_history(client)
    assert history.iloc[0].status == "failed" and "disk full" in history.iloc[0].error
    assert history.iloc[0].inserted == 1000 + 2000
    monkeypatch.setattr(ingest_module, "insert", real)
    rerun = segwork.ingest(client, "customer_events", path, settings=settings)
    assert (rerun.inserted, rerun.duplicates) == (2000, 3000)
    assert overview.table_counts(client)["customer_events"] == 5000
    assert ingestlog.incomplete(client).empty
