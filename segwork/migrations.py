"""The schema's version: a new database gets the whole schema, one at this segwork's version
opens, one made by an older or a newer segwork is refused with what to do, and `migrate`
upgrades an older one in place, keeping its data.

Version 1 is the layout from before versions were recorded (no segwork_meta table). Each later
version N is reached by the statements sql/migrations/<NNN>_*.sql, run in file order; each is
safe to run again, so a migration cut short is simply run again.
"""
from __future__ import annotations

import shlex
import threading
from dataclasses import dataclass, field
from typing import Callable

from clickhouse_connect.driver.client import Client
from clickhouse_connect.driver.exceptions import ClickHouseError

from segwork import db, sqlfiles
from segwork.config import Settings
from segwork.errors import EngineError, SchemaVersionError

CURRENT = 5
# Tables every segwork database has had since version 1: one of them means segwork made it.
SEGWORK_TABLES = frozenset({"customers", "customer_events", "customers_quarantine", "customer_events_quarantine",
                            "event_types", "ingest_blocks", "ingest_log", "api_tokens"})
# What version 2 added, as schema_state reports tables and columns: all of them without
# segwork_meta is a version 2 database made before versions were recorded.
VERSION_2_MARKS = frozenset({"customers_quarantine.c__token", "customer_events_quarantine.c__token",
                             "ingest_log.status", "ingest_log.error", "ingest_log.updated_at", "event_ids", "event_ids_mv"})
_lock = threading.Lock()  # one creation or migration at a time in this process


@dataclass(frozen=True)
class Found:
    """A database's schema as the engine reports it; version 0: no segwork schema (yet)."""

    exists: bool
    version: int
    recorded: bool  # read from segwork_meta, not inferred from the layout


@dataclass
class Migration:
    """What segwork.migrate did: from which version to which, the steps run (sql/migrations names)."""

    database: str
    where: str
    before: int  # 0: no segwork schema there, nothing done
    after: int
    steps: list[str] = field(default_factory=list)

    def summary(self) -> str:
        if self.before == 0:
            return (f"{self.where} holds no segwork tables: nothing to migrate (segwork creates the schema, "
                    f"version {CURRENT}, when it first opens it)")
        if self.before == self.after and not self.steps:
            return f"{self.where} is at schema version {self.after} already: nothing to do"
        return f"{self.where} is now at schema version {self.after} (was {self.before}; {len(self.steps)} steps)"


def found(client: Client, database: str) -> Found:
    """The schema version of `database`, asked of the engine (two small queries at most)."""
    exists, tables, columns = db.query_rows(client, "schema_state", {"database": database})[0]
    tables = set(tables)
    if "segwork_meta" in tables:
        version = int(db.query_rows(client, "schema_version", {"database": database})[0][0] or 0)
        return Found(bool(exists), version, True)
    if not tables & SEGWORK_TABLES:
        return Found(bool(exists), 0, False)
    return Found(bool(exists), 2 if VERSION_2_MARKS <= tables | set(columns) else 1, False)


def ensure(client: Client, where: db.Target) -> None:
    """Make `where.database` ready for this segwork, or refuse it (SchemaVersionError)."""
    with _lock:
        state = found(client, where.database)
        if state.version == 0:
            _create(client, where.database, state.exists)
        elif state.version < CURRENT:
            raise SchemaVersionError(
                f"{where.describe()} was made by an older segwork: it has schema version {state.version}, and this "
                f"segwork needs version {CURRENT}. Nothing was changed. Upgrade it in place, keeping its data, "
                f"with {migrate_hint(where)}, then start again.", found=state.version, expected=CURRENT)
        elif state.version > CURRENT:
            raise SchemaVersionError(
                f"{where.describe()} was made by a newer segwork: it has schema version {state.version}, and this "
                f"segwork knows versions up to {CURRENT}. Nothing was changed. Use the newer segwork with it, or "
                "point SEGWORK_DSN / SEGWORK_DATABASE at another database.", found=state.version, expected=CURRENT)
        elif not state.recorded:  # the version 2 layout, made before versions were recorded
            client.database = where.database
            _record(client, CURRENT, "recorded for a database made before versions were")


def migrate_hint(where: db.Target) -> str:
    """The command that migrates this database, with the variables that name it."""
    if where.in_memory:
        return f"segwork.migrate({where.dsn!r}, database={where.database!r}) in the same process"
    env = " ".join(f"{name}={shlex.quote(value)}" for name, value in where.env)
    return f"`{env + ' ' if env else ''}python -m segwork migrate`"


def migrate(dsn: str | None = None, database: str | None = None, *, settings: Settings | None = None,
            progress: Callable[[str], None] | None = None) -> Migration:
    """Upgrade the database's schema to this segwork's version in place, keeping all rows;
    `progress` gets a line before each step. Run it while no other segwork writes there."""
    where = db.target(dsn, database, settings)
    client = db.open_engine(where)
    say = progress or (lambda line: None)
    with _lock:
        state = found(client, where.database)
        result = Migration(where.database, where.describe(), state.version, state.version)
        if state.version > CURRENT:
            raise SchemaVersionError(
                f"{where.describe()} has schema version {state.version}, newer than this segwork's {CURRENT}, and "
                "cannot be migrated back. Nothing was changed. Use the newer segwork with it.",
                found=state.version, expected=CURRENT)
        if state.version == 0:
            return result
        client.database = where.database
        if state.version < CURRENT:
            steps = [name for version in range(state.version + 1, CURRENT + 1) for name in sqlfiles.migration_steps(version)]
            say(f"migrating {where.describe()} from schema version {state.version} to {CURRENT}: {len(steps)} steps")
            for i, name in enumerate(steps, 1):
                say(f"  [{i}/{len(steps)}] {name.removeprefix('migrations/')}: {sqlfiles.purpose(name)}")
                _statement(client, sqlfiles.load(name), f"migration step {name}")
                result.steps.append(name)
            if state.version < 5:
                _after(client)
            _record(client, CURRENT, f"migrated from version {state.version}")
        elif not state.recorded:
            _record(client, CURRENT, "recorded for a database made before versions were")
        result.after = CURRENT
        return result


def _create(client: Client, database: str, exists: bool) -> None:
    if not exists:
        _statement(client, f"CREATE DATABASE IF NOT EXISTS `{database}`", "creating the database")
    client.database = database
    for name in sqlfiles.ddl_names():  # segwork_meta first: see sql/ddl/00_segwork_meta.sql
        _statement(client, sqlfiles.ddl_statement(name), f"creating the schema ({name})")
    _after(client)
    _record(client, CURRENT, "created")


def _after(client: Client) -> None:
    """What a new or migrated database gets besides tables: the example segment definitions."""
    from segwork.custom import store  # it reads and writes through db, which this module serves

    store.save_examples(client)


def _record(client: Client, version: int, how: str) -> None:
    _statement(client, sqlfiles.ddl_statement("00_segwork_meta"), "recording the schema version")
    db.command(client, "schema_version_set", {"version": version, "how": how})


def _statement(client: Client, sql: str, what: str) -> None:
    try:
        client.command(sql)
    except ClickHouseError as exc:
        raise EngineError(f"{what} failed in database '{client.database}': {str(exc).strip().splitlines()[0][:300]}. "
                          "Every step is safe to repeat: fix the cause and try again.") from exc
