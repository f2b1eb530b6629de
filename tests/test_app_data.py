"""The Overview's note on which data is shown, true in every state (empty, demo, the Online Retail
sample, one's own, mixtures), and the actions that change it: load the demo or the sample,
remove all data after a confirmation, the live trickle into the demo only. AppTest, each test on
its own database."""
from __future__ import annotations

import pandas as pd
import pytest

import segwork
from segwork import demo, overview, retail
from segwork.api import pipes, tokens
from tests.test_app import app_db, fresh_caches, metric, open_page  # noqa: F401 (fixtures)

NOW = pd.Timestamp.now(tz="UTC").floor("s")


def note(at) -> str:
    """The note's text (an info box, or a warning for a mixture) and the sidebar's line."""
    return "\n".join([*(i.value for i in at.info), *(w.value for w in at.warning),
                      *(c.value for c in at.caption if c.value.startswith("**Data:**"))])


def buttons(at) -> set[str]:
    return {b.key for b in at.button if b.key and b.key.startswith("ov_")}


def own(client, name: str = "mine.csv"):
    frame = pd.DataFrame({"customer_id": ["m1", "m2"], "signup_date": [NOW] * 2, "timestamp": [NOW] * 2})
    return segwork.ingest(client, "customers", frame, source_name=name)


def sample_like(client):
    """Two rows under the Online Retail file's name (the real load is tested once, below)."""
    frame = pd.DataFrame({"event_id": ["536365-1", "536365-2"], "customer_id": ["17850"] * 2,
                          "event_type": ["purchase"] * 2, "timestamp": [pd.Timestamp("2010-12-01 08:26", tz="UTC")] * 2})
    return segwork.ingest(client, "customer_events", frame, source_name=retail.RETAIL_CSV.name)


def test_an_empty_database_says_so_and_offers_both_samples(app_db):
    at = open_page()
    assert "The database is empty." in note(at) and "**Data:** none yet" in note(at)
    assert buttons(at) == {"ov_demo", "ov_sample"}  # nothing to remove


def test_load_demo_data_says_it_is_the_demo_and_reaches_now(app_db):
    at = open_page()
    at.button(key="ov_demo").click().run()
    assert not at.exception
    shown = note(at)
    assert "This is generated demo data" in shown and "first start" not in shown  # it said "loaded on first start"
    assert "**Data:** generated demo data" in shown
    versions = app_db.query("SELECT count() FROM customer_history").result_rows[0][0]  # with their earlier ones
    assert versions > 500
    assert f"Loaded the demo data: 500 customers ({versions:,} profile versions) and 5,000 events." in [s.value for s in at.success]
    assert metric(at, "Customers") == "500" and metric(at, "Events in the last day") != "0"
    assert buttons(at) == {"ov_sample", "ov_empty"}


def test_load_the_online_retail_sample(app_db):
    at = open_page()
    at.button(key="ov_sample").click().run(timeout=600)  # 541,909 lines through the mapping: ~30-60 s here
    assert not at.exception
    assert "This is the Online Retail sample" in note(at) and "2010-12-01 to 2011-12-09" in note(at)
    assert ("Loaded the Online Retail sample: 4,372 customers (19,296 profile versions) and 406,829 events."
            in [s.value for s in at.success])
    assert (metric(at, "Customers"), metric(at, "Events")) == ("4,372", "406,829")
    assert buttons(at) == {"ov_demo", "ov_empty"}


@pytest.mark.parametrize("loads, says, not_said", [
    (("own",), ["**Your own data** from `mine.csv`.", "**Data:** your own"], ["This is generated", "This is the Online Retail", "Mixed"]),
    (("sample",), ["This is the Online Retail sample"], ["This is generated", "Mixed", "Your own data"]),
    (("demo", "own"), ["**Mixed data**: this database holds the generated demo data and your own data from `mine.csv`",
                       "To keep only your own", "**Data:** generated demo data + your own"], ["This is generated"]),
    (("sample", "demo"), ["the generated demo data and the Online Retail sample", "To look at one alone"], ["own data from"]),
    (("own", "sample"), ["the Online Retail sample and your own data from `mine.csv`"], ["generated demo data"]),
])
def test_the_note_is_true_for_each_mixture(app_db, loads, says, not_said):
    for what in loads:
        {"own": own, "sample": sample_like, "demo": lambda c: demo.load(c, customers=50, events=500)}[what](app_db)
    shown = note(open_page())
    for text in says:
        assert text in shown, shown
    for text in not_said:
        assert text not in shown, shown


def test_remove_all_data_asks_first_keeps_tokens_and_the_demo_loads_again(app_db):
    demo.load(app_db, customers=500, events=5000)
    tokens.create(app_db, "keeper", ["ADMIN"], {}, pipes.PIPES)
    at = open_page()
    at.button(key="ov_empty").click().run()
    ask = " ".join(w.value for w in at.warning)
    assert "Remove all data?" in ask and "500 customers, 5,000 events, 0 quarantined rows" in ask
    assert "the ingest log" in ask and "The API tokens, saved column mappings and saved segments stay." in ask
    assert overview.table_counts(app_db)["customers"] == 500  # nothing happens before the confirmation
    at.button(key="ov_empty_no").click().run()
    assert "Remove all data?" not in " ".join(w.value for w in at.warning)

    at.button(key="ov_empty").click().run()
    at.button(key="ov_empty_yes").click().run()
    assert not at.exception
    assert "Removed all data: 500 customers and 5,000 events. The database is empty." in [s.value for s in at.success]
    assert "The database is empty." in note(at) and metric(at, "Customers") == "0"
    assert overview.is_empty(app_db) and [t.name for t in tokens.list_all(app_db)] == ["keeper"]

    at.button(key="ov_demo").click().run()  # the same generator again: every row goes in again
    versions = app_db.query("SELECT count() FROM customer_history").result_rows[0][0]  # with their earlier ones
    assert versions > 500
    assert f"Loaded the demo data: 500 customers ({versions:,} profile versions) and 5,000 events." in [s.value for s in at.success]


def live_events(client) -> int:
    return client.query("SELECT count() FROM customer_events WHERE startsWith(event_id, 'live-')").result_rows[0][0]


def test_live_mode_moves_the_demo(app_db, monkeypatch):
    monkeypatch.setenv("SEGWORK_WORKBENCH_LIVE_SECONDS", "30")  # a trickle fills up to 60 s: ~60 events
    demo.load(app_db, customers=500, events=5000, end=NOW - pd.Timedelta(minutes=5))
    at = open_page(live="1")
    added = live_events(app_db)
    assert added > 0 and metric(at, "Events") == f"{5000 + added:,}"
    assert "This is generated demo data" in note(at)
    at.run()
    assert metric(at, "Events") == f"{5000 + live_events(app_db):,}"


@pytest.mark.parametrize("other", [own, sample_like])
def test_live_mode_never_writes_into_other_data(app_db, monkeypatch, other):
    monkeypatch.setenv("SEGWORK_WORKBENCH_LIVE_SECONDS", "30")
    demo.load(app_db, customers=500, events=5000, end=NOW - pd.Timedelta(minutes=5))
    other(app_db)
    before = overview.table_counts(app_db)
    at = open_page(live="1")
    at.run()
    assert live_events(app_db) == 0 and overview.table_counts(app_db) == before
    assert "Mixed data" in note(at)
