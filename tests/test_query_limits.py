"""Every read has a time limit and a row cap from Settings; the engine's refusal keeps its code and name."""
from __future__ import annotations

from dataclasses import replace

import pytest

import segwork
from segwork import db, sqlfiles
from segwork.config import Settings
from segwork.errors import ConfigError, EngineError

from tests.apikit import customers, events, ndjson, running_api

# Test-only queries, by name: 'heavy' hashes two billion numbers (seconds of work unless
# stopped), 'numbers' returns {n} rows, 'hungry' needs more memory than it allows itself.
EXTRA_SQL = {
    "heavy": "SELECT sum(cityHash64(number)) AS s FROM numbers(2000000000)",
    "numbers": "SELECT number AS n FROM numbers({n:UInt32})",
    "hungry": "SELECT length(groupArray(number)) AS n FROM numbers(20000000) SETTINGS max_memory_usage = 20000000",
}


@pytest.fixture
def extra_sql(monkeypatch):
    real = sqlfiles.load
    monkeypatch.setattr(sqlfiles, "load", lambda name: EXTRA_SQL.get(name) or real(name))


def limited(database: str, **limits):
    """A client on the test's database whose reads have these limits (and the test's engine path)."""
    return segwork.connect(database=database, settings=replace(Settings.from_env(), **limits))


RUNNERS = {
    "query_df": lambda c, name, p: db.query_df(c, name, p),
    "query_output": lambda c, name, p: _formatted(c, name, p),
}


def _formatted(client, name, parameters):
    with db.query_output("JSON") as out:
        db.query_df(client, name, parameters)
    return out.body


@pytest.mark.engine_paths()
@pytest.mark.parametrize("runner", RUNNERS)
def test_a_read_past_the_time_limit_is_stopped(client, database, extra_sql, runner):
    c = limited(database, query_timeout_seconds=0.05)
    with pytest.raises(EngineError, match=r"stopped at the time limit of 0\.05 s \(SEGWORK_QUERY_TIMEOUT_SECONDS\)") as stopped:
        RUNNERS[runner](c, "heavy", {})
    assert (stopped.value.code, stopped.value.name) == (159, "TIMEOUT_EXCEEDED")


@pytest.mark.engine_paths()
@pytest.mark.parametrize("runner", RUNNERS)
def test_an_answer_over_the_row_cap_is_refused(client, database, extra_sql, runner):
    c = limited(database, query_max_rows=10)
    assert RUNNERS[runner](c, "numbers", {"n": 10}) is not None  # the cap itself is allowed
    with pytest.raises(EngineError, match=r"more than 10 rows, the most a query may return \(SEGWORK_QUERY_MAX_ROWS\)") as refused:
        RUNNERS[runner](c, "numbers", {"n": 11})
    assert (refused.value.code, refused.value.name) == (396, "TOO_MANY_ROWS_OR_BYTES")


@pytest.mark.engine_paths()
def test_ingestion_lookups_are_not_limited(client, database, extra_sql):
    """query_rows serves segwork's own lookups (duplicate checks, schema versions): neither capped
    nor time-limited, so an ingest works whatever the read limits (a replay of 50 events under
    a cap of 10 rows counts them as duplicates)."""
    c = limited(database, query_max_rows=10)
    batch = ndjson(events(50, prefix="lim"))
    assert segwork.ingest(c, "customer_events", batch, format="ndjson").accepted == 50
    again = segwork.ingest(c, "customer_events", batch, format="ndjson")
    assert (again.accepted, again.duplicates) == (50, 50)
    assert len(db.query_rows(c, "numbers", {"n": 11})) == 11


def test_any_engine_error_keeps_its_code_and_name(client, extra_sql):
    with pytest.raises(EngineError, match="the engine refused query 'numbers'") as refused:
        db.query_df(client, "numbers", {})  # {n} not given
    assert refused.value.name == "UNKNOWN_QUERY_PARAMETER" and refused.value.code == 456


def test_the_limits_come_from_settings_with_defaults(client):
    assert db.read_settings(client) == {"max_execution_time": 30.0, "max_result_rows": 1_000_000, "result_overflow_mode": "throw"}
    assert segwork.queries.MAX_LIMIT <= Settings().query_max_rows  # the largest legitimate answer fits
    env = {"SEGWORK_QUERY_TIMEOUT_SECONDS": "2.5", "SEGWORK_QUERY_MAX_ROWS": "5000"}
    settings = Settings.from_env(env)
    assert (settings.query_timeout_seconds, settings.query_max_rows) == (2.5, 5000)
    for name, bad in [("SEGWORK_QUERY_TIMEOUT_SECONDS", "0"), ("SEGWORK_QUERY_TIMEOUT_SECONDS", "soon"),
                      ("SEGWORK_QUERY_TIMEOUT_SECONDS", "inf"), ("SEGWORK_QUERY_MAX_ROWS", "-1"), ("SEGWORK_QUERY_MAX_ROWS", "1.5")]:
        with pytest.raises(ConfigError, match=name):
            Settings.from_env({name: bad})


# --- the API: a status and a message for each -------------------------------------------

def test_pipe_over_the_row_cap_is_a_400_that_says_to_ask_for_fewer(client, database):
    with running_api(client, database, query_max_rows=5) as api:
        api.http.post("/v0/events?name=customers&wait=true", headers=api.bearer(), content=ndjson(customers(20)))
        api.http.post("/v0/events?name=customer_events&wait=true", headers=api.bearer(), content=ndjson(events(300, customers=20)))
        url = "/v0/pipes/customer_engagement_analysis.json?start_date=2025-01-01&end_date=2025-12-31&limit={}"
        r = api.http.get(url.format(100), headers=api.bearer())
        assert r.status_code == 400, r.text
        assert set(r.json()) == {"error", "documentation"}
        assert "more than 5 rows" in r.json()["error"] and "a lower limit" in r.json()["error"]
        r = api.http.get(url.format(5), headers=api.bearer())
        assert r.status_code == 200 and r.json()["rows"] == 5


@pytest.mark.parametrize("query, limits, status, retry, words", [
    ("heavy", {"query_timeout_seconds": 0.05}, 504, None, "time limit of 0.05 s"),
    ("hungry", {}, 503, "30", "more memory than the engine allows"),
])
def test_engine_limits_are_503_and_504_with_what_to_do(client, database, monkeypatch, query, limits, status, retry, words):
    real = sqlfiles.load
    monkeypatch.setattr(sqlfiles, "load", lambda name: EXTRA_SQL[query] if name == "customer_segments_summary" else real(name))
    with running_api(client, database, **limits) as api:
        r = api.http.get("/v0/pipes/customer_segments_summary.json", headers=api.bearer())
    assert r.status_code == status, r.text
    assert words in r.json()["error"] and r.headers.get("Retry-After") == retry


def test_after_a_pipe_refused_part_way_the_next_answer_on_that_engine_thread_is_whole(client, database):
    """One API thread, so the next call runs on the client whose query failed part-way: chDB hands
    a failed JSON query's partial output to the next query on that connection, which then answered
    a 200 with two JSON documents in one body (seen once in a full test run, by chance of threads)."""
    with running_api(client, database, query_max_rows=5, api_threads=1) as api:
        api.http.post("/v0/events?name=customers&wait=true", headers=api.bearer(), content=ndjson(customers(20)))
        api.http.post("/v0/events?name=customer_events&wait=true", headers=api.bearer(), content=ndjson(events(300, customers=20)))
        url = "/v0/pipes/customer_engagement_analysis.json?start_date=2025-01-01&end_date=2025-12-31&limit={}"
        for _ in range(2):
            assert api.http.get(url.format(100), headers=api.bearer()).status_code == 400
            r = api.http.get(url.format(5), headers=api.bearer())
            assert r.status_code == 200 and r.json()["rows"] == 5, r.text[:300]


def test_an_answer_that_comes_back_past_the_time_limit_is_not_used(client, database):
    """The engine stops a read at its time limit with TIMEOUT_EXCEEDED; an answer that still comes
    back after the limit (once seen: a read with a 0.3 s limit answered a count of 0 over 900M rows)
    may be cut short, so it is refused the same way (embedded.answered_in_time), in the embedded
    read of a query file and in the Query API's reader, which reads its own limit back."""
    import time

    from segwork import embedded

    embedded.answered_in_time(time.monotonic(), {"max_execution_time": 30.0})  # in time: nothing
    embedded.answered_in_time(time.monotonic() - 60, {})  # no limit asked for: nothing
    with pytest.raises(embedded.EngineRefused) as late:
        embedded.answered_in_time(time.monotonic() - 0.31, {"max_execution_time": 0.3})
    assert (late.value.code, late.value.name) == (159, "TIMEOUT_EXCEEDED") and "past the time limit of 0.3 s" in str(late.value)
    from segwork import sqlguard

    roomy = replace(Settings.from_env(), query_timeout_seconds=30.0)
    reader = db.reader_client(sqlguard.session_settings(roomy), settings=roomy)
    assert db.read_settings(reader)["max_execution_time"] == 30.0  # the limit sqlguard checks its answers against
    assert sqlguard.run(reader, "SELECT sleep(0.2) AS x", database, "TabSeparated") == b"0\n"  # in time
    # The engine's session keeps 30 s, so only the check of the answer can refuse it: a 0.2 s answer past 0.1 s.
    db.limit_queries(reader, replace(roomy, query_timeout_seconds=0.1))
    with pytest.raises(EngineError, match=r"stopped at a limit \(SEGWORK_QUERY_TIMEOUT_SECONDS\).*past the time limit of 0\.1 s") as stopped:
        sqlguard.run(reader, "SELECT sleep(0.2) AS x", database, "TabSeparated")
    assert (stopped.value.code, stopped.value.name) == (159, "TIMEOUT_EXCEEDED")
