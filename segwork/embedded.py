"""Query results from the in-process engine as Arrow, for the same DataFrames in less time.

clickhouse-connect reads chDB's results in ClickHouse's Native format and rebuilds each
column in Python: for a one-row lookup that took as long as the engine's own work.
chDB can hand over an Arrow table instead. This path binds parameters with
clickhouse-connect's own binder (same values reach the engine), and turns the Arrow
columns into exactly the dtypes clickhouse-connect's query_df returns (tests/test_embedded.py
compares both paths on every query file). Anything it does not know (a result type, a
process time zone other than UTC) goes the ordinary way.
"""
from __future__ import annotations

import os
import re
import threading
import time
import weakref
from datetime import timezone
from typing import Any

import chdb
import numpy as np
import pandas as pd
import pyarrow as pa
from clickhouse_connect.driver.binding import bind_query  # not documented API: tests/test_embedded.py pins it

_STRING = pd.StringDtype("pyarrow")
_STRINGS = {pa.string(): _STRING, pa.large_string(): _STRING}
_MASKED = {pa.int8(): pd.Int8Dtype(), pa.int16(): pd.Int16Dtype(), pa.int32(): pd.Int32Dtype(), pa.int64(): pd.Int64Dtype(),
           pa.uint8(): pd.UInt8Dtype(), pa.uint16(): pd.UInt16Dtype(), pa.uint32(): pd.UInt32Dtype(), pa.uint64(): pd.UInt64Dtype()}
_INTEGER = re.compile(r"^U?Int(8|16|32|64)$")
_DT64_UNIT = {0: "s", 3: "ms", 6: "us", 9: "ns"}
_CODE = re.compile(r"\bCode:\s*(\d+)")
_NAME = re.compile(r"\(([A-Z][A-Z0-9_]+)\)")
_FEW_ROWS = 10_000  # results up to this many rows are converted column by column (_frame_few)
_SETTING = re.compile(r"^[a-z][a-z0-9_]*$")
_SETTING_TEXT = re.compile(r"^[A-Za-z0-9_,;|\\\t ]{0,8}$")  # ',' and '\\N' (CSV): no quote, nothing else


class EngineRefused(Exception):
    """The engine refused a statement (chDB raises RuntimeError subclasses of its own), with
    ClickHouse's code and name read from its text ("Code: 159. DB::Exception: ... (TIMEOUT_EXCEEDED)")."""

    def __init__(self, message: str):
        super().__init__(message)
        code = _CODE.search(message)
        names = _NAME.findall(message)
        self.code = int(code.group(1)) if code else None
        self.name = names[-1] if names else None


class _Handle:
    """A chDB connection of one client's own (chDB allows many per engine) and its USE state."""

    def __init__(self, path: str):
        location = path if path.startswith(":memory:") else os.path.realpath(path)  # as clickhouse-connect opens it
        self.conn = chdb.connect(location)
        self.conn.query("SET output_format_arrow_compression_method = 'none'")  # in-process: compressing is pure cost
        self.lock = threading.Lock()
        self.database: str | None = None


_handles: "weakref.WeakKeyDictionary[Any, _Handle]" = weakref.WeakKeyDictionary()
_client_api: "weakref.WeakSet[Any]" = weakref.WeakSet()  # embedded clients kept off this path
_handles_lock = threading.Lock()
_types: dict[tuple[str, str], list[tuple[str, str]] | None] = {}  # (database, query) -> result columns, None: unsupported


def use_client_api(client) -> None:
    """Keep this embedded client on clickhouse-connect's own API, the way a server's client is
    served (SEGWORK_FORCE_CLIENT_API: the tests run the server's code path on chDB)."""
    _client_api.add(client)


def _bound(client, sql: str, parameters: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """The SQL and its parameters as chDB's own call takes them (clickhouse-connect's binding)."""
    bound_sql, bound = bind_query(sql, parameters, client.server_tz)
    return bound_sql, {k.removeprefix("param_"): v for k, v in bound.items()}


def _use(handle, client) -> None:
    """Make the client's database the handle's current one (under handle.lock)."""
    if handle.database != client.database:
        _run(handle.conn, f"USE `{client.database}`", "TabSeparated")
        handle.database = client.database


def usable(client) -> bool:
    """The fast path serves embedded clients in a UTC process (clickhouse-connect returns
    datetimes in the process's zone otherwise, and that behaviour is kept), unless the client
    was kept on the client API (use_client_api)."""
    if getattr(client, "path", None) is None or client in _client_api:
        return False
    tz = getattr(client, "server_tz", None)
    return tz is not None and tz.utcoffset(None) == timezone.utc.utcoffset(None) and str(tz) in ("UTC", "Etc/UTC", "utc")


def query_df(client, name: str, sql: str, parameters: dict[str, Any], *, utc: bool = False,
             settings: dict[str, int | float | str] | None = None) -> pd.DataFrame | None:
    """sql/<name>.sql's result like client.query_df gives it (UTC-aware datetimes if utc);
    None when a result type is not one this path converts (then use client.query_df).
    `settings` (segwork's own limits, never user input) go in a SETTINGS clause, as
    clickhouse-connect sends a query's settings to chDB; a query's own clause stays valid."""
    handle = _handle(client)
    bound_sql, params = _bound(client, sql, parameters)
    with handle.lock:
        _use(handle, client)
        key = (client.database, name)
        if key not in _types:
            _types[key] = _result_types(handle.conn, bound_sql, params)
        columns = _types[key]
        if columns is None:
            return None
        started = time.monotonic()
        result = _run(handle.conn, bound_sql + _settings_clause(settings), "Arrow", params)
        answered_in_time(started, settings)
    table = pa.ipc.open_file(pa.py_buffer(result.bytes())).read_all()
    if table.column_names != [c for c, _ in columns]:
        _types.pop(key, None)  # the query or the table changed under us: learn its types again
        return None
    return _frame(table, columns, utc)


def query_raw(client, sql: str, parameters: dict[str, Any], fmt: str,
              settings: dict[str, int | float | str] | None = None) -> bytes:
    """The query's result as the engine formats it (JSON, CSVWithNames, Parquet, ...), from this
    client's own chDB handle, its `settings` in a SETTINGS clause. clickhouse-connect's
    raw_query on chDB applies each setting with SET and restores it afterwards: 1 + 2n more
    engine calls per query (a snapshot of system.settings, n SETs, n restores: 9 for a pipe's 4).
    At 1M customers, p50 over HTTP / the library call (bench/api_compare.py, 20 interleaved
    rounds, load average 12-15): lookup 2.23x -> 1.36x, engagement 1.49x -> 0.92x, summary
    1.35x -> 1.09x."""
    handle = _handle(client)
    bound_sql, params = _bound(client, sql, parameters)
    with handle.lock:
        _use(handle, client)
        started = time.monotonic()
        result = _run(handle.conn, bound_sql + _settings_clause(settings), fmt, params)
        answered_in_time(started, settings)
        return result.bytes()


def answered_in_time(started: float, settings: dict[str, Any] | None) -> None:
    """Refuse, as the engine's own TIMEOUT_EXCEEDED, an answer that came back after the read's
    max_execution_time. The engine stops such a read with that error, yet once (a full test run,
    the other test worker busy) a Query API read with a 0.3 s limit came back as a success: a
    count of 0 "in 0.298 s" over 900M hashed rows, work that takes 4.2 s here, so most likely
    stopped at the limit and cut short. An answer past the limit is never shown as if it were
    whole (segwork.sqlguard checks the Query API's reads with this too)."""
    limit = (settings or {}).get("max_execution_time")
    elapsed = time.monotonic() - started
    if limit and elapsed >= limit:
        raise EngineRefused(f"Code: 159. DB::Exception: the answer came back after {elapsed:.3f} s, past the time limit "
                            f"of {limit:g} s: it may be cut short. (TIMEOUT_EXCEEDED)")


def insert_arrow(client, table: str, block: pa.Table) -> None:
    """INSERT the Arrow table's rows in place through chDB's Python() table function (it
    finds the table by its variable name, `block`, in this frame)."""
    handle = _handle(client)
    columns = ", ".join(f"`{c}`" for c in block.column_names)
    with handle.lock:
        _use(handle, client)
        try:
            handle.conn.query(f"INSERT INTO `{table}` ({columns}) SELECT {columns} FROM Python(block)")
        except RuntimeError as exc:
            raise EngineRefused(str(exc).strip()) from exc


def query_arrow(client, sql: str, parameters: dict[str, Any], *, probe: pa.Table | None = None) -> pa.Table:
    """A query's result as an Arrow table; the SQL may read the Arrow table `probe` with
    chDB's Python(probe) table function (a batch's ids looked at by the engine in place)."""
    handle = _handle(client)
    bound_sql, params = _bound(client, sql, parameters)
    with handle.lock:
        _use(handle, client)
        result = _run(handle.conn, bound_sql, "Arrow", params)
    del probe  # read by the engine above, by name, from this frame
    return pa.ipc.open_file(pa.py_buffer(result.bytes())).read_all()


def _handle(client) -> _Handle:
    with _handles_lock:
        handle = _handles.get(client)
        if handle is None:
            handle = _handles[client] = _Handle(client.path)
        return handle


def _run(conn, sql: str, fmt: str, params: dict | None = None):
    try:
        return conn.query(sql, fmt, params=params or {})
    except RuntimeError as exc:
        raise EngineRefused(str(exc).strip()) from exc


def _settings_clause(settings: dict[str, int | float | str] | None) -> str:
    """'\n SETTINGS a = 1, b = 'throw'' from settings whose names and values are plain words and
    numbers (refused otherwise: this text is written into the SQL)."""
    if not settings:
        return ""
    items = []
    for key, value in settings.items():
        if not _SETTING.match(key) or isinstance(value, bool):
            raise ValueError(f"setting {key}={value!r} cannot be written into a SETTINGS clause")
        if isinstance(value, (int, float)):
            items.append(f"{key} = {value!r}")
        elif isinstance(value, str) and _SETTING_TEXT.match(value):  # a plain word, or short text without quotes
            escaped = value.replace("\\", "\\\\")
            items.append(f"{key} = '{escaped}'")
        else:
            raise ValueError(f"setting {key}={value!r} cannot be written into a SETTINGS clause")
    return "\n SETTINGS " + ", ".join(items)


def _result_types(conn, sql: str, params: dict) -> list[tuple[str, str]] | None:
    rows = _run(conn, f"DESCRIBE TABLE ({sql}\n)", "TabSeparated", params).bytes().decode().splitlines()
    columns = [tuple(r.split("\t")[:2]) for r in rows if r]
    return columns if all(_supported(t) for _, t in columns) else None


def _unwrap(ch_type: str) -> tuple[str, bool]:
    nullable = False
    for wrapper in ("LowCardinality(", "Nullable(", "LowCardinality("):
        if ch_type.startswith(wrapper):
            ch_type, nullable = ch_type[len(wrapper):-1], nullable or wrapper == "Nullable("
    return ch_type, nullable


def _supported(ch_type: str) -> bool:
    base, _ = _unwrap(ch_type)
    return (base in ("String", "Float32", "Float64", "Date") or base.startswith("DateTime")
            or bool(_INTEGER.match(base)) or base == "Array(String)" or (base == "Bool" and not ch_type.startswith("Nullable")))


def _frame(table: pa.Table, columns: list[tuple[str, str]], utc: bool) -> pd.DataFrame:
    """The Arrow table as clickhouse-connect's query_df returns those ClickHouse types: times
    cast in Arrow, one to_pandas() for all columns, then the few columns pandas maps
    differently (nullable integers, string arrays) replaced. A few rows go column by column."""
    if table.num_rows <= _FEW_ROWS and (few := _frame_few(table, columns, utc)) is not None:
        return few
    tz = "UTC" if utc else None
    later = {}
    for i, (name, ch_type) in enumerate(columns):
        base, nullable = _unwrap(ch_type)
        col = table.column(i)
        if base.startswith("DateTime64"):
            unit = _DT64_UNIT.get(int(re.match(r"DateTime64\((\d+)", base).group(1)), "ns")
            table = table.set_column(i, name, col.cast(pa.timestamp(unit, tz=tz)))
        elif base.startswith("DateTime"):  # Arrow carries DateTime as seconds in a uint32
            table = table.set_column(i, name, col.cast(pa.int64()).cast(pa.timestamp("s", tz=tz)))
        elif base == "Date":
            table = table.set_column(i, name, col.cast(pa.timestamp("s", tz=tz)))
        elif base == "Array(String)":
            later[name] = pd.Series(col.to_pylist(), dtype=object)
        elif nullable and _INTEGER.match(base):
            later[name] = col.to_pandas(types_mapper=_MASKED.get)
    df = table.to_pandas(types_mapper=_STRINGS.get)
    for name, series in later.items():
        df[name] = series
    return df


def _frame_few(table: pa.Table, columns: list[tuple[str, str]], utc: bool) -> pd.DataFrame | None:
    """_frame's frame built from one pandas array per column, None for a column it leaves to
    _frame (NULLs other than in integers and text, DateTime64, arrays): to_pandas()'s fixed cost
    (a pool of threads, its pandas metadata, one block per type) is most of a lookup's one row:
    its conversion 3.99 -> 2.17 ms (medians of 3000 interleaved, load ~4), the whole lookup at
    size M 18.17 -> 17.35 ms (0.95x, 400 interleaved rounds, load ~2-6). tests/test_embedded.py
    diffs every query's frame against clickhouse-connect's."""
    times = pd.DatetimeTZDtype("s", "UTC") if utc else np.dtype("datetime64[s]")
    data = {}
    for i, (name, ch_type) in enumerate(columns):
        base, nullable = _unwrap(ch_type)
        col = table.column(i)
        if nullable and _INTEGER.match(base):
            data[name] = col.to_pandas(types_mapper=_MASKED.get).array
        elif col.null_count or base.startswith("DateTime64") or base == "Array(String)":
            return None
        elif base.startswith("DateTime") or base == "Date":  # DateTime: seconds in a uint32; Date: date32
            seconds = col.cast(pa.timestamp("s")).cast(pa.int64()) if base == "Date" else col.cast(pa.int64())
            data[name] = pd.array(seconds.to_numpy().astype("datetime64[s]"), dtype=times)
        elif col.type in _STRINGS:
            data[name] = pd.arrays.ArrowStringArray(col)
        elif pa.types.is_integer(col.type) or pa.types.is_floating(col.type) or pa.types.is_boolean(col.type):
            data[name] = col.to_numpy()
        else:
            return None
    return pd.DataFrame(data, copy=False)
