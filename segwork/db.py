"""The only place a ClickHouse client is made (and its schema checked, see migrations); the one query runner."""
from __future__ import annotations

import contextvars
import logging
import re
import threading
import weakref
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote, urlencode

import clickhouse_connect
import pandas as pd
from clickhouse_connect.driver.client import Client
from clickhouse_connect.driver.exceptions import ClickHouseError, DatabaseError, ProgrammingError

from segwork import embedded, enginefolder, sqlfiles
from segwork.config import DEFAULT_DATA_DIR, Settings
from segwork.errors import ConfigError, EngineError

log = logging.getLogger(__name__)
_DB_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")
_local = threading.local()
_chdb_opened: set[str] = set()  # embedded locations this process has opened
_output: contextvars.ContextVar = contextvars.ContextVar("segwork_query_output", default=None)
_limits: "weakref.WeakKeyDictionary[Client, Settings]" = weakref.WeakKeyDictionary()  # see limit_queries


@dataclass
class QueryOutput:
    """A query's result as the engine itself formatted it (see `query_output`)."""

    format: str
    settings: dict[str, Any] = field(default_factory=dict)
    body: bytes | None = None
    query: str | None = None  # name of the sql/<name>.sql that ran
    sql: str | None = None  # with format None (query_capture): the query's text and parameters, not run
    parameters: dict[str, Any] | None = None
    latest_read: datetime | None = None  # see note_latest_read


@contextmanager
def query_output(fmt: str, settings: dict[str, Any] | None = None):
    """Within the block, query_df runs its one query in ClickHouse output format `fmt` (JSON,
    CSVWithNames, JSONEachRow, Parquet, ...), keeps the bytes in the yielded QueryOutput and
    returns an empty frame. The HTTP API answers this way from the same query functions, with
    the engine's own statistics, types and rows_before_limit_at_least; outside, nothing changes."""
    out = QueryOutput(fmt, dict(settings or {}))
    token = _output.set(out)
    try:
        yield out
    finally:
        _output.reset(token)


@contextmanager
def query_capture():
    """Within the block, query_df does not run its one answering query: the yielded QueryOutput
    keeps its SQL text and parameters (the Query API puts a pipe's result in a table so)."""
    with query_output(None) as out:
        yield out


def note_latest_read(as_of: datetime) -> None:
    """Within query_output: the query kept read the latest profiles, checked against `as_of` after it
    ran (segwork.queries.exactly_at). A captured one has not run yet: whoever runs it checks after,
    and captures again if a version newer than `as_of` is stored by then."""
    out = _output.get()
    if out is not None:
        out.latest_read = as_of


def forget_answer() -> None:
    """Within query_output: drop the query kept so far, so another can take its place (exactly_at
    reads again from the history when the first answer may show a newer profile)."""
    out = _output.get()
    if out is not None:
        out.body = out.sql = out.parameters = out.query = out.latest_read = None


def answering() -> bool:
    """True inside query_output: the next query_df's result goes out as the engine formatted it."""
    return _output.get() is not None


@dataclass(frozen=True)
class Target:
    """A database segwork is pointed at: the engine's DSN, the database in it, and the
    SEGWORK_* variables that name both (for messages that say what to run)."""

    dsn: str
    database: str
    env: tuple[tuple[str, str], ...] = ()

    @property
    def engine_dsn(self) -> str:
        """The DSN without the database: opened so, a client can create the database first."""
        return _split_dsn(self.dsn)[0]

    @property
    def location(self) -> str:
        return _dsn_location(self.engine_dsn)

    @property
    def in_memory(self) -> bool:
        return self.location == ":memory:"

    def describe(self) -> str:
        """'database 'x' of the embedded engine at /path' and the like."""
        where = ("the in-memory embedded engine" if self.in_memory else f"the embedded engine at {self.location}"
                 if self.dsn.startswith("chdb:") else f"the ClickHouse server {self.location}")
        return f"database '{self.database}' of {where}"


def target(dsn: str | None = None, database: str | None = None, settings: Settings | None = None) -> Target:
    """Where connect() goes for these arguments (see connect); the database name is checked."""
    settings = settings or Settings.from_env()
    resolved = dsn or settings.resolved_dsn
    in_dsn = _split_dsn(resolved)[1]
    name = database or in_dsn or settings.database
    if not _DB_NAME.match(name):
        raise ConfigError(f"database name {name!r} is not a plain identifier; use letters, digits and _")
    env = []
    if dsn or settings.dsn:  # the DSN as given, or without its database when another one was chosen
        env.append(("SEGWORK_DSN", _redact(resolved if name == in_dsn else _split_dsn(resolved)[0])))
    elif settings.data_dir != DEFAULT_DATA_DIR:
        env.append(("SEGWORK_DATA_DIR", str(settings.data_dir)))
    if name not in (in_dsn, Settings.database):
        env.append(("SEGWORK_DATABASE", name))
    return Target(resolved, name, tuple(env))


def connect(dsn: str | None = None, *, database: str | None = None, settings: Settings | None = None) -> Client:
    """A ready client: a new database gets the schema, one at this segwork's schema version
    opens, one made by an older or newer segwork is refused (SchemaVersionError, saying what
    to do). Asks the engine every time (two small queries): a database may be gone since.

    dsn: `chdb:///abs/path`, `chdb://memory` or `http(s)://user:pass@host:port/db`;
    None takes SEGWORK_DSN, else the embedded database in the project's data folder.
    """
    from segwork import migrations  # it runs its statements through this module

    settings = settings or Settings.from_env()
    where = target(dsn, database, settings)
    client = open_engine(where)
    if settings.force_client_api:
        embedded.use_client_api(client)
    migrations.ensure(client, where)
    client.database = where.database
    limit_queries(client, settings)
    return client


def limit_queries(client: Client, settings: Settings) -> None:
    """Every read this client runs through query_df / query_output (the API's pipes, the
    workbench, the library's queries) is stopped past settings.query_timeout_seconds and refused past
    settings.query_max_rows rows, with ClickHouse's TIMEOUT_EXCEEDED / TOO_MANY_ROWS_OR_BYTES.
    connect() calls it; a client made otherwise gets the defaults."""
    _limits[client] = settings


def read_settings(client: Client) -> dict[str, Any]:
    """The ClickHouse settings that carry the client's limits, sent with each read."""
    limits = _limits.get(client) or Settings()
    return {"max_execution_time": limits.query_timeout_seconds, "max_result_rows": limits.query_max_rows,
            "result_overflow_mode": "throw"}


def open_engine(where: Target) -> Client:
    """A client on the engine with no database selected (it may not exist yet: a client made
    with it in the DSN is refused while connecting, UNKNOWN_DATABASE), nothing checked;
    connect() and segwork.migrate, which must open what connect() refuses, go on from here."""
    return _open(where.engine_dsn)


def thread_client(dsn: str | None = None, *, database: str | None = None, settings: Settings | None = None) -> Client:
    """One client per thread and (dsn, database): a client serialises its calls with a lock,
    so threads that share one wait on each other; several clients on one engine do not."""
    settings = settings or Settings.from_env()
    where = target(dsn, database, settings)
    key = (where.dsn, where.database)
    clients = _local.__dict__.setdefault("clients", {})
    if key not in clients:
        clients[key] = connect(where.dsn, database=where.database, settings=settings)
    return clients[key]


def reader_client(session: dict[str, Any], *, settings: Settings | None = None) -> Client:
    """A client for SQL that clients of the API write (segwork.sqlguard), one per thread: its
    session carries `session` (ClickHouse settings, `readonly` last), so with readonly=1 no query
    on it can write, nor change a setting, a limit included. Over HTTP the settings go with every
    request. A separate client: on the embedded engine, per-call settings are SET on the session
    and readonly would stick, so the ordinary clients never carry it."""
    settings = settings or Settings.from_env()
    where = target(None, None, settings)
    key = ("reader", where.dsn, where.database, tuple(session.items()))
    clients = _local.__dict__.setdefault("clients", {})
    if key not in clients:
        client = _open(where.engine_dsn, session)
        client.database = where.database
        limit_queries(client, settings)  # its session carries them; sqlguard reads them back (read_settings)
        clients[key] = client
    return clients[key]


def discard(client: Client) -> None:
    """Close a client of this thread and forget it (the next call makes a new one). After a query
    that failed part-way, the embedded engine hands that query's partial output (a JSON header)
    to the next query on the same connection (chDB 4.4), so segwork.sqlguard never reuses a
    reader that saw an error: another token's request could read it."""
    clients = _local.__dict__.setdefault("clients", {})
    for key in [k for k, c in clients.items() if c is client]:
        del clients[key]
    try:
        client.close()
    except Exception:  # closing is best effort; the client is forgotten either way
        log.debug("closing a discarded client failed", exc_info=True)


def query_df(client: Client, name: str, parameters: dict[str, Any], *, utc: bool = False,
             answer: bool = True) -> pd.DataFrame:
    """Run sql/<name>.sql with server-side parameters; engine errors become EngineError.

    utc=True returns datetime columns UTC-aware. The embedded engine answers through Arrow
    (segwork.embedded: the same frame, without rebuilding it in Python). answer=False: a
    query that only prepares the answer (never the one query_output keeps).
    """
    return query_text_df(client, name, sqlfiles.load(name), parameters, utc=utc, answer=answer)


def query_text_df(client: Client, name: str, sql: str, parameters: dict[str, Any], *, utc: bool = False,
                  answer: bool = True) -> pd.DataFrame:
    """query_df for SQL composed by segwork itself from whitelisted parts (segwork.custom's
    compiled definitions), `name` saying what it is in messages; values only as parameters."""
    out = _output.get() if answer else None
    limits = read_settings(client)
    try:
        if out is not None:
            return _query_formatted(client, name, sql, parameters, out, limits)
        if embedded.usable(client):
            df = embedded.query_df(client, name, sql, parameters, utc=utc, settings=limits)
            if df is not None:
                return df
        df = client.query_df(sql, parameters=parameters, settings=limits)
        return _utc(df) if utc else df
    except (ClickHouseError, embedded.EngineRefused) as exc:
        raise _refused(client, "query", name, parameters, exc) from exc


def _utc(df: pd.DataFrame) -> pd.DataFrame:
    """Datetime columns as UTC-aware (naive ones are UTC; zoned ones are converted)."""
    # Naive in a UTC process; in the process's zone elsewhere (chDB follows TZ): UTC either way.
    for column, dtype in df.dtypes.items():
        if isinstance(dtype, pd.DatetimeTZDtype):
            if str(dtype.tz) != "UTC":
                df[column] = df[column].dt.tz_convert("UTC")
        elif pd.api.types.is_datetime64_dtype(dtype):
            df[column] = df[column].dt.tz_localize("UTC")
    return df


def _query_formatted(client: Client, name: str, sql: str, parameters: dict[str, Any], out: QueryOutput,
                     limits: dict[str, Any]) -> pd.DataFrame:
    if out.body is not None or out.sql is not None:
        raise RuntimeError(f"query_output holds one query's result; '{out.query}' ran already, then '{name}'")
    if out.format is None:  # query_capture
        out.sql, out.parameters, out.query = sql, dict(parameters), name
        return pd.DataFrame()
    settings = {**out.settings, **limits}
    if embedded.usable(client):  # the handle's own call: no SET/restore round trips per setting
        try:
            out.body = embedded.query_raw(client, sql, parameters, out.format, settings)
        except Exception:
            if any(c is client for c in _local.__dict__.get("clients", {}).values()):
                discard(client)  # its connection may hold the failed query's partial output (see discard)
            raise
    else:
        out.body = client.raw_query(sql, parameters=parameters, fmt=out.format, settings=settings)
    out.query = name
    return pd.DataFrame()


def query_rows(client: Client, name: str, parameters: dict[str, Any]) -> list[tuple]:
    """Like query_df, for small results wanted as tuples: segwork's own lookups (ingestion's
    duplicate checks, schema versions), in bounded batches. Not limited like reads for people
    (limit_queries): a time limit there stopped a large upload half-way through its ingest."""
    sql = sqlfiles.load(name)
    try:
        return client.query(sql, parameters=parameters).result_rows
    except ClickHouseError as exc:
        raise _refused(client, "query", name, parameters, exc) from exc


PARAMETER_ROWS = 100_000  # values per query when a long list goes to the engine as a parameter


def query_rows_in_parts(client: Client, name: str, parameter: str, values: list, **fixed) -> list[tuple]:
    """query_rows for a long list parameter, asked PARAMETER_ROWS values at a time."""
    rows: list[tuple] = []
    for start in range(0, len(values), PARAMETER_ROWS):
        rows += query_rows(client, name, {**fixed, parameter: values[start:start + PARAMETER_ROWS]})
    return rows


def command(client: Client, name: str, parameters: dict[str, Any] | None = None) -> Any:
    """Run a statement file (INSERT ... SELECT, OPTIMIZE, ...) with server-side parameters."""
    sql = sqlfiles.load(name)
    try:
        return client.command(sql, parameters=parameters or {})
    except ClickHouseError as exc:
        raise _refused(client, "statement", name, parameters, exc) from exc


def _refused(client: Client, kind: str, name: str, parameters: Any, exc: Exception) -> EngineError:
    """The EngineError for an engine's refusal, with ClickHouse's code and name, and what to do
    when it is one of segwork's limits or the engine's own."""
    code, error = getattr(exc, "code", None), getattr(exc, "name", None)
    log.error("%s %s failed: %s; parameters=%r", kind, name, exc, parameters)
    limits = _limits.get(client) or Settings()
    if error == "TIMEOUT_EXCEEDED":
        what = (f"{kind} '{name}' was stopped at the time limit of {limits.query_timeout_seconds:g} s "
                "(SEGWORK_QUERY_TIMEOUT_SECONDS): narrow it (a shorter period, a location, a lower limit) "
                "or retry when the engine is less busy")
    elif error == "TOO_MANY_ROWS_OR_BYTES" and "Limit for result" in str(exc):
        what = (f"{kind} '{name}' would return more than {limits.query_max_rows:,} rows, the most a query may "
                "return (SEGWORK_QUERY_MAX_ROWS): ask for fewer rows (a lower limit, narrower filters)")
    elif error == "TOO_MANY_ROWS_OR_BYTES":
        what = f"{kind} '{name}' would read more than the engine allows: narrow it (a shorter period, a location)"
    elif error == "MEMORY_LIMIT_EXCEEDED":
        what = f"{kind} '{name}' needed more memory than the engine allows: retry later, or narrow it"
    elif error == "TOO_MANY_SIMULTANEOUS_QUERIES":
        what = f"the engine is running as many queries as it allows, so {kind} '{name}' was refused: retry in a few seconds"
    else:
        return EngineError(f"the engine refused {kind} '{name}': {_first_line(exc)}", code=code, name=error)
    return EngineError(f"{what}. The engine said: {_first_line(exc)}", code=code, name=error)


def describe_engine(client: Client) -> str:
    """A human line for the engine in use: the embedded path or the server."""
    path = getattr(client, "path", None)
    if path is not None:
        where = "in memory" if path in (":memory:", "memory") else f"at {path}"
        return f"embedded ClickHouse (chDB) {where}, database {client.database}"
    return f"ClickHouse server {client.url}, database {client.database}"


def is_embedded(client: Client) -> bool:
    """True when the client runs the in-process engine."""
    return getattr(client, "path", None) is not None


def _open(dsn: str, session: dict[str, Any] | None = None) -> Client:
    folder = _dsn_location(dsn) if dsn.startswith("chdb://") and _dsn_location(dsn) != ":memory:" else None
    if folder is not None:
        try:
            Path(folder).mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise EngineError(f"the embedded database folder {folder} cannot be made: {exc.strerror or exc} "
                              f"({exc.filename or folder}). {enginefolder.ELSEWHERE}") from exc
    try:
        extra = {"settings": session} if session else {}  # a reader's session (reader_client)
        if dsn.startswith("chdb:"):
            client = clickhouse_connect.get_client(dsn=dsn, **extra)
            _chdb_opened.add(_dsn_location(dsn))
            return client
        return clickhouse_connect.get_client(dsn=dsn, autogenerate_session_id=False, **extra)
    except ProgrammingError as exc:
        others = sorted(_chdb_opened - {_dsn_location(dsn)})
        if "chdb" in str(exc).lower() and others:
            raise EngineError(
                f"this process already has the embedded database at {others[0]} open, and chDB opens "
                f"one folder per process, so {_dsn_location(dsn)} cannot be opened beside it. Restart "
                "the process (or the notebook kernel) to switch, or use a ClickHouse server via SEGWORK_DSN."
            ) from exc
        if folder is not None and folder not in _chdb_opened:  # held elsewhere, or damaged: tell which
            client = enginefolder.reopen_or_explain(folder, lambda: clickhouse_connect.get_client(dsn=dsn, **extra), exc)
            _chdb_opened.add(folder)
            return client
        raise EngineError(f"cannot open the engine at {dsn}: {_first_line(exc)}") from exc
    except (DatabaseError, OSError) as exc:
        raise EngineError(
            f"cannot reach ClickHouse at {_redact(dsn)}: {_first_line(exc)}. Check SEGWORK_DSN "
            "(host, port, user, password) or unset it to use the embedded engine."
        ) from exc


def _dsn_location(dsn: str) -> str:
    """The engine's place for messages and keys: ':memory:', a folder, or the server (redacted)."""
    engine = _split_dsn(dsn)[0].partition("?")[0]
    if engine.startswith("chdb://"):
        rest = engine[len("chdb://"):]
        return ":memory:" if rest in ("memory", ":memory:") else rest
    return _redact(engine)


def _split_dsn(dsn: str) -> tuple[str, str | None]:
    """(the DSN of the engine alone, the database it names or None), read as clickhouse-connect
    reads them: the first path segment (http(s)://host/db, chdb://memory/db) or ?database=;
    in chdb:///abs/path the whole path is the folder."""
    base, _, query = dsn.partition("?")
    pairs = parse_qsl(query, keep_blank_values=True)
    named = next((value for key, value in pairs if key == "database"), None)
    kept = urlencode([(key, value) for key, value in pairs if key != "database"])
    scheme, _, rest = base.partition("://")
    if scheme == "chdb" and rest.startswith("/"):
        engine, in_path = base, None
    else:
        netloc, _, path = rest.partition("/")
        engine, in_path = f"{scheme}://{netloc}", unquote(path.split("/")[0])
    return engine + (f"?{kept}" if kept else ""), in_path or named or None


def _redact(dsn: str) -> str:
    return re.sub(r"//([^:/@]+):[^@]*@", r"//\1:***@", dsn)


def _first_line(exc: Exception) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:500] if text else exc.__class__.__name__
