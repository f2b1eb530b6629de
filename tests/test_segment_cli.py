"""`python -m segwork segment ...` (in process, on the test's database) and the webhook, against
a real HTTP receiver on loopback that fails before it accepts."""
from __future__ import annotations

import io
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pandas as pd
import pytest

import segwork
from segwork import cli, history, through_time, webhook
from segwork.errors import DeliveryError
from tests.test_history import DELETED_AT, FIRST


@pytest.fixture
def shop(client, database, monkeypatch):
    monkeypatch.setenv("SEGWORK_DSN", "chdb://memory")
    monkeypatch.setenv("SEGWORK_DATABASE", database)
    monkeypatch.setenv("SEGWORK_WEBHOOK_ATTEMPTS", "4")
    segwork.ingest(client, "customers", pd.DataFrame(FIRST))
    history.delete_customers(client, "gone", at=DELETED_AT)
    return client


def run(capsys, *args) -> tuple[int, str, str]:
    code = cli.main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


class Receiver:
    """A loopback HTTP server answering the first `failures` POSTs with 503, then 200."""

    def __init__(self, failures: int = 0, status: int = 503):
        self.failures, self.status, self.bodies, self.attempts = failures, status, [], 0
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 (http.server's name)
                body = self.rfile.read(int(self.headers["Content-Length"]))
                outer.attempts += 1
                if outer.attempts <= outer.failures:
                    self.send_response(outer.status)
                    self.send_header("Retry-After", "0")
                else:
                    outer.bodies.append((self.headers["Content-Type"], body))
                    self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.mark.engine_paths("embedded")
def test_diff_prints_the_changes_and_since_last_starts_where_the_record_ended(shop, capsys, tmp_path):
    code, out, err = run(capsys, "segment", "diff", "high value", "--since", "2023-05-01", "--until", "2024-01-31",
                         "--format", "csv")
    assert code == 0 and "High Value: 2 entered, 1 exited between 2023-05-01 23:59:59 and 2024-01-31 23:59:59" in err
    printed = pd.read_csv(io.StringIO(out))
    want = through_time.segment_changes(shop, "High Value", "2023-05-01", "2024-01-31")
    assert list(zip(printed.customer_id, printed.change_kind, printed.why)) == list(zip(want.customer_id, want.change_kind, want.why))
    code, _, err = run(capsys, "segment", "diff", "High Value", "--since", "last")
    assert code == 1 and "no export of 'High Value' is recorded yet" in err
    target = tmp_path / "changes.ndjson"
    code, out, err = run(capsys, "segment", "diff", "High Value", "--since", "2023-05-01", "--until", "2024-01-31",
                         "--format", "ndjson", "--output", str(target), "--record")
    lines = [json.loads(line) for line in target.read_text().splitlines()]
    assert code == 0 and out == "" and [(r["customer_id"], r["change_kind"]) for r in lines] == [
        ("late", "entered"), ("up", "entered"), ("down", "exited")]
    assert {r["segment"] for r in lines} == {"High Value"} and lines[0]["until"] == "2024-01-31T23:59:59+00:00"
    code, out, err = run(capsys, "segment", "diff", "High Value", "--since", "last", "--until", "2024-03-31", "--format", "csv")
    assert code == 0 and "between 2024-01-31 23:59:59 and 2024-03-31 23:59:59" in err
    assert pd.read_csv(io.StringIO(out)).customer_id.tolist() == ["future"]


@pytest.mark.engine_paths("embedded")
def test_sizes_and_transitions_print_tables(shop, capsys):
    code, out, _ = run(capsys, "segment", "sizes", "--start-date", "2023-01-01", "--end-date", "2023-03-31", "--format", "csv")
    table = pd.read_csv(io.StringIO(out))
    assert code == 0 and list(table.day) == ["2023-01-31", "2023-02-28", "2023-03-31"] and len(table.columns) == 10
    assert table.set_index("day").loc["2023-03-31"].sum() == 4  # up, down, gone, late
    code, out, _ = run(capsys, "segment", "transitions", "2023-05-01", "2024-01-31", "--by", "value", "--format", "csv")
    flows = pd.read_csv(io.StringIO(out))
    assert code == 0 and ("Medium Value", "Not a customer", "deleted", 1) in set(map(tuple, flows.to_numpy()))


@pytest.mark.engine_paths("embedded")
def test_post_retries_until_the_receiver_accepts_then_records(shop, capsys):
    receiver = Receiver(failures=2)
    try:
        code, out, err = run(capsys, "segment", "diff", "High Value", "--since", "2023-05-01", "--until", "2024-01-31",
                             "--post", receiver.url)
    finally:
        receiver.close()
    assert code == 0, err
    assert receiver.attempts == 3 and len(receiver.bodies) == 1
    content_type, body = receiver.bodies[0]
    assert content_type == "application/x-ndjson"
    assert [json.loads(line)["customer_id"] for line in body.decode().splitlines()] == ["late", "up", "down"]
    made = through_time.exports_made(shop, "High Value")
    assert (made["entered"].iloc[0], made["exited"].iloc[0], made["destination"].iloc[0]) == (2, 1, receiver.url)


@pytest.mark.engine_paths("embedded")
def test_a_receiver_that_keeps_failing_is_reported_and_nothing_is_recorded(shop, capsys, monkeypatch):
    monkeypatch.setenv("SEGWORK_WEBHOOK_ATTEMPTS", "2")
    receiver = Receiver(failures=100, status=500)
    try:
        code, _, err = run(capsys, "segment", "diff", "Loyal", "--since", "2023-05-01", "--until", "2024-01-31",
                           "--post", receiver.url)
    finally:
        receiver.close()
    assert code == 1 and "answered 500 after 2 tries" in err and "Nothing was recorded as sent" in err
    assert receiver.attempts == 2
    assert through_time.exports_made(shop).empty


def test_an_unreachable_or_odd_url_is_a_clear_error():
    with pytest.raises(DeliveryError, match="not an http"):
        webhook.post("ftp://example.com/x", b"")
    with pytest.raises(DeliveryError, match="could not deliver to http://127.0.0.1:9/x after 1 tries"):
        webhook.post("http://user:secret@127.0.0.1:9/x", b"{}\n", attempts=1, timeout=2)
