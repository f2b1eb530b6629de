"""/v0/segments: saved segment definitions over HTTP, with an ADMIN token (what `python -m segwork
segment list|show|apply|delete` does; through a running workbench the CLI calls these).

  GET    /v0/segments                 the saved segments (latest versions)
  GET    /v0/segments/<name>[?version=N]  one as YAML, with its versions
  POST   /v0/segments[?note=..]       a YAML body of definitions: each saved as a new version
  DELETE /v0/segments/<name>          removed (its versions stay readable)
A segment's members and sizes are pipes (segment_members, segment_sizes), read with PIPES:READ.
"""
from __future__ import annotations

import json

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from segwork import custom, params
from segwork.api import body

MAX_BODY = 1024 * 1024  # a YAML file of definitions


def routes(app, guard) -> list[Route]:
    """The routes, bound to the API object `app` (its authentication, limits and engine threads),
    each handler wrapped by `guard` (errors answered as JSON)."""
    async def listing(request: Request) -> Response:
        headers = await app._admin(request, "reading saved segments")
        found = await app._run(custom.listing)
        return JSONResponse({"segments": json.loads(found.to_json(orient="records", date_format="iso"))}, headers=headers)

    async def show(request: Request) -> Response:
        headers = await app._admin(request, "reading saved segments")
        name, version = request.path_params["name"], request.query_params.get("version")
        version = params.integer("version", version, minimum=1)
        segment = await app._run(lambda client: custom.get(client, name, version))
        found = await app._run(lambda client: custom.versions(client, name))
        versions = json.loads(found.drop(columns=["definition"]).to_json(orient="records", date_format="iso"))
        return JSONResponse({"name": segment.name, "yaml": custom.to_yaml(segment), "definition": custom.to_dict(segment),
                             "versions": versions}, headers=headers)

    async def apply(request: Request) -> Response:
        headers = await app._admin(request, "saving segments")
        text = (await body.read(request, MAX_BODY)).decode("utf-8", errors="strict")
        note = params.text("note", request.query_params.get("note")) or ""
        segments = custom.from_yaml(text)
        saved = await app._run(lambda client: [(s.name, custom.save(client, s, note)) for s in segments])
        return JSONResponse({"saved": [{"name": n, "version": v} for n, v in saved]}, headers=headers)

    async def remove(request: Request) -> Response:
        headers = await app._admin(request, "removing segments")
        name = request.path_params["name"]
        version = await app._run(lambda client: custom.remove(client, name))
        return JSONResponse({"name": name, "removed": True, "version": version}, headers=headers)

    return [Route("/v0/segments", guard(listing), methods=["GET"]), Route("/v0/segments", guard(apply), methods=["POST"]),
            Route("/v0/segments/{name}", guard(show), methods=["GET"]),
            Route("/v0/segments/{name}", guard(remove), methods=["DELETE"])]

