"""Read-only SQL written by API clients (the Query API), checked by the engine before it runs.

segwork parses no SQL itself; the engine does, and segwork reads its answers:
1. `parseQueryToJSON(text)` (sql/sql_parse.sql, the text as a parameter): one statement or a
   syntax error (`; DROP ...` is "Multi-statements are not allowed"). Only a SELECT passes; its
   FORMAT must be one of FORMATS; INTO OUTFILE, SETTINGS and any other statement are refused;
   every table it names must be one the token may read (or a WITH name that is no table), every
   table function one of TABLE_FUNCTIONS, every function one that stays within the data
   (`FunctionPolicy`). This runs before the engine analyses the query, because analysis already
   evaluates scalar subqueries: `(SELECT toInt32(token_hash) FROM api_tokens)` would put a
   secret into an error message.
2. `formatQueryFromJSON` of that parse without its FORMAT (sql/sql_unparse.sql): the statement
   as the engine writes it, no comments. This text is what is explained and run.
3. `EXPLAIN QUERY TREE`: the analyzer's resolved tree names every table read (through views,
   subqueries, IN, JOIN and WITH) as database.table, every table function and every function.
   Each must be allowed; this is the check that decides, step 1 keeps the analysis harmless.
The query then runs on `db.reader_client`, whose session is readonly=1 with the limits of
`session_settings`: it cannot write, change a setting (`SETTINGS readonly=0` is refused by the
engine) or open file/url/remote/executable table functions.
"""
from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass
from typing import Any, Iterator

from clickhouse_connect.driver.client import Client
from clickhouse_connect.driver.exceptions import ClickHouseError

from segwork import db, embedded, sqlfiles
from segwork.config import Settings
from segwork.errors import EngineError, SegworkError
from segwork.sqlguard.catalog import FunctionPolicy, functions  # noqa: F401 (functions: part of this package's API)

# Output formats a client may ask for (`... FORMAT CSV`), by the engine's name; JSON when none.
FORMATS = {f.lower(): f for f in ("JSON", "JSONCompact", "JSONEachRow", "JSONCompactEachRow", "CSV", "CSVWithNames",
                                  "TSV", "TSVWithNames", "TabSeparated", "TabSeparatedWithNames", "Parquet", "PrettyCompact")}
DEFAULT_FORMAT = "JSON"
# Table functions that make rows out of their arguments only; readonly=1 refuses file, url, s3,
# remote, executable, ...; merge, view, loop and the like read other tables, so are refused here.
TABLE_FUNCTIONS = frozenset({"numbers", "numbers_mt", "zeros", "zeros_mt", "generate_series", "generateseries", "values"})
_IN = frozenset({"in", "notIn", "globalIn", "globalNotIn", "nullIn", "notNullIn", "globalNullIn", "globalNotNullIn"})
_ROOT_KEYS = frozenset({"type", "union_mode", "list_of_modes", "list_of_selects", "format_ast",
                        "is_outfile_append", "is_outfile_truncate", "is_into_outfile_with_stdout"})
_QUERY_TYPES = frozenset({"SelectWithUnionQuery", "SelectQuery", "SelectIntersectExceptQuery", "TablesInSelectQuery"})
_NODE = re.compile(r"^\s*([A-Z_]+) id: \d+(?:, (.*))?$")
_TABLE_NAME = re.compile(r"(?:^|, )table_name: ([^,\s]+)")
_TABLE_FUNCTION = re.compile(r"(?:^|, )table_function_name: ([^,\s]+)")
_FUNCTION = re.compile(r"(?:^|, )function_name: ([^,\s]+), function_type: (\w+)")


class SqlRefused(SegworkError):
    """A client's SQL that segwork will not run: `status` 400 (not a read-only SELECT segwork runs)
    or 403 (reads what the token may not)."""

    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class Parsed:
    """A client's SELECT as the engine parsed it."""

    sql: str  # the engine's text of it, without FORMAT
    format: str | None  # the output format its FORMAT asks for, None without one
    tables: frozenset[str]  # the table names it writes (`t` or `db.t`), WITH names excluded
    with_names: frozenset[str]


@dataclass(frozen=True)
class Scope:
    """What one query may read: `tables` as database.table, and their plain names."""

    database: str  # where unqualified names resolve
    tables: frozenset[str]

    def names(self) -> frozenset[str]:
        return frozenset(t.split(".", 1)[1] for t in self.tables if t.split(".", 1)[0] == self.database)


def session_settings(settings: Settings) -> dict[str, Any]:
    """The reader's session: the limits from segwork's settings, then readonly=1 (last: once it
    holds, no setting can change, the limits included)."""
    return {"max_execution_time": settings.query_timeout_seconds, "max_result_rows": settings.query_max_rows,
            "result_overflow_mode": "throw", "max_rows_to_read": settings.sql_max_rows_to_read,
            "max_memory_usage": settings.sql_max_memory_bytes, "max_query_size": settings.sql_max_query_bytes,
            "output_format_json_quote_64bit_integers": 0, "format_csv_delimiter": ",",
            "output_format_csv_crlf_end_of_line": 0, "format_csv_null_representation": "\\N",
            "readonly": 1}


def parse(reader: Client, policy: FunctionPolicy, text: str, scope: Scope, known: set[str]) -> Parsed:
    """The engine's parse of `text`, refused unless it is one SELECT that names only tables in
    `scope` (or `known`: pipes to be put in its database), allowed table functions and functions."""
    text = text.strip()
    if not text:
        raise SqlRefused("the query is empty: send q=SELECT ... (or the SQL as the request body)")
    raw = _run(reader, sqlfiles.load("sql_parse"), {"q": text}, PARSING)
    try:
        ast = json.loads(raw)
    except RecursionError:  # the engine's own depth limits let ~300 nested calls through, Python's not
        raise SqlRefused("the query is nested too deeply to check; flatten it (fewer nested calls)") from None
    if not isinstance(ast, dict) or ast.get("type") != "SelectWithUnionQuery":
        kind = ast.get("type", "?") if isinstance(ast, dict) else "?"
        raise SqlRefused(f"only SELECT queries can run here (this is a {kind.removesuffix('Query') or kind} statement); "
                         "data goes in through /v0/events and /v0/datasources")
    extra = sorted(set(ast) - _ROOT_KEYS)
    if extra or any(ast.get(k) for k in ("is_outfile_append", "is_outfile_truncate", "is_into_outfile_with_stdout")):
        clause = "INTO OUTFILE" if "out_file" in ast or not extra else ", ".join(extra)
        raise SqlRefused(f"the query has a clause that cannot run here ({clause}); send a plain SELECT, "
                         "optionally ending in FORMAT <format>")
    fmt = None
    if "format_ast" in ast:
        asked = (ast.pop("format_ast") or {}).get("name", "")
        fmt = FORMATS.get(str(asked).lower())
        if fmt is None:
            raise SqlRefused(f"FORMAT {str(asked)[:40]} is not offered; use one of {', '.join(FORMATS.values())}")
    tables, with_names, in_names = set(), set(), set()
    for node, key in _nodes(ast):
        kind = node.get("type")
        if kind == "SetQuery":
            raise SqlRefused("SETTINGS cannot be changed in a query here: the limits are fixed "
                             "(SEGWORK_QUERY_TIMEOUT_SECONDS, SEGWORK_QUERY_MAX_ROWS, SEGWORK_SQL_MAX_*)")
        if isinstance(kind, str) and kind.endswith("Query") and kind not in _QUERY_TYPES:
            raise SqlRefused(f"only SELECT queries can run here, also inside a subquery (found {kind})")
        if kind == "TableIdentifier":
            tables.add(str(node.get("name", "")))
        elif kind == "WithElement":
            with_names.add(str(node.get("name", "")))
        elif kind == "Function":
            name = str(node.get("name", ""))
            if key == "table_function":
                if name.lower() not in TABLE_FUNCTIONS:
                    raise SqlRefused(f"the table function {name}() cannot be used here; the tables are "
                                     f"{_listing(scope, known)}", 403)
            else:
                why = policy.refusal(name, strict=False)
                if why:
                    raise SqlRefused(why, 403)
                if name in _IN:
                    in_names |= _bare_identifier(node)
    _check_names(reader, tables | in_names, with_names, scope, known)
    sql = _run(reader, sqlfiles.load("sql_unparse"), {"ast": json.dumps(ast)}, PARSING).decode().rstrip("\n")
    return Parsed(sql, fmt, frozenset(tables - with_names), frozenset(with_names))


def check_reads(reader: Client, policy: FunctionPolicy, parsed: Parsed, scope: Scope, known: set[str]) -> None:
    """Refuse the query unless the analyzer's tree reads only tables in `scope`, allowed table
    functions and functions (the deciding check; `parse` ran first)."""
    tree = _run(reader, "EXPLAIN QUERY TREE " + parsed.sql, None, "checking the query", database=scope.database)
    for line in tree.decode().splitlines():
        match = _NODE.match(line)
        if not match:
            continue
        kind, rest = match.group(1), match.group(2) or ""
        if kind == "TABLE":
            table = _TABLE_NAME.search(rest)
            if not table or table.group(1) not in scope.tables:
                name = table.group(1) if table else "?"
                raise SqlRefused(f"the query reads {name}, which this token may not read; it may read {_listing(scope, known)}", 403)
        elif kind == "TABLE_FUNCTION":
            found = _TABLE_FUNCTION.search(rest)
            if not found or found.group(1).lower() not in TABLE_FUNCTIONS:
                raise SqlRefused(f"the table function {found.group(1) if found else '?'}() cannot be used here", 403)
        elif kind == "FUNCTION":
            found = _FUNCTION.search(rest)
            if not found:
                raise SqlRefused("the query has a function segwork cannot check; simplify it", 400)
            if found.group(2) == "ordinary":
                why = policy.refusal(found.group(1), strict=True)
                if why:
                    raise SqlRefused(why, 403)
        elif kind == "IDENTIFIER":  # a name the analyzer left unresolved (inside a table function's arguments)
            raise SqlRefused("the query names something the engine did not resolve to a column or a table; "
                             f"the tables are {_listing(scope, known)}")


def run(reader: Client, sql: str, database: str, fmt: str) -> bytes:
    """A checked query's result (Parsed.sql) in output format `fmt` (the reader's limits apply)."""
    return _run(reader, sql, None, "running the query", database=database, fmt=fmt)


def _check_names(reader: Client, names: set[str], with_names: set[str], scope: Scope, known: set[str]) -> None:
    """Every table the query names is readable, or a WITH name that is no table of the query's
    database (so out of the WITH's scope it resolves to nothing)."""
    plain = scope.names() | known
    bad = []
    for name in sorted(names):
        if name in plain or name in scope.tables:
            continue
        if name in with_names and "." not in name:
            continue
        bad.append(name)
    shadowing = sorted(n for n in with_names if "." not in n and n not in plain)
    if shadowing:
        rows = db.query_rows(reader, "sql_tables_named", {"db": scope.database, "names": shadowing})
        bad += [f"{r[0]} (as a WITH name)" for r in rows]
    if "_" in bad:
        bad[bad.index("_")] = "_ (a pipe's result: only with pipeline=<pipe>, or q= on /v0/pipes/<pipe>.json)"
    if bad:
        raise SqlRefused(f"the query reads {', '.join(bad[:5])}, which this token may not read or which does not exist; "
                         f"it may read {_listing(scope, known)}", 403)


def _listing(scope: Scope, known: set[str]) -> str:
    names = sorted(scope.names() | known)
    return ", ".join(names) if names else "no tables (only SELECT over numbers(), values(), ...)"


def _bare_identifier(node: dict) -> set[str]:
    """The name on the right of IN when it is a bare identifier (`x IN some_table`)."""
    args = (node.get("arguments") or {}).get("children") or []
    if len(args) == 2 and isinstance(args[1], dict) and args[1].get("type") == "Identifier":
        return {str(args[1].get("name", ""))}
    return set()


def _nodes(node: Any, key: str | None = None) -> Iterator[tuple[dict, str | None]]:
    """Every JSON object of the parse, with the key it hangs under."""
    if isinstance(node, dict):
        yield node, key
        for k, v in node.items():
            yield from _nodes(v, k)
    elif isinstance(node, list):
        for item in node:
            yield from _nodes(item, key)


def _run(reader: Client, sql: str, parameters: dict | None, what: str, *, database: str | None = None,
         fmt: str = "TabSeparatedRaw") -> bytes:
    previous = reader.database
    if database:
        reader.database = database
    started = time.monotonic()
    try:
        answer = reader.raw_query(sql, parameters=parameters, fmt=fmt)
        embedded.answered_in_time(started, db.read_settings(reader))  # past the limit it may be cut short
        return answer
    except (ClickHouseError, embedded.EngineRefused) as exc:
        db.discard(reader)  # its connection may hold the failed query's partial output
        raise _refusal(exc, what) from None
    finally:
        reader.database = previous


PARSING = "parsing the query"
BUSY = {"TIMEOUT_EXCEEDED", "MEMORY_LIMIT_EXCEEDED", "TOO_MANY_SIMULTANEOUS_QUERIES"}  # the API answers 503/504


def _refusal(exc: ClickHouseError, what: str) -> SegworkError:
    """The engine's refusal of a client's query: a time, memory or concurrency limit stays an
    EngineError with the engine's name (504/503); anything else is the client's query at fault."""
    name, code = getattr(exc, "name", None), getattr(exc, "code", None)
    first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
    first = re.sub(r"^.*?(Code: \d+\. DB::Exception: )+", "", first)[:500]
    first = first.split(": In scope SELECT parseQueryToJSON(")[0]  # the wrapper the text went through, not the client's
    if name and not first.endswith(f"({name})"):
        first = f"{first.rstrip('. ')} ({name})"
    if what == PARSING and name == "UNKNOWN_FUNCTION":  # the client's text is a parameter there: the engine lacks the function
        return EngineError("the Query API needs the engine's parseQueryToJSON and formatQueryFromJSON (ClickHouse 26.x, "
                           f"as the embedded engine has); this engine lacks them: {first}", code=code, name=name)
    if name in BUSY:
        setting = {"TIMEOUT_EXCEEDED": " (SEGWORK_QUERY_TIMEOUT_SECONDS)",
                   "MEMORY_LIMIT_EXCEEDED": " (SEGWORK_SQL_MAX_MEMORY_BYTES)"}.get(name, "")
        return EngineError(f"{what}: stopped at a limit{setting}: narrow the query or retry later. The engine said: {first}",
                           code=code, name=name)
    if name == "TOO_MANY_ROWS_OR_BYTES":
        return SqlRefused(f"{what}: the answer would have more rows than allowed (SEGWORK_QUERY_MAX_ROWS); add a LIMIT "
                          f"or aggregate. The engine said: {first}")
    if name == "TOO_MANY_ROWS":
        return SqlRefused(f"{what}: the query would read more rows than allowed (SEGWORK_SQL_MAX_ROWS_TO_READ); filter "
                          f"or sample. The engine said: {first}")
    if name in ("UNKNOWN_TABLE", "UNKNOWN_DATABASE"):  # never the engine's text: it suggests similar names
        return SqlRefused(f"{what}: the query reads a table that does not exist or that this token may not read", 403)
    if name == "READONLY":
        return SqlRefused(f"{what}: only reading is allowed here, and settings cannot be changed ({first})", 403)
    return SqlRefused(f"{what}: the engine refused it: {first}")
