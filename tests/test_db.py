"""Connecting: one factory, idempotent schema, clear errors for bad settings."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

import segwork
from segwork import db, overview
from segwork.config import PROJECT_DIR, Settings
from segwork.errors import ConfigError, EngineError

EVENTS = '{"event_id": "e1", "customer_id": "c1", "event_type": "purchase", "timestamp": "2024-05-01 10:00:00"}\n'


def test_connect_twice_is_safe_and_keeps_data(database):
    first = segwork.connect("chdb://memory", database=database)
    first.command("INSERT INTO customers (customer_id, signup_date, timestamp) VALUES ('a', now(), now())")
    second = segwork.connect("chdb://memory", database=database)
    assert second.query("SELECT count() FROM customers").result_rows == [(1,)]
    first.command(f"DROP DATABASE `{database}`")


def test_schema_has_the_tutorials_columns_in_utc(client):
    cols = dict(client.query("SELECT name, type FROM system.columns WHERE database = currentDatabase() AND table = 'customers'").result_rows)
    assert cols == {
        "customer_id": "String", "name": "String", "email": "String", "age": "Int32",
        "gender": "LowCardinality(String)", "location": "LowCardinality(String)",
        "signup_date": "DateTime('UTC')", "lifetime_value": "Float64", "timestamp": "DateTime('UTC')",
        "is_deleted": "UInt8",  # segwork's own: a deletion is a version (segwork.history)
    }
    ev = dict(client.query("SELECT name, type FROM system.columns WHERE database = currentDatabase() AND table = 'customer_events'").result_rows)
    assert set(ev) == {"event_id", "customer_id", "event_type", "event_value", "product_id", "category", "timestamp"}
    assert ev["timestamp"] == "DateTime('UTC')" and ev["event_value"] == "Float64"


def test_bad_database_name_is_refused():
    with pytest.raises(ConfigError, match="plain identifier"):
        segwork.connect("chdb://memory", database="x; DROP")


def test_unreachable_server_is_a_clear_error():
    with pytest.raises(EngineError, match="SEGWORK_DSN"):
        segwork.connect("http://nobody:secret@127.0.0.1:9/db")


def test_settings_from_env(tmp_path):
    s = Settings.from_env({"SEGWORK_DATA_DIR": str(tmp_path), "SEGWORK_CHUNK_ROWS": "10"})
    assert s.resolved_dsn == f"chdb://{tmp_path}/chdb" and s.chunk_rows == 10
    assert Settings.from_env({"SEGWORK_DSN": "chdb://memory"}).resolved_dsn == "chdb://memory"
    with pytest.raises(ConfigError, match="SEGWORK_CHUNK_ROWS"):
        Settings.from_env({"SEGWORK_CHUNK_ROWS": "many"})


def test_engine_errors_name_the_query_not_a_traceback(client, monkeypatch):
    monkeypatch.setattr(db.sqlfiles, "load", lambda name: "SELECT no_such_column FROM customers")
    with pytest.raises(EngineError, match="the engine refused query 'x'"):
        db.query_df(client, "x", {})


def test_describe_engine(client):
    assert db.describe_engine(client).startswith("embedded ClickHouse (chDB) in memory")


def test_second_embedded_folder_in_one_process_says_why(client, tmp_path):
    with pytest.raises(EngineError, match="one folder per process") as info:
        segwork.connect(f"chdb://{tmp_path}/other")
    assert "in use by another process" not in str(info.value)


def test_a_database_dropped_behind_segworks_back_is_made_again(database):
    first = segwork.connect("chdb://memory", database=database)
    first.command(f"DROP DATABASE `{database}`")  # another process, an admin, a test teardown
    again = segwork.connect("chdb://memory", database=database)
    report = segwork.ingest(again, "customer_events", EVENTS.encode())
    assert (report.inserted, overview.table_counts(again)["customer_events"]) == (1, 1)
    again.command(f"DROP DATABASE `{database}`")


GONE_ENGINE = """
import gc, json, clickhouse_connect, segwork
from segwork import overview
events = {events!r}
client = segwork.connect("chdb://memory", database="kept")
segwork.ingest(client, "customer_events", events.encode())
del client
gc.collect()  # the last client on chdb://memory: the engine and its databases go with it
probe = clickhouse_connect.get_client(dsn="chdb://memory")
gone = probe.command("SELECT count() FROM system.databases WHERE name = 'kept'") == 0
client = segwork.connect("chdb://memory", database="kept")
report = segwork.ingest(client, "customer_events", events.encode())
print(json.dumps({{"gone": gone, "inserted": report.inserted, "stored": overview.table_counts(client)["customer_events"]}}))
"""


def test_connect_after_the_in_memory_engine_was_collected_makes_the_schema_again():
    """Run alone in a fresh process: here other tests' clients would keep the engine alive."""
    proc = subprocess.run([sys.executable, "-c", GONE_ENGINE.format(events=EVENTS)], cwd=PROJECT_DIR,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert json.loads(proc.stdout.strip().splitlines()[-1]) == {"gone": True, "inserted": 1, "stored": 1}


@pytest.mark.parametrize("form", ["chdb://memory/{db}", "chdb://memory?database={db}"])
def test_a_dsn_naming_a_new_database_creates_it(database, form):
    client = segwork.connect(form.format(db=database))
    assert client.database == database
    assert segwork.ingest(client, "customer_events", EVENTS.encode()).inserted == 1
    assert segwork.connect(form.format(db=database)).query("SELECT count() FROM customer_events").result_rows == [(1,)]
    assert db.thread_client(settings=Settings(dsn=form.format(db=database))).database == database
    client.command(f"DROP DATABASE `{database}`")


@pytest.mark.parametrize("dsn, database, engine", [
    ("http://ana:pw@ch.example:8123/shop", "shop", "http://ana:pw@ch.example:8123"),
    ("https://ana:pw@ch.example:8443/shop?compress=lz4", "shop", "https://ana:pw@ch.example:8443?compress=lz4"),
    ("http://ch.example:8123?database=shop&compress=lz4", "shop", "http://ch.example:8123?compress=lz4"),
    ("http://ch.example:8123", "segwork", "http://ch.example:8123"),
    ("http://ch.example:8123/", "segwork", "http://ch.example:8123"),
    ("chdb://memory/shop", "shop", "chdb://memory"),
    ("chdb:///srv/segwork/chdb", "segwork", "chdb:///srv/segwork/chdb"),  # the whole path is the folder
    ("chdb:///srv/segwork/chdb?database=shop", "shop", "chdb:///srv/segwork/chdb"),
])
def test_the_database_a_dsn_names_is_kept_apart_from_the_engine(dsn, database, engine):
    where = db.target(dsn, settings=Settings())
    assert (where.database, where.engine_dsn) == (database, engine)
    assert db.target(dsn, "other", settings=Settings()).database == "other"  # an explicit name wins


def test_a_server_is_opened_without_the_database_it_may_not_have_yet(monkeypatch):
    """A server refuses any request naming a database that does not exist (UNKNOWN_DATABASE), and
    clickhouse-connect sends the DSN's database with the queries it makes while connecting."""
    from clickhouse_connect.driver.exceptions import OperationalError

    opened = []

    def get_client(**kwargs):
        opened.append(kwargs)
        raise OperationalError("no server here (test)")

    monkeypatch.setattr(db.clickhouse_connect, "get_client", get_client)
    with pytest.raises(EngineError, match="cannot reach ClickHouse at http://ana:\\*\\*\\*@127.0.0.1:9"):
        segwork.connect("http://ana:pw@127.0.0.1:9/shop")
    assert opened == [{"dsn": "http://ana:pw@127.0.0.1:9", "autogenerate_session_id": False}]


ON_DISK = """
import json, sys, segwork
dsn = sys.argv[1]
client = segwork.connect(dsn)
report = segwork.ingest(client, "customer_events", {events!r}.encode())
again = segwork.connect(dsn)
print(json.dumps([client.database, report.inserted, again.query("SELECT count() FROM customer_events").result_rows[0][0]]))
"""


def test_an_on_disk_dsn_names_its_database_as_a_query_parameter(tmp_path):
    """chdb:///path takes the whole path as the folder; the database goes in ?database= (own process:
    one embedded folder per process)."""
    folder = tmp_path / "engine"
    proc = subprocess.run([sys.executable, "-c", ON_DISK.format(events=EVENTS), f"chdb://{folder}?database=shop"],
                          cwd=PROJECT_DIR, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert json.loads(proc.stdout.strip().splitlines()[-1]) == ["shop", 1, 1]
    assert [p.name for p in tmp_path.iterdir()] == ["engine"]
