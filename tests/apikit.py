"""Helpers shared by the HTTP API tests: an in-process API on a fresh database, NDJSON bodies."""
from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
import warnings
from contextlib import contextmanager
from dataclasses import dataclass, replace

import httpx
import pandas as pd

from segwork.api import create_app, pipes, tokens
from segwork.config import PROJECT_DIR, Settings

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # starlette suggests httpx2; httpx is what is installed
    from starlette.testclient import TestClient


@dataclass
class Api:
    """A TestClient on the API plus what a test needs around it."""

    http: TestClient
    admin: str  # an ADMIN token
    settings: Settings
    client: object  # a segwork client on the same database

    def bearer(self, token: str | None = None) -> dict[str, str]:
        return {"Authorization": f"Bearer {token or self.admin}"}

    def token(self, name: str, *scopes: str, **fixed: str) -> str:
        """A new token, made through POST /v0/tokens (so the API knows it at once)."""
        query = [("name", name)] + [("scope", s) for s in scopes] + [("fixed_param", f"{k}={v}") for k, v in fixed.items()]
        r = self.http.post("/v0/tokens", params=query, headers=self.bearer())
        assert r.status_code == 200, r.text
        return r.json()["token"]


@contextmanager
def running_api(client, database: str, **overrides):
    """The API (create_app) on the test's database, with an admin token."""
    settings = replace(Settings(dsn="chdb://memory", database=database), **overrides)
    admin, _ = tokens.create(client, "admin", ["ADMIN"], {}, pipes.PIPES)
    with TestClient(create_app(settings)) as http:
        yield Api(http, admin, settings, client)


def free_port() -> int:
    """A TCP port on 127.0.0.1, free when asked."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve(env: dict, port: int, *, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, text: bool = False,
          seconds: float = 180) -> subprocess.Popen:
    """`python -m segwork serve` on 127.0.0.1:`port` with `env`, returned once it answers HTTP
    (within `seconds`: on a loaded machine it took over 60 s once)."""
    proc = subprocess.Popen([sys.executable, "-m", "segwork", "serve", "--host", "127.0.0.1", "--port", str(port)],
                            cwd=PROJECT_DIR, env=env, stdout=stdout, stderr=stderr, text=text)
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            httpx.get(f"http://127.0.0.1:{port}/v0/pipes", timeout=2)
            return proc
        except httpx.TransportError:
            if proc.poll() is not None:
                break
            time.sleep(0.2)
    proc.kill()
    said = proc.communicate()[1] if stderr == subprocess.PIPE else ""
    raise AssertionError(f"serve did not start in {seconds:.0f} s (exit {proc.poll()}): {said}")


def written(base: str, job_id: str, headers: dict, seconds: float = 60) -> dict:
    """The job `job_id` (an Events API answer's import_id) once it is done: a 202 from the spool
    (the embedded default) is answered before its rows are written, a moment later."""
    deadline = time.monotonic() + seconds
    while True:
        job = httpx.get(f"{base}/v0/jobs/{job_id}", headers=headers, timeout=10).json()
        if job["status"] in ("done", "error") or time.monotonic() > deadline:
            assert job["status"] == "done", job
            return job
        time.sleep(0.05)


def ndjson(records: list[dict]) -> bytes:
    """One JSON object per line."""
    return "".join(json.dumps(r) + "\n" for r in records).encode()


def events(n: int, *, prefix: str = "e", customers: int = 50, start: str = "2025-03-01", seconds: int = 86400 * 30) -> list[dict]:
    """n valid events with unique ids spread over `seconds` from `start`."""
    t0 = pd.Timestamp(start, tz="UTC")
    kinds = ("purchase", "page_view", "login", "add_to_cart")
    return [{"event_id": f"{prefix}{i}", "customer_id": f"c{i % customers:04d}", "event_type": kinds[i % 4],
             "event_value": round((i % 97) * 1.25, 2), "product_id": f"p{i % 13}", "category": "toys",
             "timestamp": (t0 + pd.Timedelta(seconds=(i * 7919) % seconds)).strftime("%Y-%m-%d %H:%M:%S")}
            for i in range(n)]


def customers(n: int, *, prefix: str = "c") -> list[dict]:
    """n valid profiles c0000.. with varied ages, locations and values."""
    locations = ("New York", "London", "Paris")
    return [{"customer_id": f"{prefix}{i:04d}", "name": f"Name {i}", "email": f"u{i}@example.com", "age": 18 + i % 60,
             "gender": ("female", "male")[i % 2], "location": locations[i % 3],
             "signup_date": (pd.Timestamp("2021-01-01", tz="UTC") + pd.Timedelta(days=7 * i)).strftime("%Y-%m-%d %H:%M:%S"),
             "lifetime_value": round(50 + (i * 37) % 1900, 2), "timestamp": "2025-01-01 00:00:00"}
            for i in range(n)]


@contextmanager
def uvicorn_thread(app):
    """`app` under uvicorn on 127.0.0.1 (a free port), in a thread: its base URL; stopped after."""
    import threading
    import time

    import uvicorn

    from segwork.api.cli import SERVER_OPTIONS

    srv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", **SERVER_OPTIONS))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not srv.started:
        assert time.monotonic() < deadline and thread.is_alive(), "uvicorn did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{srv.servers[0].sockets[0].getsockname()[1]}"
    finally:
        srv.should_exit = True
        thread.join(timeout=20)
        assert not thread.is_alive()
