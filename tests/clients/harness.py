"""What the real-client tests share: `segwork serve` on loopback, the client's environment with its
network guards, and reading rows back over plain HTTP.

Every client runs in a subprocess whose environment
- switches off what the clients would send to the vendor (TB_CLI_TELEMETRY_OPTOUT=1,
  TB_VERSION_WARNING=0: the classic CLI's PyPI check; a fresh HOME, so no ~/.tinyb is read),
- loads a guard (guard/sitecustomize.py for Python, guard/netguard.cjs for node) that refuses any
  connection or name look-up beyond loopback and writes it to a log,
- names a loopback "proxy" (HTTP(S)_PROXY) that records whatever reaches it and answers 403,
  NO_PROXY=127.0.0.1,localhost so calls to segwork go straight.
`Client.run` fails the test when the guard log or the proxy recorded anything.
"""
from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from segwork.config import PROJECT_DIR

from tests.apikit import free_port, serve

GUARD = Path(__file__).resolve().parent / "guard"
ACCESS = re.compile(r"segwork\.api: (GET|POST|PUT|DELETE|PATCH|HEAD|OPTIONS) (\S+) (\d{3}) ")
CLIENT_TIMEOUT = 180  # seconds one client command may take (a CLI's first start imports a lot)


class Recorder:
    """A loopback TCP server that records the first line of every connection and answers 403:
    where HTTP(S)_PROXY points, so a client that ignores NO_PROXY or calls out through a proxy is seen."""

    def __init__(self) -> None:
        self.seen: list[str] = []
        self._sock = socket.socket()
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(16)
        self.url = f"http://127.0.0.1:{self._sock.getsockname()[1]}"
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self._sock.accept()
            except OSError:
                return
            with conn:
                conn.settimeout(5)
                try:
                    first = conn.recv(4096).split(b"\r\n", 1)[0].decode(errors="replace")
                except OSError:
                    first = ""
                self.seen.append(first or "(connection without a request line)")  # before the answer: no race
                try:
                    conn.sendall(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                except OSError:
                    pass

    def close(self) -> None:
        self._sock.close()


@dataclass
class Served:
    """`python -m segwork serve` on 127.0.0.1, a free port, a fresh embedded database, an admin token."""

    folder: Path
    base: str = ""
    admin: str = field(default="", repr=False)
    proc: subprocess.Popen | None = None

    @property
    def log(self) -> Path:
        return self.folder / "serve.log"

    def start(self) -> "Served":
        env = {**os.environ, "SEGWORK_DATA_DIR": str(self.folder)}
        env.pop("SEGWORK_DSN", None)  # the test process's in-memory engine is not the server's
        made = subprocess.run([sys.executable, "-m", "segwork", "token", "create", "admin", "--scope", "ADMIN"],
                              cwd=PROJECT_DIR, env=env, capture_output=True, text=True, timeout=120)
        assert made.returncode == 0, made.stderr
        self.admin = made.stdout.strip().splitlines()[-1]
        port = free_port()
        self.base = f"http://127.0.0.1:{port}"
        with open(self.log, "ab") as sink:
            try:
                self.proc = serve(env, port, stdout=sink, stderr=subprocess.STDOUT, seconds=90)
            except AssertionError as exc:
                raise AssertionError(f"{exc}\n{self.log.read_text()[-3000:]}") from None
        return self

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()

    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.admin}"}

    # --- plain HTTP, the independent reading --------------------------------------------------

    def get(self, path: str, params=None) -> httpx.Response:
        return httpx.get(self.base + path, params=params, headers=self.auth(), timeout=60)

    def pipe(self, name: str, params=None) -> dict:
        """A pipe's JSON answer over plain HTTP (it must succeed)."""
        r = self.get(f"/v0/pipes/{name}.json", params)
        assert r.status_code == 200, r.text
        return r.json()

    def post_events(self, datasource: str, records: list[dict]) -> None:
        body = "".join(json.dumps(r) + "\n" for r in records)
        r = httpx.post(f"{self.base}/v0/events", params={"name": datasource, "wait": "true"}, content=body,
                       headers=self.auth(), timeout=60)
        assert r.status_code == 200 and r.json()["quarantined_rows"] == 0, r.text

    def profiles(self, customer_ids) -> dict[str, dict]:
        """Each customer's latest profile, read through the lookup pipe, by id."""
        found = {}
        for cid in customer_ids:
            rows = self.pipe("customer_segment_lookup", {"customer_id": cid})["data"]
            if rows:
                found[cid] = rows[0]
        return found

    def events_by_customer(self, start: str, end: str, event_type: str | None = None, limit: int = 10000) -> dict[str, dict]:
        """customer_engagement_analysis over plain HTTP: one row per customer with events in the period."""
        params = {"start_date": start, "end_date": end, "limit": limit}
        if event_type:
            params["event_type"] = event_type
        return {row["customer_id"]: row for row in self.pipe("customer_engagement_analysis", params)["data"]}

    def requests_since(self, mark: int) -> list[str]:
        """'METHOD /path status' of every request the server logged after byte `mark` of its log."""
        text = self.log.read_bytes()[mark:].decode(errors="replace")
        return [" ".join(m.groups()) for m in ACCESS.finditer(text)]

    def mark(self) -> int:
        return self.log.stat().st_size


@dataclass
class Client:
    """Runs one client's commands with the guards on, and fails the test on any outside traffic."""

    home: Path  # a fresh HOME and working folder
    server: Served
    recorder: Recorder
    path: list[str] = field(default_factory=list)  # folders put first on PATH (a venv's bin/)
    node_modules: Path | None = None

    @property
    def guard_log(self) -> Path:
        return self.home / "netguard.log"

    def env(self, **extra: str) -> dict[str, str]:
        env = {
            "PATH": os.pathsep.join([*self.path, os.environ.get("PATH", "/usr/bin:/bin")]),
            "HOME": str(self.home), "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8", "TERM": "dumb", "COLUMNS": "200",
            "TB_CLI_TELEMETRY_OPTOUT": "1", "TB_VERSION_WARNING": "0", "DO_NOT_TRACK": "1",
            "PYTHONPATH": str(GUARD), "PYTHONDONTWRITEBYTECODE": "1", "PYTHONUNBUFFERED": "1",
            "NODE_OPTIONS": f"--require {GUARD / 'netguard.cjs'}",
            "SEGWORK_NETGUARD_LOG": str(self.guard_log),
            "NO_PROXY": "127.0.0.1,localhost", "no_proxy": "127.0.0.1,localhost",
        }
        for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
            env[name] = self.recorder.url
        if self.node_modules:
            env["NODE_PATH"] = str(self.node_modules)
        env.update(extra)
        return env

    def run(self, argv: list[str], *, ok: bool = True, check: bool = True, stdin: str | None = None,
            **extra: str) -> subprocess.CompletedProcess:
        """Run a client command in `home`; it must exit 0 (unless ok=False) and must not reach outside
        (unless check=False: the guard's own tests)."""
        __tracebackhide__ = True  # pytest would print argv, and so the classic CLI's --token, with this frame
        mark = self.server.mark() if self.server else 0
        done = subprocess.run(argv, cwd=self.home, env=self.env(**extra), input=stdin, capture_output=True, text=True,
                              timeout=CLIENT_TIMEOUT)
        if check:
            self.assert_no_outside_traffic(f"{argv[:3]}")
        if ok and done.returncode:
            asked = "\n".join(self.server.requests_since(mark)) if self.server else ""
            message = (f"{argv} exited {done.returncode}\nstdout:\n{done.stdout[-3000:]}\nstderr:\n{done.stderr[-3000:]}"
                       f"\nrequests the server saw:\n{asked}")
            raise AssertionError(message.replace(self.server.admin, "<admin token>") if self.server else message)
        return done

    def assert_no_outside_traffic(self, during: str = "") -> None:
        tried = self.guard_log.read_text() if self.guard_log.exists() else ""
        assert not tried, f"a client tried to leave the machine{' during ' + during if during else ''}:\n{tried}"
        assert not self.recorder.seen, f"a client went through the proxy{' during ' + during if during else ''}: {self.recorder.seen}"


def write_script(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text)
    return path
