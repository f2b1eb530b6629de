"""What the seed system's clients read about the workspace, its data sources and its pipes.

  GET /v0/workspace, /v1/workspace  any valid token: id, name, user_email, user_id, scope ("admin" for an
                                  ADMIN token, else null: the CLIs then warn it is not an admin token), main
  GET /v0/datasources/<name>      a data source's description (DATASOURCES:APPEND:<name> or ADMIN):
                                  id, times, engine, schema.columns with types and jsonpaths, statistics
  GET /v0/pipes/<name>            a pipe's description (PIPES:READ:<name> or ADMIN): one endpoint node
                                  with its SQL and typed parameters
  GET /examples/query.http        a pipe's URL as text (PIPES:READ:<pipe> or ADMIN; the Forward CLI's endpoint ls)
  ...<name>.datasource, ?format=datasource, /v0/pipes/<name>?format=pipe: the same as the seed system's
                                  datafile text (what its SDKs fetch to pull a project), for reading only

The classic `tb` asks /v0/workspace before every command given --host/--token, and reads a data
source's `statistics.row_count` after an append; `tb datasource ls` / `tb pipe ls` read
`created_at`/`updated_at` (the listings in app.py get them here too). Times are written as the
seed system writes them, `2025-12-17 13:18:09.799040` (UTC; the CLIs cut the last 7 characters).
Ids are stable: the workspace's is the database's UUID in the engine, a data source's its
table's, a pipe's derived from the workspace's and its name.
`statistics.row_count` is the rows queries read: for customers one per current customer (their
latest profile version, deleted ones left out, as `info` counts them), not the versions stored.
"""
from __future__ import annotations

import re
import uuid
from datetime import timezone
from urllib.parse import urlencode

import pandas as pd
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from segwork import db, sqlfiles
from segwork.api import pipes as pipe_defs, tokens
from segwork.api.responses import ApiError
from segwork.schemas import TABLES, columns

TIME_FORMAT = "%Y-%m-%d %H:%M:%S.%f"
DESCRIPTIONS = {"customers": "Customer profiles: one version per change, the latest is the profile",
                "customer_events": "Customer activity events: purchases, page views, logins and more"}


def routes(app, guard) -> list[Route]:
    """The routes, bound to the API object `app` (authentication, limits, engine threads)."""
    async def workspace(request: Request) -> Response:
        token = await app._authenticate(request)
        headers = app._limit(token)
        found = await app._run(identity)
        # Exactly these fields: tinybird-sdk builds a dataclass from them (an unknown key is a TypeError).
        return JSONResponse({"id": found["id"], "name": found["name"], "user_id": found["user_id"],
                             "user_email": found["user_email"], "scope": "admin" if token.is_admin else None,
                             "main": None}, headers=headers)

    async def datasource(request: Request) -> Response:
        token = await app._authenticate(request)
        name = request.path_params["name"]
        as_file = name.endswith(".datasource") or request.query_params.get("format") == "datasource"
        name = name.removesuffix(".datasource")
        if name not in TABLES:
            raise ApiError(404, f"there is no data source '{name}'; the data sources are {', '.join(TABLES)}")
        if not token.can_describe(name):
            raise ApiError(403, f"token '{token.name}' may not read data source '{name}'; it needs the scope "
                                f"{tokens.DS_READ}:{name} or {tokens.APPEND}:{name} (or {tokens.ADMIN})")
        headers = app._limit(token)
        found = await app._run(lambda client: described(client, [name]))
        if as_file:
            return PlainTextResponse(datasource_file(found[name]), headers=headers)
        return JSONResponse(found[name], headers=headers)

    async def pipe(request: Request) -> Response:
        token = await app._authenticate(request)
        name = request.path_params["name"]
        if name not in pipe_defs.PIPES:
            raise ApiError(404, f"there is no pipe '{name}'; the pipes are {', '.join(pipe_defs.PIPES)}")
        if not token.can_read(name):
            raise ApiError(403, f"token '{token.name}' may not read pipe '{name}'; it needs the scope {tokens.READ}:{name}")
        headers = app._limit(token)
        found = pipe_description(pipe_defs.PIPES[name], await app._run(identity), str(request.base_url))
        if request.query_params.get("format") == "pipe":
            return PlainTextResponse(pipe_file(found), headers=headers)
        return JSONResponse(found, headers=headers)

    async def example(request: Request) -> Response:
        """GET /examples/query.http?pipe=&format=&token=: a pipe's URL as text (the Forward CLI's
        `endpoint ls` / `endpoint url` print it). Only known pipes and formats, for a token that may
        read the pipe; the token goes back only to whoever presented it."""
        token = await app._authenticate(request)
        name, fmt = request.query_params.get("pipe", ""), request.query_params.get("format", "json")
        if name not in pipe_defs.PIPES:
            raise ApiError(404, f"there is no pipe '{name}'; the pipes are {', '.join(pipe_defs.PIPES)}")
        if fmt not in EXAMPLE_FORMATS:
            raise ApiError(400, f"format {fmt!r} is not one of {', '.join(EXAMPLE_FORMATS)}")
        if not token.can_read(name):
            raise ApiError(403, f"token '{token.name}' may not read pipe '{name}'; it needs the scope {tokens.READ}:{name}")
        query = {k: request.query_params[k] for k in ("token", "q") if request.query_params.get(k)}
        url = f"{str(request.base_url).rstrip('/')}/v0/pipes/{name}.{fmt}" + (f"?{urlencode(query)}" if query else "")
        return PlainTextResponse(url, headers=app._limit(token))

    return [Route("/v0/workspace", guard(workspace), methods=["GET"]),
            Route("/examples/query.http", guard(example), methods=["GET"]), Route("/v1/workspace", guard(workspace), methods=["GET"]),
            Route("/v0/datasources/{name}", guard(datasource), methods=["GET"]),
            Route("/v0/pipes/{name}", guard(pipe), methods=["GET"])]


EXAMPLE_FORMATS = ("json", "csv", "ndjson", "parquet")


def identity(client) -> dict:
    """The workspace: the database's name and stable id, when segwork made it, and who owns it."""
    row = db.query_df(client, "workspace_identity", {}, utc=True).iloc[0]
    ws = str(row["uuid"] or "")
    if not ws.strip("0-"):  # an engine without database UUIDs: one derived from the name
        ws = str(uuid.uuid5(uuid.NAMESPACE_URL, f"segwork:{row['name']}"))
    return {"id": ws, "name": str(row["name"]), "user_id": str(uuid.uuid5(uuid.UUID(ws), "owner")),
            "user_email": f"segwork@{row['name']}.localhost",
            "created_at": stamp(row["created_at"]) or stamp(pd.Timestamp.now(tz="UTC"))}  # never null: the CLIs cut it


def described(client, names: list[str]) -> dict[str, dict]:
    """Descriptions of the data sources `names`, as GET /v0/datasources/<name> answers them."""
    created = identity(client)["created_at"]
    stats = db.query_df(client, "datasource_statistics", {}, utc=True).set_index("name")
    types = db.query_df(client, "datasource_columns", {})
    out = {}
    for name in names:
        s = stats.loc[name]
        typed = dict(types[types["table"] == name][["name", "type"]].itertuples(index=False))
        cols = [{"name": c, "type": typed.get(c, "String"), "jsonpath": f"$.{c}", "nullable": False,
                 "default_value": None, "codec": None, "auto": False, "normalized_name": c} for c in columns(name)]
        out[name] = {
            "id": "t_" + str(s["uuid"]).replace("-", ""), "name": name, "description": DESCRIPTIONS.get(name, ""),
            "type": "csv", "created_at": created, "updated_at": stamp(s["last_ingest"]) or created,
            "engine": {"engine": s["engine"], "engine_full": s["engine_full"], "sorting_key": s["sorting_key"],
                       "partition_key": s["partition_key"]},
            "schema": {"columns": cols, "sql_schema": ", ".join(f"`{c['name']}` {c['type']} `json:{c['jsonpath']}`" for c in cols)},
            "columns": cols, "required": TABLES[name]["required"], "quarantine": f"{name}_quarantine",
            "statistics": {"row_count": int(s["row_count"]), "bytes": int(s["bytes"]) if pd.notna(s["bytes"]) else 0},
            "used_by": [], "headers": {}, "tags": {}, "indexes": [], "shared_with": [], "version": 0,
            "replicated": False, "new_columns_detected": False, "errors_discarded_at": None, "project": None,
        }
    return out


def listed(client, names: list[str]) -> dict[str, dict]:
    """The fields GET /v0/datasources adds to each listed data source (id, times, statistics)."""
    keep = ("id", "created_at", "updated_at", "type", "statistics")
    return {n: {k: d[k] for k in keep} for n, d in described(client, names).items()} if names else {}


def pipe_description(pipe, workspace: dict, base_url: str) -> dict:
    """A pipe as GET /v0/pipes/<name> answers it: one endpoint node with its SQL and parameters."""
    ids = pipe_ids(pipe.name, workspace["id"])
    sql_file = sqlfiles.SQL_DIR / f"{pipe.name}.sql"
    node = {"id": ids["node"], "name": f"{pipe.name}_endpoint", "sql": sql_file.read_text() if sql_file.exists() else "",
            "description": pipe.description, "materialized": None, "node_type": "endpoint", "dependencies": [],
            "params": [{"name": p.name, "type": p.type, "required": p.required, "default": p.default,
                        "description": p.description} for p in pipe.params],
            "created_at": workspace["created_at"], "updated_at": workspace["created_at"], "tags": {}, "version": 0}
    return {**pipe.as_dict(), "id": ids["pipe"], "type": "endpoint", "endpoint": ids["node"], "parent": None,
            "created_at": workspace["created_at"], "updated_at": workspace["created_at"], "nodes": [node],
            "url": f"{base_url.rstrip('/')}/v0/pipes/{pipe.name}.json", "workspace_id": workspace["id"]}


def datasource_file(ds: dict) -> str:
    """A data source as the seed system's .datasource text: description, schema with jsonpaths, engine."""
    engine = ds["engine"]
    lines = ["DESCRIPTION >", f"    {ds['description']}", "", "SCHEMA >",
             ",\n".join(f"    `{c['name']}` {c['type']} `json:{c['jsonpath']}`" for c in ds["schema"]["columns"]), "",
             f'ENGINE "{engine["engine"]}"']
    if engine["partition_key"]:
        lines.append(f'ENGINE_PARTITION_KEY "{engine["partition_key"]}"')
    if engine["sorting_key"]:
        lines.append(f'ENGINE_SORTING_KEY "{engine["sorting_key"]}"')
    version = re.match(r"ReplacingMergeTree\((\w+)\)", engine["engine_full"] or "")
    if version:
        lines.append(f'ENGINE_VER "{version.group(1)}"')
    return "\n".join(lines) + "\n"


def pipe_file(pipe: dict) -> str:
    """A pipe as the seed system's .pipe text: its endpoint node's SQL (segwork's own, with server-side
    {name:Type} parameters: for reading, not for the seed system to run)."""
    lines = ["DESCRIPTION >", f"    {pipe['description']}", ""]
    for node in pipe["nodes"]:
        lines += [f"NODE {node['name']}", "SQL >", *(f"    {line}" for line in node["sql"].rstrip().splitlines()), "",
                  f"TYPE {node['node_type']}", ""]
    return "\n".join(lines)


def pipe_ids(name: str, workspace_id: str) -> dict[str, str]:
    """Stable ids of a pipe and its endpoint node (t_ and 32 hex digits, as the seed system's)."""
    base = uuid.UUID(workspace_id)
    return {"pipe": "t_" + uuid.uuid5(base, f"pipe:{name}").hex, "node": "t_" + uuid.uuid5(base, f"node:{name}").hex}


def stamp(value) -> str | None:
    """A time as the seed system writes it, in UTC with microseconds; None when there is none."""
    if value is None or pd.isna(value):
        return None
    ts = pd.Timestamp(value)
    ts = ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")
    return ts.to_pydatetime().astimezone(timezone.utc).replace(tzinfo=None).strftime(TIME_FORMAT)
