"""Where the data in the database came from: the generated demo, the Online Retail sample, or
one's own files, read from the ingest log's sources, so what the workbench says matches what
is stored in every state (empty, one kind, a mixture)."""
from __future__ import annotations

from dataclasses import dataclass

from clickhouse_connect.driver.client import Client

from segwork import db, overview

DEMO, SAMPLE, OWN = "demo", "sample", "own"


@dataclass(frozen=True)
class Contents:
    """What the database holds: the kinds of data (a subset of DEMO, SAMPLE, OWN; none when
    empty), the row counts (overview.table_counts) and the names of one's own sources."""

    kinds: frozenset[str]
    counts: dict[str, int]
    own_sources: tuple[str, ...] = ()

    @property
    def empty(self) -> bool:
        return not any(self.counts.values())

    @property
    def demo_only(self) -> bool:
        return self.kinds == {DEMO}


def kind(source: str) -> str:
    """DEMO, SAMPLE or OWN for an ingest's source name."""
    from segwork import demo, retail

    if source.startswith(demo.DEMO_SOURCE):
        return DEMO
    if source.startswith(retail.RETAIL_CSV.name):
        return SAMPLE
    return OWN


def contents(client: Client) -> Contents:
    """The database's contents now. Rows stored without a trace in the ingest log (written by
    other means) count as one's own."""
    counts = overview.table_counts(client)
    if not any(counts.values()):
        return Contents(frozenset(), counts)
    sources = [str(s) for s in db.query_df(client, "ingest_sources", {})["source"]]
    kinds = {kind(s) for s in sources} or {OWN}
    return Contents(frozenset(kinds), counts, tuple(s for s in sources if kind(s) == OWN))
