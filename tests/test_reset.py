"""Emptying the database (segwork.reset) and telling where its data came from (segwork.origins)."""
from __future__ import annotations

import gzip
import re

import pandas as pd
import pytest

import segwork
from segwork import demo, origins, overview, reset, retail, sqlfiles, synth
from segwork.api import pipes, tokens

BAD_EVENTS = pd.DataFrame({"event_id": ["b1", "b2"], "customer_id": ["c1", ""], "event_type": ["login", "login"],
                           "timestamp": [pd.Timestamp("2026-01-01", tz="UTC")] * 2})


def rows(client, table: str) -> int:
    return client.query(f"SELECT count() FROM `{table}`").result_rows[0][0]


def test_every_table_of_the_schema_is_emptied_or_kept_on_purpose():
    tables = {m.group(1) for name in sqlfiles.ddl_names()
              for m in [re.search(r"CREATE TABLE IF NOT EXISTS (\w+)", sqlfiles.ddl_statement(name))] if m}
    assert set(reset.EMPTIED) | set(reset.KEPT) == tables
    assert not set(reset.EMPTIED) & set(reset.KEPT)


@pytest.mark.engine_paths()
def test_empty_removes_all_data_keeps_tokens_and_the_same_rows_go_in_again(client):
    people, events = synth.shop(200, 3000, end="2026-11-01")
    first = [segwork.ingest(client, "customers", people), segwork.ingest(client, "customer_events", events),
             segwork.ingest(client, "customer_events", BAD_EVENTS)]
    assert [r.inserted for r in first] == [200, 3000, 1] and first[2].quarantined == 1
    tokens.create(client, "keeper", ["ADMIN"], {}, pipes.PIPES)

    before = reset.empty(client)
    assert before == {"customers": 200, "customer_events": 3001, "customers_quarantine": 0, "customer_events_quarantine": 1}
    assert {t: rows(client, t) for t in reset.EMPTIED} == dict.fromkeys(reset.EMPTIED, 0)
    assert [t.name for t in tokens.list_all(client)] == ["keeper"]
    assert origins.contents(client).empty

    again = [segwork.ingest(client, "customers", people), segwork.ingest(client, "customer_events", events),
             segwork.ingest(client, "customer_events", BAD_EVENTS)]
    assert [(r.inserted, r.duplicates, r.quarantined) for r in again] == [(200, 0, 0), (3000, 0, 0), (1, 0, 1)]
    assert overview.table_counts(client) == before
    assert rows(client, "event_ids") == 3001
    # and the id index knows them again: a third load adds nothing
    assert segwork.ingest(client, "customer_events", events).duplicates == 3000


def test_empty_of_an_empty_database_is_harmless(client):
    assert reset.empty(client) == dict.fromkeys(("customers", "customer_events", "customers_quarantine",
                                                 "customer_events_quarantine"), 0)


@pytest.fixture(scope="module")
def retail_slice(tmp_path_factory):
    """The first 3,000 lines of the real Online Retail file, under its own name."""
    path = tmp_path_factory.mktemp("retail") / retail.RETAIL_CSV.name
    with gzip.open(retail.RETAIL_CSV, "rt", encoding="utf-8") as src, gzip.open(path, "wt", encoding="utf-8") as out:
        for i, line in enumerate(src):
            if i > 3000:
                break
            out.write(line)
    return path


def own(client, name: str = "my_customers.csv"):
    frame = pd.DataFrame({"customer_id": ["mine1", "mine2"], "signup_date": [pd.Timestamp("2026-01-01", tz="UTC")] * 2,
                          "timestamp": [pd.Timestamp("2026-01-02", tz="UTC")] * 2})
    return segwork.ingest(client, "customers", frame, source_name=name)


@pytest.mark.parametrize("loads, kinds", [
    ((), set()),
    (("demo",), {"demo"}),
    (("sample",), {"sample"}),
    (("own",), {"own"}),
    (("demo", "own"), {"demo", "own"}),
    (("sample", "demo"), {"sample", "demo"}),
    (("own", "sample", "demo"), {"own", "sample", "demo"}),
])
def test_contents_tell_where_the_data_came_from(client, retail_slice, loads, kinds):
    for what in loads:
        if what == "demo":
            demo.load(client, customers=50, events=500)
        elif what == "sample":
            retail.load(client, retail_slice)
        else:
            own(client)
    c = origins.contents(client)
    assert c.kinds == kinds and c.empty == (not loads)
    assert c.own_sources == (("my_customers.csv",) if "own" in loads else ())
    assert c.counts == overview.table_counts(client)


def test_contents_ignore_sources_that_added_nothing_and_count_unlogged_rows_as_own(client):
    demo.load(client, customers=50, events=500, end="2026-11-01")
    people, _ = synth.shop(50, 500, end="2026-11-01")
    assert segwork.ingest(client, "customers", people, source_name="copy_of_demo.csv").inserted == 0
    assert origins.contents(client).kinds == {"demo"}
    reset.empty(client)
    client.command("INSERT INTO customers (customer_id, signup_date, timestamp) VALUES ('z', now(), now())")
    assert origins.contents(client).kinds == {"own"}
