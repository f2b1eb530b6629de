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
from segwork.config import Settings  # noqa: E402


@pytest.fixture
def database() -> str:
    """A fresh database name for one test."""
    return f"t_{uuid.uuid4().hex[:12]}"


@pytest.fixture
def client(database):
    """A client on a fresh, empty database of the in-memory engine."""
    c = segwork.connect("chdb://memory", database=database)
    yield c
    c.command(f"DROP DATABASE IF EXISTS `{database}`")


@pytest.fixture
def settings() -> Settings:
    """Settings with small chunks and inserts so streaming and gathering paths are exercised."""
    return Settings(dsn="chdb://memory", chunk_rows=1000, insert_rows=2000)
