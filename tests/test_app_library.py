"""The workbench's library side (segwork/workbench): filters, URL state, upload preview,
the client pool and result cache, extra routes and the `run` command."""
from __future__ import annotations

import gzip
import importlib.util
import io
import socket
import sys
import threading
import types

import pandas as pd
import pytest
import streamlit as st

import segwork
from segwork import cli, synth
from segwork.config import PROJECT_DIR
from segwork.errors import ConfigError, InputFileError
from segwork.segments import SegmentRules
from segwork.workbench import data, engine, filters, server, state, upload
from tests.test_app import fresh_caches  # noqa: F401 (autouse fixture: Streamlit's caches cleared per test)

EVENTS_CSV = (
    "event_id,customer_id,event_type,event_value,timestamp,extra\n"
    "e1,c1,purchase,10,2026-01-01 10:00:00,x\n"
    "e2,c2,login,oops,2026-01-01 11:00:00,y\n"
    "e3,c3,page_view,,not a time,z\n"
)




def test_filters_in_words_and_numbers():
    assert filters.age_bounds((0, 120)) == (None, None)
    assert filters.age_bounds((25, 120)) == (25, None) and filters.age_bounds((0, 40)) == (None, 40)
    assert filters.split_segment("High Value · Loyal") == ("High Value", "Loyal")
    assert filters.split_segment(None) == ("", "")
    assert filters.page_count(0, 50) == 1 and filters.page_count(101, 50) == 3
    assert filters.default_window(pd.Timestamp("2026-03-31 23:00", tz="UTC")) == (
        pd.Timestamp("2026-03-02").date(), pd.Timestamp("2026-03-31").date())
    text = filters.caption(location="Paris", age=(20, 30), rules=SegmentRules(2000, 500, 365, 180))
    assert text == "Showing: location Paris; age 20–30 (known ages only); segment rules changed for this session."


def test_rules_travel_in_the_link_and_bad_ones_are_refused():
    rules = SegmentRules(1500.5, 400, 400, 90)
    assert state.format_rules(rules) == "1500.5,400,400,90"
    assert state.parse_rules("1500.5,400,400,90") == rules
    with pytest.raises(ConfigError, match="four numbers"):
        state.parse_rules("1,2,3")
    with pytest.raises(ConfigError, match="overlap"):
        state.parse_rules("100,500,365,180")


def test_preview_reads_only_the_head_and_types_each_column():
    pv = upload.preview(EVENTS_CSV.encode(), "e.csv", "customer_events")
    assert (pv.format, pv.compressed, pv.missing_required, pv.ignored) == ("csv", False, [], ["extra"])
    assert list(pv.rows["record"]) == [2, 3, 4]
    cols = pv.columns.set_index("column")
    assert cols.loc["event_value", "preview values that parse"] == "2 of 3"
    assert cols.loc["timestamp", "preview values that parse"] == "2 of 3"
    assert cols.loc["product_id", "in file"] == "no" and cols.loc["timestamp", "stored as"] == "DateTime('UTC')"
    gz = upload.preview(gzip.compress(EVENTS_CSV.encode()), "e.csv.gz", "customer_events", rows=2)
    assert gz.compressed and gz.format == "csv" and len(gz.rows) == 2
    parquet = io.BytesIO()
    synth.customers(30).to_parquet(parquet)
    pq = upload.preview(parquet.getvalue(), "c.parquet", "customers")
    assert pq.format == "parquet" and len(pq.rows) == 10 and pq.missing_required == []
    assert upload.preview(b"name\nAnn\n", "c.csv", "customers").missing_required == ["customer_id", "signup_date", "timestamp"]
    with pytest.raises(InputFileError, match="empty"):
        upload.preview(b"", "c.csv", "customers")


def test_quarantine_table_is_readable_and_the_export_has_every_row(client, database, monkeypatch):
    monkeypatch.setenv("SEGWORK_DATABASE", database)
    report = data.ingest("customer_events", EVENTS_CSV.encode(), "e.csv")
    rows = segwork.overview.quarantine(client, "customer_events", ingest_id=report.ingest_id)
    table = upload.quarantine_table(rows)
    assert list(table["row"]) == [3, 4]
    assert table.loc[0, "reasons"] == "event_value: is not a number (Float64) (got 'oops')"
    assert table.loc[1, "columns"] == "timestamp" and table.loc[1, "source"] == "e.csv"
    exported = pd.read_csv(io.BytesIO(data.quarantine_export("customer_events", report.ingest_id)()))
    assert list(exported["row"]) == [3, 4] and list(exported["event_value"].fillna("")) == ["oops", ""]


def test_segment_export_has_the_whole_segment(client, database, monkeypatch):
    monkeypatch.setenv("SEGWORK_DATABASE", database)
    segwork.ingest(client, "customers", synth.customers(400, seed=2))
    rules = SegmentRules()
    expected = segwork.segment_customers(client, "Low Value", "Loyal", limit=1000, rules=rules)
    csv = data.segment_export(rules=rules, value_segment="Low Value", loyalty_segment="Loyal",
                              location=None, min_age=None, max_age=None)()
    exported = pd.read_csv(io.BytesIO(csv))
    assert len(exported) == len(expected) > 100 and "total_rows" not in exported.columns
    assert list(exported["customer_id"]) == list(expected["customer_id"])


def test_results_are_cached_until_an_ingest_through_the_workbench(client, database, monkeypatch):
    monkeypatch.setenv("SEGWORK_DATABASE", database)
    assert data.query("table_counts")["customers"] == 0
    segwork.ingest(client, "customers", synth.customers(5))  # behind the workbench's back
    assert data.query("table_counts")["customers"] == 0  # cached (up to SEGWORK_WORKBENCH_CACHE_SECONDS)
    assert data.query("table_counts", fresh=True)["customers"] == 5
    data.ingest("customers", synth.customers(7, seed=9).to_csv(index=False).encode(), "c.csv")
    assert data.query("table_counts")["customers"] == 7  # c0000001..7 replace the 5 profiles


def test_the_pool_lends_each_thread_its_own_client(database, monkeypatch):
    monkeypatch.setenv("SEGWORK_DATABASE", database)
    pool = engine.pool()
    assert engine.pool() is pool  # one per process and engine
    seen, ready = [], threading.Barrier(3)

    def borrow():
        with pool.client() as c:
            seen.append(id(c))
            ready.wait(timeout=10)

    threads = [threading.Thread(target=borrow) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(set(seen)) == 3 and pool._made == 3
    with pool.client() as c:
        assert id(c) in seen  # reused, not a fourth
    before = pool.generation
    pool.data_changed()
    assert pool.generation == before + 1
    assert "in memory" in pool.describe()


def test_app_py_mounts_the_api_with_its_lifespan(monkeypatch):
    from starlette.responses import PlainTextResponse
    from starlette.routing import Route

    fake = types.ModuleType("segwork.api")

    def lifespan(app):  # never entered here
        raise AssertionError("not run on import")
    fake.mounted = lambda settings: ([Route("/api/ping", lambda request: PlainTextResponse(settings.database))], lifespan)
    monkeypatch.setitem(sys.modules, "segwork.api", fake)
    routes, closing = server.api_parts()
    assert [r.path for r in routes] == ["/api/ping"] and closing is lifespan

    from streamlit import config as st_config
    from streamlit.runtime.pages_manager import PagesManager

    monkeypatch.setattr(st_config, "_main_script_path", st_config._main_script_path)
    monkeypatch.setattr(PagesManager, "uses_pages_directory", None)
    spec = importlib.util.spec_from_file_location("segwork_app_entry", PROJECT_DIR / "app.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)  # imported, not run: the ASGI app for `streamlit run`
    assert isinstance(module.app, st.App)
    assert [r.path for r in module.app._user_routes] == ["/api/ping"]
    assert module.app._user_lifespan is lifespan  # the API is closed (its spool written) when the workbench stops
    assert PagesManager.uses_pages_directory is False  # sessions start in app.py's navigation


def test_prefer_navigation_pins_the_streamlit_internal_it_sets(client, database, monkeypatch):
    """prefer_navigation sets PagesManager.uses_pages_directory, a Streamlit internal: 1.67 has
    no public switch for the legacy pages/ mode (client.showSidebarNavigation only hides its
    menu). If this fails after an upgrade, look for a public way again, or drop the override."""
    from streamlit.runtime.pages_manager import PagesManager
    from streamlit.testing.v1 import AppTest, app_test

    app = str(PROJECT_DIR / "app.py")
    monkeypatch.setattr(PagesManager, "uses_pages_directory", None)
    PagesManager(app)
    assert PagesManager.uses_pages_directory is True  # the guess: a pages/ folder beside app.py
    server.prefer_navigation()
    PagesManager(app)
    assert PagesManager.uses_pages_directory is False  # set before the first session, it is never guessed

    # The effect, on a first run by a deep link. AppTest guesses the flag afresh on each run,
    # so the override is applied right after its guess, as prefer_navigation's comes first in a server.
    monkeypatch.setenv("SEGWORK_DATABASE", database)

    def rules_page_by_link() -> str:
        at = AppTest.from_file(app, default_timeout=60)
        at.switch_page("pages/rules.py").run()
        assert not at.exception, at.exception
        assert at.title[0].value == "Segment rules"
        return "\n".join(str(c.value) for c in at.sidebar.caption)

    assert "Segment rules in force" not in rules_page_by_link()  # legacy mode: pages/rules.py alone

    class Overridden(PagesManager):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            server.prefer_navigation()

    monkeypatch.setattr(app_test, "PagesManager", Overridden)
    assert "Segment rules in force" in rules_page_by_link()  # app.py ran: navigation, then its sidebar


def test_run_is_the_workbench_and_refuses_a_busy_port(capsys):
    cli._load_plugins()
    assert cli.COMMANDS["run"][1].__module__ == "segwork.workbench.cli"
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        assert cli.main(["run", "--port", str(port)]) == 1
    err = capsys.readouterr().err
    assert f"cannot listen on 127.0.0.1:{port}" in err and "SEGWORK_WORKBENCH_PORT" in err


def test_pages_stay_thin():
    for page in (PROJECT_DIR / "pages").glob("*.py"):
        text = page.read_text()
        assert "clickhouse_connect" not in text and "import pandas" not in text, page.name
        assert not any(word in text for word in ("SELECT ", "FROM ", "GROUP BY")), page.name
        assert len(text.splitlines()) < 80, page.name
