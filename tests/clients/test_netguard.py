"""The guards of the real-client tests catch a client that tries to leave the machine.

A client-side script (in a client's own environment, with the guards on exactly as the client
tests set them) tries 203.0.113.1 (TEST-NET-3), a vendor host name, and the vendor's HTTPS URL
through the configured proxy: every attempt must fail and be recorded, so `assert_no_outside_traffic`
would fail the test; loopback stays open.
"""
from __future__ import annotations

import pytest

from tests.clients import envs
from tests.clients.conftest import make_client

PYTHON_ESCAPES = """
import socket, sys
import requests
port = int(sys.argv[1])
results = []
for name, attempt in [
    ("connect", lambda: socket.create_connection(("203.0.113.1", 443), timeout=3)),
    ("raw", lambda: socket.socket().connect(("203.0.113.1", 443))),
    ("lookup", lambda: socket.getaddrinfo("api.tinybird.co", 443)),
    ("https", lambda: requests.get("https://api.tinybird.co/v0/pipes", timeout=5)),
]:
    try:
        attempt()
        results.append(name + " passed")
    except Exception as e:
        results.append(name + " failed")
socket.create_connection(("127.0.0.1", port), timeout=3).close()  # loopback is allowed
print(" ".join(results))
"""

NODE_ESCAPES = """
const net = require("net"), dns = require("dns"), tls = require("tls");
const port = Number(process.argv[2]);
const tryIt = (f) => new Promise((resolve) => { try { f(resolve); } catch (e) { resolve("failed"); } });
(async () => {
  const out = [];
  out.push("connect " + await tryIt((done) => { const s = net.connect(443, "203.0.113.1"); s.on("connect", () => { s.destroy(); done("passed"); }); s.on("error", () => done("failed")); }));
  out.push("tls " + await tryIt((done) => { const s = tls.connect({ host: "203.0.113.1", port: 443 }); s.on("secureConnect", () => done("passed")); s.on("error", () => done("failed")); }));
  out.push("lookup " + await tryIt((done) => dns.lookup("api.tinybird.co", (err) => done(err ? "failed" : "passed"))));
  out.push("fetch " + await fetch("https://api.tinybird.co/v0/pipes").then(() => "passed", () => "failed"));
  await new Promise((resolve, reject) => { const s = net.connect(port, "127.0.0.1"); s.on("connect", () => { s.destroy(); resolve(); }); s.on("error", reject); });
  console.log(out.join(" "));
})();
"""


@pytest.fixture
def loopback_port(recorder):
    return int(recorder.url.rsplit(":", 1)[1])


def test_python_guard_catches_a_client_leaving_the_machine(client_home, recorder, loopback_port):
    venv = envs.python_env("verdin")
    client = make_client(client_home, None, recorder)
    script = client_home / "escape.py"
    script.write_text(PYTHON_ESCAPES)
    done = client.run([str(venv / "bin" / "python"), str(script), str(loopback_port)], ok=False, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["connect", "failed", "raw", "failed", "lookup", "failed", "https", "failed"]
    log = client.guard_log.read_text()
    assert "name look-up '203.0.113.1'" in log  # create_connection resolves first
    assert "connect '203.0.113.1'" in log and "name look-up 'api.tinybird.co'" in log
    assert any(line.startswith("CONNECT api.tinybird.co:443") for line in recorder.seen), recorder.seen  # via HTTPS_PROXY
    with pytest.raises(AssertionError, match="tried to leave the machine"):
        client.assert_no_outside_traffic()


def test_node_guard_catches_a_client_leaving_the_machine(client_home, recorder, loopback_port):
    client = make_client(client_home, None, recorder)
    script = client_home / "escape.cjs"
    script.write_text(NODE_ESCAPES)
    done = client.run(["node", str(script), str(loopback_port)], ok=False, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["connect", "failed", "tls", "failed", "lookup", "failed", "fetch", "failed"]
    log = client.guard_log.read_text()
    assert "connect '203.0.113.1'" in log and "name look-up 'api.tinybird.co'" in log
    with pytest.raises(AssertionError, match="tried to leave the machine"):
        client.assert_no_outside_traffic()


def test_a_quiet_client_passes(client_home, recorder):
    client = make_client(client_home, None, recorder)
    client.run(["node", "-e", "require('dns').lookup('localhost', () => {})"])
    client.run([str(envs.python_env("verdin") / "bin" / "python"), "-c", "import socket; socket.getaddrinfo('localhost', 80)"])
