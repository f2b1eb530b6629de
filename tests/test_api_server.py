"""The API on a real server on loopback: the tutorial's curl commands, and writers and readers at once."""
from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from dataclasses import replace

import httpx
import pytest

from segwork.api import create_app, pipes, tokens
from segwork.config import PROJECT_DIR, Settings

from tests.apikit import free_port, ndjson, serve, uvicorn_thread, written

WRITERS, READERS, SECONDS, BATCH = 3, 3, 3.0, 200


@pytest.fixture
def server(client, database, tmp_path, request):
    """create_app under uvicorn on 127.0.0.1 (a free port), in a thread; stopped after the test.
    Parametrized "spool": the Events API's spool on, as on the default embedded database."""
    spool = getattr(request, "param", "") == "spool"
    settings = replace(Settings(dsn="chdb://memory", database=database, data_dir=tmp_path), api_threads=4, api_spool=spool)
    admin, _ = tokens.create(client, "admin", ["ADMIN"], {}, pipes.PIPES)
    with uvicorn_thread(create_app(settings)) as base:
        yield base, admin, client


TUTORIAL = """
curl -X POST "{host}/v0/events?name=customers" \\
  -H "Authorization: Bearer $TB_ADMIN_TOKEN" \\
  -d '{{
    "customer_id": "cust123",
    "name": "John Doe",
    "email": "john.doe@example.com", "age": 34, "gender": "male", "location": "New York",
    "signup_date": "2021-03-15 10:00:00", "lifetime_value": 1250.5, "timestamp": "2023-06-01 12:00:00" }}'
echo; echo @@
curl -X POST "{host}/v0/events?name=customer_events" \\
  -H "Authorization: Bearer $TB_ADMIN_TOKEN" \\
  -d '{{
    "event_id": "evt456",
    "customer_id": "cust123", "event_type": "purchase", "event_value": 99.95, "product_id": "prod789",
    "category": "electronics", "timestamp": "2023-06-02 14:30:00" }}'
"""
TUTORIAL_READS = """
curl -X GET "{host}/v0/pipes/customer_segments_summary.json?location=New%20York&min_age=25&max_age=45&token=$TB_ADMIN_TOKEN"
echo; echo @@
curl -X GET "{host}/v0/pipes/customer_engagement_analysis.json?token=$TB_ADMIN_TOKEN&event_type=purchase&start_date=2023-01-01%2000:00:00&end_date=2023-12-31%2023:59:59&limit=50"
"""


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")
@pytest.mark.parametrize("server", ["", "spool"], indirect=True)
def test_tutorial_curl_commands(server, request):
    """The tutorial's commands with only the host changed (its '...' filled with the schema's fields).
    With the spool (the embedded default) its 202s come before the writes: the reads wait for them,
    as the README says a script should."""
    host, admin, _ = server

    def run(script: str) -> str:
        proc = subprocess.run(["bash", "-c", script.format(host=host)], env={"TB_ADMIN_TOKEN": admin, "PATH": "/usr/bin:/bin"},
                              capture_output=True, text=True, timeout=60)
        assert proc.returncode == 0, proc.stderr
        return proc.stdout

    ingested_customer, ingested_event = (json.loads(text) for text in run(TUTORIAL).split("\n@@\n"))
    spooled = request.node.callspec.params["server"] == "spool"
    for answer in (ingested_customer, ingested_event):
        assert (answer.get("status") == "queued") == spooled, answer  # spooled: answered before the write
        if spooled:
            written(host, answer["import_id"], {"Authorization": f"Bearer {admin}"})
    summary, engagement = run(TUTORIAL_READS).split("\n@@\n")
    assert ingested_customer["successful_rows"] == 1 and ingested_event["successful_rows"] == 1
    summary = json.loads(summary)
    assert summary["data"][0]["customer_count"] == 1 and summary["data"][0]["value_segment"] == "High Value"
    engagement = json.loads(engagement)
    assert engagement["data"][0]["customer_id"] == "cust123" and engagement["data"][0]["event_count"] == 1
    assert engagement["rows_before_limit_at_least"] == 1 and engagement["statistics"]["rows_read"] >= 1


def test_concurrent_writers_and_readers(server):
    """Writers (wait=true) and readers for a few seconds: no error, every row read back, exact counts."""
    host, admin, client = server
    auth = {"Authorization": f"Bearer {admin}"}
    errors: list[str] = []
    sent = [0] * WRITERS
    engagement = f"{host}/v0/pipes/customer_engagement_analysis.json?start_date=2025-01-01&end_date=2025-12-31&limit=1000"

    profiles = [{"customer_id": f"w{k}", "name": f"Writer {k}", "location": "Paris", "age": 30 + k, "lifetime_value": 100.0 * k,
                 "signup_date": "2024-01-01 00:00:00", "timestamp": "2025-01-01 00:00:00"} for k in range(WRITERS)]
    assert httpx.post(f"{host}/v0/events?name=customers&wait=true", headers=auth, content=ndjson(profiles)).status_code == 200

    def writer(k: int) -> None:
        with httpx.Client(headers=auth, timeout=30) as http:
            batch = 0
            while time.monotonic() < stop_at and not errors:
                rows = [{"event_id": f"w{k}-{batch}-{i}", "customer_id": f"w{k}", "event_type": "purchase", "event_value": 1.5,
                         "timestamp": f"2025-06-{1 + i % 28:02d} 12:00:00"} for i in range(BATCH)]
                r = http.post(f"{host}/v0/events?name=customer_events&wait=true", content=ndjson(rows))
                if r.status_code != 200 or r.json()["successful_rows"] != BATCH:
                    errors.append(f"writer {k}: {r.status_code} {r.text[:200]}")
                    return
                sent[k] += BATCH
                batch += 1
                seen = {d["customer_id"]: d["event_count"] for d in http.get(engagement).json()["data"]}
                if seen.get(f"w{k}") != sent[k]:  # wait=true: my rows are queryable when the answer arrives
                    errors.append(f"writer {k}: read {seen.get(f'w{k}')} events after writing {sent[k]}")
                    return

    def reader(k: int) -> None:
        last: dict[str, int] = {}
        urls = [engagement, f"{host}/v0/pipes/customer_segment_lookup.json?customer_id=w{k % WRITERS}",
                f"{host}/v0/pipes/customer_segments_summary.json?location=Paris"]
        with httpx.Client(headers=auth, timeout=30) as http:
            i = 0
            while time.monotonic() < stop_at and not errors:
                r = http.get(urls[i % 3])
                i += 1
                if r.status_code != 200:
                    errors.append(f"reader {k}: {r.status_code} {r.text[:200]}")
                    return
                if r.url.path.endswith("customer_engagement_analysis.json"):
                    for row in r.json()["data"]:
                        if row["event_count"] < last.get(row["customer_id"], 0):
                            errors.append(f"reader {k}: {row['customer_id']} went from {last[row['customer_id']]} to {row['event_count']}")
                        last[row["customer_id"]] = row["event_count"]
                elif r.url.path.endswith("customer_segments_summary.json"):
                    if sum(d["customer_count"] for d in r.json()["data"]) != WRITERS:
                        errors.append(f"reader {k}: summary counts {r.json()['data']}")

    threads = [threading.Thread(target=writer, args=(k,)) for k in range(WRITERS)]
    threads += [threading.Thread(target=reader, args=(k,)) for k in range(READERS)]
    stop_at = time.monotonic() + SECONDS  # from here: the profiles' POST above took over 3 s on a loaded machine
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=SECONDS + 60)
    assert not any(t.is_alive() for t in threads), "a client thread did not stop"
    assert errors == []
    assert all(n >= BATCH for n in sent), sent  # every writer got work done
    total = sum(sent)
    assert client.query("SELECT count(), uniqExact(event_id) FROM customer_events").result_rows[0] == (total, total)
    per_writer = dict(client.query("SELECT customer_id, count() FROM customer_events GROUP BY customer_id").result_rows)
    assert per_writer == {f"w{k}": sent[k] for k in range(WRITERS)}
    final = {d["customer_id"]: d["event_count"] for d in httpx.get(engagement, headers=auth).json()["data"]}
    assert final == per_writer


def test_mounted_in_the_workbench_process(tmp_path):
    """`streamlit run app.py` serves the API next to the workbench, on the same embedded database."""
    env = {**os.environ, "SEGWORK_DATA_DIR": str(tmp_path)}
    env.pop("SEGWORK_DSN", None)
    made = subprocess.run([sys.executable, "-m", "segwork", "token", "create", "admin", "--scope", "ADMIN"], cwd=PROJECT_DIR,
                          env=env, capture_output=True, text=True, timeout=120)
    token = made.stdout.strip().splitlines()[-1]
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless=true", f"--server.port={port}",
                             "--server.address=127.0.0.1", "--server.fileWatcherType=none", "--browser.gatherUsageStats=false"],
                            cwd=PROJECT_DIR, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/_stcore/health", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline and proc.poll() is None, "streamlit did not start"
            time.sleep(0.3)
        auth = {"Authorization": f"Bearer {token}"}
        r = httpx.post(f"{base}/v0/events?name=customers&wait=true", headers=auth, content=ndjson([
            {"customer_id": "cust123", "name": "John Doe", "signup_date": "2021-03-15 10:00:00", "timestamp": "2023-06-01 12:00:00"}]))
        assert r.status_code == 200 and r.json()["successful_rows"] == 1
        r = httpx.get(f"{base}/v0/pipes/customer_segment_lookup.json?customer_id=cust123", headers=auth)
        assert r.status_code == 200 and r.json()["data"][0]["name"] == "John Doe"
        assert httpx.get(f"{base}/v0/nothing").status_code == 404  # JSON from the API, not Streamlit's page
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def test_serve_uses_h11_even_where_httptools_is_installed(tmp_path):
    """uvicorn's "auto" takes httptools wherever it can import it (uvicorn[standard] installs it);
    `segwork serve` names h11 (segwork.api.cli.SERVER_OPTIONS), so the server people run is the
    one the hostile tests check. Here an `httptools` that notes its import is on the server's path:
    it must never be imported."""
    stub = tmp_path / "site" / "httptools"
    stub.mkdir(parents=True)
    imported = tmp_path / "httptools-imported"
    (stub / "__init__.py").write_text(f"open({str(imported)!r}, 'w').close()\n")
    env = {**os.environ, "SEGWORK_DATA_DIR": str(tmp_path / "data"),
           "PYTHONPATH": os.pathsep.join(filter(None, [str(stub.parent), os.environ.get("PYTHONPATH")]))}
    env.pop("SEGWORK_DSN", None)  # the test process's in-memory engine is not the server's
    port = free_port()
    proc = serve(env, port, stderr=subprocess.PIPE, text=True)
    try:
        assert httpx.get(f"http://127.0.0.1:{port}/v0/pipes", timeout=10).status_code == 401  # it answers, over h11
    finally:
        proc.terminate()
        _, err = proc.communicate(timeout=30)
    assert not imported.exists(), f"serve imported httptools: uvicorn chose its parser itself\n{err[-2000:]}"
