"""The Query API: read-only SQL over what a token may read, as the seed's system offers it.

  GET|POST /v0/sql?q=SELECT ...[&pipeline=<pipe>][&<pipe parameters>]
      q in the query string, in a form body (q=...), or the SQL as the raw body (text/plain, as
      the SDKs send it); the answer in the FORMAT the SQL ends with (JSON when none).
  GET /v0/pipes/<pipe>.<fmt>?q=SELECT ... FROM _&<pipe parameters>
      SQL over the pipe's result, as table `_` (clients page with it).

What a query may read (decided here, checked by segwork.sqlguard with the engine itself):
- data sources: every one with ADMIN, `customers`/`customer_events` (and their `_quarantine`)
  with DATASOURCES:READ:<table>; never with a token that pins parameters (SQL over the table
  would read past the pin);
- pipes the token may read, by name (`SELECT * FROM customer_segments_summary`), and `_`: the
  pipe's result for this request's parameters, pins applied, put in a table of a database made
  for the request (a Memory database, with views of the data sources, dropped afterwards);
- nothing else: no internal table (api_tokens, ingest_log, ...), no system table, no other
  database, no table function but numbers()/zeros()/values()/generate_series().
"""
from __future__ import annotations

import asyncio

import json
import threading
import uuid
from urllib.parse import parse_qsl

from clickhouse_connect.driver.client import Client
from clickhouse_connect.driver.exceptions import ClickHouseError
from starlette.datastructures import QueryParams
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from segwork import db, embedded, exports, queries, sqlguard
from segwork.api import body, pipes, tokens
from segwork.api.responses import ApiError
from segwork.errors import EngineError
from segwork.schemas import TABLES

RESERVED = {"q", "token", "pipeline", "format", "debug", "explain", "query_id", "tag", "release_replacements",
            "playground", "output_format_json_quote_64bit_integers", "output_format_json_quote_denormals",
            "output_format_parquet_string_as_string"}
MEDIA = {"JSON": "application/json", "JSONCompact": "application/json", "JSONEachRow": "application/x-ndjson",
         "JSONCompactEachRow": "application/x-ndjson", "CSV": "text/csv; charset=utf-8",
         "CSVWithNames": "text/csv; charset=utf-8", "Parquet": "application/octet-stream"}
TEXT = "text/plain; charset=utf-8"  # TSV, PrettyCompact


def routes(app, guard) -> list[Route]:
    """GET and POST /v0/sql, bound to the API object `app`, each handler wrapped by `guard`.
    At most settings.sql_concurrency queries run at once (`app.sql_slots`): the engine checks its
    time limit between blocks, so one heavy expression on one row can run past it (a review ran
    one for 91 s against 30), and without a cap 8 of them held every API thread."""
    app.sql_slots = asyncio.Semaphore(max(app.settings.sql_concurrency, 1))
    async def sql(request: Request) -> Response:
        token = await app._authenticate(request)
        headers = app._limit(token)
        text, values = await _request_sql(request, app.settings.sql_max_query_bytes)
        pipe = next((v for k, v in reversed(values) if k == "pipeline" and v), None)
        if pipe is not None:
            _readable_pipe(token, pipe)
        return await _answer(app, token, text, values, pipe, headers)

    return [Route("/v0/sql", guard(sql), methods=["GET", "POST"])]


async def over_pipe(app, request: Request, token: tokens.Token, pipe: pipes.Pipe, fmt: str) -> Response:
    """GET /v0/pipes/<pipe>.<fmt>?q=...: SQL over the pipe's result as `_`, answered in `fmt`
    unless the SQL ends in a FORMAT."""
    headers = app._limit(token)
    values = list(request.query_params.multi_items())
    text = request.query_params.get("q", "")
    return await _answer(app, token, text, values, pipe.name, headers, default=pipes.ENGINE_FORMATS[fmt])


async def _answer(app, token: tokens.Token, text: str, values, pipe: str | None, headers: dict,
                  default: str | None = None) -> Response:
    params = QueryParams([(k, v) for k, v in values if k not in RESERVED])
    if app.sql_slots.locked():
        raise ApiError(503, f"{app.settings.sql_concurrency} SQL queries are running, the most at once "
                            "(SEGWORK_SQL_CONCURRENCY); retry in a moment", headers={"Retry-After": "1"})
    try:
        async with app.sql_slots:
            content, fmt = await app._run(lambda client: answer(client, app.settings, token, text, params, pipe, default))
    except sqlguard.SqlRefused as exc:
        raise ApiError(exc.status, str(exc)) from None
    except RecursionError:  # the engine lets ~300 nested calls through; walking them in Python may not
        raise ApiError(400, "the query is nested too deeply to check; flatten it (fewer nested calls)") from None
    return Response(content, media_type=MEDIA.get(fmt, TEXT), headers=headers)


def answer(client: Client, settings, token: tokens.Token, text: str, params: QueryParams, pipe: str | None = None,
           default: str | None = None) -> tuple[bytes, str]:
    """The query's answer and its format, read with the token's rights (see the module's doc).
    `client` is segwork's own (it makes the request's database); the query runs on the reader."""
    _sweep_leftovers(client)
    reader = db.reader_client(sqlguard.session_settings(settings), settings=settings)
    readable = [t for t in TABLES if token.can_query(t)]
    main = sqlguard.Scope(client.database, frozenset(
        [f"{client.database}.{t}" for t in readable] + [f"{client.database}.{t}_quarantine" for t in readable]
        + ["system.one"]))
    known = {p for p in pipes.PIPES if token.can_read(p)} | ({"_"} if pipe else set())
    policy = sqlguard.functions(client)
    parsed = sqlguard.parse(reader, policy, text, main, known)
    fmt = parsed.format or default or sqlguard.DEFAULT_FORMAT
    wanted = {n for n in parsed.tables if n in known}
    if not wanted:
        sqlguard.check_reads(reader, policy, parsed, main, known)
        return _shaped(sqlguard.run(reader, parsed.sql, main.database, fmt), fmt), fmt
    scratch = f"segwork_sql_{uuid.uuid4().hex[:16]}"
    try:
        db.command(client, "sql_scratch_create", {"db": scratch})
        names = [n for t in readable for n in (t, f"{t}_quarantine") if n in parsed.tables]  # the ones it names
        for name in names:  # a view's text cannot hold query parameters: names from TABLES, quoted
            _command(client, f"CREATE VIEW `{scratch}`.`{name}` AS SELECT * FROM `{client.database}`.`{name}`", {})
        for name in sorted(wanted):
            _materialize(client, scratch, name, pipes.PIPES[pipe if name == "_" else name], token, params)
        scope = sqlguard.Scope(scratch, main.tables | {f"{scratch}.{n}" for n in [*names, *wanted]})
        sqlguard.check_reads(reader, policy, parsed, scope, known)
        return _shaped(sqlguard.run(reader, parsed.sql, scratch, fmt), fmt), fmt
    finally:  # on segwork's client of this thread (a new one when a failed statement discarded it)
        db.command(db.thread_client(settings=settings), "sql_scratch_drop", {"db": scratch})


_swept: set[str] = set()  # embedded folders whose leftover request databases this process dropped
_sweeping = threading.Lock()  # a request waits for the sweep, so its own database is made after it


def _sweep_leftovers(client: Client) -> None:
    """Drop request databases a killed process left in an embedded folder (it reopens them from
    disk), once per process and folder. Only embedded: on a server, other processes' requests
    may be running in theirs."""
    if not embedded.usable(client):
        return
    with _sweeping:
        if client.database in _swept:
            return
        for (name,) in db.query_df(client, "sql_scratch_leftovers", {}, answer=False).itertuples(index=False):
            db.command(client, "sql_scratch_drop", {"db": name})
        _swept.add(client.database)


def _materialize(client: Client, scratch: str, name: str, pipe: pipes.Pipe, token: tokens.Token, params: QueryParams) -> None:
    """The pipe's result for these parameters (the token's pins win) as table `name` of the
    request's database: the pipe's own query, captured rather than answered (db.query_capture)."""
    pinned = pipes.pins(pipe, token.name, token.fixed_params)
    values = pipes.arguments(pipe, params, pinned)
    table = f"`{scratch}`.`{name}`"  # a generated name and a pipe's name from the whitelist (or _)
    while True:
        with db.query_capture() as out:
            pipe.call(client, values)
        _command(client, f"CREATE TABLE {table} ENGINE = Memory EMPTY AS\n{out.sql}", out.parameters, f"pipe '{pipe.name}'")
        _command(client, f"INSERT INTO {table}\n{out.sql}", out.parameters, f"pipe '{pipe.name}'")
        # Checked after it ran, as queries.exactly_at does: with a profile version newer than
        # as_of stored by now, the pipe is captured again and reads the history (once: that
        # version is remembered).
        if out.latest_read is None or not queries.needs_history(client, True, out.latest_read):
            return
        _command(client, f"DROP TABLE {table}", {}, f"pipe '{pipe.name}'")


def _command(client: Client, sql: str, parameters: dict, what: str = "the request's database") -> None:
    """One of segwork's own statements for a request (with the read limits); a limit the engine
    hit keeps its name (503/504), anything else is segwork's fault (500)."""
    try:
        client.command(sql, parameters=parameters, settings=db.read_settings(client))
    except ClickHouseError as exc:
        db.discard(client)  # as sqlguard's reader: a failed call may leave output behind
        raise EngineError(f"{what}: {str(exc).splitlines()[0][:300]}", code=getattr(exc, "code", None),
                          name=getattr(exc, "name", None)) from None


def _shaped(content: bytes, fmt: str) -> bytes:
    """As the pipes answer: JSON always has rows_before_limit_at_least (the rows returned when the
    engine gives none: a true lower bound); CSV text cells that look like formulas get a leading '."""
    if fmt in ("JSON", "JSONCompact") and b'"rows_before_limit_at_least"' not in content:
        envelope = json.loads(content)
        envelope["rows_before_limit_at_least"] = envelope.get("rows", 0)
        return json.dumps(envelope, ensure_ascii=False).encode()
    if fmt == "CSVWithNames":
        return exports.engine_csv(content)
    if fmt == "CSV":  # no header: a line start before the first cell, so it is checked as every other
        return exports.engine_csv(b"\n" + content)[1:]
    return content


def _readable_pipe(token: tokens.Token, name: str) -> None:
    if name not in pipes.PIPES:
        raise ApiError(404, f"there is no pipe '{name}' (pipeline=); the pipes are {', '.join(pipes.PIPES)}")
    if not token.can_read(name):
        raise ApiError(403, f"token '{token.name}' may not read pipe '{name}'; it needs the scope {tokens.READ}:{name}")


async def _request_sql(request: Request, limit: int) -> tuple[str, list[tuple[str, str]]]:
    """The SQL and the other parameters: q in the query string, else q in a form body, else the
    body itself is the SQL (what the SDKs and `tb sql` send for long queries)."""
    values = list(request.query_params.multi_items())
    text = request.query_params.get("q")
    if request.method == "POST":
        raw = await body.read(request, limit)
        if text is None:
            kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
            form = parse_qsl(raw.decode("utf-8", "replace"), keep_blank_values=True) if kind == "application/x-www-form-urlencoded" else []
            if any(k == "q" for k, _ in form):
                values += form
                text = next(v for k, v in form if k == "q")
            else:
                try:
                    text = raw.decode("utf-8")
                except UnicodeDecodeError:
                    raise ApiError(400, "the SQL in the body is not UTF-8 text") from None
    if not text or not text.strip():
        raise ApiError(400, "no query: send q=SELECT ... in the query string or a form body, or the SQL as the body")
    if len(text.encode()) > limit:
        raise ApiError(413, f"the query is longer than {limit:,} bytes (SEGWORK_SQL_MAX_QUERY_BYTES)")
    return text, values
