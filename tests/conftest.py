"""Test fixtures: the embedded engine in memory, a fresh database per test."""
from __future__ import annotations

import os
import uuid

# Every test in this process uses the in-memory embedded engine (one chDB path per process),
# never the developer's on-disk database.
os.environ["SEGWORK_DSN"] = "chdb://memory"
os.environ.setdefault("SEGWORK_DEMO_CUSTOMERS", "500")
os.environ.setdefault("SEGWORK_DEMO_EVENTS", "5000")

import pytest  # noqa: E402

import segwork  # noqa: E402
from segwork import embedded  # noqa: E402
from segwork.config import Settings  # noqa: E402


@pytest.fixture
def database() -> str:
    """A fresh database name for one test."""
    return f"t_{uuid.uuid4().hex[:12]}"


ENGINE_PATHS = ("embedded", "client-api")


def pytest_configure(config):
    config.addinivalue_line("markers", "engine_paths(*paths): run each test using `client` on these ENGINE_PATHS (all by default)")


def pytest_generate_tests(metafunc):
    """Tests marked engine_paths run on segwork's embedded fast path and through
    clickhouse-connect's client API alone, as segwork serves a ClickHouse server."""
    marker = metafunc.definition.get_closest_marker("engine_paths")
    if marker and "client" in metafunc.fixturenames:
        metafunc.parametrize("client", marker.args or ENGINE_PATHS, indirect=True)


@pytest.fixture
def client(request, database, monkeypatch):
    """A client on a fresh, empty database of the in-memory engine. As "client-api" (see
    ENGINE_PATHS), every client the test connects keeps to clickhouse-connect's API
    (SEGWORK_FORCE_CLIENT_API=1), and the embedded fast path fails the test if it is taken."""
    path = getattr(request, "param", "embedded")
    if path == "client-api":
        monkeypatch.setenv("SEGWORK_FORCE_CLIENT_API", "1")
        for name in ("query_df", "query_arrow", "insert_arrow"):
            monkeypatch.setattr(embedded, name, _not_on_this_path(name))
    c = segwork.connect("chdb://memory", database=database)
    assert embedded.usable(c) == (path == "embedded")
    yield c
    c.command(f"DROP DATABASE IF EXISTS `{database}`")


def _not_on_this_path(name):
    def refuse(*args, **kwargs):
        raise AssertionError(f"segwork.embedded.{name} ran in a test on the client-API path")
    return refuse


@pytest.fixture
def settings() -> Settings:
    """Settings with small chunks and inserts so streaming and gathering paths are exercised."""
    return Settings(dsn="chdb://memory", chunk_rows=1000, insert_rows=2000)
