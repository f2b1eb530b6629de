"""The HTTP API's routes: Events API, Data Sources API, pipe endpoints, tokens (Starlette).

`mounted(settings)` is what the workbench mounts next to Streamlit (one process, one embedded
database); `create_app(settings)` is the same routes as a standalone ASGI app (`serve`).
Engine work runs on a small pool of threads, each with its own client (a client serialises
its calls), so slow queries do not stall the event loop or each other.
"""
from __future__ import annotations

import asyncio
import functools
import logging
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from typing import Callable

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from segwork import db
from segwork.ingestion import read as readers
from segwork.api import admin, body, jobs, pipes, query, responses, segments, tokens, workspace
from segwork.api.accept import Accepting
from segwork.api.coalesce import Coalescer
from segwork.api.accesslog import AccessLog
from segwork.api.authlog import AuthFailures, peer
from segwork.api.ratelimit import RateLimiter
from segwork.api.responses import ApiError
from segwork.config import Settings
from segwork.errors import SegworkError
from segwork.ingestion import Dialect, ingest, ingestlog, joined
from segwork.schemas import TABLES, columns

log = logging.getLogger("segwork.api")
METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
CORS = {"Access-Control-Allow-Origin": "*"}  # tokens are bearer tokens, never cookies
UPLOAD_OPTIONS = ("format", "mapping", "delimiter", "decimal", "encoding", "sheet")  # ingest options POST /v0/datasources applies (query parameters of these names)
INLINE_BYTES = 64 * 1024  # a plain Events API body up to this is decoded on the event loop (~0.1 ms), not on a thread
OPTIONS_HEADER = "X-Segwork-Options"  # the ingest options segwork's CLI sends: refused unless applied


def mounted(settings: Settings) -> tuple[list[BaseRoute], Callable]:
    """Every API route under /v0/ (clear of Streamlit's reserved paths), bound to `settings`, and
    the lifespan that closes the API when the app mounting them stops (the workbench: what the
    spool holds is written first, up to 30 s, as `serve` does)."""
    api = Api(settings)
    return api.routes(), _closing(api)


def create_app(settings: Settings) -> Starlette:
    """The API alone, as an ASGI app, with an access log that never shows query strings."""
    api = Api(settings)
    return Starlette(routes=api.routes(), lifespan=_closing(api), middleware=[Middleware(AccessLog)],
                     exception_handlers={Exception: _internal_error})


def _closing(api: "Api") -> Callable:
    @asynccontextmanager
    async def lifespan(app):
        yield
        await asyncio.get_running_loop().run_in_executor(None, api.close)  # the drain's last write: off the loop

    return lifespan


class Api:
    """The endpoints, with what they share: settings, engine threads, token cache, rate limiter, auth failures."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.tokens = tokens.TokenCache()
        self.limiter = RateLimiter(settings.api_rate_limit_per_minute)
        self.failures = AuthFailures()
        self._pool = ThreadPoolExecutor(max_workers=max(settings.api_threads, 1), thread_name_prefix="segwork-api")
        self.coalescer = Coalescer(settings, self._pool, max_rows=settings.chunk_rows)
        self.accepting = Accepting(settings) if settings.spool_on else None
        self._routes = self._make_routes()

    def routes(self) -> list[BaseRoute]:
        return list(self._routes)

    def _make_routes(self) -> list[BaseRoute]:
        return [
            Route("/v0/events", _guard(self.events), methods=["POST"]),
            Route("/v0/datasources", _guard(self.datasources), methods=["GET"]),
            Route("/v0/datasources", _guard(self.append), methods=["POST"]),
            Route("/v0/pipes", _guard(self.pipes), methods=["GET"]),
            Route("/v0/pipes/{pipe}.{fmt}", _guard(self.pipe), methods=["GET"]),
            *admin.routes(self, _guard),  # tokens, info, mappings, segment exports (ADMIN)
            *segments.routes(self, _guard),
            *workspace.routes(self, _guard), *jobs.routes(self, _guard),  # what the seed system's CLIs and SDKs read
            *query.routes(self, _guard),  # /v0/sql
            Route("/v0/{rest:path}", _guard(self.elsewhere), methods=METHODS),
        ]

    def close(self) -> None:
        if self.accepting is not None:
            self.accepting.close()
        self._pool.shutdown(wait=False, cancel_futures=True)
        self.failures.flush()

    # --- Events API and Data Sources API ---------------------------------------------------

    async def events(self, request: Request) -> Response:
        """POST /v0/events?name=<table>[&wait=true]: NDJSON or one JSON object, maybe gzip."""
        token = await self._authenticate(request)
        table = self._table(request)
        if not token.can_append(table):
            raise ApiError(403, f"token '{token.name}' may not append to {table}; it needs the scope "
                                f"{tokens.APPEND}:{table} (or {tokens.ADMIN})")
        headers = self._limit(token)
        wait = _flag(request, "wait")
        raw = await body.read(request, self.settings.api_max_body_bytes)
        source = f"POST /v0/events ({token.name})"
        if self.accepting is not None and not wait:  # answered once on disk (segwork.api.accept)
            encoding = request.headers.get("content-encoding")
            args = (table, source, raw, encoding)
            if len(raw) <= INLINE_BYTES and raw[:2] != b"\x1f\x8b" and not encoding:
                prepared = self.accepting.prepare(*args)  # ~0.1 ms: no await between the body's end and the spool
            else:
                async with _departure(request) as gone:  # decoded off the loop: its client may leave meanwhile
                    prepared = await self._offload(self.accepting.prepare, *args)
                    await _still_there(request, gone)
            if prepared is not None:
                return JSONResponse(await self.accepting.accept(*prepared), status_code=202, headers=headers)
        async with _departure(request) as gone:
            payload, fmt = await self._offload(body.events_body, raw, request.headers.get("content-encoding"),
                                               self.settings.api_max_inflated_bytes)
            await _still_there(request, gone)
            started = time.perf_counter()
            if fmt == "ndjson" and len(payload) <= self.settings.api_coalesce_bytes:  # written with concurrent requests
                report = await self.coalescer.ingest(table, joined.Body(payload, source))
            else:
                report = await self._run(lambda client: ingest(client, table, payload, format=fmt, settings=self.settings,
                                                               source_name=source))
        headers["Server-Timing"] = _timing("ingest", started)
        result = {"successful_rows": report.accepted, "quarantined_rows": report.quarantined,
                  "duplicate_rows": report.duplicates, "import_id": report.ingest_id}
        if report.quarantined:
            result["quarantine_reasons"] = [{"reason": r, "rows": n} for r, n in report.reasons]
        # Rows are inserted before the answer either way (segwork.api.coalesce); wait only picks 200 over 202.
        return JSONResponse(result, status_code=200 if wait else 202, headers=headers)

    async def append(self, request: Request) -> Response:
        """POST /v0/datasources?name=<table>&mode=append: a file (multipart or raw body)."""
        token = await self._authenticate(request)
        table = self._table(request)
        self.check_append(request, token, table, request.query_params.get("mode", "append"))
        headers = self._limit(token)
        fmt = request.query_params.get("format")
        mapping = request.query_params.get("mapping") or None  # a saved or built-in mapping, by name
        q = request.query_params
        delimiter = q.get("delimiter") or q.get("dialect_delimiter") or None  # the seed system's name for it (verdin sends it)
        dialect = Dialect(delimiter=delimiter, decimal=q.get("decimal") or ".",  # as the CLI takes them
                          encoding=q.get("encoding") or None, sheet=q.get("sheet") or None)
        unknown = [o for o in request.headers.get(OPTIONS_HEADER, "").split(",") if o.strip() and o.strip() not in UPLOAD_OPTIONS]
        if unknown:  # sent by segwork's CLI through a workbench: an option this API would ignore must not be
            raise ApiError(400, f"this segwork's API does not apply the ingest option(s) {', '.join(unknown)} to uploads; "
                                "stop the workbench and run the command again to ingest the file directly")
        report = await self.ingest_upload(request, table, fmt=fmt, source=f"POST /v0/datasources ({token.name})",
                                          mapping=mapping, dialect=dialect)
        return JSONResponse({
            "import_id": report.ingest_id, "datasource": {"name": table}, "error": False,
            "rows_read": report.rows_read, "successful_rows": report.accepted, "duplicate_rows": report.duplicates,
            "quarantine_rows": report.quarantined,
            "quarantine_reasons": [{"reason": r, "rows": n} for r, n in report.reasons],
            "ignored_columns": report.ignored_columns, "elapsed": round(report.elapsed_s, 3),
            "report": report.as_dict(),  # the whole report, as `python -m segwork ingest` prints it
            **jobs.blocks(report),  # the seed system's blocks: its classic CLI prints their lines as the rows appended
        }, headers=headers)

    async def datasources(self, request: Request) -> Response:
        """GET /v0/datasources: the tables this token may append to or read, with their columns."""
        token = await self._authenticate(request)
        headers = self._limit(token)
        found = [{"name": t, "columns": columns(t), "required": TABLES[t]["required"], "quarantine": f"{t}_quarantine"}
                 for t in TABLES if token.can_describe(t)]
        incomplete = await self._run(lambda client: ingestlog.incomplete(client)) if found else None
        described = await self._run(lambda client: workspace.listed(client, [d["name"] for d in found]))
        for d in found:
            d.update(described[d["name"]])  # id, created_at, updated_at, type, statistics (segwork.api.workspace)
            # interrupted ingests into this table: what is in and what to do
            d["incomplete_ingests"] = [
                {"import_id": r["ingest_id"], "source": r["source"], "rows_read": int(r["rows_read"]),
                 "inserted_at_least": int(r["inserted"]), "status": r["status"], "started_at": r["started_at"].isoformat(),
                 "what_to_do": ingestlog.describe(r)}
                for _, r in incomplete[incomplete["table_name"] == d["name"]].iterrows()]
        return JSONResponse({"datasources": found}, headers=headers)

    # --- pipes -------------------------------------------------------------------------

    async def pipes(self, request: Request) -> Response:
        """GET /v0/pipes: the pipes this token may read, with their parameters."""
        token = await self._authenticate(request)
        headers = self._limit(token)
        found = [p for p in pipes.PIPES.values() if token.can_read(p.name)]
        ws = await self._run(workspace.identity) if found else None
        found = [workspace.pipe_description(p, ws, str(request.base_url)) for p in found]
        return JSONResponse({"pipes": found}, headers=headers)

    async def pipe(self, request: Request) -> Response:
        """GET /v0/pipes/<pipe>.<json|csv|ndjson|parquet>?<parameters>."""
        token = await self._authenticate(request)
        name, fmt = request.path_params["pipe"], request.path_params["fmt"]
        pipe = pipes.PIPES.get(name)
        if pipe is None:
            raise ApiError(404, f"there is no pipe '{name}'; the pipes are {', '.join(pipes.PIPES)}")
        if fmt not in responses.FORMATS:
            raise ApiError(404, f"'.{fmt}' is not a format of pipe '{name}'; use .json, .csv, .ndjson or .parquet")
        if not token.can_read(name):
            raise ApiError(403, f"token '{token.name}' may not read pipe '{name}'; it needs the scope {tokens.READ}:{name}")
        if request.query_params.get("q"):  # SQL over the pipe's result as `_`
            return await query.over_pipe(self, request, token, pipe, fmt)
        pinned = pipes.pins(pipe, token.name, token.fixed_params)
        headers = self._limit(token)
        values = pipes.arguments(pipe, request.query_params, pinned)
        started = time.perf_counter()
        content = await self._run(lambda client: pipes.run(pipe, client, values, fmt))
        headers["Server-Timing"] = _timing("query", started)
        return Response(content, media_type=responses.MEDIA_TYPES[fmt], headers=headers)

    async def elsewhere(self, request: Request) -> Response:
        """Any other /v0/ request: CORS preflight, wrong method, or unknown path (JSON, not Streamlit's page)."""
        if request.method == "OPTIONS":
            return Response(status_code=204, headers={**CORS, "Access-Control-Allow-Methods": "GET, POST, DELETE, OPTIONS",
                                                      "Access-Control-Allow-Headers": "Authorization, Content-Type, Content-Encoding",
                                                      "Access-Control-Max-Age": "86400"})
        allowed = [m for r in self._routes[:-1] if r.path_regex.match(request.url.path) for m in r.methods or ()]
        if allowed:
            raise ApiError(405, f"{request.method} is not allowed on {request.url.path}; use {', '.join(sorted(set(allowed) - {'HEAD'}))}",
                           {"Allow": ", ".join(sorted(set(allowed)))})
        raise ApiError(404, f"there is no endpoint {request.url.path}; see /v0/pipes, /v0/events, /v0/datasources, /v0/tokens")

    # --- shared steps ------------------------------------------------------------------

    async def _authenticate(self, request: Request) -> tokens.Token:
        self.failures.check()
        presented = _presented_token(request)
        if not presented:
            self.failures.failed(peer(request), 401)
            raise ApiError(401, "no token: send 'Authorization: Bearer <token>' or add ?token=<token>",
                           {"WWW-Authenticate": "Bearer"})
        token = self.tokens.cached(presented) or await self._run(lambda client: self.tokens.lookup(client, presented))
        if token is None:
            self.failures.failed(peer(request), 403)
            raise ApiError(403, "invalid token: it is unknown or revoked; create one with "
                                "`python -m segwork token create NAME --scope SCOPE`")
        return token

    async def _admin(self, request: Request, what: str = "managing tokens") -> dict[str, str]:
        token = await self._authenticate(request)
        if not token.is_admin:
            raise ApiError(403, f"token '{token.name}' is not an {tokens.ADMIN} token; {what} needs one")
        return self._limit(token)

    def _limit(self, token: tokens.Token) -> dict[str, str]:
        decision = self.limiter.hit(token.name)
        if not decision.allowed:
            raise ApiError(429, f"too many requests with token '{token.name}': the limit is {decision.limit} per minute; "
                                f"retry after {decision.retry_after_s} s", decision.headers())
        return decision.headers()

    def check_append(self, request: Request, token: tokens.Token, table: str, mode: str) -> None:
        """A file append (POST /v0/datasources, POST /v1/datasources/<name>/append) may go ahead:
        mode append, no url= import, the token's APPEND scope on the table."""
        if mode != "append":
            raise ApiError(400, f"mode={mode} is not supported: segwork's data sources have a fixed schema; use mode=append")
        if request.query_params.get("url"):
            raise ApiError(400, "url= imports are not supported; send the file itself (curl -F csv=@file.csv, or as the body)")
        if not token.can_append(table):
            raise ApiError(403, f"token '{token.name}' may not append to {table}; it needs the scope {tokens.APPEND}:{table}")

    async def ingest_upload(self, request: Request, table: str, *, fmt: str | None, source: str, mapping=None,
                            dialect: Dialect | None = None):
        """The request's file (multipart or raw body) ingested into `table`; its IngestReport. A
        client that hangs up before the ingest starts gets nothing in. A multipart field named
        like a format (csv, ndjson, parquet) tells the format when `fmt` does not; a file name
        names the source."""
        file, filename, field = await body.upload(request, self.settings.api_max_upload_bytes)
        try:
            async with _departure(request) as gone:
                await _still_there(request, gone)
                fmt = fmt or (field if field in readers.FORMATS else None)
                return await self._run(lambda client: ingest(client, table, file, format=fmt, settings=self.settings.for_uploads(),
                                                             source_name=filename or source, mapping=mapping,
                                                             dialect=dialect or Dialect()))
        finally:
            file.close()

    def _table(self, request: Request) -> str:
        name = request.query_params.get("name")
        if not name:
            raise ApiError(400, f"the 'name' parameter is required: the data source to append to ({', '.join(TABLES)})")
        if name not in TABLES:
            raise ApiError(404, f"there is no data source '{name}'; the data sources are {', '.join(TABLES)}")
        return name

    async def _run(self, work):
        """Run work(client) on an engine thread with that thread's own client."""
        return await self._offload(_with_client, self.settings, work)

    async def _offload(self, fn, *args):
        """fn(*args) on one of the API's threads: CPU work on a body (gunzip, sniffing) and engine
        calls never run on the event loop, where they would hold up every other request."""
        return await asyncio.get_running_loop().run_in_executor(self._pool, functools.partial(fn, *args))


def _timing(name: str, started: float) -> str:
    """A Server-Timing value: how long the engine work took, as the server measured it."""
    return f"{name};dur={(time.perf_counter() - started) * 1000:.1f}"


def _with_client(settings: Settings, work):
    return work(db.thread_client(settings=settings))


def _guard(handler):
    """Answer SegworkErrors as {"error", "documentation"} with their status; anything else is a
    bug: a JSON 500 that says so, its traceback logged (never Starlette's plain-text 500)."""
    @functools.wraps(handler)
    async def guarded(request: Request) -> Response:
        try:
            response = await handler(request)
        except SegworkError as exc:
            response = responses.error(exc)
            if response.status_code >= 500:
                log.error("%s %s failed: %s", request.method, request.url.path, exc)
        except Exception as exc:
            response = await _internal_error(request, exc)
        response.headers.update(CORS)
        return response
    return guarded


async def _internal_error(request: Request, exc: Exception) -> Response:
    """A bug's JSON 500, its traceback logged under a reference the answer gives. Also the app's
    handler for anything raised outside a route (Starlette then re-raises it to the server)."""
    response, ref = responses.internal_error()
    log.error("%s %s: internal error %s", request.method, request.url.path, ref, exc_info=exc)
    return response


@asynccontextmanager
async def _departure(request: Request):
    """Within the block, gone() tells whether the client has hung up. Once its body is read,
    the next ASGI message is http.disconnect when the client leaves; a task waits for it."""
    left = asyncio.Event()

    async def listen() -> None:
        while (await request.receive())["type"] != "http.disconnect":
            pass
        left.set()

    watcher = asyncio.create_task(listen())
    try:
        yield left.is_set
    finally:
        watcher.cancel()


async def _still_there(request: Request, gone) -> None:
    """400 instead of ingesting a body whose client left while it was read or decoded: nobody
    would learn what was stored (a client that retries would count its rows as duplicates)."""
    await asyncio.sleep(0)  # the watcher's turn: a client that hung up with its last byte is heard now
    if gone():
        log.info("%s %s: the client went away before its body was ingested; nothing was inserted",
                 request.method, request.url.path)
        raise ApiError(400, "the client went away before the body was ingested; nothing was inserted")


def _presented_token(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return request.query_params.get("token") or None


def _flag(request: Request, name: str) -> bool:
    value = request.query_params.get(name, "false").lower()
    if value in ("true", "1", "yes"):
        return True
    if value in ("false", "0", "no", ""):
        return False
    raise ApiError(400, f"parameter '{name}': Error validating '{value[:40]}' to type Boolean (use true or false)")
