"""Schema versions: a new database is made at the current version, an older one is refused
until `migrate` upgrades it in place (every row kept), a newer one is refused."""
from __future__ import annotations

from pathlib import Path

import clickhouse_connect
import pandas as pd
import pytest

import segwork
import segwork.custom
from segwork import cli, db, migrations, overview, sqlfiles
from segwork.config import Settings
from segwork.errors import SchemaVersionError

V1_DDL = sorted((Path(__file__).parent / "fixtures" / "schema_v1").glob("*.sql"))
V1_ROWS = [  # what a version 1 segwork stored: the event id e2 twice (two inserts), a failed row each
    "INSERT INTO customers VALUES ('c1', 'Ann', 'ann@x.io', 30, 'f', 'Paris', '2023-01-01 00:00:00', 1500, '2024-01-01 00:00:00'),"
    " ('c2', 'Bob', '', 0, '', 'Rome', '2024-06-01 00:00:00', 200, '2024-06-01 00:00:00')",
    "INSERT INTO customer_events VALUES ('e1', 'c1', 'purchase', 10, 'p1', 'toys', '2024-11-01 10:00:00'),"
    " ('e2', 'c1', 'login', 0, '', '', '2024-11-02 10:00:00'), ('e3', 'c2', 'purchase', 5, 'p2', 'home', '2024-11-03 10:00:00')",
    "INSERT INTO customer_events VALUES ('e2', 'c1', 'login', 0, '', '', '2024-11-02 10:00:00')",
    "INSERT INTO customers_quarantine (customer_id, age, c__error_column, c__error, c__import_id, c__source, c__row, c__raw, insertion_date)"
    " VALUES ('c9', '230', ['age'], ['age: out of range'], 'i1', 'people.csv', 3, 'c9,230', '2024-11-01 00:00:00')",
    "INSERT INTO customer_events_quarantine (event_id, event_value, c__error_column, c__error, c__import_id, c__source, c__row, c__raw, insertion_date)"
    " VALUES ('e9', 'abc', ['event_value'], ['event_value: not a number'], 'i2', 'e.csv', 5, 'e9,abc', '2024-11-01 00:00:00')",
    "INSERT INTO ingest_log VALUES ('i1', 'customers', 'people.csv', 3, 2, 0, 1, '2024-11-01 00:00:00.250', 0.5)",
    "INSERT INTO ingest_blocks VALUES ('customers', 'customers:abc', 'i1', 2, '2024-11-01 00:00:00')",
]
EVENTS = pd.DataFrame({
    "event_id": ["e1", "e2", "e3", "e4"], "customer_id": ["c1", "c1", "c2", "c2"],
    "event_type": ["purchase", "login", "purchase", "purchase"], "event_value": [10.0, 0.0, 5.0, 8.0],
    "timestamp": pd.to_datetime(["2024-11-01 10:00", "2024-11-02 10:00", "2024-11-03 10:00", "2024-11-04 10:00"], utc=True),
})


def counts(client) -> dict[str, int]:
    return dict(client.query("SELECT table, sum(rows) FROM system.parts WHERE database = currentDatabase() AND active "
                             "GROUP BY table").result_rows)


def layout(client) -> dict[str, list[tuple[str, str]]]:
    rows = client.query("SELECT table, name, type FROM system.columns WHERE database = currentDatabase() "
                        "ORDER BY table, position").result_rows
    out: dict[str, list[tuple[str, str]]] = {}
    for table, name, type_ in rows:
        out.setdefault(table, []).append((name, type_))
    return out


@pytest.fixture
def v1(database):
    """A database as segwork's schema version 1 made it (tests/fixtures/schema_v1), with rows."""
    raw = clickhouse_connect.get_client(dsn="chdb://memory")
    raw.command(f"CREATE DATABASE `{database}`")
    raw.database = database
    for path in V1_DDL:
        raw.command(path.read_text())
    for statement in V1_ROWS:
        raw.command(statement)
    yield raw
    raw.command(f"DROP DATABASE IF EXISTS `{database}`")


def test_connect_refuses_an_older_database_and_says_how_to_migrate(v1, database):
    before = layout(v1)
    with pytest.raises(SchemaVersionError, match=r"made by an older segwork: it has schema version 1, and this segwork "
                                                 r"needs version 5\. Nothing was changed") as info:
        segwork.connect("chdb://memory", database=database)
    assert f"segwork.migrate('chdb://memory', database='{database}')" in str(info.value)
    assert (info.value.found, info.value.expected) == (1, 5)
    assert layout(v1) == before  # no table made, no column added


def test_the_hint_names_the_database_as_configured(tmp_path):
    server = db.target("http://ana:s3cret@ch.example:8123/shop", settings=Settings())
    assert migrations.migrate_hint(server) == "`SEGWORK_DSN='http://ana:***@ch.example:8123/shop' python -m segwork migrate`"
    folder = db.target(settings=Settings(data_dir=tmp_path / "my data", database="shop"))
    assert migrations.migrate_hint(folder) == (f"`SEGWORK_DATA_DIR='{tmp_path}/my data' SEGWORK_DATABASE=shop "
                                           "python -m segwork migrate`")
    assert migrations.migrate_hint(db.target(settings=Settings())) == "`python -m segwork migrate`"
    chosen = db.target("http://ch.example:8123/shop", "other", settings=Settings())  # the name given wins over the DSN's
    assert migrations.migrate_hint(chosen) == ("`SEGWORK_DSN=http://ch.example:8123 SEGWORK_DATABASE=other "
                                               "python -m segwork migrate`")


def test_migrate_upgrades_in_place_and_keeps_every_row(v1, database):
    rows_before = counts(v1)
    steps = []
    result = segwork.migrate("chdb://memory", database, progress=steps.append)
    assert (result.before, result.after, len(result.steps)) == (1, 5, 13)
    assert steps[0].startswith(f"migrating database '{database}'") and steps[1].startswith("  [1/13] 002_01")
    assert "now at schema version 5 (was 1; 13 steps)" in result.summary()
    after = counts(v1)
    assert {t: after[t] for t in rows_before} == rows_before
    new = segwork.connect("chdb://memory", database=f"{database}_new")
    assert layout(v1) == layout(new)  # the tables, columns, their order and types of a new database
    new.command(f"DROP DATABASE `{database}_new`")
    # each stored id once in event_ids, however often version 1 stored it
    assert sorted(v1.query("SELECT h, count() FROM event_ids GROUP BY h").result_rows) == sorted(
        v1.query("SELECT sipHash64(event_id), 1 FROM customer_events GROUP BY event_id").result_rows)
    assert v1.query("SELECT count() FROM event_ids").result_rows == [(3,)]
    log = v1.query("SELECT status, error, updated_at = started_at FROM ingest_log").result_rows
    assert log == [("finished", "", True)]
    assert v1.query("SELECT c__token FROM customers_quarantine").result_rows == [("",)]
    assert v1.query("SELECT version, how FROM segwork_meta").result_rows == [(5, "migrated from version 1")]

    migrated = segwork.connect("chdb://memory", database=database)
    report = segwork.ingest(migrated, "customer_events", EVENTS)
    assert (report.inserted, report.duplicates) == (1, 3)  # e1-e3 were stored by version 1; e4 is new
    assert overview.table_counts(migrated)["customer_events"] == 5  # version 1's two copies of e2 stay
    assert overview.ingest_history(migrated).status.tolist()[:1] == ["finished"]
    lookup = segwork.customer_segment_lookup(migrated, "c1").iloc[0]
    assert (lookup["value_segment"], lookup["loyalty_segment"]) == ("High Value", "Loyal")
    # version 4: the stored profile versions are the start of the history; as_of reads it
    assert sorted(v1.query("SELECT customer_id, timestamp, is_deleted FROM customer_history").result_rows) == sorted(
        v1.query("SELECT customer_id, timestamp, 0 FROM customers").result_rows)
    assert segwork.customer_segment_lookup(migrated, "c2", as_of="2024-05-31").empty  # c2's first version: 2024-06-01
    assert segwork.customer_segment_lookup(migrated, "c2", as_of="2024-06-02").iloc[0]["lifetime_value"] == 200
    # version 5: saved segments, the shipped examples among them
    assert set(segwork.custom.listing(migrated)["name"]) == {s.name for s in segwork.custom.examples()}


def test_migrating_an_up_to_date_database_does_nothing_and_says_so(v1, database):
    segwork.migrate("chdb://memory", database)
    again = segwork.migrate("chdb://memory", database)
    assert (again.before, again.after, again.steps) == (5, 5, [])
    assert again.summary().endswith("is at schema version 5 already: nothing to do")
    assert v1.query("SELECT count() FROM segwork_meta").result_rows == [(1,)]


def test_every_migration_step_is_safe_to_run_again(v1, database):
    """A migration cut short is run again from the start: no step fails or doubles a row."""
    for name in [*sqlfiles.migration_steps(2), *sqlfiles.migration_steps(3), *sqlfiles.migration_steps(4),
                 *sqlfiles.migration_steps(5)]:
        v1.command(sqlfiles.load(name))
    segwork.migrate("chdb://memory", database)
    assert v1.query("SELECT count(), uniqExact(h) FROM event_ids").result_rows == [(3, 3)]
    assert v1.query("SELECT count(), uniqExact(customer_id, timestamp) FROM customer_history").result_rows == [(2, 2)]


def test_cli_migrate_prints_its_steps(v1, database, monkeypatch, capsys):
    monkeypatch.setenv("SEGWORK_DATABASE", database)
    assert cli.main(["migrate"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert [line.split(":")[0].strip() for line in out[1:14]] == [
        "[1/13] 002_01_customers_quarantine_token", "[2/13] 002_02_customer_events_quarantine_token",
        "[3/13] 002_03_ingest_log_states", "[4/13] 002_04_event_ids", "[5/13] 002_05_event_ids_mv", "[6/13] 002_06_event_ids_fill",
        "[7/13] 003_01_mappings", "[8/13] 004_01_customers_is_deleted", "[9/13] 004_02_customer_history",
        "[10/13] 004_03_customer_history_mv", "[11/13] 004_04_customer_history_fill", "[12/13] 004_05_segment_exports",
        "[13/13] 005_01_segment_definitions"]
    assert out[-1].endswith("is now at schema version 5 (was 1; 13 steps)")
    assert cli.main(["migrate"]) == 0
    assert capsys.readouterr().out.strip().endswith("is at schema version 5 already: nothing to do")


def test_cli_says_what_to_do_with_an_older_database(v1, database, monkeypatch, capsys):
    monkeypatch.setenv("SEGWORK_DATABASE", database)
    assert cli.main(["info"]) == 1
    err = capsys.readouterr().err
    assert "older segwork" in err and "segwork.migrate(" in err and len(err.strip().splitlines()) == 1


def test_a_new_database_is_made_at_the_current_version(client):
    assert client.query("SELECT version, how FROM segwork_meta").result_rows == [(migrations.CURRENT, "created")]
    segwork.connect("chdb://memory", database=client.database)
    assert client.query("SELECT count() FROM segwork_meta").result_rows == [(1,)]


def test_a_database_from_a_newer_segwork_is_refused(client):
    client.command("INSERT INTO segwork_meta SELECT 6, now64(6), 'created'")
    with pytest.raises(SchemaVersionError, match="made by a newer segwork: it has schema version 6") as info:
        segwork.connect("chdb://memory", database=client.database)
    assert (info.value.found, info.value.expected) == (6, 5)
    with pytest.raises(SchemaVersionError, match="cannot be migrated back"):
        segwork.migrate("chdb://memory", client.database)


def test_a_creation_cut_short_is_finished(database):
    raw = clickhouse_connect.get_client(dsn="chdb://memory")
    raw.command(f"CREATE DATABASE `{database}`")
    raw.database = database
    for name in sqlfiles.ddl_names()[:3]:  # segwork_meta (no row yet), customers, customer_events
        raw.command(sqlfiles.ddl_statement(name))
    client = segwork.connect("chdb://memory", database=database)
    assert migrations.found(client, database) == migrations.Found(True, migrations.CURRENT, True)
    assert set(layout(client)) >= {"event_ids", "ingest_log", "api_tokens"}
    raw.command(f"DROP DATABASE `{database}`")


def test_the_version_2_layout_made_before_versions_is_recognised_and_migrates(database):
    raw = clickhouse_connect.get_client(dsn="chdb://memory")
    raw.command(f"CREATE DATABASE `{database}`")
    raw.database = database
    for name in sqlfiles.ddl_names():
        if name not in ("00_segwork_meta", "14_mappings") and name < "15":  # version 3 added mappings, 4 history, 5 segments
            raw.command(sqlfiles.ddl_statement(name))
    assert migrations.found(raw, database) == migrations.Found(True, 2, False)
    with pytest.raises(SchemaVersionError, match="schema version 2, and this segwork needs version 5"):
        segwork.connect("chdb://memory", database=database)
    assert segwork.migrate("chdb://memory", database).steps == [
        "migrations/003_01_mappings", *(f"migrations/{n}" for n in ("004_01_customers_is_deleted", "004_02_customer_history",
                                                                    "004_03_customer_history_mv", "004_04_customer_history_fill",
                                                                    "004_05_segment_exports", "005_01_segment_definitions"))]
    segwork.connect("chdb://memory", database=database)
    assert raw.query("SELECT max(version) FROM segwork_meta").result_rows == [(5,)]
    raw.command(f"DROP DATABASE `{database}`")


def test_migrate_leaves_a_database_without_segwork_tables_alone(database):
    result = segwork.migrate("chdb://memory", database)
    assert result.before == 0 and "nothing to migrate" in result.summary()
    raw = clickhouse_connect.get_client(dsn="chdb://memory")
    assert raw.command(f"SELECT count() FROM system.databases WHERE name = '{database}'") == 0
