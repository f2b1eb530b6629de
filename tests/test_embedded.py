"""The embedded engine's Arrow path returns exactly what clickhouse-connect's query_df does."""
from __future__ import annotations

from datetime import datetime, timezone

import pandas as pd
import pytest

import segwork
from segwork import analysis, db, embedded, overview, synth

AS_OF = pd.Timestamp("2025-01-01 12:00:00", tz="UTC")

CALLS = {
    "lookup": lambda c: segwork.customer_segment_lookup(c, "c0000007", as_of=AS_OF),
    "lookup_unknown": lambda c: segwork.customer_segment_lookup(c, "nobody", as_of=AS_OF),
    "engagement": lambda c: segwork.customer_engagement_analysis(c, "2024-07-01", "2024-12-31", ["purchase", "login"], 25, as_of=AS_OF),
    "engagement_location_value": lambda c: segwork.customer_engagement_analysis(
        c, "2024-01-01", "2024-12-31", None, 10, location="Paris", order_by="total_value", as_of=AS_OF),
    "engagement_inactive": lambda c: segwork.customer_engagement_analysis(
        c, "2024-12-01", "2024-12-31", ["return"], 30, include_inactive=True, as_of=AS_OF),
    "summary": lambda c: segwork.customer_segments_summary(c, as_of=AS_OF),
    "summary_filtered": lambda c: segwork.customer_segments_summary(c, "Paris", 25, 45, as_of=AS_OF),
    "segment_customers": lambda c: segwork.segment_customers(c, "High Value", "", limit=50, as_of=AS_OF),
    "find_customers": lambda c: segwork.find_customers(c, "c00001"),
    "timeline": lambda c: segwork.customer_timeline(c, "c0000003"),
    "events_over_time": lambda c: segwork.events_over_time(c, "2024-10-01", "2024-12-31", as_of=AS_OF),
    "locations": lambda c: segwork.locations_present(c),
    "quarantine": lambda c: overview.quarantine(c, "customer_events"),
    "ingest_history": lambda c: overview.ingest_history(c),
    "rfm": lambda c: analysis.rfm_scores(c, as_of=AS_OF),
    "cohorts": lambda c: analysis.cohort_retention(c, as_of=AS_OF),
    "monthly": lambda c: analysis.monthly_activity(c, "2024-01-01", "2024-12-31"),
}


@pytest.fixture(scope="module")
def loaded():
    c = segwork.connect("chdb://memory", database="t_embedded_paths")
    customers = synth.customers(400, seed=3, end="2025-01-01")
    customers.loc[::9, "location"] = None
    newer = customers.iloc[::7].assign(lifetime_value=lambda d: d["lifetime_value"] * 2,
                                       timestamp=lambda d: d["timestamp"] + pd.Timedelta(days=3))
    events = synth.events(6000, 400, seed=5, end="2025-01-01", days=365).astype({"event_value": "object"})
    events.loc[::97, "event_value"] = "n/a"  # a few quarantined rows
    for table, frame in (("customers", customers), ("customers", newer), ("customer_events", events)):
        segwork.ingest(c, table, frame)
    yield c
    c.command("DROP DATABASE IF EXISTS t_embedded_paths")


@pytest.mark.parametrize("name", CALLS)
def test_arrow_path_gives_the_same_frame(loaded, name, monkeypatch):
    fast = CALLS[name](loaded)
    monkeypatch.setattr(embedded, "usable", lambda client: False)
    ordinary = CALLS[name](loaded)
    if len(ordinary):
        pd.testing.assert_frame_equal(fast, ordinary)
    else:  # clickhouse-connect returns no columns at all for no rows; the Arrow path keeps them
        assert fast.empty and set(ordinary.columns) <= set(fast.columns)


def test_an_empty_answer_keeps_its_columns(loaded):
    df = segwork.customer_segment_lookup(loaded, "nobody", as_of=AS_OF)
    assert df.empty and list(df.columns)[:3] == ["customer_id", "name", "email"]


def test_arrow_path_is_the_one_taken(loaded, monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("clickhouse-connect's query_df was called")

    monkeypatch.setattr(loaded, "query_df", refuse)
    assert segwork.customer_segment_lookup(loaded, "c0000007", as_of=AS_OF).iloc[0]["customer_id"] == "c0000007"
    with pytest.raises(AssertionError, match="was called"):
        monkeypatch.setattr(embedded, "usable", lambda client: False)
        segwork.customer_segment_lookup(loaded, "c0000007", as_of=AS_OF)


def test_unconvertible_result_types_take_the_ordinary_path(loaded, monkeypatch):
    monkeypatch.setattr(db.sqlfiles, "load", lambda name: "SELECT toUUID('61f0c404-5cb3-11e7-907b-a6006ad3dba0') AS u")
    df = db.query_df(loaded, "uuid_probe", {})
    assert str(df["u"].iloc[0]) == "61f0c404-5cb3-11e7-907b-a6006ad3dba0"


def test_engine_errors_on_the_arrow_path_are_engine_errors(loaded, monkeypatch):
    monkeypatch.setattr(db.sqlfiles, "load", lambda name: "SELECT no_such_column FROM customers")
    with pytest.raises(segwork.EngineError, match="the engine refused query 'broken'"):
        db.query_df(loaded, "broken", {})


PIPE_CALLS = [  # (pipe, query string): the pipes' answers in the engine's own formats
    ("customer_segment_lookup", "customer_id=c0000007&as_of=2025-01-01 12:00:00"),
    ("customer_engagement_analysis", "start_date=2024-07-01&end_date=2024-12-31&event_type=purchase&limit=25&as_of=2025-01-01"),
    ("customer_segments_summary", "location=Paris&min_age=25&max_age=45&as_of=2025-01-01 12:00:00"),
]


@pytest.mark.parametrize("fmt", ["json", "csv", "ndjson", "parquet"])
@pytest.mark.parametrize("pipe,query", PIPE_CALLS)
def test_pipe_bodies_from_the_handle_equal_clickhouse_connects_raw_query(loaded, pipe, query, fmt, monkeypatch):
    """The API's pipes answer from the client's own chDB handle (settings in a SETTINGS clause),
    not clickhouse-connect's raw_query (a SET and a restore per setting): the same bytes, the
    engine's statistics aside; the format settings (CSV's, JSON's numbers) hold."""
    import io
    import json

    from starlette.datastructures import QueryParams

    from segwork.api import pipes

    p = pipes.PIPES[pipe]
    values = pipes.arguments(p, QueryParams(query), {})
    monkeypatch.setattr(loaded, "raw_query", lambda *a, **k: pytest.fail("clickhouse-connect's raw_query was called"))
    fast = pipes.run(p, loaded, values, fmt)
    monkeypatch.undo()
    monkeypatch.setattr(embedded, "usable", lambda client: False)
    ordinary = pipes.run(p, loaded, values, fmt)
    if fmt == "json":
        fast, ordinary = json.loads(fast), json.loads(ordinary)
        assert fast.pop("statistics").keys() == ordinary.pop("statistics").keys()
        data = [pd.DataFrame(x.pop("data")) for x in (fast, ordinary)]
        assert fast == ordinary and fast["rows"] > 0
        pd.testing.assert_frame_equal(*data, check_exact=False, rtol=1e-12)  # sums: the order of additions may differ
        fast["data"] = data[0].to_dict("records")
        assert all(not isinstance(v, str) for row in fast["data"] for k, v in row.items() if k in ("customer_count", "event_count"))
    elif fmt == "parquet":
        import pyarrow.parquet as pq
        pd.testing.assert_frame_equal(pq.read_table(io.BytesIO(fast)).to_pandas(), pq.read_table(io.BytesIO(ordinary)).to_pandas(),
                                      check_exact=False, rtol=1e-12)
    elif pipe != "customer_segment_lookup":  # text: sums may differ in the last digit
        lines = [pd.read_json(io.BytesIO(x), lines=True) if fmt == "ndjson" else pd.read_csv(io.BytesIO(x))
                 for x in (fast, ordinary)]
        pd.testing.assert_frame_equal(*lines, check_exact=False, rtol=1e-12)
    else:
        assert fast == ordinary and fast.count(b"\n") >= 1


def test_rows_before_limit_is_written_into_the_engines_json_as_it_stands(loaded):
    """A pipe's JSON gets rows_before_limit_at_least (= rows, when the engine has none) without
    being decoded and encoded again: the engine's bytes stay, a string that looks like the
    envelope's "rows" line does not fool it, and one the engine wrote is kept."""
    import json

    from segwork.api import pipes

    body = embedded.query_raw(loaded, "SELECT number AS n, 'a\n\t\"rows\": 5,\n' AS t, number / 3 AS f FROM numbers(3)", {}, "JSON")
    out = pipes.with_rows_before_limit(body)
    envelope = json.loads(out)
    assert envelope["rows_before_limit_at_least"] == envelope["rows"] == 3 and envelope["data"] == json.loads(body)["data"]
    assert out.replace(b'\n\t"rows_before_limit_at_least": 3,\n', b"") == body  # nothing else changed
    limited = embedded.query_raw(loaded, "SELECT number FROM numbers(10) ORDER BY number DESC LIMIT 2", {}, "JSON")
    assert json.loads(limited)["rows_before_limit_at_least"] == 10 and pipes.with_rows_before_limit(limited) == limited


PROBE = ("SELECT {text:String} AS text, {types:Array(String)} AS types, {location:Nullable(String)} AS location, "
         "{min_age:Nullable(Int32)} AS min_age, {as_of:DateTime('UTC')} AS as_of, "
         "{updated_at:DateTime64(6, 'UTC')} AS updated_at, {revoked:Bool} AS revoked, {high_value:Float64} AS high_value, "
         "{limit:UInt32} AS lim, (SELECT count() FROM {quarantine_table:Identifier}) AS rows")
PROBE_VALUES = {  # one value of each placeholder type in sql/*.sql, the awkward ones included
    "text": "it's a\ttab, a \\ and a\nnewline", "types": ["x", "y'z", "a\\b", ""], "location": None, "min_age": None,
    "as_of": pd.Timestamp("2025-01-01 12:00:00", tz="UTC"),
    "updated_at": datetime(2025, 1, 1, 12, 0, 0, 123456, tzinfo=timezone.utc),
    "revoked": True, "high_value": 0.1, "limit": 25, "quarantine_table": "customers",
}


def test_parameters_reach_the_engine_as_clickhouse_connect_binds_them(loaded, monkeypatch):
    """The Arrow path binds with clickhouse_connect.driver.binding.bind_query, which 1.12 does not
    document: this pins it. chDB's own params= is no substitute: it passes str(value), which the
    engine refuses for zoned times and string arrays, and which makes None the text 'NULL'."""
    from clickhouse_connect.driver.binding import bind_query

    sql, bound = bind_query(PROBE, PROBE_VALUES, loaded.server_tz)
    assert sql == PROBE and set(bound) == {f"param_{k}" for k in PROBE_VALUES}  # the engine binds; the text is untouched
    rows = loaded.query("SELECT count() FROM customers").result_rows[0][0]
    monkeypatch.setattr(db.sqlfiles, "load", lambda name: PROBE)
    with monkeypatch.context() as m:
        m.setattr(embedded, "usable", lambda client: False)
        ordinary = db.query_df(loaded, "binding_probe", PROBE_VALUES)  # clickhouse-connect's own query_df
    with monkeypatch.context() as m:
        m.setattr(loaded, "query_df", lambda *a, **k: pytest.fail("the Arrow path did not answer"))
        fast = db.query_df(loaded, "binding_probe", PROBE_VALUES)
    pd.testing.assert_frame_equal(fast, ordinary)
    row = fast.iloc[0]
    assert (row["text"], list(row["types"]), pd.isna(row["location"]), pd.isna(row["min_age"])) == (
        PROBE_VALUES["text"], PROBE_VALUES["types"], True, True)
    assert (row["as_of"], row["updated_at"]) == (pd.Timestamp("2025-01-01 12:00:00"), pd.Timestamp("2025-01-01 12:00:00.123456"))
    assert (row["revoked"], row["high_value"], row["lim"], row["rows"]) == (True, 0.1, 25, rows) and rows > 0


def test_force_client_api_keeps_an_embedded_client_on_clickhouse_connects_api(database, monkeypatch):
    """SEGWORK_FORCE_CLIENT_API: the embedded engine served as a server is, for comparing and testing."""
    from segwork.config import Settings
    from segwork.errors import ConfigError

    assert Settings.from_env({"SEGWORK_FORCE_CLIENT_API": "1"}).force_client_api is True
    assert Settings.from_env({"SEGWORK_FORCE_CLIENT_API": "no"}).force_client_api is False
    assert Settings.from_env({}).force_client_api is False
    with pytest.raises(ConfigError, match="SEGWORK_FORCE_CLIENT_API='maybe' is not a yes/no value"):
        Settings.from_env({"SEGWORK_FORCE_CLIENT_API": "maybe"})
    forced = segwork.connect("chdb://memory", database=database, settings=Settings(dsn="chdb://memory", force_client_api=True))
    fast = segwork.connect("chdb://memory", database=database)
    assert (embedded.usable(forced), embedded.usable(fast)) == (False, True)
    for name in ("query_df", "query_arrow", "insert_arrow"):
        monkeypatch.setattr(embedded, name, lambda *a, **k: pytest.fail("the embedded fast path was taken"))
    report = segwork.ingest(forced, "customer_events", synth.events(50, 5, seed=1))
    assert report.inserted == 50 and segwork.ingest(forced, "customer_events", synth.events(50, 5, seed=1)).duplicates == 50
    assert segwork.customer_engagement_analysis(forced, "2000-01-01", "2100-01-01", limit=10).event_count.sum() > 0
    forced.command(f"DROP DATABASE `{database}`")
