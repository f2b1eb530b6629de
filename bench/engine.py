"""The benchmark's own embedded database (bench/cache/chdb, never the app's data/chdb):
loading the generated data through segwork.ingest, and the engine without segwork."""
from __future__ import annotations

import hashlib
import time

import chdb
import pyarrow as pa
from clickhouse_connect.driver.binding import bind_query

import segwork
from segwork import db, sqlfiles
from segwork.config import Settings

from bench.data import CACHE, Dataset

ENGINE_PATH = CACHE / "chdb"


def open_client(database: str):
    """A segwork client on the benchmark's engine (schema created)."""
    return segwork.connect(f"chdb://{ENGINE_PATH}", database=database)


def open_engine():
    """A client on the benchmark's engine with no segwork database: to list and drop them (a
    segwork client on `default` would give it a schema, and be refused if an older segwork did)."""
    return db.open_engine(db.target(f"chdb://{ENGINE_PATH}", "default"))


def schema_tag() -> str:
    """Changes whenever the DDL does, so a changed schema is loaded afresh."""
    return hashlib.sha256("".join(sqlfiles.ddl_statements()).encode()).hexdigest()[:10]


def loaded_client(ds: Dataset, log=print, reload: bool = False):
    """A client on a database holding the dataset, loaded through segwork.ingest if missing.

    The database is named for the data and the schema, so a changed DDL loads afresh.
    Returns (client, database, load) where load is {table: (rows, seconds)} when loaded now.
    """
    database = f"q_{ds.size}_{hashlib.sha256(f'{ds.fingerprint}/{schema_tag()}'.encode()).hexdigest()[:10]}"
    admin = open_engine()
    for (name,) in admin.query(f"SELECT name FROM system.databases WHERE name LIKE 'q\\_{ds.size}\\_%'").result_rows:
        if name != database or reload:
            admin.command(f"DROP DATABASE `{name}`")
    if admin.command(f"EXISTS TABLE `{database}`.bench_loaded") == 1:
        return open_client(database), database, {}
    client = open_client(database)
    load = {}
    settings = Settings()
    for table, path in (("customers", ds.customers_parquet), ("customer_events", ds.events_parquet)):
        started = time.perf_counter()
        report = segwork.ingest(client, table, path, settings=settings)
        load[table] = (report.inserted, time.perf_counter() - started)
        log(f"  loaded {report.inserted:,} {table} rows through segwork.ingest in {load[table][1]:.1f} s")
    settle(client, database, log=log)
    client.command("CREATE TABLE bench_loaded (at DateTime) ENGINE = Log")
    client.command("INSERT INTO bench_loaded VALUES (now())")
    return client, database, load


def settle(client, database: str, timeout_s: float = 900, log=print) -> None:
    """Wait for the steady state after a load: background merges done and every partition
    in one part (the tables force that a minute after the last insert), or, with another
    schema, no merge for a minute."""
    started = deadline = time.monotonic()
    deadline += timeout_s
    quiet_since, previous = None, None
    while time.monotonic() < deadline:
        merging = client.command(f"SELECT count() FROM system.merges WHERE database = '{database}'")
        spread = client.command(
            f"SELECT max(c) FROM (SELECT count() c FROM system.parts WHERE database = '{database}' AND active"
            f" AND table IN ('customers', 'customer_events') GROUP BY table, partition)")
        parts = client.command(f"SELECT count() FROM system.parts WHERE database = '{database}' AND active")
        if merging == 0 and spread == 1:
            break
        if merging == 0 and parts == previous:
            quiet_since = quiet_since or time.monotonic()
            if time.monotonic() - quiet_since > 90:
                break
        else:
            quiet_since = None
        previous = parts
        time.sleep(5)
    log(f"  background merges settled after {time.monotonic() - started:.0f} s")


def parts(client, database: str) -> dict[str, int]:
    """Active parts per table: the FINAL and scan costs depend on them."""
    rows = client.query(
        "SELECT table, count() FROM system.parts WHERE database = {db:String} AND active GROUP BY table",
        parameters={"db": database}).result_rows
    return dict(rows)


class RawEngine:
    """The same SQL files run on a bare chDB connection: no segwork, no clickhouse-connect.

    Parameters are bound once up front, so a call is the engine's work plus the quickest
    way out of chDB to a pandas DataFrame measured here (Arrow, uncompressed, to_pandas();
    chDB's own "DataFrame" output was slower): the limit segwork's layer is measured against.
    The engine's own elapsed time of each call is kept too.
    """

    def __init__(self, database: str):
        self.conn = chdb.connect(str(ENGINE_PATH))
        self.conn.query(f"USE `{database}`", "TabSeparated")
        self.conn.query("SET output_format_arrow_compression_method = 'none'", "TabSeparated")
        self.elapsed: list[float] = []

    def bind(self, name: str, parameters: dict) -> tuple[str, dict]:
        """(sql, chDB parameters) for a query file, formatted as clickhouse-connect would."""
        sql, bound = bind_query(sqlfiles.load(name), parameters)
        return sql, {k.removeprefix("param_"): v for k, v in bound.items()}

    def bind_text(self, sql: str, parameters: dict) -> tuple[str, dict]:
        """(sql, chDB parameters) for SQL text (rule calls and tables already written out)."""
        bound_sql, bound = bind_query(sql, parameters)
        return bound_sql, {k.removeprefix("param_"): v for k, v in bound.items()}

    def run(self, bound: tuple[str, dict]):
        sql, params = bound
        result = self.conn.query(sql, "Arrow", params=params)
        self.elapsed.append(result.elapsed())
        return pa.ipc.open_file(pa.py_buffer(result.bytes())).read_all().to_pandas()

    def close(self) -> None:
        self.conn.close()
