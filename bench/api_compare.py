"""Pipes over HTTP against the same library call with the same parameters (issue 16, target 2).

    .venv/bin/python -m bench.api_compare [--size S|M] [--rounds 40]    (SEGWORK_DSN / SEGWORK_DATABASE: the data)

One process holds the database (chDB opens a folder in one process only) and runs the API
(`segwork.api.create_app`, uvicorn on a thread, as `python -m segwork serve` runs it) and the
library side by side. Each round asks every pipe once over HTTP (GET /v0/pipes/<pipe>.json,
httpx on loopback, the answer read whole) and once as the library call the pipe makes
(`Pipe.call`: segwork.customer_segment_lookup & co., a DataFrame), with the same parameters,
in alternating order; the two never overlap. Prints JSON: per pipe the milliseconds of each
way and the server's own time (Server-Timing: parameters parsed, engine answer in hand).
bench/api_bench.py runs it after its other phases and renders the table.
"""
from __future__ import annotations

import argparse
import gc
import json
import os
import random
import socket
import sys
import threading
import time

import httpx
import uvicorn
from starlette.datastructures import QueryParams

import segwork
from segwork.api import create_app, pipes, tokens
from segwork.api.cli import SERVER_OPTIONS
from segwork.config import Settings
from segwork.synth import LOCATIONS

TOKEN = "bench-compare"


def calls(customers: int, seed: int = 11):
    """A function giving one round's [(pipe, query string)]: the three calls of bench/api_bench.py."""
    rng = random.Random(seed)

    def one() -> list[tuple[str, str]]:
        return [("customer_segment_lookup", f"customer_id=c{rng.randint(1, customers):07d}"),
                ("customer_engagement_analysis", "event_type=purchase&start_date=2026-10-01 00:00:00"
                                                 "&end_date=2026-10-31 23:59:59&limit=50"),
                ("customer_segments_summary", f"location={rng.choice(LOCATIONS)}&min_age=25&max_age=45")]
    return one


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.api_compare", description=__doc__.split("\n\n")[0])
    ap.add_argument("--size", choices=["S", "M"], default="S")
    ap.add_argument("--rounds", type=int, default=40)
    args = ap.parse_args(argv)
    from bench.data import SIZES

    settings = Settings.from_env()
    client = segwork.connect(settings=settings)
    if any(t.name == TOKEN and not t.revoked for t in tokens.list_all(client)):
        tokens.revoke(client, TOKEN)
    secret, _ = tokens.create(client, TOKEN, ["ADMIN"], {}, pipes.PIPES)
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning", lifespan="on",
                                           **SERVER_OPTIONS))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    next_round = calls(SIZES[args.size][0])
    times = {name: {"http": [], "library": [], "server": []} for name in ("customer_segment_lookup",
                                                                           "customer_engagement_analysis",
                                                                           "customer_segments_summary")}
    load_start = os.getloadavg()
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", headers={"Authorization": f"Bearer {secret}"},
                          timeout=120) as http:
            gc.disable()
            for i in range(-2, args.rounds):  # two warm-up rounds
                for name, query in next_round():
                    pipe = pipes.PIPES[name]
                    values = pipes.arguments(pipe, QueryParams(query), {})
                    ways = [("http", lambda: http.get(f"/v0/pipes/{name}.json?{query}")),
                            ("library", lambda: pipe.call(client, values))]
                    for way, fn in (ways if i % 2 == 0 else ways[::-1]):
                        started = time.perf_counter()
                        answer = fn()
                        spent = (time.perf_counter() - started) * 1000
                        if way == "http":
                            if answer.status_code != 200:
                                raise SystemExit(f"{name}: {answer.status_code} {answer.text[:300]}")
                            server_ms = float(answer.headers["Server-Timing"].split("dur=", 1)[1])
                        if i >= 0:
                            times[name][way].append(spent)
                            if way == "http":
                                times[name]["server"].append(server_ms)
                gc.collect()
    finally:
        gc.enable()
        server.should_exit = True
        thread.join(timeout=30)
        tokens.revoke(client, TOKEN)
    print(json.dumps({"rounds": args.rounds, "load_start": load_start, "load_end": os.getloadavg(), "times": times}))
    return 0


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


if __name__ == "__main__":
    sys.exit(main())
