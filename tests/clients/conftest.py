"""Fixtures of the real-client tests: one `segwork serve` per module, with a small known data set."""
from __future__ import annotations

import pytest

from tests.apikit import customers, events
from tests.clients.harness import Client, Recorder, Served

SEED_CUSTOMERS = customers(30, prefix="s")  # s0000..s0029
SEED_EVENTS = [{**e, "customer_id": f"s{int(e['customer_id'][1:]) % 30:04d}"} for e in events(300, prefix="seed-", customers=30)]
SEED_START, SEED_END = "2025-03-01 00:00:00", "2025-03-31 23:59:59"  # the seed events' month


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """`python -m segwork serve` on loopback with 30 customers and 300 events of March 2025."""
    srv = Served(tmp_path_factory.mktemp("serve")).start()
    try:
        srv.post_events("customers", SEED_CUSTOMERS)
        srv.post_events("customer_events", SEED_EVENTS)
        yield srv
    finally:
        srv.stop()


@pytest.fixture(autouse=True)
def requests_by_test(request):
    """Writes the requests the server saw during each test to requests-by-test.txt next to its log:
    the record of what each real client calls."""
    if "server" not in request.fixturenames:
        yield
        return
    srv = request.getfixturevalue("server")
    mark = srv.mark()
    yield
    with open(srv.folder / "requests-by-test.txt", "a") as out:
        out.write(f"{request.node.name}\n" + "".join(f"    {line}\n" for line in srv.requests_since(mark)))


@pytest.fixture(scope="module")
def recorder():
    r = Recorder()
    yield r
    r.close()


@pytest.fixture
def client_home(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    return home


def make_client(home, server, recorder, **kwargs) -> Client:
    recorder.seen.clear()
    return Client(home, server, recorder, **kwargs)
