"""The HTTP API's admin endpoints (an ADMIN token): tokens, the overview, column mappings and the
record of segment exports, as `python -m segwork` shows them. Routes bound to the API object
(segwork.api.app.Api: its authentication and engine threads)."""
from __future__ import annotations

import json

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from segwork import overview, params, through_time
from segwork.api import pipes, tokens
from segwork.api.responses import ApiError
from segwork.mapping import store as mapping_store


def routes(app, guard) -> list[Route]:
    """The routes, each handler wrapped by `guard` (errors answered as JSON)."""
    async def list_tokens(request: Request) -> Response:
        """GET /v0/tokens (ADMIN): every token's name, scopes and pins, never a secret; failed authentications per client."""
        headers = await app._admin(request)
        found = await app._run(tokens.list_all)
        return JSONResponse({"tokens": [t.as_dict() for t in found], "auth_failures": app.failures.snapshot()}, headers=headers)

    async def create_token(request: Request) -> Response:
        """POST /v0/tokens?name=..&scope=..[&scope=..][&fixed_param=key=value] (ADMIN)."""
        headers = await app._admin(request)
        q = request.query_params
        fixed = parse_fixed_params(q.getlist("fixed_param"))
        secret, token = await app._run(lambda client: tokens.create(client, q.get("name", ""), q.getlist("scope"), fixed, pipes.PIPES))
        app.tokens.invalidate()
        return JSONResponse({**token.as_dict(), "token": secret}, headers=headers)

    async def revoke_token(request: Request) -> Response:
        """DELETE /v0/tokens/<name> (ADMIN)."""
        headers = await app._admin(request)
        name = request.path_params["name"]
        try:
            token = await app._run(lambda client: tokens.revoke(client, name))
        except tokens.TokenError as exc:
            raise ApiError(404, str(exc)) from None
        app.tokens.invalidate()
        return JSONResponse(token.as_dict(), headers=headers)

    async def info(request: Request) -> Response:
        """GET /v0/info (ADMIN): what `python -m segwork info` shows (segwork.overview.info)."""
        headers = await app._admin(request, "reading the database's overview")
        return JSONResponse(await app._run(overview.info), headers=headers)

    async def mappings(request: Request) -> Response:
        """GET /v0/mappings (ADMIN): the built-in and saved column mappings, as `python -m segwork mappings` lists them."""
        headers = await app._admin(request, "reading the column mappings")
        return JSONResponse({"mappings": await app._run(mapping_store.described)}, headers=headers)

    async def segment_exports(request: Request) -> Response:
        """GET /v0/segment_exports[?segment=..] (ADMIN): the recorded enter/exit exports, newest first."""
        headers = await app._admin(request, "reading the recorded segment exports")
        segment = request.query_params.get("segment") or None
        found = await app._run(lambda client: through_time.exports_made(client, segment))
        return JSONResponse({"exports": json.loads(found.to_json(orient="records", date_format="iso"))}, headers=headers)

    async def record_segment_export(request: Request) -> Response:
        """POST /v0/segment_exports?segment=..&since=..&until=..&entered=N&exited=N&destination=.. (ADMIN):
        record that a segment's enters/exits were handed out (`since=last` starts there next time)."""
        headers = await app._admin(request, "recording a segment export")
        q = request.query_params
        counts = {k: params.integer(k, q.get(k), default=0, minimum=0) for k in ("entered", "exited")}
        await app._run(lambda client: through_time.record_export(client, q.get("segment", ""), q.get("since"), q.get("until"),
                                                                   counts["entered"], counts["exited"], q.get("destination", "")))
        return JSONResponse({"recorded": True}, headers=headers)

    return [
        Route("/v0/tokens", guard(list_tokens), methods=["GET"]),
        Route("/v0/tokens", guard(create_token), methods=["POST"]),
        Route("/v0/tokens/{name}", guard(revoke_token), methods=["DELETE"]),
        Route("/v0/info", guard(info), methods=["GET"]),
        Route("/v0/mappings", guard(mappings), methods=["GET"]),
        Route("/v0/segment_exports", guard(segment_exports), methods=["GET"]),
        Route("/v0/segment_exports", guard(record_segment_export), methods=["POST"]),
    ]


def parse_fixed_params(items: list[str]) -> dict[str, str]:
    """['customer_id=c1', ...] -> {'customer_id': 'c1'}."""
    fixed = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise tokens.TokenError(f"fixed parameter {item!r}: write it as key=value, e.g. customer_id=c0000042")
        if key.strip() in fixed:
            raise tokens.TokenError(f"fixed parameter {key.strip()!r} is pinned twice; pin each parameter once")
        fixed[key.strip()] = value
    return fixed
