"""`python -m segwork token ...` and `python -m segwork serve`: API tokens and the API alone."""
from __future__ import annotations

import sys

from segwork.api import logs, pipes, tokens
from segwork.api.admin import parse_fixed_params
from segwork.api.app import create_app
from segwork.cli import command, through_workbench
from segwork.config import Settings
from segwork.db import connect, describe_engine, is_embedded

FIRST_START = """\
No API tokens exist yet, so every request will be refused. To create an admin token (it is
printed once, on the last line):

    python -m segwork token create admin --scope ADMIN

{where}Then call the API with 'Authorization: Bearer <token>' or '?token=<token>'. Narrower tokens:
--scope DATASOURCES:APPEND:customer_events, --scope PIPES:READ:customer_segment_lookup
--fixed-param customer_id=c0000042 (row-level security), or POST /v0/tokens with the admin token.
"""


@command("token", "Create, list or revoke HTTP API tokens (stored hashed; a new token is printed once).")
def run_token(args, settings: Settings) -> int:
    remote = through_workbench(settings)
    client = None if remote else connect(settings=settings)
    if args.action == "create":
        fixed = parse_fixed_params(args.fixed_param or [])
        secret, token = (remote.create_token(args.name, args.scope or [], fixed) if remote
                         else tokens.create(client, args.name, args.scope or [], fixed, pipes.PIPES))
        pins = ", ".join(f"{k}={v}" for k, v in token.fixed_params.items())
        print(f"created token '{token.name}' with scopes {', '.join(token.scopes)}" + (f", pinned {pins}" if pins else ""))
        print("store it now: it is shown only this once (segwork keeps only its SHA-256):")
        print(secret)
    elif args.action == "list":
        found = remote.list_tokens() if remote else tokens.list_all(client)
        if not found:
            print("(no tokens; create one with: python -m segwork token create admin --scope ADMIN)")
        for t in found:
            pins = " ".join(f"{k}={v}" for k, v in t.fixed_params.items())
            state = "revoked" if t.revoked else "active"
            created = f"{t.created_at:%Y-%m-%d %H:%M:%S}" if t.created_at else "-"
            print(f"{t.name:<24}{state:<9}{created:<21}{' '.join(t.scopes)}" + (f"  pinned: {pins}" if pins else ""))
    else:
        token = remote.revoke_token(args.name) if remote else tokens.revoke(client, args.name)
        print(f"revoked token '{token.name}' (a running API in another process stops accepting it within "
              f"{tokens.CACHE_SECONDS:.0f} s)")
    return 0


def _token_arguments(parser) -> None:
    sub = parser.add_subparsers(dest="action", required=True)
    create = sub.add_parser("create", help="create a token and print it once, alone on the last line")
    create.add_argument("name", help="a name for the token (letters, digits, _ - .)")
    create.add_argument("--scope", action="append", required=True, metavar="SCOPE",
                        help="ADMIN, DATASOURCES:APPEND:<table>, DATASOURCES:READ:<table> (SQL) or PIPES:READ:<pipe>; repeat for several")
    create.add_argument("--fixed-param", action="append", metavar="KEY=VALUE",
                        help="pin a pipe parameter for this token (row-level security), e.g. customer_id=c0000042")
    sub.add_parser("list", help="list tokens: name, state, creation time, scopes, pinned parameters")
    revoke = sub.add_parser("revoke", help="revoke a token by name")
    revoke.add_argument("name")


run_token.arguments = _token_arguments


# uvicorn's options for segwork's API wherever it is served (`serve`, tests/apikit.py, bench/api_compare.py).
# The HTTP parser is named: uvicorn's "auto" takes httptools wherever it can import it, and the server
# run must be the one tested (tests/test_api_server.py). Why h11 and not httptools: README, Performance.
# (The workbench's API is served by Streamlit's own uvicorn, which chooses its parser itself.)
SERVER_OPTIONS = {"http": "h11", "access_log": False}


@command("serve", "Run the HTTP API alone (uvicorn) on the configured database.")
def run_serve(args, settings: Settings) -> int:
    import uvicorn

    host = args.host or settings.api_host
    port = args.port if args.port is not None else settings.api_port
    client = connect(settings=settings)  # a clear error now if another process holds the database
    if not any(not t.revoked for t in tokens.list_all(client)):
        where = ("The embedded database is held by one process at a time: stop this server (Ctrl+C), create the\n"
                 "token, and start it again (with SEGWORK_DSN set to a ClickHouse server, run it alongside).\n"
                 if is_embedded(client) else "")
        print(FIRST_START.format(where=where), file=sys.stderr)
    print(f"segwork API on http://{host}:{port}/v0/ — {describe_engine(client)}", file=sys.stderr)
    with logs.off_the_loop():
        # uvicorn's own access log would print query strings, and so ?token=; segwork.api logs paths only.
        # log_config=None: uvicorn's loggers keep no stderr handler of their own and go through the queue too.
        uvicorn.run(create_app(settings), host=host, port=port, log_level="info", log_config=None, **SERVER_OPTIONS)
    return 0


run_serve.arguments = lambda p: (
    p.add_argument("--host", help=f"address to listen on (default SEGWORK_API_HOST or {Settings().api_host})"),
    p.add_argument("--port", type=int, help=f"port (default SEGWORK_API_PORT or {Settings().api_port})"),
)
