"""Generated demo data, loaded through the same validated ingestion as real files."""
from __future__ import annotations

from typing import Callable

from clickhouse_connect.driver.client import Client

from segwork import synth
from segwork.ingestion import ingestlog
from segwork.config import Settings
from segwork.ingestion import IngestReport, ingest
from segwork.overview import is_empty

DEMO_SOURCE = "segwork demo data"


def load(client: Client, *, customers: int, events: int, seed: int = 7, settings: Settings | None = None,
         progress: Callable[[int], None] | None = None) -> list[IngestReport]:
    """Generate and ingest customers and events; progress(n) gets rows done since the last call."""
    done = {"rows": 0}

    def step(rows: int, _fraction) -> None:
        if progress:
            progress(rows - done["rows"])
        done["rows"] = rows

    reports = []
    for table, frame in (("customers", synth.customers(customers, seed=seed)),
                         ("customer_events", synth.events(events, customers, seed=seed + 4))):
        done["rows"] = 0
        reports.append(ingest(client, table, frame, settings=settings, progress=step, source_name=f"{DEMO_SOURCE} ({table})"))
    return reports


def ensure_demo(client: Client, settings: Settings) -> list[IngestReport]:
    """Load demo data when the database is empty (first start), or complete a demo load that
    was interrupted (the same seeded rows again: those already in are recognised); [] otherwise."""
    interrupted = ingestlog.incomplete(client)
    interrupted = interrupted[interrupted.source.str.startswith(DEMO_SOURCE)]
    if not is_empty(client) and interrupted.empty:
        return []
    return load(client, customers=settings.demo_customers, events=settings.demo_events, settings=settings)
